"""Request helpers shared by tests: the seed trial, HTTP requests, a notebook's owner, HTML as text.

An Owner drives one notebook through the API, either in process with a Flask test client
(`new_owner(client)`) or over HTTP against a real server (`http_owner(url)`, see
tests/servers.py for starting one). Both kinds take the same arguments in the same order:

    owner = new_owner(client)                  # or http_owner(server.url)
    note = owner.add_note(exact=CIRRHOSIS, body="Does this exclude me?")   # asserts 201
    status, answer = owner.post_note(body="under load", timeout=20)        # for counting outcomes
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from notes_service.extensions import db
from notes_service.trials.reader import shipped_data_dir

# Real Argon2id, at parameters that take a millisecond: for tests about who sees what, not about
# what a guess costs (the app fixture's default; tests/test_crypto.py checks the production ones).
CHEAP_HASHER: dict[str, int] = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

SEED = "NCT07085104"
CIRRHOSIS = "Child-Pugh Class B or C cirrhosis"
QUESTION = "Does this exclude me?"


# -- A newer version of the seed trial ---------------------------------------------------

MOVED = "Any form of primary, inherited immunodeficiency."
EDITED = "Symptomatic cardiac or vascular disease requiring medical intervention"
DELETED = "Unwilling to participate in an extended safety monitoring period."
EDITED_NOW = EDITED.replace("disease", "illness")
V2_DATE = "2026-11-30"


def changed_seed(data_date: str = V2_DATE) -> dict[str, Any]:
    """The seed trial's record as a newer version: one criterion moved, one edited, one deleted."""
    study = json.loads((shipped_data_dir() / "NCT07085104.json").read_text())
    study["derivedSection"] = {"miscInfoModule": {"versionHolder": data_date}}
    module = study["protocolSection"]["eligibilityModule"]
    criteria = module["eligibilityCriteria"]
    # Move item 9 to the top of the exclusions, edit a word in item 5, delete item 10.
    criteria = criteria.replace(f"9. {MOVED}\n", "")
    criteria = criteria.replace("Exclusion Criteria:\n\n", f"Exclusion Criteria:\n\n0. {MOVED}\n")
    criteria = criteria.replace(
        "cardiac or vascular disease requiring medical", "cardiac or vascular illness requiring medical"
    )
    criteria = criteria.replace(f"10. {DELETED}\n", "")
    module["eligibilityCriteria"] = criteria
    return study


# -- Plain HTTP ------------------------------------------------------------------------


