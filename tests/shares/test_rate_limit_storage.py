"""Where the counters live: rate limits in the limiter's storage (Redis across hosts), lockout in the database.

Two apps in one process stand for two app hosts: each has its own limiter and storage
connection, so the only thing they can share is what is in Redis or in the database.
"""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import flask_limiter._extension
import pytest
import redis
from argon2 import PasswordHasher
from limits.storage import RedisStorage
from security.test_rate_limits import LIMITED
from servers import redis_namespace
from support import CHEAP_HASHER, SEED, new_owner

from notes_service import registry
from notes_service.config import RATE_LIMITS
from notes_service.shares.pages import COOKIE_NAME

REDIS_URL = os.environ.get("NOTES_TEST_REDIS_URL", "").strip()
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="NOTES_TEST_REDIS_URL is not set: no Redis to share counters")
WRONG = {"passcode": "not-the-passcode"}


@pytest.fixture
def redis_prefix():
    """A key prefix of our own on the test Redis; its keys are deleted afterwards."""
    with redis_namespace(REDIS_URL, "test") as prefix:
        yield prefix


def redis_keys(prefix: str) -> list[str]:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        return [key.decode() for key in connection.scan_iter(match=f"*{prefix}*")]
    finally:
        connection.close()


def hosts(make_app, count: int = 2, **env: str) -> list:
    """`count` apps on one database, each with a cheap (still real) Argon2 hasher."""
    apps = [make_app(**env) for _ in range(count)]
    for app in apps:
        registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    return apps


def share_on(app) -> tuple[object, str, str]:
    owner = new_owner(app.test_client())
    owner.add_note()
    body = owner.share(passcode="right-passcode")
    return owner, body["id"], body["url"].rsplit("/s/", 1)[1]


def guess(app, token: str, passcode: dict | None = None) -> int:
    return app.test_client().post(f"/api/v1/shared/{token}", json=passcode or WRONG).status_code


@needs_redis
def test_attempts_through_one_host_count_on_the_other(make_app, redis_prefix):
    a, b = hosts(
        make_app,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        NOTES_SHARE_RATE_LIMIT="3 per minute",
    )
    owner, share_id, token = share_on(a)
    assert [guess(a, token), guess(a, token), guess(b, token)] == [401, 401, 401]
    assert guess(b, token) == 429  # B has seen one attempt itself: the other two came through Redis
    assert guess(a, token, {"passcode": "right-passcode"}) == 429
    keys = redis_keys(redis_prefix)
    # Keys are per limit and client (the set-up's notebook and share have counters of their own).
    assert any("/127.0.0.1/passcode/" in key for key in keys)
    assert not any(token in key for key in keys)
    # The refused attempts never reached the passcode check: the database saw three failures.
    assert b.test_client().get(f"/api/v1/shares/{share_id}", headers=owner.headers).json["failed_attempts"] == 3


@needs_redis
def test_lockout_counters_stay_in_the_database(make_app, redis_prefix):
    a, b = hosts(
        make_app,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        NOTES_SHARE_RATE_LIMIT="100 per minute",
    )
    _, _, token = share_on(a)
    statuses = [guess(host, token) for host in (a, b, a, b, a)]
    assert statuses == [401, 401, 401, 401, 423]
    # Wipe every rate-limit counter: the lock holds, because it never lived in Redis.
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.delete(*redis_keys(redis_prefix))
    finally:
        connection.close()
    assert redis_keys(redis_prefix) == []
    assert guess(b, token, {"passcode": "right-passcode"}) == 423
    (memory_host,) = hosts(make_app, 1)
    assert guess(memory_host, token, {"passcode": "right-passcode"}) == 423


def test_hosts_with_memory_storage_count_apart(make_app):
    # Without Redis each host counts alone; this is what makes the Redis test above mean something
    # (one limiter object shared by both apps used to share one in-memory storage by accident).
    a, b = hosts(make_app, NOTES_SHARE_RATE_LIMIT="3 per minute")
    _, _, token = share_on(a)
    assert [guess(a, token) for _ in range(3)] == [401, 401, 401]
    assert guess(b, token) == 401
    assert guess(a, token) == 429


