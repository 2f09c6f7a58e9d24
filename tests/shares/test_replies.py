"""Replies: the family answers a shared note through the API; the owner lists, marks seen and deletes."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from support import SEED

from notes_service.clock import utcnow
from notes_service.extensions import db
from notes_service.shares import schemas
from notes_service.shares.models import Reply, Share

PASSCODE = "blue heron 42"


def token_of(share: dict) -> str:
    return share["url"].rsplit("/s/", 1)[1]


def opened(client, share: dict) -> dict:
    response = client.post(f"/api/v1/shared/{token_of(share)}", json={"passcode": PASSCODE})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def reply(client, share: dict, note_id: str, session: str, body: str = "Ask the doctor about this", **extra):
    return client.post(
        f"/api/v1/shared/{token_of(share)}/notes/{note_id}/replies",
        json={"session": session, "body": body, **extra},
    )


@pytest.fixture
def shared(client, owner):
    """A note shared behind PASSCODE, and the session that opening it gave."""
    note = owner.add_note(body="<p>Does this exclude me?</p>")
    share = owner.share(passcode=PASSCODE, sender_name="Maria")
    return note, share, opened(client, share)["session"]


def test_a_reply_round_trip(client, owner, shared):
    note, share, session = shared
    response = reply(client, share, note["id"], session, name="Rose")
    assert response.status_code == 201, response.get_json()
    sent = response.get_json()
    assert (sent["name"], sent["body"], sent["note_id"]) == ("Rose", "Ask the doctor about this", note["id"])
    # The family sees it on the note, in the first page and in the next pages alike.
    first = opened(client, share)
    assert [r["id"] for r in first["notes"][0]["replies"]] == [sent["id"]]
    assert first["notes"][0]["replies_allowed"] is True
    again = client.post(f"/api/v1/shared/{token_of(share)}/notes", json={"session": session}).get_json()
    assert again["notes"][0]["replies"] == [sent]
    # The owner sees it, unread, on the trial and on the share.
    listed = client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()
    assert listed["next"] is None
    assert listed["replies"] == [{**sent, "share_id": share["id"], "unread": True}]
    counts = client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    assert (counts["reply_count"], counts["unread_replies"]) == (1, 1)
    seen = client.post(f"/api/v1/trials/{SEED}/replies/seen", headers=owner.headers, json={"reply_ids": [sent["id"]]})
    assert seen.status_code == 204
    assert (
        client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"][0]["unread"] is False
    )
    counts = client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    assert (counts["reply_count"], counts["unread_replies"]) == (1, 0)
    assert client.delete(f"/api/v1/replies/{sent['id']}", headers=owner.headers).status_code == 204
    assert client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"] == []
    assert opened(client, share)["notes"][0]["replies"] == []


def test_a_replys_answer_carries_the_link_token_nowhere(client, shared):
    # The share link is the one URL we make that carries its token: the 201 names no other.
    note, share, session = shared
    response = reply(client, share, note["id"], session)
    assert response.status_code == 201 and "Location" not in response.headers
    assert token_of(share) not in str(response.headers)


def test_a_name_too_long_once_normalized_is_refused_as_a_name(client, shared):
    # Within the limit as typed; NFC doubles it (each U+0958 becomes two characters).
    note, share, session = shared
    response = reply(client, share, note["id"], session, name="\u0958" * schemas.MAX_REPLY_NAME_CHARS)
    assert response.status_code == 422
    assert response.get_json()["detail"] == "Your name is too long." and "name" in response.get_json()["errors"]


def test_a_reply_without_a_name_and_with_markup_is_sanitized_like_a_note(client, shared):
    note, share, session = shared
    hostile = '<p onclick="x()">Call <b>me</b></p><script>alert(1)</script><img src=x onerror=alert(2)>'
    sent = reply(client, share, note["id"], session, body=hostile, name="<script>alert(3)</script><i>Rose</i>")
    assert sent.status_code == 201
    body = sent.get_json()
    assert body["body"] == "<p>Call <b>me</b></p>" and body["name"] == "Rose"
    assert "alert" not in str(opened(client, share))
    nameless = reply(client, share, note["id"], session).get_json()
    assert nameless["name"] is None


def test_replies_are_ciphertext_at_rest(app, client, shared):
    note, share, session = shared
    reply(client, share, note["id"], session, body="Marigold-question", name="Rosalind")
    with app.app_context():
        row = db.session.scalar(select(Reply))
        assert b"Marigold" not in row.ciphertext and b"Rosalind" not in row.ciphertext


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "x" * (schemas.MAX_REPLY_CHARS + 1)}, "body"),
        ({"body": "<" * 501}, "body"),  # within the limit as typed, four times longer as stored
        ({"body": "<script>only()</script>"}, "body"),  # nothing left to read
        ({"body": "ok", "name": "x" * (schemas.MAX_REPLY_NAME_CHARS + 1)}, "name"),
        ({"body": 7}, "body"),
        ({"body": "ok", "extra": 1}, "extra"),
    ],
)
def test_a_bad_reply_is_422_and_stores_nothing(app, client, shared, body, field):
    note, share, session = shared
    response = client.post(
        f"/api/v1/shared/{token_of(share)}/notes/{note['id']}/replies", json={"session": session, **body}
    )
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert "xxxxxxxx" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Reply)) is None


def test_no_session_or_another_shares_session_is_401(client, owner, shared):
    note, share, _session = shared
    other = owner.share(passcode=PASSCODE)
    other_session = opened(client, other)["session"]
    for session in (None, "forged", other_session):
        assert reply(client, share, note["id"], session).status_code == 401


def test_a_note_not_in_the_share_is_404(client, owner, other, shared):
    _note, share, session = shared
    private = owner.add_note(exact="Systemic Sclerosis", body="not shared")
    theirs = other.add_note()
    # Ids no note could have are not looked up (PostgreSQL refuses a NUL in text with an error).
    for note_id in (private["id"], theirs["id"], "0" * 32, "x" * 65, "a%00b", "0" * 31 + "%00"):
        assert reply(client, share, note_id, session).status_code == 404


def test_replies_off_hides_the_control_and_refuses_with_409(client, owner, shared):
    note, share, session = shared
    client.patch(f"/api/v1/shares/{share['id']}", headers=owner.headers, json={"replies_allowed": False})
    assert opened(client, share)["notes"][0]["replies_allowed"] is False
    refused = reply(client, share, note["id"], session)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "turned replies off" in refused.get_json()["detail"]


def test_a_revoked_or_expired_share_takes_no_reply(app, client, owner, shared):
    note, share, session = shared
    with app.app_context():
        db.session.get(Share, share["id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert reply(client, share, note["id"], session).status_code == 410
    other = owner.share(passcode=PASSCODE)
    other_session = opened(client, other)["session"]
    client.delete(f"/api/v1/shares/{other['id']}", headers=owner.headers)
    assert reply(client, other, note["id"], other_session).status_code == 410


def test_a_used_up_share_takes_no_reply(client, owner):
    note = owner.add_note()
    share = owner.share(passcode=PASSCODE, max_views=1)
    first = opened(client, share)
    assert first["notes"][0]["replies_allowed"] is False
    refused = reply(client, share, note["id"], first["session"])
    assert refused.status_code == 410


def test_the_bounds_are_stored_bounds(app, client, shared, monkeypatch):
    note, share, session = shared
    monkeypatch.setattr("notes_service.shares.replies.MAX_REPLIES_PER_NOTE", 2)
    monkeypatch.setattr("notes_service.shares.replies.MAX_REPLIES_PER_SHARE", 3)
    assert [reply(client, share, note["id"], session).status_code for _ in range(3)] == [201, 201, 409]
    assert "as many as it can hold" in reply(client, share, note["id"], session).get_json()["detail"]
    with app.app_context():
        assert len(db.session.scalars(select(Reply)).all()) == 2


def test_another_owner_cannot_list_mark_or_delete_replies(client, owner, other, shared):
    note, share, session = shared
    sent = reply(client, share, note["id"], session).get_json()
    assert client.get(f"/api/v1/trials/{SEED}/replies", headers=other.headers).get_json()["replies"] == []
    assert client.delete(f"/api/v1/replies/{sent['id']}", headers=other.headers).status_code == 404
    marked = client.post(f"/api/v1/trials/{SEED}/replies/seen", headers=other.headers, json={"reply_ids": [sent["id"]]})
    assert marked.status_code == 204
    mine = client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"]
    assert [r["unread"] for r in mine] == [True]
    assert client.get(f"/api/v1/trials/{SEED}/replies").status_code == 401


def test_ids_no_reply_could_have_mark_nothing(client, owner, shared):
    note, share, session = shared
    sent = reply(client, share, note["id"], session).get_json()
    ids = ["a\u0000b", sent["id"] + "\u0000", "x" * 64]
    marked = client.post(f"/api/v1/trials/{SEED}/replies/seen", headers=owner.headers, json={"reply_ids": ids})
    assert marked.status_code == 204
    mine = client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"]
    assert [r["unread"] for r in mine] == [True]


def test_the_owners_list_is_paged_newest_first(client, owner, shared):
    note, share, session = shared
    sent = [reply(client, share, note["id"], session, body=f"reply {n}").get_json()["id"] for n in range(3)]
    first = client.get(f"/api/v1/trials/{SEED}/replies?limit=2", headers=owner.headers).get_json()
    rest = client.get(f"/api/v1/trials/{SEED}/replies?limit=2&cursor={first['next']}", headers=owner.headers).get_json()
    assert [r["id"] for r in first["replies"] + rest["replies"]] == sent[::-1] and rest["next"] is None
    assert client.get(f"/api/v1/trials/{SEED}/replies?limit=51", headers=owner.headers).status_code == 400
    assert client.get(f"/api/v1/trials/{SEED}/replies?cursor=nope", headers=owner.headers).status_code == 400
    assert client.get("/api/v1/trials/NCT00000000/replies", headers=owner.headers).status_code == 404


def test_replies_go_with_their_note_and_their_share(app, client, owner, shared):
    note, share, session = shared
    reply(client, share, note["id"], session)
    other_note = owner.add_note(exact="Systemic Sclerosis", body="second")
    second = owner.share(passcode=PASSCODE, note_ids=[other_note["id"]])
    reply(client, second, other_note["id"], opened(client, second)["session"])
    assert client.delete(f"/api/v1/notes/{note['id']}", headers=owner.headers).status_code == 204
    with app.app_context():
        assert [r.note_id for r in db.session.scalars(select(Reply))] == [other_note["id"]]
        db.session.delete(db.session.get(Share, second["id"]))
        db.session.commit()
        assert db.session.scalar(select(Reply)) is None


def test_no_reply_text_or_name_in_the_logs(client, owner, shared, caplog):
    note, share, session = shared
    caplog.set_level(logging.DEBUG)
    reply(client, share, note["id"], session, body="Saffron-secret-words", name="Hyacinth")
    reply(client, share, note["id"], session, body="x" * 3000, name="Hyacinth")
    client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Saffron" not in logged and "Hyacinth" not in logged and "Maria" not in logged


def test_the_owner_still_reads_replies_after_revoking_the_share(client, owner, shared):
    note, share, session = shared
    sent = reply(client, share, note["id"], session, name="Rose").get_json()
    assert client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers).status_code == 204
    listed = client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"]
    assert [(r["id"], r["name"], r["body"]) for r in listed] == [(sent["id"], "Rose", sent["body"])]


def test_a_reply_is_bound_to_its_row(app, client, owner, shared):
    # A ciphertext moved to another reply's row does not open there: the owner's list leaves it out.
    note, share, session = shared
    first = reply(client, share, note["id"], session, body="first").get_json()
    second = reply(client, share, note["id"], session, body="second").get_json()
    with app.app_context():
        rows = {row.id: row for row in db.session.scalars(select(Reply))}
        rows[second["id"]].ciphertext = rows[first["id"]].ciphertext
        db.session.commit()
    listed = client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"]
    assert [r["id"] for r in listed] == [first["id"]]
