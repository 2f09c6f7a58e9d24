"""An error never spends an attempt (issue 11, point 1).

Every passcode the service or argon2-cffi cannot process gets a 4xx and leaves the share's
counters as they were, on the API (JSON) and the share page (form); an exception between
reserving an attempt and recording its outcome gives the reservation back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from support import CHEAP_HASHER, new_owner

from notes_service import registry
from notes_service.clock import utcnow
from notes_service.errors import Unauthorized
from notes_service.extensions import db
from notes_service.shares import service
from notes_service.shares.models import Share, ShareAttempt

RIGHT = "right-passcode"

# What JSON can carry that is no passcode Argon2 can be given: no UTF-8 form (lone
# surrogates, as json.loads makes them from "\ud800"), a NUL, not a string, too long, empty.
UNPROCESSABLE = {
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff",
    "surrogate inside text": "right-\ud83dpasscode",
    "reversed surrogate pair": "\udc00\ud800abcdef",
    # A NUL is no text either (the share page's form refuses it with a 400 that counts nothing).
    "a NUL inside": "right-\x00passcode",
    "a NUL at the end": "right-passcode\x00",
    "129 characters": "x" * 129,
    "60,000 characters": "x" * 60_000,
    "empty": "",
    "only spaces": "   \t ",
    "a number": 482913057,
    "a float": 1e308,
    "true": True,
    "null": None,
    "a list": ["right-passcode"],
    "an object": {"passcode": "right-passcode"},
}


def cheap_app(make_app, **settings):
    app = make_app(**settings)
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    return app


def make_share(app):
    owner = new_owner(app.test_client())
    owner.add_note()
    body = owner.share(passcode=RIGHT)
    return owner, body["id"], body["url"].rsplit("/s/", 1)[1]


def counters(app, share_id):
    with app.app_context():
        share = db.session.get(Share, share_id)
        in_flight = db.session.query(ShareAttempt).filter_by(share_id=share_id).count()
        result = (share.failed_streak, share.failed_total, share.lock_count, share.locked_until, share.views, in_flight)
        db.session.remove()
    return result


UNTOUCHED = (0, 0, 0, None, 0, 0)


@pytest.mark.parametrize("passcode", list(UNPROCESSABLE.values()), ids=list(UNPROCESSABLE))
def test_unprocessable_passcodes_get_4xx_and_count_nothing_on_the_api(make_app, passcode):
    app = cheap_app(make_app)
    _, share_id, token = make_share(app)
    client = app.test_client()
    for _ in range(6):  # more than the streak limit: none of them may count
        response = client.post(f"/api/v1/shared/{token}", json={"passcode": passcode})
        # 401 from the share service; 400 where request parsing already refuses the body.
        assert response.status_code in {400, 401}, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
    assert counters(app, share_id) == UNTOUCHED
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": RIGHT}).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        "%ED%A0%80",  # a surrogate's UTF-8-like bytes (not valid UTF-8)
        "%FF%FE%00",  # bytes that are no UTF-8 at all, and a NUL
        "right%00passcode",  # NUL inside
        "x" * 60_000,  # far past the longest passcode
        "",  # empty
    ],
    ids=["surrogate bytes", "invalid utf-8", "nul", "60,000 characters", "empty"],
)
def test_hostile_form_passcodes_get_the_form_again_never_a_500(make_app, raw):
    app = cheap_app(make_app)
    _, share_id, token = make_share(app)
    client = app.test_client()
    for _ in range(3):
        response = client.post(f"/s/{token}", data=f"passcode={raw}", content_type="application/x-www-form-urlencoded")
        assert response.status_code in {400, 401} and response.mimetype == "text/html"
    streak, total, _, locked_until, _, in_flight = counters(app, share_id)
    # Text the form decodes (replacement characters, NUL) is a real, wrong passcode and counts;
    # what cannot be a passcode counts nothing. Either way no place is left taken.
    assert total in {0, 3} and streak == total and locked_until is None and in_flight == 0
    response = client.post(f"/s/{token}", data={"passcode": RIGHT})
    assert response.status_code == 303


def test_a_share_page_form_without_a_passcode_field_counts_nothing(make_app):
    app = cheap_app(make_app)
    _, share_id, token = make_share(app)
    response = app.test_client().post(f"/s/{token}", data={"other": RIGHT})
    assert response.status_code == 401
    assert counters(app, share_id) == UNTOUCHED


class FailingHasher(PasswordHasher):
    """Real Argon2id whose verify fails the way a library error or a dying allocation would."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(**CHEAP_HASHER)
        self.error = error

    def verify(self, hash, password):
        raise self.error


