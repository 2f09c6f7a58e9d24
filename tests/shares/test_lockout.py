from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from support import CHEAP_HASHER, new_owner

from notes_service import registry
from notes_service.clock import utcnow
from notes_service.errors import Locked, Unauthorized
from notes_service.extensions import db
from notes_service.shares import service
from notes_service.shares.models import Share


class CountingHasher(PasswordHasher):
    """A real Argon2id hasher that counts the verifications it runs."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.verifications = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):
        with self._lock:
            self.verifications += 1
        return super().verify(hash, password)


def make_share(app, **share):
    client = app.test_client()
    owner = new_owner(client)
    owner.add_note()
    body = owner.share(passcode="right-passcode", **share)
    return owner, body["id"], body["url"].rsplit("/s/", 1)[1]


def attempt(app, token, passcode, now):
    with app.app_context():
        try:
            service.open_share(token, passcode, now=now)
        except Locked as error:
            return "locked", error.retry_after
        except Unauthorized:
            return "wrong", None
        finally:
            db.session.remove()
        return "open", None


def test_lock_ladder_with_a_fake_clock(make_app):
    app = make_app()
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    owner, share_id, token = make_share(app, expires_in_days=90)
    now = utcnow()
    for _ in range(4):
        assert attempt(app, token, "nope", now)[0] == "wrong"
    assert attempt(app, token, "nope", now) == ("locked", 15 * 60)
    # Locked even for the right passcode, until the lock ends.
    assert attempt(app, token, "right-passcode", now + timedelta(minutes=14))[0] == "locked"
    now += timedelta(minutes=15)
    for _ in range(4):
        assert attempt(app, token, "nope", now)[0] == "wrong"
    assert attempt(app, token, "nope", now) == ("locked", 30 * 60)
    assert attempt(app, token, "nope", now + timedelta(minutes=29))[0] == "locked"
    now += timedelta(minutes=30)
    for _ in range(4):
        attempt(app, token, "nope", now)
    assert attempt(app, token, "nope", now) == ("locked", 60 * 60)
    now += timedelta(minutes=60)
    for _ in range(4):
        assert attempt(app, token, "nope", now)[0] == "wrong"
    # The 20th wrong passcode locks it until the owner acts: no time limit.
    result = attempt(app, token, "nope", now)
    assert result[0] == "locked"
    assert attempt(app, token, "right-passcode", now + timedelta(days=30))[0] == "locked"
    with app.app_context():
        share = db.session.get(Share, share_id)
        assert share.failed_total == 20 and service.state_of(share, now + timedelta(days=30)) == "locked"
    client = app.test_client()
    listed = client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"][0]
    assert listed["state"] == "locked" and listed["failed_attempts"] == 20
    unlocked = client.post(f"/api/v1/shares/{share_id}/unlock", headers=owner.headers)
    assert unlocked.status_code == 200 and unlocked.get_json()["state"] == "active"
    assert attempt(app, token, "right-passcode", utcnow())[0] == "open"


def test_right_passcode_resets_the_streak(make_app):
    app = make_app()
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    _, share_id, token = make_share(app)
    now = utcnow()
    for _ in range(4):
        attempt(app, token, "nope", now)
    assert attempt(app, token, "right-passcode", now)[0] == "open"
    for _ in range(4):
        assert attempt(app, token, "nope", now)[0] == "wrong"
    with app.app_context():
        share = db.session.get(Share, share_id)
        assert share.failed_total == 8 and share.failed_streak == 4 and share.views == 1


def test_locked_share_answers_423_with_retry_after(make_app):
    app = make_app()
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    _, _, token = make_share(app)
    client = app.test_client()
    for _ in range(5):
        client.post(f"/api/v1/shared/{token}", json={"passcode": "nope"})
    response = client.post(f"/api/v1/shared/{token}", json={"passcode": "right-passcode"})
    assert response.status_code == 423
    assert response.mimetype == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_twenty_parallel_wrong_guesses_run_at_most_five_verifications(make_app):
    app = make_app(NOTES_ARGON2_MAX_CONCURRENT="20")
    hasher = CountingHasher()  # argon2-cffi defaults: the real cost
    registry.of(app).password_hasher = hasher
    _, share_id, token = make_share(app)
    hasher.verifications = 0
    barrier = threading.Barrier(20)
    results: list[str] = []

    def guess() -> None:
        barrier.wait()
        results.append(attempt(app, token, "nope-nope", utcnow())[0])

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 20
    assert hasher.verifications <= 5
    assert results.count("wrong") + results.count("locked") == 20
    with app.app_context():
        share = db.session.get(Share, share_id)
        assert share.failed_total == 20 or service.state_of(share) == "locked"


def test_argon_gate_answers_503_at_once_when_full(make_app):
    app = make_app(NOTES_ARGON2_MAX_CONCURRENT="1")
    _, _, token = make_share(app)
    gate = registry.of(app).argon_gate
    with gate.slot():
        response = app.test_client().post(f"/api/v1/shared/{token}", json={"passcode": "right-passcode"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_rate_limit_answers_429_before_any_hashing(make_app):
    app = make_app(NOTES_SHARE_RATE_LIMIT="3 per minute")
    hasher = CountingHasher(**CHEAP_HASHER)
    registry.of(app).password_hasher = hasher
    _, _, token = make_share(app)
    client = app.test_client()
    statuses = [client.post(f"/api/v1/shared/{token}", json={"passcode": "nope-nope"}).status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    assert hasher.verifications == 3
    response = client.post(f"/api/v1/shared/{token}", json={"passcode": "nope-nope"})
    assert response.mimetype == "application/problem+json" and int(response.headers["Retry-After"]) > 0


def test_passcode_is_rehashed_when_parameters_change(make_app):
    app = make_app()
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    _, share_id, token = make_share(app)
    with app.app_context():
        old_hash = db.session.get(Share, share_id).passcode_hash
    registry.of(app).password_hasher = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    assert attempt(app, token, "right-passcode", utcnow())[0] == "open"
    with app.app_context():
        new_hash = db.session.get(Share, share_id).passcode_hash
    assert new_hash != old_hash and "t=2" in new_hash


@pytest.mark.parametrize("lock_number,minutes", [(0, 15), (1, 30), (2, 60), (3, 120)])
def test_lock_duration_doubles(lock_number, minutes):
    assert service.lock_duration(lock_number) == timedelta(minutes=minutes)


def test_the_tries_left_count_the_total_limit_too(make_app):
    # A right passcode ends a streak, not the total: 2 wrong before it and three locks after
    # leave 3 tries in all, and the wrong passcode must not say 4 (nor that the link only pauses).
    app = make_app()
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    _, _, token = make_share(app, expires_in_days=90)
    now = utcnow()
    for _ in range(2):
        attempt(app, token, "nope", now)
    assert attempt(app, token, "right-passcode", now)[0] == "open"
    for wait in (15, 30, 60):
        for _ in range(5):
            attempt(app, token, "nope", now)
        now += timedelta(minutes=wait)

    def told(passcode: str) -> str:
        with app.app_context():
            try:
                service.open_share(token, passcode, now=now)
            except Unauthorized as error:
                return error.detail
            finally:
                db.session.remove()
        return "open"

    assert "You have 2 more tries before the link locks until they unlock it." in told("nope")
    assert "You have 1 more try before the link locks until they unlock it." in told("nope")
    assert attempt(app, token, "nope", now) == ("locked", None)
