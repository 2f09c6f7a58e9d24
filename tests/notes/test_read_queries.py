"""'My notes on a trial' reads in one SQL statement, whatever page: a regression adding round trips fails here.

The statement finds the notebook by its token's hash, the trial and the page's notes with
their payloads; only a payload too large to share the page's FETCH_BYTES comes after, in a
second one. The first statement is read alone, in autocommit: no BEGIN, no ROLLBACK.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool
from support import SEED

from notes_service.extensions import db


@contextlib.contextmanager
def statements(app, path: Path):
    """The SQL statements the database receives while the block runs (BEGIN included), as their first words.

    Read where the driver hands them to the database, not from SQLAlchemy's events: the read
    sends its statements on the DBAPI cursor (extensions.DriverSelect). SQLite's own trace on
    SQLite; on PostgreSQL libpq's trace of the Parse and Query messages.
    """
    sent: list[str] = []
    with app.app_context():
        engine = db.engine
        engine.dispose()  # new connections, traced from their start
    postgresql = engine.dialect.name == "postgresql"
    trace = path.open("w")

    def traced(dbapi_connection, _record) -> None:
        if postgresql:
            dbapi_connection.pgconn.trace(trace.fileno())
        else:
            dbapi_connection.set_trace_callback(lambda statement: sent.append(statement.split(None, 1)[0].upper()))

    event.listen(engine, "connect", traced)
    try:
        yield sent
    finally:
        event.remove(engine, "connect", traced)
        trace.close()
        with app.app_context():
            engine.dispose()
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) > 4 and parts[1] == "F" and parts[3] in {"Parse", "Query"}:
                statement = parts[4].split('"', 3)[-1] if parts[3] == "Parse" else parts[4].strip('"')
                sent.append(statement.split(None, 1)[0].upper())


def expected(first: str, *after: str) -> list[str]:
    """The statements of a read. The first is read alone, on a connection of its own in autocommit
    (`DriverSelect.read_alone`): no BEGIN, no ROLLBACK. Any that follow are the session's, where
    SQLite opens its read transaction with a BEGIN and ends it with a ROLLBACK."""
    if after and db.engine.dialect.name == "sqlite":
        return [first, "BEGIN", *after, "ROLLBACK"]
    return [first, *after]


def test_a_page_of_my_notes_is_one_statement(app, client, owner, tmp_path):
    for i in range(12):
        owner.add_note(body=f"note {i}")
    with statements(app, tmp_path / "trace") as sent:
        response = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert response.status_code == 200 and len(response.get_json()["notes"]) == 12
    with app.app_context():
        assert sent == expected("SELECT")


def test_a_payload_too_large_to_come_with_the_page_is_loaded_after_in_its_place(app, client, owner, tmp_path):
    # A page of 100 shares FETCH_BYTES (512 KiB) among 101 rows: about 5 KB of payload each.
    bodies = ["small before", "x" * 9000, "small after"]
    for body in bodies:
        owner.add_note(body=body)
    with statements(app, tmp_path / "trace") as sent:
        response = client.get(f"/api/v1/trials/{SEED}/notes?limit=100", headers=owner.headers)
    assert [n["body"] for n in response.get_json()["notes"]] == bodies
    with app.app_context():
        assert sent == expected("SELECT", "SELECT")
    with statements(app, tmp_path / "trace") as sent:  # a page of 10: 47 KB each, so it comes along
        response = client.get(f"/api/v1/trials/{SEED}/notes?limit=10", headers=owner.headers)
    assert [n["body"] for n in response.get_json()["notes"]] == bodies
    with app.app_context():
        assert sent == expected("SELECT")


def test_a_large_payload_past_the_page_adds_no_statement(app, client, owner, tmp_path):
    # The one row more than the page only tells whether more follow: its payload is not read.
    # A page of 60 takes about 8.6 KB a payload: the 61st note's 9,000 characters do not come along.
    for i in range(60):
        owner.add_note(body=f"note {i}")
    owner.add_note(body="x" * 9000)
    with statements(app, tmp_path / "trace") as sent:
        response = client.get(f"/api/v1/trials/{SEED}/notes?limit=60", headers=owner.headers)
    assert len(response.get_json()["notes"]) == 60 and response.get_json()["next"]
    with app.app_context():
        assert sent == expected("SELECT")


def test_a_later_page_is_one_statement_too(app, client, owner, tmp_path):
    for i in range(5):
        owner.add_note(body=f"note {i}")
    first = client.get(f"/api/v1/trials/{SEED}/notes?limit=2", headers=owner.headers).get_json()
    with statements(app, tmp_path / "trace") as sent:
        response = client.get(
            f"/api/v1/trials/{SEED}/notes", headers=owner.headers, query_string={"limit": 2, "cursor": first["next"]}
        )
    assert [n["body"] for n in response.get_json()["notes"]] == ["note 2", "note 3"]
    with app.app_context():
        assert sent == expected("SELECT")


@pytest.mark.parametrize(
    ("trial", "token", "status"),
    [
        (SEED, None, 200),  # no note on the trial: nothing to load
        ("NCT99999999", None, 404),
        (SEED, "not-a-notebook-token", 401),
    ],
)
def test_an_empty_page_an_unknown_trial_or_a_bad_token_is_one_statement_too(
    app, client, owner, trial, token, status, tmp_path
):
    headers = {"Authorization": f"Bearer {token}"} if token else owner.headers
    with statements(app, tmp_path / "trace") as sent:
        response = client.get(f"/api/v1/trials/{trial}/notes", headers=headers)
    assert response.status_code == status
    with app.app_context():
        assert sent == expected("SELECT")


postgresql_only = pytest.mark.skipif(
    os.environ.get("NOTES_TEST_BACKEND") != "postgresql", reason="PostgreSQL's round trips and restarts"
)


@contextlib.contextmanager
def messages_to_server(app, path: Path):
    """The libpq messages the app's new connections send while the block runs, by kind (Parse, Query, ...)."""
    sent: list[str] = []
    with app.app_context():
        engine = db.engine
        engine.dispose()  # new connections, traced from their start
    trace = path.open("w")

    def traced(dbapi_connection, _record) -> None:
        dbapi_connection.pgconn.trace(trace.fileno())

    event.listen(engine, "connect", traced)
    try:
        yield sent
    finally:
        event.remove(engine, "connect", traced)
        trace.close()
        with app.app_context():
            engine.dispose()
        fields = [line.split("\t") for line in path.read_text().splitlines()]
        sent.extend(parts[3] for parts in fields if len(parts) > 3 and parts[1] == "F")


