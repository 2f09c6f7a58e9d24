"""Hostile request input gets a 4xx before any view runs, on every route: never a 500.

One check in the request layer (notes_service/web.py) refuses JSON that nests too deep,
numbers JSON does not have (NaN, Infinity, 1e999), text that is not Unicode scalar values
(a lone surrogate: legal JSON, but it cannot be encoded for the database or Argon2), and
NULs in query strings and form fields (PostgreSQL refuses them in text).
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import text
from support import CIRRHOSIS, SEED, new_owner

from notes_service.extensions import db
from notes_service.web import MAX_JSON_DEPTH

JSON_HEADERS = {"Content-Type": "application/json"}
TARGET = {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}
# Nested well past Python's recursion limit (1,000) yet under the 64 KiB body limit.
DEEP = b"[" * 20_000 + b"]" * 20_000
DEEP_OBJECT = b'{"a":' * 6_000 + b"1" + b"}" * 6_000


def every_route(app) -> list[tuple[str, str]]:
    """(method, path) for every rule and method of the app, with made-up path arguments."""
    calls = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
        calls += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return calls


@pytest.fixture
def world(client):
    owner = new_owner(client)
    note = owner.add_note()
    share = owner.share(passcode="family-code-1")
    token = share["url"].rsplit("/s/", 1)[1]
    return owner, note, share, token


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deep_nesting_is_400_on_every_route(app, client, owner, body):
    calls = every_route(app)
    assert len(calls) >= 20
    for method, path in calls:
        response = client.open(path, method=method, data=body, headers={**owner.headers, **JSON_HEADERS})
        assert response.status_code == 400, (method, path, response.status_code)
    api = client.post(f"/api/v1/trials/{SEED}/notes", data=body, headers={**owner.headers, **JSON_HEADERS})
    assert api.mimetype == "application/problem+json"
    assert "nests deeper" in api.get_json()["detail"]


def nested(depth: int) -> dict:
    value: object = "leaf"
    for _ in range(depth - 1):
        value = {"a": value}
    return {"target": TARGET, "body": "ok", "extra": value}


def test_the_depth_bound_is_exact(client, owner):
    url = f"/api/v1/trials/{SEED}/notes"
    # One level past the bound is malformed (400); at the bound the note itself is judged (422: unknown field).
    assert client.post(url, json=nested(MAX_JSON_DEPTH), headers=owner.headers).status_code == 422
    assert client.post(url, json=nested(MAX_JSON_DEPTH + 1), headers=owner.headers).status_code == 400


def note_with(**fields: object) -> dict:
    return {"target": TARGET, "body": "Does this exclude me?", **fields}


def quote_with(**fields: object) -> dict:
    return {"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS, **fields}]}, "body": "x"}


BAD_TEXT = {
    "high surrogate": "a\ud800b",
    "low surrogate": "\udfff",
    "reversed pair": "\udc00\ud800",
}
# (label, method, path, body as JSON with the bad text at "{bad}", the field the error names)
JSON_FIELDS = [
    ("note body", "POST", "/api/v1/trials/{trial}/notes", lambda bad: note_with(body=bad), "body"),
    ("note colour", "POST", "/api/v1/trials/{trial}/notes", lambda bad: note_with(color=bad), "color"),
    (
        "quote",
        "POST",
        "/api/v1/trials/{trial}/notes",
        lambda bad: {"target": {"selector": [{"type": "TextQuoteSelector", "exact": bad}]}},
        "target.selector[0].exact",
    ),
    (
        "quote prefix",
        "POST",
        "/api/v1/trials/{trial}/notes",
        lambda bad: quote_with(prefix=bad),
        "target.selector[0].prefix",
    ),
    (
        "selector type",
        "POST",
        "/api/v1/trials/{trial}/notes",
        lambda bad: {"target": {"selector": [{"type": bad}]}},
        "target.selector[0].type",
    ),
    ("patched body", "PATCH", "/api/v1/notes/{note}", lambda bad: {"body": bad}, "body"),
    ("share trial", "POST", "/api/v1/shares", lambda bad: {"trial_id": bad}, "trial_id"),
    ("share note id", "POST", "/api/v1/shares", lambda bad: {"trial_id": SEED, "note_ids": [bad]}, "note_ids[0]"),
    ("share passcode", "POST", "/api/v1/shares", lambda bad: {"trial_id": SEED, "passcode": bad}, "passcode"),
    ("opening passcode", "POST", "/api/v1/shared/{token}", lambda bad: {"passcode": bad}, "passcode"),
    ("a key", "POST", "/api/v1/shares", lambda bad: {"trial_id": SEED, bad: 1}, "(body)"),
]


def raw_json(value: object) -> bytes:
    # ensure_ascii writes a lone surrogate as its \\uXXXX escape: legal JSON, as a client would send it.
    return json.dumps(value, ensure_ascii=True).encode()


@pytest.mark.parametrize("bad", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_text_that_is_not_text_is_400_naming_the_field(client, world, bad):
    owner, note, share, token = world
    for label, method, template, build, field in JSON_FIELDS:
        path = template.format(trial=SEED, note=note["id"], token=token)
        response = client.open(
            path, method=method, data=raw_json(build(bad)), headers={**owner.headers, **JSON_HEADERS}
        )
        assert response.status_code == 400, (label, response.status_code, response.get_json())
        problem = response.get_json()
        assert response.mimetype == "application/problem+json"
        assert field in problem["errors"], (label, problem)
        assert bad not in response.get_data(as_text=True)  # never echoed
    # Nothing was stored or spent: the note is unchanged, no share was added, no attempt counted.
    assert client.get(f"/api/v1/notes/{note['id']}", headers=owner.headers).get_json()["body"] == note["body"]
    shares = client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"]
    assert [(s["id"], s["failed_attempts"]) for s in shares] == [(share["id"], 0)]


def test_nul_in_json_text_is_left_to_each_field_and_never_a_server_error(client, world):
    owner, _, _, token = world
    # The sanitizer drops it from a body; a quote holding one is not in the trial; ids are not looked up.
    created = client.post(f"/api/v1/trials/{SEED}/notes", headers=owner.headers, json=note_with(body="a\x00b"))
    assert created.status_code == 201 and "\x00" not in created.get_json()["body"]
    for method, path, body in [
        ("POST", f"/api/v1/trials/{SEED}/notes", quote_with(exact="\x00")),
        ("POST", "/api/v1/shares", {"trial_id": "NCT0708510\x00"}),
        ("POST", "/api/v1/shares", {"trial_id": SEED, "note_ids": ["\x00" * 32]}),
        ("POST", f"/api/v1/shared/{token}", {"passcode": "\x00"}),
    ]:
        response = client.open(path, method=method, json=body, headers=owner.headers)
        assert 400 <= response.status_code < 500, (path, response.status_code)


MALFORMED = {
    "invalid UTF-8": b'{"passcode": "\xff\xfe"}',
    "UTF-8 overlong NUL": b'{"passcode": "\xc0\x80"}',
    "CESU-8 surrogate": b'{"passcode": "\xed\xa0\x80"}',
    "NaN": b'{"passcode": NaN}',
    "Infinity": b'{"expires_in_days": -Infinity}',
    "float overflow": b'{"expires_in_days": 1e999}',
    "4,301-digit integer": b'{"expires_in_days": ' + b"9" * 4301 + b"}",
    "truncated": b'{"passcode": "abc',
    "UTF-16": '{"passcode": "abcdefg"}'.encode("utf-16"),
    "empty object key surrogate": b'{"\\ud800": 1}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_is_400_on_every_json_route(client, world, body):
    owner, note, _, token = world
    for method, path in [
        ("POST", f"/api/v1/trials/{SEED}/notes"),
        ("PATCH", f"/api/v1/notes/{note['id']}"),
        ("POST", "/api/v1/shares"),
        ("POST", f"/api/v1/shared/{token}"),
    ]:
        response = client.open(path, method=method, data=body, headers={**owner.headers, **JSON_HEADERS})
        assert response.status_code == 400, (path, response.status_code)
        assert response.mimetype == "application/problem+json"


WRONG_TYPES = [
    (
        "POST",
        "/api/v1/trials/{trial}/notes",
        [
            None,
            [],
            "note",
            7,
            True,
            {"target": "x"},
            {"target": []},
            note_with(body=7),
            note_with(body=[]),
            note_with(color=3),
            {"target": {"selector": "x"}},
            {"target": {"selector": [7]}},
            {"target": {"selector": [{"type": "TextQuoteSelector", "exact": 7}]}},
        ],
    ),
    ("PATCH", "/api/v1/notes/{note}", [None, [], {"body": None}, {"color": []}, {"target": 1}]),
    (
        "POST",
        "/api/v1/shares",
        [
            None,
            [],
            {"trial_id": 7},
            {"trial_id": SEED, "note_ids": "x"},
            {"trial_id": SEED, "note_ids": [7]},
            {"trial_id": SEED, "passcode": 123456},
            {"trial_id": SEED, "expires_in_days": "7"},
            {"trial_id": SEED, "expires_in_days": 1.5},
            {"trial_id": SEED, "max_views": True},
            {"trial_id": SEED, "max_views": 10**30},
        ],
    ),
    (
        "POST",
        "/api/v1/shared/{token}",
        [
            None,
            [],
            "code",
            7,
            {"passcode": None},
            {"passcode": 123456},
            {"passcode": ["family-code-1"]},
            {"passcode": {"a": 1}},
        ],
    ),
]
HUGE = "\U0001f600" * 15_000  # 60 KB of UTF-8 (15,000 code points): under the 64 KiB body limit


@pytest.mark.parametrize(("method", "template", "bodies"), WRONG_TYPES, ids=[w[1] for w in WRONG_TYPES])
def test_wrong_types_and_huge_strings_are_4xx(client, world, method, template, bodies):
    owner, note, share, token = world
    path = template.format(trial=SEED, note=note["id"], token=token)
    huge = [{key: HUGE} for key in ("body", "color", "trial_id", "passcode", HUGE[:1000])]
    for body in [*bodies, *huge]:
        response = client.open(path, method=method, json=body, headers=owner.headers)
        assert 400 <= response.status_code < 500, (str(body)[:80], response.status_code)
        assert response.mimetype == "application/problem+json"
    shares = client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"]
    assert [(s["id"], s["failed_attempts"]) for s in shares] == [(share["id"], 0)]


def test_nul_in_a_query_string_is_400_on_every_get_route(app, client, owner):
    for method, path in every_route(app):
        if method != "GET":
            continue
        for query in ("q=a%00b", "%00=1", "trial_id=NCT0708510%00"):
            response = client.get(f"{path}?{query}", headers=owner.headers)
            assert response.status_code == 400, (path, query, response.status_code)
    assert client.get("/api/v1/trials?q=%00").mimetype == "application/problem+json"
    assert client.get("/?q=%00").mimetype == "text/html"  # a page for a page


def test_nul_in_the_share_form_is_a_400_page_and_spends_no_attempt(client, world):
    owner, _, share, token = world
    for form in ({"passcode": "family\x00code"}, {"pass\x00code": "x"}):
        response = client.post(f"/s/{token}", data=form)
        assert response.status_code == 400
        assert response.mimetype == "text/html"
    multipart = client.post(f"/s/{token}", data={"passcode": "a\x00"}, content_type="multipart/form-data")
    assert multipart.status_code == 400
    assert client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()["failed_attempts"] == 0
    # The right passcode, with nothing hostile, still opens it.
    assert client.post(f"/s/{token}", data={"passcode": "family-code-1"}).status_code == 303


# Any JSON value at all, text drawn from every code point (lone surrogates included).
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=20)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
    max_leaves=30,
)
FIELDS = st.sampled_from(
    ["target", "body", "color", "trial_id", "note_ids", "passcode", "expires_in_days", "max_views", "selector"]
)


@seed(20261201)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_on_any_json_route_is_never_a_server_error(client, world, data):
    owner, note, _, token = world
    method, path = data.draw(
        st.sampled_from(
            [
                ("POST", f"/api/v1/trials/{SEED}/notes"),
                ("PATCH", f"/api/v1/notes/{note['id']}"),
                ("POST", "/api/v1/shares"),
                ("POST", f"/api/v1/shared/{token}"),
                ("POST", "/api/v1/notebooks"),
            ]
        )
    )
    body = data.draw(ANY_JSON | st.dictionaries(FIELDS, ANY_JSON, max_size=5))
    raw = json.dumps(body, ensure_ascii=True, allow_nan=True).encode()
    response = client.open(path, method=method, data=raw, headers={**owner.headers, **JSON_HEADERS})
    assert response.status_code < 500, response.get_data(as_text=True)


def test_an_unexpected_database_error_logs_no_request_data(client, caplog):
    # A broken table stands for any unexpected failure: the statement holds the search term.
    with client.application.app_context():
        db.session.execute(text("ALTER TABLE trials RENAME TO trials_gone"))
        db.session.commit()
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/trials?q=private-search-word")
    assert response.status_code == 500
    assert "private-search-word" not in response.get_data(as_text=True)
    assert "unhandled" in caplog.text and "/api/v1/trials" in caplog.text
    assert "private-search-word" not in caplog.text  # hide_parameters: SQL shown, its values not


SECRET = "Child-Pugh secret 4821 of the patient"
# A body refused by the models with the rejected value in every kind of place: the 422 names the
# field and never repeats the value (pydantic's own messages would, as `input`).
REFUSED_WITH_SECRET = [
    ("note colour", "POST", "/api/v1/trials/{trial}/notes", note_with(color=SECRET), "color"),
    ("note body too long", "POST", "/api/v1/trials/{trial}/notes", note_with(body=SECRET * 400), "body"),
    ("body not text", "POST", "/api/v1/trials/{trial}/notes", note_with(body=[SECRET]), "body"),
    (
        "quote too long",
        "POST",
        "/api/v1/trials/{trial}/notes",
        quote_with(exact=SECRET * 60),
        "target.selector[0].exact",
    ),
    (
        "prefix too long",
        "POST",
        "/api/v1/trials/{trial}/notes",
        quote_with(prefix=SECRET * 2),
        "target.selector[0].prefix",
    ),
    (
        "position not a number",
        "POST",
        "/api/v1/trials/{trial}/notes",
        {
            "target": {
                "selector": [
                    {"type": "TextQuoteSelector", "exact": CIRRHOSIS},
                    {"type": "TextPositionSelector", "start": SECRET, "end": 3},
                ]
            }
        },
        "target.selector[1].start",
    ),
    ("unknown field", "POST", "/api/v1/trials/{trial}/notes", note_with(extra=SECRET), "extra"),
    ("patched colour", "PATCH", "/api/v1/notes/{note}", {"color": SECRET}, "color"),
    (
        "passcode with a control character",
        "POST",
        "/api/v1/shares",
        {"trial_id": SEED, "passcode": SECRET + "\x07"},
        "passcode",
    ),
    ("passcode too long", "POST", "/api/v1/shares", {"trial_id": SEED, "passcode": SECRET * 5}, "passcode"),
    ("days as text", "POST", "/api/v1/shares", {"trial_id": SEED, "expires_in_days": SECRET}, "expires_in_days"),
    ("next page cursor", "POST", "/api/v1/shared/{token}/notes", {"session": "x", "cursor": [SECRET]}, "cursor"),
]


@pytest.mark.parametrize(
    ("label", "method", "template", "body", "field"), REFUSED_WITH_SECRET, ids=[row[0] for row in REFUSED_WITH_SECRET]
)
def test_a_refused_value_is_never_echoed(client, world, label, method, template, body, field):
    owner, note, _, token = world
    path = template.format(trial=SEED, note=note["id"], token=token)
    response = client.open(path, method=method, json=body, headers=owner.headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.get_json()
    problem = response.get_json()
    assert field in problem["errors"], problem
    assert "Child-Pugh secret" not in response.get_data(as_text=True)
    assert "Input should" not in response.get_data(as_text=True)  # our words, not pydantic's
