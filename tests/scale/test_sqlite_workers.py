"""SQLite under gunicorn: four worker processes writing notes at once never see "database is locked".

The app opens SQLite in WAL mode with a 30 s busy timeout and takes the write lock up front
(BEGIN IMMEDIATE), so concurrent writers queue instead of failing. Proven here with real
processes over HTTP, not threads sharing one connection pool.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from support import SEED, http_owner

pytestmark = pytest.mark.skipif(
    os.environ.get("NOTES_TEST_BACKEND") == "postgresql",
    reason="SQLite-specific: the PostgreSQL pass has no SQLite database",
)

THREADS = 8
NOTES_PER_THREAD = 25
DEADLINE_SECONDS = 90  # no write starts after this: a stalled server fails the test instead of hanging it


def test_four_workers_write_in_parallel_without_locking(app_env, server_pool):
    server = server_pool.start(app_env, workers=4)
    owners = [http_owner(server.url) for _ in range(THREADS // 2)]  # two writers per notebook
    deadline = time.monotonic() + DEADLINE_SECONDS

    def write(thread: int) -> list[tuple[int, str, str | None]]:
        owner = owners[thread % len(owners)]
        results = []
        for index in range(NOTES_PER_THREAD):
            if time.monotonic() > deadline:
                results.append((0, "", "deadline passed before this write"))
                continue
            body = f"Writer {thread}, note {index}: does this exclude me?"
            status, answer = owner.post_note(body=body)
            results.append((status, body, answer.get("id") if status == 201 else str(answer)[:300]))
        return results

    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for batch in pool.map(write, range(THREADS)) for r in batch]

    failures = [r for r in results if r[0] != 201]
    assert failures == [], failures[:5]
    assert "database is locked" not in server.error_text()
    written = {note_id: body for _, body, note_id in results}
    assert len(written) == THREADS * NOTES_PER_THREAD
    read_back = {n["id"]: n["body"] for owner in owners for n in owner.notes(SEED) if n["readable"]}
    assert read_back == written
