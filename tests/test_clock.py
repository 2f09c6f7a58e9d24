"""Timestamps come back aware in UTC on every database, by the ORM and by the hot read alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from support import SEED

from notes_service.extensions import db
from notes_service.notes import service
from notes_service.notes.models import Note
from notes_service.paging import PageRequest


def test_a_notes_times_come_back_in_utc_itself(app, owner):
    made = owner.add_note()
    with app.app_context():
        db.engine.dispose()  # a new connection, set up as every connection is
        note = db.session.scalars(select(Note).where(Note.id == made["id"])).one()
        assert note.created_at.tzinfo is UTC and note.updated_at.tzinfo is UTC
        with app.test_request_context():
            page = service.my_notes_on_trial(owner.token, SEED, PageRequest(None, 20))
            (view,) = list(page.notes)
        assert view.created_at.tzinfo is UTC and view.created_at == note.created_at


def test_a_postgresql_session_is_in_utc_whatever_the_servers_default(app):
    # psycopg returns a timestamptz in the session's zone, and clock.UTCDateTime reads it as it
    # comes there: every connection the engine opens is set to UTC.
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        db.engine.dispose()
        with db.engine.connect() as connection:
            assert connection.execute(text("SHOW TIME ZONE")).scalar_one() == "UTC"
            connection.execute(text("SET TIME ZONE 'America/New_York'"))  # a server with another default
            at = connection.execute(text("SELECT now()")).scalar_one()
        assert at.tzinfo is not UTC  # what the engine's setting is for


def test_sqlite_text_comes_back_as_the_utc_time_it_was_written():
    # SQLite keeps SQLAlchemy's text (ISO 8601 with a space) without a zone: read as UTC; a value
    # with an offset (never written by the app) is the same instant in UTC.
    from sqlalchemy.dialects import sqlite

    from notes_service.clock import UTCDateTime

    read = UTCDateTime().dialect_impl(sqlite.dialect()).result_processor(sqlite.dialect(), None)
    assert read is not None
    at = datetime(2026, 12, 7, 19, 53, 14, 652628, tzinfo=UTC)
    assert read("2026-12-07 19:53:14.652628") == at and read("2026-12-07 19:53:14.652628").tzinfo is UTC
    assert read("2026-12-07 19:53:14") == at.replace(microsecond=0)
    assert read("2026-12-07T21:53:14.652628+02:00") == at and read("2026-12-07T21:53:14.652628+02:00").tzinfo is UTC
    assert read(None) is None
