"""Two app hosts, one PostgreSQL database and one Redis: the scale-out path, over real HTTP.

Two separate gunicorn servers (own ports, own data folders, the same NOTES_KEYS and
NOTES_SECRET_KEY) stand in for two hosts behind a load balancer; a request may land on
either, so everything a client relies on must hold across them: notes, share lockouts
(in the database) and per-client rate limits (in Redis).
"""

from __future__ import annotations

import os
import uuid

import pytest
from servers import ServerPool, pg_database, redis_namespace, run_flask
from support import SEED, Owner, http_owner, request, request_json

from notes_service.crypto import Keyring

PG_URL = os.environ.get("NOTES_TEST_DATABASE_URL", "").strip()
REDIS_URL = os.environ.get("NOTES_TEST_REDIS_URL", "").strip()

pytestmark = [
    pytest.mark.skipif(
        not (PG_URL and REDIS_URL), reason="needs NOTES_TEST_DATABASE_URL and NOTES_TEST_REDIS_URL (CI sets both)"
    ),
    # It makes its own PostgreSQL database, so the PostgreSQL pass would only repeat it.
    pytest.mark.skipif(os.environ.get("NOTES_TEST_BACKEND") == "postgresql", reason="runs once, in the SQLite pass"),
]

RATE_LIMIT = 3  # passcode attempts per client per minute, counted across both hosts


@pytest.fixture(scope="module")
def redis_prefix():
    """A key prefix of our own on the test Redis; its keys are deleted afterwards."""
    with redis_namespace(REDIS_URL, "hosts") as prefix:
        yield prefix


@pytest.fixture(scope="module")
def hosts(redis_prefix, tmp_path_factory):
    """Servers A and B on a fresh, migrated PostgreSQL database with the trials loaded."""
    root = tmp_path_factory.mktemp("two-hosts")
    with pg_database(PG_URL, prefix="tn_hosts") as database_url, ServerPool(root / "servers") as pool:
        shared = {
            "DATABASE_URL": database_url,
            "NOTES_KEYS": Keyring.generate_spec("hosts1"),
            "NOTES_SECRET_KEY": "two-hosts-secret-" + uuid.uuid4().hex,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": redis_prefix,
            "NOTES_SHARE_RATE_LIMIT": f"{RATE_LIMIT} per minute",
            # Behind a load balancer: the client address comes from X-Forwarded-For.
            "NOTES_TRUST_PROXY": "true",
        }
        setup = {**shared, "NOTES_DATA_DIR": str(root / "setup")}
        run_flask(setup, "db", "upgrade")
        run_flask(setup, "trials", "load")
        # Each host has its own data folder: nothing on disk is shared, only the database and Redis.
        yield pool.start_many([{**shared, "NOTES_DATA_DIR": str(root / f"host-{name}")} for name in "ab"], workers=1)
        pool.stop_all()  # before the database is dropped


def client(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def make_share(owner: Owner, note_id: str, passcode: str) -> tuple[str, str]:
    status, body = owner.call("POST", "/api/v1/shares", {"trial_id": SEED, "note_ids": [note_id], "passcode": passcode})
    assert status == 201, body
    return body["id"], body["url"].rsplit("/s/", 1)[1]


def attempt(server, token: str, passcode: str, address: str) -> tuple[int, dict[str, str]]:
    status, headers, _ = request(
        "POST", f"{server.url}/api/v1/shared/{token}", body={"passcode": passcode}, headers=client(address)
    )
    return status, headers


def test_notes_locks_and_rate_limits_hold_across_two_hosts(hosts):
    a, b = hosts
    assert a.process.pid != b.process.pid and a.port != b.port

    # A note written through A is read through B, and the other way round.
    owner = http_owner(a.url)
    status, note = owner.post_note(body="Ask about the liver panel.")
    assert status == 201
    status, read = request_json("GET", f"{b.url}/api/v1/notes/{note['id']}", headers=owner.headers)
    assert status == 200 and read["readable"] is True and read["body"] == "Ask about the liver panel."
    status, second = owner.on(b.url).post_note(body="And the MELD score.")
    assert status == 201
    assert {n["body"] for n in owner.notes(SEED)} == {"Ask about the liver panel.", "And the MELD score."}

    # A share locked by five wrong passcodes through A (from five addresses, so no rate limit
    # interferes) is locked through B, even for the right passcode.
    share_id, token = make_share(owner, note["id"], "family-passcode-1")
    statuses = [attempt(a, token, "wrong-guess", f"203.0.113.{10 + i}")[0] for i in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    status, headers = attempt(b, token, "family-passcode-1", "203.0.113.99")
    assert status == 423 and int(headers["Retry-After"]) > 0
    status, shown = request_json("GET", f"{b.url}/api/v1/shares/{share_id}", headers=owner.headers)
    assert status == 200 and shown["state"] == "locked" and shown["failed_attempts"] == 5

    # A rate limit spent through A counts on B: the client's fourth attempt is refused there.
    _, other_token = make_share(owner, second["id"], "family-passcode-2")
    spender = "198.51.100.7"
    assert [attempt(a, other_token, "wrong-guess", spender)[0] for _ in range(RATE_LIMIT)] == [401] * RATE_LIMIT
    status, headers = attempt(b, other_token, "family-passcode-2", spender)
    assert status == 429 and int(headers["Retry-After"]) > 0
    # Per client, not global: another address still gets through on B, with the right passcode.
    status, opened = request_json(
        "POST",
        f"{b.url}/api/v1/shared/{other_token}",
        body={"passcode": "family-passcode-2"},
        headers=client("198.51.100.8"),
    )
    assert status == 200 and [n["body"] for n in opened["notes"]] == ["And the MELD score."]


def test_share_page_session_opened_on_one_host_is_honoured_by_the_other(hosts):
    a, b = hosts
    owner = http_owner(a.url)
    _, note = owner.post_note(body="Bring the scan results.")
    _, token = make_share(owner, note["id"], "family-passcode-3")
    status, headers, _ = request(
        "POST", f"{a.url}/s/{token}", form={"passcode": "family-passcode-3"}, headers=client("192.0.2.5")
    )
    assert status == 303
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    # Same NOTES_SECRET_KEY on both hosts: B accepts the cookie A signed.
    status, _, page = request("GET", f"{b.url}/s/{token}", headers={"Cookie": cookie, **client("192.0.2.5")})
    assert status == 200 and b"Bring the scan results." in page
