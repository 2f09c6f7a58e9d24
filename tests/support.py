"""Helpers shared by tests: the seed trial, and a notebook driven through the API."""

from __future__ import annotations

from dataclasses import dataclass

SEED = "NCT07085104"
CIRRHOSIS = "Child-Pugh Class B or C cirrhosis"


@dataclass
class Owner:
    """A notebook seen from the API: its id, token and auth header."""

    client: object
    notebook_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def add_note(self, exact: str = CIRRHOSIS, body: str = "Does this exclude me?", trial: str = SEED,
                 **extra: object) -> dict:
        target = {"selector": [{"type": "TextQuoteSelector", "exact": exact, **extra.pop("quote", {})}]}
        response = self.client.post(f"/api/v1/trials/{trial}/notes", headers=self.headers,
                                    json={"target": target, "body": body, **extra})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def share(self, **body: object) -> dict:
        response = self.client.post("/api/v1/shares", headers=self.headers, json={"trial_id": SEED, **body})
        assert response.status_code == 201, response.get_json()
        return response.get_json()


def new_owner(client) -> Owner:
    response = client.post("/api/v1/notebooks")
    assert response.status_code == 201
    body = response.get_json()
    return Owner(client, body["notebook_id"], body["token"])


def as_before_key_slots(app, owner: Owner) -> None:
    """Turn a notebook into what 0007_key_slots makes of a database from before slots.

    The notebook's data key wrapped under the KEK only (no salt: no token involved), the same
    wrap in the slot of each of its live shares, no note keys in its shares, and every note
    sealed under the data key itself (format 1); a downgrade past 0007 takes such data back.
    """
    from sqlalchemy import select, update

    from notes_service import crypto, keys
    from notes_service.extensions import db
    from notes_service.notes import service
    from notes_service.notes.models import KeySlot, Note, Notebook
    from notes_service.shares.models import Share, share_notes

    with app.app_context():
        notebook = db.session.get(Notebook, owner.notebook_id)
        notebook.token = owner.token
        dek = service.data_key(notebook)
        for note in db.session.scalars(select(Note).where(Note.notebook_id == owner.notebook_id)).all():
            plain = crypto.open_sealed(service.OwnerKeys(dek).opening_key(note), note.ciphertext,
                                       crypto.note_aad(note.notebook_id, note.id, note.format_version))
            note.ciphertext = crypto.seal(dek, plain, crypto.note_aad(note.notebook_id, note.id, 1))
            note.format_version = 1
        kek_id, wrapped = crypto.wrap_data_key(keys.keyring(), dek, keys.owner_context(owner.notebook_id))
        db.session.execute(update(KeySlot).where(KeySlot.notebook_id == owner.notebook_id)
                           .values(kek_id=kek_id, salt=None, wrapped=wrapped))
        shares = select(Share.id).where(Share.notebook_id == owner.notebook_id)
        db.session.execute(update(share_notes).where(share_notes.c.share_id.in_(shares)).values(wrapped_key=None))
        db.session.commit()
        db.session.remove()