def request(
    method: str,
    url: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 15.0,
    form: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request on a fresh connection; returns (status, headers, raw body)."""
    parts = urlsplit(url)
    sent_headers = {"Connection": "close", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urlencode(form).encode()
        sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path or "/", body=data, headers=sent_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def request_json(
    method: str,
    url: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 15.0,
    form: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """One HTTP request on a fresh connection; returns (status, parsed JSON or text)."""
    status, _, payload = request(method, url, body, headers, timeout, form)
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, payload.decode("utf-8", "replace")


# -- How an owner's requests reach the service ------------------------------------------------


@dataclass
class InProcess:
    """Requests through a Flask test client."""

    client: FlaskClient

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """(status, parsed JSON or None); `timeout` is for the HTTP kind and means nothing here."""
        response = self.client.open(path, method=method, json=body, headers=dict(headers or {}))
        return response.status_code, response.get_json(silent=True)


@dataclass
class OverHttp:
    """Requests over HTTP to a running server."""

    base_url: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """(status, parsed JSON or text), on a fresh connection."""
        return request_json(
            method, self.base_url + path, body=body, headers=headers, timeout=15.0 if timeout is None else timeout
        )


# -- A notebook's owner ------------------------------------------------------------------


@dataclass
class Owner:
    """A notebook seen from the API: how to reach it, its id, its token."""

    api: InProcess | OverHttp
    notebook_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def client(self) -> FlaskClient:
        """The test client of an in-process owner, for requests the helpers do not make."""
        if not isinstance(self.api, InProcess):
            raise TypeError("an owner over HTTP has no test client")
        return self.api.client

    def call(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> tuple[int, Any]:
        """One request with the notebook's token: (status, parsed body)."""
        return self.api.call(method, path, body=body, headers=self.headers, timeout=timeout)

    def post_note(
        self,
        exact: str = CIRRHOSIS,
        body: str = QUESTION,
        trial: str = SEED,
        timeout: float | None = None,
        **extra: Any,
    ) -> tuple[int, Any]:
        """POST a note quoting `exact`; (status, parsed body), whatever the status."""
        target = {"selector": [{"type": "TextQuoteSelector", "exact": exact, **extra.pop("quote", {})}]}
        return self.call(
            "POST", f"/api/v1/trials/{trial}/notes", {"target": target, "body": body, **extra}, timeout=timeout
        )

    def add_note(
        self,
        exact: str = CIRRHOSIS,
        body: str = QUESTION,
        trial: str = SEED,
        timeout: float | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """POST a note that must be created (201); the note."""
        status, answer = self.post_note(exact, body, trial, timeout=timeout, **extra)
        assert status == 201, answer
        return answer

    def share(self, **body: Any) -> dict[str, Any]:
        """Create a share of the seed trial (201); the share as created."""
        status, answer = self.call("POST", "/api/v1/shares", {"trial_id": SEED, **body})
        assert status == 201, answer
        return answer

    def notes(self, trial: str = SEED) -> list[dict[str, Any]]:
        """Every note on a trial, following the list's cursor page by page."""
        found: list[dict[str, Any]] = []
        query = ""
        while True:
            status, answer = self.call("GET", f"/api/v1/trials/{trial}/notes?limit=100{query}")
            assert status == 200, f"listing notes answered {status}: {answer}"
            found += answer["notes"]
            if not answer["next"]:
                return found
            query = "&cursor=" + answer["next"]

    def on(self, base_url: str) -> Owner:
        """The same notebook, called through another server."""
        return Owner(OverHttp(base_url), self.notebook_id, self.token)


def _created_owner(api: InProcess | OverHttp) -> Owner:
    status, answer = api.call("POST", "/api/v1/notebooks")
    assert status == 201, f"POST /api/v1/notebooks answered {status}: {answer}"
    return Owner(api, answer["notebook_id"], answer["token"])


def new_owner(client: FlaskClient) -> Owner:
    """A new notebook, driven through the Flask test client."""
    return _created_owner(InProcess(client))


def http_owner(base_url: str) -> Owner:
    """A new notebook, driven over HTTP through the server at `base_url`."""
    return _created_owner(OverHttp(base_url))


# -- HTML ------------------------------------------------------------------------------


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    """The text of an HTML fragment as a browser's DOM holds it: every text node, entities decoded."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def as_before_key_slots(app, owner: Owner) -> None:
    """Turn a notebook into what 0008_key_slots makes of a database from before slots.

    The notebook's data key wrapped under the KEK only (no salt: no token involved), the same
    wrap in the slot of each of its live shares, no note keys in its shares, and every note
    sealed under the data key itself (format 1); a downgrade past 0007 takes such data back.
    """
    from sqlalchemy import select, update

    from notes_service import crypto, keys, registry
    from notes_service.devices.models import Device
    from notes_service.extensions import db
    from notes_service.notes import service
    from notes_service.notes.models import KeySlot, Note, Notebook
    from notes_service.shares.models import Share, share_notes

    with app.app_context():
        notebook = db.session.get(Notebook, owner.notebook_id)
        notebook.token = owner.token
        notebook.device_id = db.session.scalar(
            select(Device.id).where(Device.token_hash == crypto.hash_token(owner.token))
        )
        dek = service.data_key(notebook)
        for note in db.session.scalars(select(Note).where(Note.notebook_id == owner.notebook_id)).all():
            plain = crypto.open_sealed(
                service.OwnerKeys(dek).opening_key(note),
                note.ciphertext,
                crypto.note_aad(note.notebook_id, note.id, note.format_version),
            )
            note.ciphertext = crypto.seal(dek, plain, crypto.note_aad(note.notebook_id, note.id, 1))
            note.format_version = 1
        kek_id, wrapped = crypto.wrap_data_key(registry.keyring(), dek, keys.owner_context(owner.notebook_id))
        db.session.execute(
            update(KeySlot)
            .where(KeySlot.notebook_id == owner.notebook_id)
            .values(kek_id=kek_id, salt=None, wrapped=wrapped)
        )
        shares = select(Share.id).where(Share.notebook_id == owner.notebook_id)
        db.session.execute(update(share_notes).where(share_notes.c.share_id.in_(shares)).values(wrapped_key=None))
        db.session.commit()
        db.session.remove()


def walk_pages(client: FlaskClient, owner: Owner, path: str, key: str, **params: object) -> list[list[dict]]:
    """Every page of a JSON list (`key` holds a page's items), following `next`, as `owner`."""
    pages: list[list[dict]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, headers=owner.headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        assert response.mimetype == "application/json"
        body = response.get_json()
        pages.append(body[key])
        cursor = body["next"]
        if cursor is None:
            return pages


def delete_before_payloads_are_read(monkeypatch: Any, app: Any, owner: Owner, note_ids: list[str]) -> list[int]:
    """Delete these notes through the API just before a page first reads payloads; the statuses, once it has.

    The deletion is another request's, on its own connection and thread, committed before the
    page reads on: what a list sees of it is what its database's isolation lets it see (on
    PostgreSQL, READ COMMITTED: the notes whose ids the page has just read are gone).
    """
    from notes_service.notes import service

    real = service._chunk_read
    statuses: list[int] = []

    def delete_all() -> None:
        other = app.test_client()
        for note_id in note_ids:
            statuses.append(other.delete(f"/api/v1/notes/{note_id}", headers=owner.headers).status_code)

    def chunk_read(count: int) -> Any:
        if not statuses:
            deleting = threading.Thread(target=delete_all)
            deleting.start()
            deleting.join()
        return real(count)

    monkeypatch.setattr(service, "_chunk_read", chunk_read)
    return statuses


# -- Requests racing on PostgreSQL -------------------------------------------------------

# SQLite serializes writers (BEGIN IMMEDIATE), so these races cannot happen there: a second
# writer waits in SQLite's busy handler, where no test can see it wait.
postgresql_only = pytest.mark.skipif(
    os.environ.get("NOTES_TEST_BACKEND") != "postgresql", reason="a race between writers: PostgreSQL only"
)


def run_until_blocked(app: Any, work: Callable[[], Any], timeout: float = 30.0) -> threading.Thread:
    """Start `work` in a thread; return once it has ended or waits for a row lock another request holds.

    Called from inside a request (a monkeypatched step), it puts another request exactly there:
    run to its end if nothing stops it, or parked on a lock the first request holds. Whether it
    waits is read from PostgreSQL (pg_stat_activity), not guessed from a sleep. Join the thread
    after the first request has answered.
    """
    thread = threading.Thread(target=work)
    thread.start()
    with app.app_context():
        _until_ended_or_waiting(thread, timeout)
    return thread


def interrupt_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, interruption: Callable[[], Any]) -> None:
    """Patch `owner.name` so that its first call runs `interruption()` before doing its work."""
    real = getattr(owner, name)
    pending = [interruption]

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        if pending:
            pending.pop()()
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupted)


# Another session of the test's own database waiting on a lock (a row lock, on PostgreSQL).
_LOCK_WAITS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


def _until_ended_or_waiting(thread: threading.Thread, timeout: float) -> None:
    """Return once `thread` has ended or another session of the app's database waits on a lock.

    The database is asked, never a clock: the stats view is read in a transaction of its own
    each time (PostgreSQL keeps one snapshot of it per transaction). In an app context.
    """
    deadline = time.monotonic() + timeout
    while thread.is_alive():
        with db.engine.connect() as connection:
            if connection.scalar(text(_LOCK_WAITS)):
                return
        assert time.monotonic() < deadline, "the other request neither ended nor waited on a lock"
        thread.join(0.005)


def meanwhile(call: Callable[[], Any], timeout: float = 30.0) -> Callable[[], Any]:
    """Start `call` (a request) in another thread; return once it ended or waits on a lock.

    Called from a hook inside a request in progress (in its app context, on PostgreSQL): that
    request then goes on from the hook, holding what it locked, and the other one is either done
    (nothing held it back) or parked on a lock the first holds, whichever the code makes it. The
    database is asked, never a clock: a stats view is read in a transaction of its own each time,
    as PostgreSQL keeps one snapshot of it per transaction. Returns a function that waits for the
    other request and gives what `call` returned.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test by finish()
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    _until_ended_or_waiting(thread, timeout)

    def finish() -> Any:
        thread.join(timeout)
        assert not thread.is_alive(), "the other request did not end"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return finish
