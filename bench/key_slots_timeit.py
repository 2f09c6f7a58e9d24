"""What a read and a share opening cost, in-process, for the checkout this is run in (issue 13).

    .venv/bin/python bench/key_slots_timeit.py            # this checkout
    cd /tmp/before && /path/to/.venv/bin/python /path/to/bench/key_slots_timeit.py   # another one

The service is imported from the current directory, so running it inside an older checkout
(for example `git archive <commit> | tar -x -C /tmp/before`) measures that code with the same
interpreter and libraries. A fresh SQLite database with the shipped trials, one notebook of
20 notes and a share of 10; Flask's test client, no network. Passcodes are checked with a
cheap Argon2id (t=1, 1 MiB) so the figures show the key work around it; the real Argon2id
(t=3, 64 MiB) adds the same to every opening before and after. Prints the median and the
fastest of 7 rounds, in milliseconds per request.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import timeit

sys.path.insert(0, os.getcwd())

from argon2 import PasswordHasher

from notes_service import create_app, registry
from notes_service.config import RATE_LIMITS
from notes_service.crypto import Keyring

SEED = "NCT07085104"
QUOTE = "Child-Pugh Class B or C cirrhosis"
ROUNDS, CALLS = 7, 40


def build():
    data = tempfile.mkdtemp(prefix="key-slots-timeit-")
    env = {
        "NOTES_DATA_DIR": data,
        "DATABASE_URL": f"sqlite:///{data}/notes.sqlite3",
        "NOTES_KEYS": Keyring.generate_spec("t1"),
        "NOTES_SECRET_KEY": "timeit-" + "x" * 40,
        **{variable: "1000000 per minute" for variable, _ in RATE_LIMITS.values()},
    }
    app = create_app(env)
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["trials", "load"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    app = create_app(env)  # as a worker starts: on the migrated database
    registry.of(app).password_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return app


def main() -> None:
    app = build()
    client = app.test_client()
    made = client.post("/api/v1/notebooks").get_json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    target = {"selector": [{"type": "TextQuoteSelector", "exact": QUOTE}]}
    ids = [
        client.post(
            f"/api/v1/trials/{SEED}/notes", headers=headers, json={"target": target, "body": f"note {i}"}
        ).get_json()["id"]
        for i in range(20)
    ]
    share = client.post(
        "/api/v1/shares", headers=headers, json={"trial_id": SEED, "note_ids": ids[:10], "passcode": "timeit-passcode"}
    ).get_json()
    link = share["url"].rsplit("/s/", 1)[1]
    page = app.test_client()
    assert page.post(f"/s/{link}", data={"passcode": "timeit-passcode"}).status_code == 303

    def read() -> None:
        response = client.get(f"/api/v1/trials/{SEED}/notes", headers=headers)
        assert response.status_code == 200 and len(response.get_json()["notes"]) == 20

    def one_note() -> None:
        assert client.get(f"/api/v1/notes/{ids[0]}", headers=headers).status_code == 200

    def open_share() -> None:
        response = client.post(f"/api/v1/shared/{link}", json={"passcode": "timeit-passcode"})
        assert response.status_code == 200 and len(response.get_json()["notes"]) == 10

    def share_page() -> None:
        response = page.get(f"/s/{link}")
        assert response.status_code == 200 and b"note 9" in response.data

    for name, call in (
        ("read 20 notes (GET /api/v1/trials/{nct}/notes)", read),
        ("read one note (GET /api/v1/notes/{id})", one_note),
        ("open a share of 10 (POST /api/v1/shared/{token})", open_share),
        ("share page with its cookie (GET /s/{token})", share_page),
    ):
        call()  # warm: caches, compiled statements
        rounds = [t / CALLS * 1000 for t in timeit.repeat(call, number=CALLS, repeat=ROUNDS)]
        print(f"{name}: median {statistics.median(rounds):.2f} ms, fastest {min(rounds):.2f} ms")


if __name__ == "__main__":
    main()
