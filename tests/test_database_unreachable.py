"""A database that cannot be reached answers 503 with Retry-After, on every kind of route, never a 500.

Nothing was sent to it, so the client may simply try again; a connection lost during COMMIT
is not such a case (the transaction may have been applied) and keeps its 500, as does a
request that had committed a step before.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from support import SEED

from notes_service.errors import DATABASE_RETRY_AFTER, database_refused

# Neither answers: a directory that does not exist, a port nothing listens on (refused at once).
UNREACHABLE = {
    "sqlite": lambda data_dir: f"sqlite:///{data_dir}/missing-dir/notes.sqlite3",
    "postgresql": lambda _data_dir: "postgresql+psycopg://postgres@127.0.0.1:1/notes",
}
REQUESTS = [
    ("GET", f"/api/v1/trials/{SEED}/notes", "application/problem+json"),  # the hot read (its own connection)
    ("POST", "/api/v1/notebooks", "application/problem+json"),  # a write
    ("GET", f"/trials/{SEED}", "text/html"),  # a page
]


@pytest.mark.parametrize("backend", sorted(UNREACHABLE))
@pytest.mark.parametrize(("method", "path", "kind"), REQUESTS)
def test_a_request_the_database_cannot_serve_is_told_to_try_again(
    make_app, data_dir: Path, caplog, backend, method, path, kind
):
    app = make_app(DATABASE_URL=UNREACHABLE[backend](data_dir))
    headers = {"Authorization": "Bearer " + "a" * 43}
    with caplog.at_level(logging.WARNING):
        response = app.test_client().open(path, method=method, headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(DATABASE_RETRY_AFTER)
    assert response.mimetype == kind
    text = response.get_data(as_text=True)
    assert "cannot be reached for a moment" in text and "Traceback" not in text and "a" * 43 not in text
    if kind == "application/problem+json":
        assert response.get_json()["type"].endswith("/unavailable")
    assert "unhandled" not in caplog.text
    assert f"database unreachable or refused the transaction; {method} " in caplog.text


def _error(statement: str | None, *, invalidated: bool = False, kind: type = OperationalError):
    return kind(statement, None, Exception("from the driver"), connection_invalidated=invalidated)


def test_only_work_the_database_refused_outright_is_to_be_tried_again():
    assert database_refused(_error(None))  # connecting, or a COMMIT the database refused
    # A connection lost during COMMIT: the transaction may have been applied.
    assert not database_refused(_error(None, invalidated=True))
    assert not database_refused(_error("SELECT 1"))  # a statement's own failure
    assert not database_refused(_error(None, kind=IntegrityError))


def test_a_request_refused_after_it_committed_a_step_is_not_told_to_try_again(app, client, owner, monkeypatch):
    """A notebook's deletion commits the erasure of its key slots, then deletes its rows: the server
    gone between the two is a 500, not "try again" (the token no longer opens anything)."""
    import psycopg

    from notes_service.extensions import db
    from notes_service.notes import service

    owner.add_note()
    with app.app_context():
        engine = db.engine
    remove = service.remove_erased_notebook

    def refused(*_args, **_kwargs):
        if engine.dialect.name == "sqlite":
            raise sqlite3.OperationalError("unable to open database file")
        raise psycopg.OperationalError("connection failed: Connection refused")

    def server_gone_between(notebook_id: str) -> None:
        engine.dispose()  # the pool renewed meanwhile (another request lost its connection)
        monkeypatch.setattr(engine.dialect, "connect", refused)
        remove(notebook_id)

    monkeypatch.setattr(service, "remove_erased_notebook", server_gone_between)
    response = client.delete("/api/v1/notebooks/me", headers=owner.headers)
    assert response.status_code == 500 and "Retry-After" not in response.headers