@needs_redis
@pytest.mark.parametrize("limited", LIMITED, ids=[limited.name for limited in LIMITED])
def test_each_creation_limit_is_shared_through_redis(make_app, redis_prefix, limited):
    variable = RATE_LIMITS[limited.name][0]
    a, b = hosts(
        make_app, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix, **{variable: "2 per minute"}
    )
    client_a, client_b = a.test_client(), b.test_client()
    state = limited.prepare(client_a)
    if limited.name == "share_page":  # the share-page cookie is signed with the shared secret: B takes it too
        cookie = client_a.get_cookie(COOKIE_NAME, path=f"/s/{state}")
        client_b.set_cookie(COOKIE_NAME, cookie.value, path=f"/s/{state}")
    assert limited.act(client_a, state).status_code == limited.ok
    assert limited.act(client_b, state).status_code == limited.ok
    # Each host has seen one request itself; the third, on either, is over the shared count.
    assert limited.act(client_a, state).status_code == 429
    assert limited.act(client_b, state).status_code == 429
    keys = redis_keys(redis_prefix)
    assert [key for key in keys if key.endswith("/2/1/minute")]  # the count lives in Redis, per limit
    assert not any(isinstance(state, str) and state in key for key in keys)  # no share token in a key


class Outage:
    """Redis going away and coming back, as the app's limiters see it: their connections are
    dropped and new ones are made to a port where nothing listens, until `end()`."""

    def __init__(self, app) -> None:
        self.pools = [limiter.storage.storage.connection_pool for limiter in app.extensions["limiter"]]
        self.ports = [pool.connection_kwargs["port"] for pool in self.pools]

    def begin(self) -> None:
        for pool in self.pools:
            pool.connection_kwargs["port"] = 1
            pool.disconnect()
            pool.reset()  # the connections made for the other port are dropped, not reused

    def end(self) -> None:
        for pool, port in zip(self.pools, self.ports, strict=True):
            pool.connection_kwargs["port"] = port
            pool.disconnect()
            pool.reset()  # the connections made for the other port are dropped, not reused


def redis_count(prefix: str, limit: str) -> int:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        (key,) = [key for key in connection.scan_iter(match=f"*{prefix}*") if limit in key.decode()]
        return int(connection.get(key))
    finally:
        connection.close()


@needs_redis
def test_the_limits_come_back_to_redis_when_it_does(make_app, redis_prefix, monkeypatch):
    (app,) = hosts(make_app, 1, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix)
    client = app.test_client()
    _, _, token = share_on(app)  # one notebook counted in Redis
    outage = Outage(app)
    outage.begin()
    assert client.post("/api/v1/notebooks").status_code == 201  # counted in this process's memory
    assert guess(app, token) == 503  # the passcode limit fails closed
    outage.end()
    # Refused until the limiter counts in Redis again: Flask-Limiter asks Redis again 1, 2, 4 ...
    # 32 seconds after it fell back to memory (its own clock). No restart.
    assert guess(app, token) == 503
    later = time.time() + 2
    monkeypatch.setattr(flask_limiter._extension, "time", SimpleNamespace(time=lambda: later))
    assert client.post("/api/v1/notebooks").status_code == 201
    assert redis_count(redis_prefix, "/notebooks/") == 2  # the one before the outage, and this
    assert guess(app, token) == 401
    assert redis_count(redis_prefix, "/passcode/") == 1


@needs_redis
def test_a_reply_stored_before_redis_goes_is_answered_as_stored(make_app, redis_prefix):
    # The share's reply count is spent after the reply is stored (only stored replies count): Redis
    # going then must not turn a committed reply into an error the sender would send again.
    (app,) = hosts(make_app, 1, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix)
    outage, replying = Outage(app), []
    # After-request functions run last-registered first: this one, then the limiter's deduction.
    app.after_request(lambda response: (outage.begin() if replying else None) or response)
    client = app.test_client()
    owner, share_id, token = share_on(app)
    session = client.post(f"/api/v1/shared/{token}", json={"passcode": "right-passcode"}).get_json()["session"]
    note_id = client.get(f"/api/v1/shares/{share_id}", headers=owner.headers).get_json()["note_ids"][0]
    replying.append(True)
    answer = client.post(
        f"/api/v1/shared/{token}/notes/{note_id}/replies", json={"session": session, "body": "a reply"}
    )
    assert answer.status_code == 201
    replying.clear()
    outage.end()
    assert len(client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"]) == 1


@needs_redis
def test_passcode_guesses_are_refused_while_redis_answers_but_refuses_writes(make_app, redis_prefix, monkeypatch):
    # A replica after a failover (READONLY) or a Redis out of memory answers PING and refuses the
    # count: the passcode limit must not be counted in each worker's memory meanwhile.
    (app,) = hosts(make_app, 1, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix)
    _, _, token = share_on(app)

    def read_only(*args, **kwargs):
        raise redis.exceptions.ReadOnlyError("You can't write against a read only replica.")

    monkeypatch.setattr(RedisStorage, "incr", read_only)
    assert [guess(app, token) for _ in range(3)] == [503] * 3
    assert not [key for key in redis_keys(redis_prefix) if "/passcode/" in key]