@postgresql_only
def test_a_read_on_postgresql_is_one_round_trip_without_ping_begin_or_rollback(app, client, owner, tmp_path):
    for i in range(3):
        owner.add_note(body=f"note {i}")
    client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    with messages_to_server(app, tmp_path / "trace") as sent:
        response = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert response.status_code == 200 and len(response.get_json()["notes"]) == 3
    # The statement: Parse, Bind, Describe, Execute, Sync, one round trip. No simple Query:
    # neither the pool's ping (";"), nor BEGIN, nor ROLLBACK.
    assert [kind for kind in sent if kind in {"Parse", "Query"}] == ["Parse"]


def drop_connections(app) -> int:
    """What a restart of PostgreSQL does to the pool's idle connections: each one closed by the server."""
    with app.app_context():
        url = db.engine.url
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()


@postgresql_only
def test_a_read_on_a_connection_the_server_dropped_is_answered(app, client, owner, caplog):
    note = owner.add_note(body="still here")
    with app.app_context():
        elsewhere = [db.engine.connect() for _ in range(3)]  # other threads' requests, under way
    assert client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).status_code == 200
    assert drop_connections(app) >= 1
    response = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert response.status_code == 200
    assert [n["id"] for n in response.get_json()["notes"]] == [note["id"]]
    assert "database connection lost; GET /api/v1/trials/<nct>/notes retried once" in caplog.text
    for connection in elsewhere:
        connection.close()
    with app.app_context():
        # The pool was renewed, not reset while connections were out: it still counts what it
        # holds, so it never opens more than its size and overflow.
        pool = db.engine.pool
        assert pool.checkedout() == 0 and pool.overflow() == pool.checkedin() - pool.size()


@postgresql_only
def test_a_read_whose_retry_finds_the_server_gone_is_told_to_try_again(app, client, owner, caplog, monkeypatch):
    import psycopg

    owner.add_note(body="still here")
    assert client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).status_code == 200
    assert drop_connections(app) >= 1

    def refused(*_args, **_kwargs):
        raise psycopg.OperationalError("connection failed: Connection refused")

    with app.app_context():
        monkeypatch.setattr(db.engine.dialect, "connect", refused)  # the server is down, not only restarted
    response = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "retried once" in caplog.text and "answered 503" in caplog.text and "unhandled" not in caplog.text


@postgresql_only
def test_readiness_after_the_server_dropped_the_connections_is_ready(app, client):
    assert client.get("/readyz").status_code == 200
    assert drop_connections(app) >= 1
    assert client.get("/readyz").status_code == 200


@postgresql_only
def test_the_connection_a_read_took_alone_goes_back_to_the_pool_out_of_autocommit(app, client, owner):
    owner.add_note(body="a note")
    with app.app_context():
        db.engine.dispose()  # one connection in the pool after the read: the one it took
    assert client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).status_code == 200
    with app.app_context():
        assert db.engine.pool.checkedin() == 1
        raw = db.engine.raw_connection()
        try:
            # Handed out in autocommit, the next request's writes would each commit alone.
            assert raw.driver_connection.autocommit is False
        finally:
            raw.close()


class _Driver:
    """A psycopg connection that will not leave autocommit (its state unknown, say)."""

    def __init__(self) -> None:
        self._autocommit = False

    @property
    def autocommit(self) -> bool:
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        if not value:
            raise RuntimeError("can't change autocommit now")
        self._autocommit = value


class _Cursor:
    def execute(self, sql, params, binary=False) -> None:
        self.sql = sql

    def fetchall(self) -> list[tuple[int]]:
        return [(1,)]

    def close(self) -> None:
        pass