@pytest.mark.parametrize(
    "error",
    [RuntimeError("argon2 broke"), MemoryError(), UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed")],
    ids=["runtime", "memory", "unicode"],
)
def test_an_error_during_verification_gives_the_reservation_back(make_app, error):
    app = make_app()
    _, share_id, token = make_share(app)
    registry.of(app).password_hasher = FailingHasher(error)
    client = app.test_client()
    for _ in range(6):
        assert client.post(f"/api/v1/shared/{token}", json={"passcode": RIGHT}).status_code == 500
    assert counters(app, share_id) == UNTOUCHED
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": RIGHT}).status_code == 200


class FailingRehash(PasswordHasher):
    """Verifies for real, then fails while rehashing a right passcode under new parameters."""

    def __init__(self) -> None:
        super().__init__(time_cost=2, memory_cost=2048, parallelism=1)

    def hash(self, password, *, salt=None):
        raise RuntimeError("out of memory while rehashing")


def test_an_error_after_a_right_passcode_is_verified_counts_nothing(make_app):
    app = cheap_app(make_app)
    _, share_id, token = make_share(app)
    registry.of(app).password_hasher = FailingRehash()
    client = app.test_client()
    for _ in range(6):
        assert client.post(f"/api/v1/shared/{token}", json={"passcode": RIGHT}).status_code == 500
    assert counters(app, share_id) == UNTOUCHED


def test_a_reservation_left_by_a_killed_worker_ends_with_its_lease(make_app):
    # A SIGKILLed worker runs no cleanup: what it leaves is a reservation and nothing else.
    app = cheap_app(make_app)
    _, share_id, token = make_share(app)
    now = utcnow()
    with app.app_context():
        for _ in range(service.STREAK_LIMIT):
            assert service.reserve_attempt(share_id, now)
        db.session.remove()
    assert counters(app, share_id)[:5] == UNTOUCHED[:5]  # in flight, not failed
    later = now + service.ATTEMPT_LEASE + timedelta(seconds=1)
    with app.app_context():
        opened = service.open_share(token, RIGHT, now=later)
        assert opened.share.views == 1
        db.session.remove()
    assert counters(app, share_id) == (0, 0, 0, None, 1, 0)


def test_places_taken_by_attempts_in_flight_are_busy_not_locked(make_app, monkeypatch):
    app = cheap_app(make_app)
    _, share_id, token = make_share(app)
    monkeypatch.setattr(service, "IN_FLIGHT_WAIT_SECONDS", 0.2, raising=False)
    now = utcnow()
    with app.app_context():
        for _ in range(service.STREAK_LIMIT):
            service.reserve_attempt(share_id, now)
        db.session.remove()
    response = app.test_client().post(f"/api/v1/shared/{token}", json={"passcode": RIGHT})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert counters(app, share_id)[:5] == UNTOUCHED[:5]


def test_a_wrong_passcode_still_counts_and_locks_with_an_end(make_app):
    app = cheap_app(make_app)
    _, share_id, token = make_share(app)
    client = app.test_client()
    statuses = [client.post(f"/api/v1/shared/{token}", json={"passcode": "wrong-one"}).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    streak, total, locks, locked_until, _, in_flight = counters(app, share_id)
    assert (streak, total, locks, in_flight) == (0, 5, 1, 0)
    assert locked_until is not None and locked_until > utcnow()


def test_unprocessable_passcodes_reach_no_argon2_in_the_service(make_app):
    app = cheap_app(make_app)
    _, share_id, token = make_share(app)
    with app.app_context():
        for passcode in UNPROCESSABLE.values():
            with pytest.raises(Unauthorized):
                service.open_share(token, passcode)
        db.session.remove()
    assert counters(app, share_id) == UNTOUCHED


@pytest.mark.parametrize(
    "passcode,problem",
    [
        # Refused by the request layer (400, before any view) rather than the share rules (422).
        ("\ud800\ud800\ud800\ud800\ud800\ud800", "lone surrogate"),
        ("right\x00passcode", "plain text"),
        ("right\x1bpasscode", "plain text"),
        ("right\x85passcode", "plain text"),
        (123456789, "a string"),
        (["right-passcode"], "a string"),
        ("x" * 129, "at most 128 characters"),
        ("x" * 60_000, "at most 128 characters"),
    ],
    ids=["surrogates", "nul", "escape", "c1 control", "number", "list", "129", "60,000"],
)
def test_a_new_share_refuses_a_passcode_argon2_cannot_take_or_nobody_can_type(make_app, passcode, problem):
    app = cheap_app(make_app)
    owner = new_owner(app.test_client())
    owner.add_note()
    response = owner.client.post(
        "/api/v1/shares", headers=owner.headers, json={"trial_id": "NCT07085104", "passcode": passcode}
    )
    expected = 400 if problem == "lone surrogate" else 422
    assert response.status_code == expected and response.mimetype == "application/problem+json"
    assert problem in response.get_json()["errors"]["passcode"]
    assert owner.client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"] == []
