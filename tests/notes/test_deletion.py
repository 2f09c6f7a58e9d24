"""Deleting a notebook takes everything it holds through the foreign keys, on both databases.

notes.service deletes the notebook row only; the notes, the shares, the notes those show
and the passcode attempts in flight go by ON DELETE CASCADE. On SQLite that holds only
with PRAGMA foreign_keys=ON, which every connection of the pool must have.
"""

from __future__ import annotations

import uuid

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from support import CHEAP_HASHER, SEED, new_owner

from notes_service import registry
from notes_service.clock import utcnow
from notes_service.extensions import db
from notes_service.notes.models import Note, Notebook
from notes_service.shares import service as shares
from notes_service.shares.models import Share, ShareAttempt, share_notes

# (table, column) -> what deleting the referred row does. Rows of a notebook cascade; a trial
# with notes or shares on it cannot be deleted from under them.
FOREIGN_KEYS = {
    ("notes", "notebook_id"): "CASCADE",
    ("notes", "trial_id"): "RESTRICT",
    ("shares", "notebook_id"): "CASCADE",
    ("shares", "trial_id"): "RESTRICT",
    ("share_notes", "share_id"): "CASCADE",
    ("share_notes", "note_id"): "CASCADE",
    ("share_attempts", "share_id"): "CASCADE",
    ("trial_versions", "trial_id"): "CASCADE",
    ("key_slots", "notebook_id"): "CASCADE",
    ("key_slots", "share_id"): "CASCADE",
    ("key_slots", "device_id"): "CASCADE",
    ("key_slots", "link_code_id"): "CASCADE",
    ("key_slots", "account_id"): "CASCADE",
    ("devices", "notebook_id"): "CASCADE",
    ("link_codes", "notebook_id"): "CASCADE",
    ("accounts", "notebook_id"): "CASCADE",
    # A reply goes with its note, its share or its notebook; its trial stays while it has one.
    ("replies", "note_id"): "CASCADE",
    ("replies", "notebook_id"): "CASCADE",
    ("replies", "share_id"): "CASCADE",
    ("replies", "trial_id"): "RESTRICT",
}


# PostgreSQL's search table (migration 0015): a trial's vector goes with it.
POSTGRESQL_FOREIGN_KEYS = {("trial_search", "id"): "CASCADE"}


def test_every_foreign_key_says_what_a_delete_does(app):
    with app.app_context():
        inspector = inspect(db.engine)
        found = {
            (table, fk["constrained_columns"][0]): (fk.get("options") or {}).get("ondelete")
            for table in inspector.get_table_names()
            for fk in inspector.get_foreign_keys(table)
        }
        postgresql = db.engine.dialect.name == "postgresql"
    assert found == (FOREIGN_KEYS | POSTGRESQL_FOREIGN_KEYS if postgresql else FOREIGN_KEYS)


def test_every_sqlite_connection_enforces_foreign_keys(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL always enforces foreign keys")
    with app.app_context():
        # Several connections out of the pool at once: each is a new one, set up on connect.
        # (Raw ones: a transaction on each would be BEGIN IMMEDIATE, and they would queue.)
        held = [db.engine.raw_connection() for _ in range(3)]
        try:
            assert [c.cursor().execute("PRAGMA foreign_keys").fetchone()[0] for c in held] == [1, 1, 1]
        finally:
            for connection in held:
                connection.close()
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()


def test_a_note_of_no_notebook_is_refused(app):
    with app.app_context():
        db.session.add(
            Note(
                id=uuid.uuid4().hex,
                notebook_id="0" * 32,
                trial_id=SEED,
                format_version=1,
                ciphertext=b"x",
                anchored_version="v",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.remove()


def rows_of(app, notebook_id: str) -> dict[str, int]:
    """How many rows of each table belong to the notebook."""
    with app.app_context():
        share_ids = select(Share.id).where(Share.notebook_id == notebook_id)
        counts = {
            "notebooks": db.session.scalar(select(func.count()).where(Notebook.id == notebook_id)),
            "notes": db.session.scalar(select(func.count()).where(Note.notebook_id == notebook_id)),
            "shares": db.session.scalar(select(func.count()).where(Share.notebook_id == notebook_id)),
            "share_notes": db.session.scalar(
                select(func.count()).select_from(share_notes).where(share_notes.c.share_id.in_(share_ids))
            ),
            "share_attempts": db.session.scalar(select(func.count()).where(ShareAttempt.share_id.in_(share_ids))),
        }
        db.session.remove()
    return counts


def filled_notebook(app, client):
    """A notebook with notes, a share of all and a share of one, and a passcode attempt in flight."""
    owner = new_owner(client)
    notes = [owner.add_note(body=f"note {i}") for i in range(3)]
    owner.share(passcode="family-passcode")
    chosen = owner.share(passcode="family-passcode", note_ids=[notes[0]["id"]])
    with app.app_context():
        assert shares.reserve_attempt(chosen["id"], utcnow())  # as a worker killed mid-verification leaves
        db.session.remove()
    return owner


def test_deleting_a_notebook_leaves_no_row_of_it_and_touches_no_other(make_app):
    app = make_app()
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    client = app.test_client()
    owner, other = filled_notebook(app, client), filled_notebook(app, client)
    full = {"notebooks": 1, "notes": 3, "shares": 2, "share_notes": 4, "share_attempts": 1}
    assert rows_of(app, owner.notebook_id) == rows_of(app, other.notebook_id) == full
    assert client.delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204
    assert rows_of(app, owner.notebook_id) == dict.fromkeys(full, 0)
    assert rows_of(app, other.notebook_id) == full
