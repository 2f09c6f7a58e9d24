"""A share's notes open with its link token only: its key slot, the session, revocation, deletion."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select
from support import as_before_key_slots, new_owner

from notes_service import crypto, keys
from notes_service.extensions import db
from notes_service.notes.models import KeySlot, Note
from notes_service.shares import service
from notes_service.shares.models import Share
from notes_service.shares.pages import COOKIE_NAME

PASSCODE = "family-code-1"


def shared(client, **options):
    owner = new_owner(client)
    note = owner.add_note(body="what the family reads")
    share = owner.share(passcode=PASSCODE, **options)
    return owner, note, share, share["url"].rsplit("/s/", 1)[1]


def slot_of(app, share_id: str):
    with app.app_context():
        slot = db.session.scalar(select(KeySlot).where(KeySlot.share_id == share_id))
        found = None if slot is None else (slot.salt, slot.wrapped)
        db.session.remove()
    return found


def session_cookie(client, token: str) -> str:
    opened = client.post(f"/s/{token}", data={"passcode": PASSCODE})
    assert opened.status_code == 303
    cookie = opened.headers["Set-Cookie"]
    return cookie.split(f"{COOKIE_NAME}=", 1)[1].split(";", 1)[0]


def test_each_share_has_its_own_slot_sealed_for_its_link(app, client):
    owner, _, first, first_token = shared(client)
    second = owner.share(passcode=PASSCODE)
    with app.app_context():
        rows = db.session.scalars(select(KeySlot).where(KeySlot.notebook_id == owner.notebook_id)).all()
        by_holder = {row.share_id: row for row in rows}
        assert set(by_holder) == {None, first["id"], second["id"]}
        assert all(row.salt is not None for row in rows)
        # The link opens its own slot and no other; the notebook token opens none of the shares'.
        slot = by_holder[first["id"]]
        share_key = keys.open_slot(slot, first_token)
        owner_dek = keys.open_slot(by_holder[None], owner.token)
        assert len(share_key) == 32 and share_key != owner_dek  # the share holds its own key, not the DEK
        for wrong in (owner.token, second["url"].rsplit("/s/", 1)[1]):
            with pytest.raises(crypto.DecryptionError):
                keys.open_slot(slot, wrong)
        db.session.remove()


def test_the_session_holds_no_key_and_opens_nothing_without_the_link(app, client):
    _, _, share, token = shared(client)
    session = session_cookie(client, token)
    # The session is a signature over the share id alone: no token, no key, nothing to derive one.
    payload = json.loads(base64.urlsafe_b64decode(session.split(".")[0] + "=" * (-len(session.split(".")[0]) % 4)))
    assert payload == {"s": share["id"]}
    with app.app_context():
        by_id = db.session.get(Share, share["id"])  # what a session alone finds
        assert by_id.token is None and service.share_key(by_id) is None
        page = service.shared_notes_page(by_id, service.PageRequest(after=None, limit=5))
        assert [view.readable for view in page.notes] == [False]
        db.session.remove()
    # Through the web: the cookie at another path gets nothing, and the API wants the link in its path.
    other = shared(client)[3]
    client.set_cookie(COOKIE_NAME, session, path=f"/s/{other}")
    assert 'name="passcode"' in client.get(f"/s/{other}").get_data(as_text=True)
    resumed = client.post(f"/api/v1/shared/{other}/notes", json={"session": session})
    assert resumed.status_code == 401
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "what the family reads" in page


def test_a_share_holds_the_keys_of_its_notes_only(app, client):
    owner = new_owner(client)
    chosen = owner.add_note(body="shared one")
    other = owner.add_note(body="kept private")
    share = owner.share(passcode=PASSCODE, note_ids=[chosen["id"]])
    token = share["url"].rsplit("/s/", 1)[1]
    with app.app_context():
        found = service.find_share(token)
        keys_of_share = service.share_key(found)
        keys_of_share.prepare([chosen["id"], other["id"]])
        notes = {n.id: n for n in db.session.scalars(select(Note).where(Note.notebook_id == owner.notebook_id))}
        assert set(keys_of_share.wrapped) == {chosen["id"]}
        assert notes_service_open(keys_of_share, notes[chosen["id"]]).body == "shared one"
        assert notes_service_open(keys_of_share, notes[other["id"]]).readable is False
        db.session.remove()


def notes_service_open(note_keys, note):
    from notes_service.notes import service as notes

    return notes.open_note(note_keys, note)


def test_a_wrong_passcode_opens_no_slot(app, client):
    owner, _, share, token = shared(client)
    as_before_key_slots(app, owner)  # a KEK-only slot shows whether the slot was opened (it is sealed then)
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": "not-it-at-all"}).status_code == 401
    assert client.post(f"/s/{token}", data={"passcode": "not-it-at-all"}).status_code == 401
    assert slot_of(app, share["id"])[0] is None  # Argon2 said no: the slot was not touched
    opened = client.post(f"/api/v1/shared/{token}", json={"passcode": PASSCODE})
    assert [n["body"] for n in opened.get_json()["notes"]] == ["what the family reads"]
    assert slot_of(app, share["id"])[0] is not None  # the first opening sealed it for its link


def test_revoking_deletes_the_slot_at_once(app, client):
    owner, _, share, token = shared(client)
    session = session_cookie(client, token)
    assert slot_of(app, share["id"]) is not None
    assert client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers).status_code == 204
    assert slot_of(app, share["id"]) is None
    client.set_cookie(COOKIE_NAME, session, path=f"/s/{token}")
    assert client.get(f"/s/{token}").status_code == 410
    assert client.post(f"/api/v1/shared/{token}/notes", json={"session": session}).status_code == 410
    # The owner's own slot and notes are untouched.
    assert client.get("/api/v1/trials/NCT07085104/notes", headers=owner.headers).get_json()["notes"][0]["readable"]


def test_deleting_the_notebook_deletes_every_slot(app, client):
    owner, _, _, token = shared(client)
    owner.share(passcode=PASSCODE)
    kept, _, _, kept_token = shared(client)
    with app.app_context():

        def count(notebook_id):
            return db.session.scalar(
                select(func.count()).select_from(KeySlot).where(KeySlot.notebook_id == notebook_id)
            )

        assert count(owner.notebook_id) == 3
        db.session.remove()
    assert client.delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204
    with app.app_context():
        assert count(owner.notebook_id) == 0 and count(kept.notebook_id) == 2
        db.session.remove()
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": PASSCODE}).status_code == 404
    assert client.post(f"/api/v1/shared/{kept_token}", json={"passcode": PASSCODE}).status_code == 200
