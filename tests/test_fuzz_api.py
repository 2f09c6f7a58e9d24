"""Schemathesis against our own OpenAPI document: no 5xx, every response as documented.

The document is loaded from the app in-process (`/api/v1/openapi.json` over WSGI) and
every operation in it is fuzzed with positive and negative data. A notebook token comes
from a schema-level auth provider; path parameters are sometimes swapped for real ids
(a seeded note and share of the fuzzing notebook) so the fuzzer reaches past the 404s.
Requests are counted at the WSGI layer, so the figure is what the app actually served.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import delete
from support import CHEAP_HASHER, CIRRHOSIS, SEED, new_owner

from notes_service import registry
from notes_service.extensions import db
from notes_service.notes import service as notes_service
from notes_service.notes.models import Note
from notes_service.openapi import document
from notes_service.shares import service as shares_service
from notes_service.shares import sessions as shares_sessions
from notes_service.shares.models import Share

# Per operation and generation mode; operations without parameters run out of distinct
# inputs long before this, so the total is measured and asserted, not assumed. `make test` runs
# 10 (every operation, both modes; 40 took 47-74 s, the longest test of a suite at its 10-minute
# line); `make fuzz` runs this test alone at 200 (NOTES_FUZZ_EXAMPLES) for the long search.
EXAMPLES = int(os.environ.get("NOTES_FUZZ_EXAMPLES", "10"))
MIN_REQUESTS = EXAMPLES * 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
PASSCODE = "fuzz-family-code"


class CountingMiddleware:
    """Counts the requests the app served (wraps app.wsgi_app), except the test's own set-up calls."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.count = 0
        self.seconds = 0.0
        self.paused = False

    def __call__(self, environ, start_response):
        if self.paused:
            return self.wsgi_app(environ, start_response)
        self.count += 1
        started = time.perf_counter()
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass
class Live:
    """The fuzzing notebook's real ids, kept alive while the fuzzer deletes them."""

    token: str
    notebook_id: str
    note_id: str = ""
    share_id: str = ""
    share_token: str = ""


def seed(app, live: Live) -> None:
    """(Re)create the note and share the fuzzer aims at, when they were deleted or revoked."""
    counter = app.wsgi_app if isinstance(app.wsgi_app, CountingMiddleware) else None
    if counter:
        counter.paused = True
    try:
        _seed(app, live)
    finally:
        if counter:
            counter.paused = False


def _seed(app, live: Live) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {live.token}"}
    with app.app_context():
        note = db.session.get(Note, live.note_id) if live.note_id else None
        share = db.session.get(Share, live.share_id) if live.share_id else None
        note_ok = note is not None
        share_ok = share is not None and not share.revoked and note_ok
        if not share_ok:
            # Revoked shares count against the notebook's bound (NOTES_MAX_SHARES): the owner's
            # way out, deleting them for good, keeps the fuzzing notebook able to share again.
            db.session.execute(delete(Share).where(Share.notebook_id == live.notebook_id))
            db.session.commit()
        db.session.remove()
    if not note_ok:
        response = client.post(
            f"/api/v1/trials/{SEED}/notes",
            headers=headers,
            json={
                "target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]},
                "body": "<p>Ask the <b>hepatologist</b></p>",
            },
        )
        assert response.status_code == 201
        live.note_id = response.get_json()["id"]
    if not share_ok:
        response = client.post(
            "/api/v1/shares", headers=headers, json={"trial_id": SEED, "note_ids": [live.note_id], "passcode": PASSCODE}
        )
        assert response.status_code == 201
        body = response.get_json()
        live.share_id, live.share_token = body["id"], body["url"].rsplit("/s/", 1)[1]


def unlock(app, live: Live) -> None:
    with app.app_context():
        notebook = db.session.get(notes_service.Notebook, live.notebook_id)
        shares_service.unlock_share(notebook, live.share_id)
        db.session.remove()


def live_session(app, live: Live) -> str:
    """A real session for the live share, as opening it with its passcode gives."""
    with app.test_request_context():
        return shares_sessions.issue_session(live.share_id)


def throwaway_token(app) -> str:
    """A notebook of its own for DELETE /notebooks/me, so the fuzzing notebook survives."""
    with app.app_context():
        _, token = notes_service.create_notebook()
        db.session.remove()
    return token


