"""'My notes on a trial' reads in two SQL statements, whatever page: a regression adding round trips fails here.

The first statement finds the notebook by its token's hash, the trial and the page's note
ids (with their payload lengths); the second loads the page's payloads (a page of small
notes is one chunk). SQLite also sends the BEGIN that opens its read transaction.
"""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event
from support import SEED

from notes_service.extensions import db


@contextlib.contextmanager
def statements(app):
    """The SQL statements sent while the block runs (BEGIN included), as their first words."""
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def expected(*queries: str) -> list[str]:
    """The statements of a read: SQLite opens its read transaction with a BEGIN of its own."""
    return (["BEGIN"] if db.engine.dialect.name == "sqlite" else []) + list(queries)


def test_a_page_of_my_notes_is_two_statements(app, client, owner):
    for i in range(12):
        owner.add_note(body=f"note {i}")
    with statements(app) as sent:
        response = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert response.status_code == 200 and len(response.get_json()["notes"]) == 12
    with app.app_context():
        assert sent == expected("SELECT", "SELECT")


def test_a_later_page_is_two_statements_too(app, client, owner):
    for i in range(5):
        owner.add_note(body=f"note {i}")
    first = client.get(f"/api/v1/trials/{SEED}/notes?limit=2", headers=owner.headers).get_json()
    with statements(app) as sent:
        response = client.get(
            f"/api/v1/trials/{SEED}/notes", headers=owner.headers, query_string={"limit": 2, "cursor": first["next"]}
        )
    assert [n["body"] for n in response.get_json()["notes"]] == ["note 2", "note 3"]
    with app.app_context():
        assert sent == expected("SELECT", "SELECT")


@pytest.mark.parametrize(
    ("trial", "token", "status"),
    [
        (SEED, None, 200),  # no note on the trial: nothing to load
        ("NCT99999999", None, 404),
        (SEED, "not-a-notebook-token", 401),
    ],
)
def test_an_empty_page_an_unknown_trial_or_a_bad_token_is_one_statement(app, client, owner, trial, token, status):
    headers = {"Authorization": f"Bearer {token}"} if token else owner.headers
    with statements(app) as sent:
        response = client.get(f"/api/v1/trials/{trial}/notes", headers=headers)
    assert response.status_code == status
    with app.app_context():
        assert sent == expected("SELECT")