class _Pooled:
    """What `Engine.raw_connection` hands out, as far as `read_alone` uses it."""

    def __init__(self) -> None:
        self.driver_connection = _Driver()
        self.is_valid = True
        self.closed = False

    def cursor(self) -> _Cursor:
        return _Cursor()

    def invalidate(self, error=None) -> None:
        self.is_valid = False

    def close(self) -> None:
        self.closed = True


def test_a_connection_read_alone_that_will_not_leave_autocommit_is_never_handed_out_again():
    from types import SimpleNamespace

    from sqlalchemy import literal, select
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    from notes_service.extensions import DriverSelect

    pooled = _Pooled()
    engine = SimpleNamespace(dialect=dialect(), raw_connection=lambda: pooled)
    rows = DriverSelect(select(literal(1).label("one"))).read_alone(engine, {})
    assert [row.one for row in rows] == [1]
    # Given back in autocommit, the next request's writes would each commit alone: invalidated
    # instead (the pool closes it), and given back all the same.
    assert pooled.closed and not pooled.is_valid


def test_a_page_of_large_notes_holds_one_chunk_at_a_time(app, client, owner, monkeypatch):
    """The rows read with the ids are opened together; each chunk after them is read when the
    page reaches it, once the notes before it are let go."""
    from notes_service.notes import service

    note_ids = [owner.add_note(body=f"note {i}")["id"] for i in range(4)]
    reads: list[list[str]] = []
    chunk_read = service._chunk_read

    def counted(count):
        form = chunk_read(count)

        class Counted:
            def rows(self, connection, values):
                reads.append(sorted(values.values()))
                return form.rows(connection, values)

        return Counted()

    monkeypatch.setattr(service, "_chunk_read", counted)
    with app.test_request_context():
        # The first two came with the ids; the last two are each a chunk (FETCH_BYTES of payload).
        rows = {row.id: row for row in db.session.execute(service._CHUNK_QUERY, {"ids": note_ids[:2]})}
        sized = [(note_ids[0], 10), (note_ids[1], 10), (note_ids[2], service.FETCH_BYTES), (note_ids[3], 1)]
        seen = []
        for note in service._open_in_chunks(None, sized, rows):
            seen.append((note.id, len(reads), len(rows)))
        assert seen == [
            (note_ids[0], 0, 0),  # both rows that came with the ids are out of `rows`, and no chunk is read yet
            (note_ids[1], 0, 0),
            (note_ids[2], 1, 0),  # its chunk is read when the page reaches it
            (note_ids[3], 2, 0),
        ]
        assert reads == [[note_ids[2]], [note_ids[3]]]
        db.session.remove()


def test_a_page_is_opened_a_step_at_a_time_each_note_in_its_place(app, client, owner, monkeypatch):
    """Every note's key, then every ciphertext, then every payload (`open_notes`); a note that
    fails at any step comes back unreadable in its place, the others as they are."""
    from notes_service import crypto
    from notes_service.notes import service
    from notes_service.notes.models import Notebook
    from notes_service.notes.schemas import NotePayload

    note_ids = [owner.add_note(body=f"note {i}")["id"] for i in range(4)]
    steps: list[str] = []
    derive, open_sealed, opened_fields = crypto.NoteKeyMaker.derive, crypto.open_sealed, NotePayload.opened_fields

    def recorded(name, step):
        def wrapper(*args):
            steps.append(name)
            return step(*args)

        return wrapper

    monkeypatch.setattr(crypto.NoteKeyMaker, "derive", recorded("key", derive))
    monkeypatch.setattr(crypto, "open_sealed", recorded("open", open_sealed))
    monkeypatch.setattr(NotePayload, "opened_fields", staticmethod(recorded("read", opened_fields)))
    with app.test_request_context():
        values = {f"id_{index}": note_id for index, note_id in enumerate(note_ids)}
        rows = {row.id: row for row in service._chunk_read(4).rows(db.session.connection(), values)}  # as a read's
        page = [rows[note_id] for note_id in note_ids]
        # The second sealed under another note's key (its row says otherwise), the third not a payload.
        notebook = db.session.get(Notebook, owner.notebook_id)
        notebook.token = owner.token  # the owner slot opens with the notebook token only
        keys = service.OwnerKeys(service.data_key(notebook))
        third = page[2]
        aad = crypto.note_aad(third.notebook_id, third.id, third.format_version)
        not_a_payload = crypto.seal(keys.maker.derive(third.notebook_id, third.id), b"[]", aad)
        page[1] = page[1]._replace(ciphertext=page[0].ciphertext)
        page[2] = page[2]._replace(ciphertext=not_a_payload)
        steps.clear()
        views = service.open_notes(keys, page)
        db.session.remove()
    assert steps == ["key"] * 4 + ["open"] * 4 + ["read"] * 3  # the second never opened: nothing to read
    assert [view.id for view in views] == note_ids
    assert [view.readable for view in views] == [True, False, False, True]
    assert [view.body for view in views] == ["note 0", "", "", "note 3"]