def test_fuzz_every_operation(make_app):
    # The passcode path is fuzzed too: high rate limits let requests reach Argon2 (cheap here) and the pages.
    app = make_app(
        NOTES_SHARE_RATE_LIMIT="1000000 per minute",
        NOTES_SHARE_PAGE_RATE_LIMIT="1000000 per minute",
        NOTES_ARGON2_MAX_CONCURRENT="64",
        NOTES_MAX_SHARES="3",  # reached while fuzzing: the 422 of a full notebook is answered and documented
    )
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    owner = new_owner(app.test_client())
    new_owner(app.test_client()).add_note(body="someone else's note")  # another notebook's data exists
    live = Live(owner.token, owner.notebook_id)
    seed(app, live)
    counter = CountingMiddleware(app.wsgi_app)
    app.wsgi_app = counter

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    @schema.auth(refresh_interval=None)
    class NotebookToken:
        def get(self, case, context):
            # Only operations that document the bearer scheme get the token.
            return live.token if context.operation.definition.raw.get("security") else None

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    real = {
        "nct": lambda: SEED,
        "note_id": lambda: live.note_id,
        "share_id": lambda: live.share_id,
        "token": lambda: live.share_token,
    }
    counter.count = 0
    per_operation: dict[str, int] = {}
    started = time.perf_counter()
    # Schemathesis leaves out the operation that served the document unless selected by name.
    operations = [result.ok() for result in schema.get_all_operations()] + [
        result.ok() for result in schema.include(path="/api/v1/openapi.json").get_all_operations()
    ]
    documented = {f"{method.upper()} {path}" for path, ops in document(app)["paths"].items() for method in ops}
    assert {operation.label for operation in operations} == documented
    for operation in operations:
        before = counter.count
        run_operation(app, live, operation, GenerationMode.POSITIVE, real)
        try:
            run_operation(app, live, operation, GenerationMode.NEGATIVE, real)
        except Unsatisfiable:
            # Only where nothing can be invalid: no body, no token, any string fits every parameter.
            assert nothing_to_negate(operation), operation.label
        per_operation[operation.label] = counter.count - before
    elapsed = time.perf_counter() - started
    total = counter.count
    print(
        f"fuzz: {total} requests over {len(per_operation)} operations in {elapsed:.1f}s "
        f"({counter.seconds:.1f}s of it in the app)"
    )
    for label, count in per_operation.items():
        print(f"  {count:5d}  {label}")
    assert all(count > 0 for count in per_operation.values())
    assert total >= MIN_REQUESTS


def nothing_to_negate(operation) -> bool:
    definition = operation.definition.raw
    return (
        "requestBody" not in definition
        and not definition.get("security")
        and all(parameter.get("schema") == {"type": "string"} for parameter in definition.get("parameters", []))
    )


def run_operation(app, live: Live, operation, mode, real) -> None:
    label = operation.label

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def fuzz(case, data):
        for name in list(case.path_parameters or {}):
            if name in real and data.draw(st.booleans(), label=f"real {name}"):
                case.path_parameters[name] = real[name]()
        if label == "DELETE /api/v1/notebooks/me" and f"Bearer {live.token}" == (case.headers or {}).get(
            "Authorization"
        ):
            case.headers["Authorization"] = f"Bearer {throwaway_token(app)}"
        if (
            label in {"POST /api/v1/shared/{token}", "POST /s/{token}"}
            and data.draw(st.integers(0, 3), label="right passcode") == 0
        ):
            unlock(app, live)
            case.body = {"passcode": PASSCODE}
        if (
            label == "POST /api/v1/shared/{token}/notes"
            and isinstance(case.body, dict)
            and data.draw(st.booleans(), label="real session")
        ):
            case.body = {**case.body, "session": live_session(app, live)}  # past the 401, to the cursor
        if (
            label in {"POST /api/v1/trials/{nct}/notes", "PATCH /api/v1/notes/{note_id}"}
            and isinstance(case.body, dict)
            and data.draw(st.booleans(), label="real quote")
        ):
            case.body = {**case.body, "target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}}
        case.call_and_validate(checks=CHECKS)
        if case.method in {"DELETE", "PATCH"} or "unlock" in label or "shared" in label:
            seed(app, live)

    fuzz()


NUL_ID = "%00" * 32
NUL_REQUESTS = [  # PostgreSQL refuses NUL in text with an error: each of these once answered 500 there
    ("GET", "/api/v1/trials?q=a%00b", None),
    ("GET", "/api/v1/trials?condition=%00", None),
    ("GET", "/?q=%00", None),
    ("GET", "/api/v1/trials/NCT0708510%00", None),
    ("GET", "/trials/NCT0708510%00", None),
    ("GET", "/api/v1/trials/%00/notes", None),
    ("GET", "/api/v1/shares?trial_id=NCT0708510%00", None),
    ("GET", f"/api/v1/notes/{NUL_ID}", None),
    ("PATCH", f"/api/v1/notes/{NUL_ID}", {"body": "x"}),
    ("DELETE", f"/api/v1/notes/{NUL_ID}", None),
    ("GET", f"/api/v1/shares/{NUL_ID}", None),
    ("DELETE", f"/api/v1/shares/{NUL_ID}", None),
    ("DELETE", f"/api/v1/shares/{NUL_ID}/record", None),
    ("POST", f"/api/v1/shares/{NUL_ID}/unlock", None),
    ("POST", "/api/v1/shares", {"trial_id": "NCT0708510\x00", "note_ids": ["\x00" * 32]}),
    (
        "POST",
        f"/api/v1/trials/{SEED}/notes",
        {"target": {"selector": [{"type": "TextQuoteSelector", "exact": "\x00"}]}, "body": "\x00"},
    ),
    ("POST", "/api/v1/shared/%00", {"passcode": "\x00"}),
    ("GET", "/s/%00", None),
]


def test_nul_in_any_parameter_is_a_client_error(app, client, owner):
    owner.add_note()
    for method, path, body in NUL_REQUESTS:
        response = client.open(path, method=method, headers=owner.headers, json=body)
        assert response.status_code < 500, f"{method} {path}"
