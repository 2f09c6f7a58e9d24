"""An opened share's notes come a page at a time: one passcode check, then a session for the next pages.

The first page comes with the opening (POST /api/v1/shared/<token>), with a signed session
bound to the share; each next page (POST /api/v1/shared/<token>/notes, session and cursor in
the body) spends no view and no Argon2 check, and stops as soon as the share is revoked or
expired or the session is forged, for another share, or older than 30 minutes. Pages are
made small (SHARED_PAGE_NOTES) so a few notes make several of them.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from conftest import BACKEND
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from support import SEED, delete_before_payloads_are_read

from notes_service import registry
from notes_service.clock import utcnow
from notes_service.extensions import db
from notes_service.shares import service, sessions
from notes_service.shares.models import Share

PASSCODE = "family-paging-1"
OTHER_TRIAL = "NCT04360941"


def token_of(share: dict) -> str:
    return share["url"].rsplit("/s/", 1)[1]


def open_api(client, share: dict):
    response = client.post(f"/api/v1/shared/{token_of(share)}", json={"passcode": PASSCODE})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def next_page(client, share: dict, session, cursor):
    return client.post(f"/api/v1/shared/{token_of(share)}/notes", json={"session": session, "cursor": cursor})


def walk(client, share: dict) -> tuple[list[list[str]], dict]:
    """The ids on every page, following `next` from the opening; and the opening's body."""
    opened = open_api(client, share)
    pages, cursor = [[n["id"] for n in opened["notes"]]], opened["next"]
    while cursor is not None:
        response = next_page(client, share, opened["session"], cursor)
        assert response.status_code == 200, response.get_json()
        pages.append([n["id"] for n in response.get_json()["notes"]])
        cursor = response.get_json()["next"]
    return pages, opened


def counters(client, owner, share: dict) -> dict:
    body = client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    return {k: body[k] for k in ("views", "last_viewed_at", "failed_attempts", "locked_until", "state")}


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(service, "SHARED_PAGE_NOTES", 2, raising=False)  # on older code: fail on the answers


def test_following_next_reaches_every_shared_note_once_and_nothing_else(client, owner, other, small_pages):
    shared = [owner.add_note(body=f"shared {i}")["id"] for i in range(5)]
    private = owner.add_note(body="not in the share")
    elsewhere = owner.add_note(trial=OTHER_TRIAL, exact="Palbociclib", body="other trial")
    theirs = other.add_note(body="another notebook")
    other.share(passcode=PASSCODE)
    share = owner.share(note_ids=shared, passcode=PASSCODE)
    owner.share(note_ids=[private["id"]], passcode=PASSCODE)  # another share of the same notebook

    pages, opened = walk(client, share)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [note_id for page in pages for note_id in page] == shared  # oldest first, none twice
    assert opened["trial"]["id"] == SEED and opened["session_expires_in"] == 30 * 60
    for stranger in (private["id"], elsewhere["id"], theirs["id"]):
        assert stranger not in str(pages)


@pytest.mark.skipif(BACKEND != "postgresql", reason="SQLite reads a page of a share in one snapshot")
def test_a_page_whose_notes_are_deleted_while_read_still_leads_to_the_notes_after_it(app, client, owner, monkeypatch):
    monkeypatch.setattr(service, "SHARED_PAGE_NOTES", 1, raising=False)
    first, second, third = (owner.add_note(body=f"shared {i}")["id"] for i in range(3))
    share = owner.share(passcode=PASSCODE)
    opened = open_api(client, share)
    assert [n["id"] for n in opened["notes"]] == [first]
    deleted = delete_before_payloads_are_read(monkeypatch, app, owner, [second])

    emptied = next_page(client, share, opened["session"], opened["next"]).get_json()

    assert deleted == [204] and emptied["notes"] == [] and emptied["next"] is not None
    rest = next_page(client, share, opened["session"], emptied["next"]).get_json()
    assert [n["id"] for n in rest["notes"]] == [third] and rest["next"] is None


def test_a_next_page_spends_no_view_no_attempt_and_no_argon2(app, client, owner, small_pages):
    verified = []

    class CountingHasher(PasswordHasher):
        def verify(self, *args, **kwargs):
            verified.append(1)
            return super().verify(*args, **kwargs)

    registry.of(app).password_hasher = CountingHasher()
    for i in range(5):
        owner.add_note(body=f"note {i}")
    share = owner.share(passcode=PASSCODE, max_views=1)
    opened = open_api(client, share)
    assert verified == [1]
    wrong = client.post(f"/api/v1/shared/{token_of(share)}", json={"passcode": "not-the-code"})
    assert wrong.status_code == 410  # its one view is spent: opening again is refused ...
    before = counters(client, owner, share)
    assert before["views"] == 1 and before["state"] == "used_up"

    second = next_page(client, share, opened["session"], opened["next"])
    third = next_page(client, share, opened["session"], second.get_json()["next"])

    assert second.status_code == third.status_code == 200  # ... but its session still reads the pages
    assert counters(client, owner, share) == before
    assert verified == [1]


