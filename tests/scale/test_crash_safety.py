"""Crash safety: gunicorn on SQLite is SIGKILLed in the middle of 500 concurrent note writes.

Every note the service acknowledged with 201 must read back after a restart on the same data
folder, decrypt (readable) and carry the body that was sent; SQLite's integrity check must
pass. The figures are printed (pytest -s shows them) and written to crash-safety.json in the
test's temporary folder; docs/security.md quotes a run.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url
from support import SEED, Owner, http_owner

pytestmark = pytest.mark.skipif(
    os.environ.get("NOTES_TEST_BACKEND") == "postgresql",
    reason="SQLite-specific: the PostgreSQL pass has no SQLite database",
)

PLANNED = 500
DEADLINE_SECONDS = 120  # no write starts after this: a hung server fails the test instead of stalling it
THREADS = 16
WORKERS = 4
KILL_AFTER = PLANNED // 2  # acknowledged writes before the SIGKILL
NOTEBOOKS = 4


class Writes:
    """What happened to each planned write, filled in by the writer threads."""

    def __init__(self, server) -> None:
        self.server = server
        self.deadline = time.monotonic() + DEADLINE_SECONDS
        self.lock = threading.Lock()
        self.killed = threading.Event()
        self.acknowledged: dict[str, tuple[int, str]] = {}  # note id -> (notebook index, body)
        self.unanswered = 0  # sent, then the connection died with the server
        self.not_sent = 0
        self.other_answers: list[tuple[int, str]] = []

    def write(self, number: int, owners: list[Owner]) -> None:
        if self.killed.is_set() or time.monotonic() > self.deadline:
            with self.lock:
                self.not_sent += 1
            return
        notebook = number % len(owners)
        body = f"Crash-test note {number}: ask the coordinator about the liver panel."
        try:
            status, answer = owners[notebook].post_note(body=body, timeout=20)
        except (OSError, http.client.HTTPException):
            with self.lock:
                self.unanswered += 1
            return
        with self.lock:
            if status != 201:
                self.other_answers.append((status, str(answer)[:200]))
                return
            self.acknowledged[answer["id"]] = (notebook, body)
            kill_now = len(self.acknowledged) == KILL_AFTER
        if kill_now:
            # Master and workers at once, while the other writers are mid-request.
            self.server.kill()
            self.killed.set()


def test_acknowledged_notes_survive_sigkill(app_env, server_pool, tmp_path):
    started = time.monotonic()
    server = server_pool.start(app_env, workers=WORKERS)
    owners = [http_owner(server.url) for _ in range(NOTEBOOKS)]
    writes = Writes(server)
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda n: writes.write(n, owners), range(PLANNED)))

    assert writes.killed.is_set(), "the server was never killed: too few writes were acknowledged"
    assert server.process.returncode == -9
    assert writes.other_answers == [], writes.other_answers[:5]
    sent = PLANNED - writes.not_sent
    assert len(writes.acknowledged) < PLANNED  # the kill landed midway, not after the last write

    restarted = server_pool.start(app_env, workers=2)
    stored = {}
    for index, owner in enumerate(owners):
        for note in owner.on(restarted.url).notes(SEED):
            stored[note["id"]] = (index, note)
    recovered = {
        note_id
        for note_id, (notebook, body) in writes.acknowledged.items()
        if note_id in stored
        and stored[note_id][0] == notebook
        and stored[note_id][1]["readable"] is True
        and stored[note_id][1]["body"] == body
    }
    server_pool.stop_all()  # release the database before checking the file itself

    database = make_url(app_env["DATABASE_URL"]).database
    with sqlite3.connect(database) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchall()
        foreign_key_errors = connection.execute("PRAGMA foreign_key_check").fetchall()
    connection.close()

    figures = {
        "planned_writes": PLANNED,
        "client_threads": THREADS,
        "gunicorn_workers": WORKERS,
        "sent": sent,
        "acknowledged": len(writes.acknowledged),
        "recovered": len(recovered),
        "committed_but_unacknowledged": len(set(stored) - set(writes.acknowledged)),
        "unanswered_at_kill": writes.unanswered,
        "integrity_check": integrity[0][0] if integrity else None,
        "seconds": round(time.monotonic() - started, 1),
    }
    print("\ncrash safety:", json.dumps(figures))
    (tmp_path / "crash-safety.json").write_text(json.dumps(figures, indent=2))

    assert recovered == set(writes.acknowledged), f"lost {len(set(writes.acknowledged) - recovered)} notes"
    assert integrity == [("ok",)]
    assert foreign_key_errors == []
    # Nothing appears that was never sent: extra rows can only be writes whose answer was cut off.
    assert len(stored) <= sent