def test_a_share_revoked_mid_way_answers_410(client, owner, small_pages):
    for i in range(5):
        owner.add_note(body=f"note {i}")
    share = owner.share(passcode=PASSCODE)
    opened = open_api(client, share)
    assert next_page(client, share, opened["session"], opened["next"]).status_code == 200
    assert client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers).status_code == 204

    response = next_page(client, share, opened["session"], opened["next"])

    assert response.status_code == 410 and response.mimetype == "application/problem+json"
    assert "note" not in response.get_json()


def test_a_share_expired_mid_way_answers_410(app, client, owner, small_pages):
    for i in range(3):
        owner.add_note(body=f"note {i}")
    share = owner.share(passcode=PASSCODE)
    opened = open_api(client, share)
    with app.app_context():
        db.session.get(Share, share["id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()

    response = next_page(client, share, opened["session"], opened["next"])

    assert response.status_code == 410 and response.mimetype == "application/problem+json"


def signed_at(app, share_id: str, seconds_ago: int, monkeypatch) -> str:
    """A real session for `share_id`, as if issued `seconds_ago`."""
    with monkeypatch.context() as patch, app.test_request_context():
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - seconds_ago)
        return sessions.issue_session(share_id)


def test_a_forged_foreign_or_expired_session_is_a_401_problem(app, client, owner, other, small_pages, monkeypatch):
    for i in range(3):
        owner.add_note(body=f"note {i}")
    other.add_note(body="theirs")
    share = owner.share(passcode=PASSCODE)
    theirs = other.share(passcode=PASSCODE)
    opened = open_api(client, share)
    foreign = open_api(client, theirs)["session"]  # a right session, for another share
    with app.test_request_context():
        wrong_key = URLSafeTimedSerializer("not-our-secret", salt="share-page-session").dumps({"s": share["id"]})
    head, _, signature = opened["session"].rpartition(".")
    tampered = f"{head}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    # Within the 30 minutes it works, so the refusal below is the age and nothing else.
    assert next_page(client, share, signed_at(app, share["id"], 29 * 60, monkeypatch), None).status_code == 200
    expired = signed_at(app, share["id"], 31 * 60, monkeypatch)

    for session in (foreign, wrong_key, tampered, expired, "", None, 12, "x" * 600, "\u00e9t\u00e9"):
        response = next_page(client, share, session, opened["next"])
        assert response.status_code == 401, session
        assert response.mimetype == "application/problem+json" and "notes" not in response.get_json()
    missing = client.post(f"/api/v1/shared/{token_of(share)}/notes", json={"cursor": opened["next"]})
    assert missing.status_code == 401
    # The session of this share opens only this share, and a 401 changed nothing.
    assert next_page(client, share, opened["session"], opened["next"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"cursor": "nope"}, 400),
        ({"cursor": "W10"}, 400),
        ({"cursor": 7}, 422),
        ({"extra": 1}, 422),
    ],
)
def test_a_bad_next_page_request_is_a_problem(client, owner, body, status):
    owner.add_note()
    share = owner.share(passcode=PASSCODE)
    opened = open_api(client, share)
    response = client.post(f"/api/v1/shared/{token_of(share)}/notes", json={"session": opened["session"], **body})
    assert response.status_code == status and response.mimetype == "application/problem+json"
    not_object = client.post(f"/api/v1/shared/{token_of(share)}/notes", json=[opened["session"]])
    assert not_object.status_code == 422


def test_an_unknown_link_is_404_whatever_the_session(client, owner):
    owner.add_note()
    opened = open_api(client, owner.share(passcode=PASSCODE))
    response = client.post("/api/v1/shared/not-a-real-token/notes", json={"session": opened["session"]})
    assert response.status_code == 404


def test_a_next_page_request_without_a_cursor_is_the_first_page(client, owner):
    note = owner.add_note(body="only one")
    share = owner.share(passcode=PASSCODE)
    opened = open_api(client, share)
    assert [n["id"] for n in opened["notes"]] == [note["id"]] and opened["next"] is None
    again = next_page(client, share, opened["session"], None)
    assert again.status_code == 200 and [n["id"] for n in again.get_json()["notes"]] == [note["id"]]
    assert "session" not in again.get_json()  # a session is given only for a right passcode
