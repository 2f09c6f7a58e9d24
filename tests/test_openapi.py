from __future__ import annotations

import copy
import re

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support import SEED, new_owner

from notes_service import web
from notes_service.accounts.schemas import GrantInput, ImportInput
from notes_service.devices.schemas import RedeemLinkCode
from notes_service.errors import Invalid
from notes_service.notes.schemas import NoteInput, NotePatch
from notes_service.openapi import REF, document, request_models
from notes_service.shares.schemas import (
    OpenShare,
    RepliesSeen,
    ReplyInput,
    SharedNotesRequest,
    ShareInput,
    SharePatch,
)

SKIP_ENDPOINTS = {"static"}


def flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_route_is_described(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        path = flask_to_openapi(rule.rule)
        described = document["paths"].get(path, {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in described:
                missing.append(f"{method} {path}")
    assert missing == []


def test_every_described_operation_exists(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    routes = {
        (flask_to_openapi(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set())
    }
    for path, operations in document["paths"].items():
        for method in operations:
            assert (path, method) in routes, f"{method.upper()} {path} is described but not routed"


# -- The document is the models: each body is the model its view validates with ---------------

# POST and PATCH routes of the API that take no body.
NO_BODY = {
    ("/api/v1/notebooks", "post"),
    ("/api/v1/shares/{share_id}/unlock", "post"),
    ("/api/v1/notebooks/me/link-codes", "post"),
}


def test_every_api_write_route_documents_the_model_its_view_declares(app):
    doc = document(app)
    declared = request_models(app)
    for rule in app.url_map.iter_rules():
        for method in (rule.methods or set()) & {"POST", "PATCH"}:
            key = (flask_to_openapi(rule.rule), method.lower())
            if not rule.rule.startswith("/api/") or key in NO_BODY:
                assert key not in declared or not rule.rule.startswith("/api/"), key
                continue
            assert key in declared, f"{key} takes a body but declares no model (web.accepts)"
    for (path, method), model in declared.items():
        body = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": REF.format(model=model.__name__)}
        generated = model.model_json_schema(ref_template=REF)
        for name, schema in {**generated.pop("$defs", {}), model.__name__: generated}.items():
            assert doc["components"]["schemas"][name] == schema, name


def test_views_validate_only_through_their_declared_model(app):
    assert not hasattr(web, "json_body")  # a view reads JSON only through accepted(model)
    with app.test_request_context(f"/api/v1/trials/{SEED}/notes", method="POST", json={"body": "x"}):
        with pytest.raises(TypeError, match="declares"):
            web.accepted(ShareInput)  # not the model create_note declares: the document would be wrong
        with pytest.raises(Invalid):
            web.accepted(NoteInput)


# One body each route accepts; the property below mutates it. A new body model needs one here.
SEEDS = {
    NoteInput: {
        "target": {
            "source": SEED,
            "selector": [
                {"type": "TextQuoteSelector", "exact": "cirrhosis", "prefix": "Class B or C ", "suffix": "."},
                {"type": "TextPositionSelector", "start": 10, "end": 19},
                {"type": "RangeSelector", "startSelector": {}},
            ],
        },
        "body": "<p>Ask</p>",
        "color": "green",
    },
    NotePatch: {"body": "x", "color": "blue", "target": {"selector": [{"type": "TextQuoteSelector", "exact": "x"}]}},
    ShareInput: {
        "trial_id": SEED,
        "note_ids": ["a" * 32],
        "passcode": "blue heron 42",
        "expires_in_days": 7,
        "max_views": 3,
        "sender_name": "Maria",
        "label": "For Mom",
        "replies_allowed": True,
    },
    SharePatch: {"replies_allowed": False, "label": "For Mom"},
    ReplyInput: {"session": "s.i.g", "body": "<p>Ask about this</p>", "name": "Rose"},
    RepliesSeen: {"reply_ids": ["a" * 32]},
    OpenShare: {"passcode": "482-913-057"},
    SharedNotesRequest: {"session": "s.i.g", "cursor": "W10"},
    RedeemLinkCode: {"code": "7Q2M-X9KD-0B4T-PW8R-H3NZ", "device_name": "Firefox on Android"},
    GrantInput: {"grant": "eyJ.eyJ.sig", "device_name": "Laptop"},
    ImportInput: {"token": "t" * 43},
}
# What the models check that JSON Schema cannot say; a refusal for anything else is drift.
BEYOND_SCHEMA = {
    "blank",  # a quote of white space only
    "end_before_start",  # a position selector's end before its start
    "passcode",  # control characters; the length once digits lose their spaces and dashes
}
LENGTHS = [0, 1, 5, 6, 7, 63, 64, 65, 127, 128, 129, 1999, 2000, 2001, 9999, 10000, 10001]
NUMBERS = [-1, 0, 1, 89, 90, 91, 99_999, 100_000, 100_001, 2**31 - 1, 2**31]  # the last two: a position's bound
WORDS = ["TextQuoteSelector", "TextPositionSelector", "RangeSelector", "yellow", "purple", "red", "   ", "\n"]
# JSON Schema counts 7.0 as an integer; the API wants 7 (as it always has): fractions stay fractional here.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(NUMBERS),
    st.integers(-5, 200),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
    st.sampled_from(LENGTHS).map(lambda n: "x" * n),
    st.sampled_from(WORDS),
    st.text(max_size=8),
    st.sampled_from([1, 5000, 5001]).map(lambda n: ["a"] * n),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "exact", "start", "end", "prefix", "selector", "x"]), inner, max_size=3
        )
    ),
    max_leaves=6,
)


def near(value):
    """Values like `value` at the edges of the limits: strings of the bounds' lengths, numbers around them."""
    if isinstance(value, str):
        return st.sampled_from(LENGTHS).map(lambda n: "x" * n) | st.sampled_from(WORDS)
    if isinstance(value, int) and not isinstance(value, bool):
        return st.sampled_from(NUMBERS)
    return values


def _places(value, out):
    """Every (container, key) in `value`, for the mutation to pick from."""
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((value, key))
            _places(item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.append((value, index))
            _places(item, out)
    return out


@st.composite
def mutated(draw, seed):
    body = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 3))):
        places = _places(body, [])
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not places or action == "add":
            containers = [body] + [c for c, _ in places]
            container = draw(st.sampled_from(containers))
            if isinstance(container, dict):
                container[
                    draw(
                        st.sampled_from(
                            [
                                "type",
                                "exact",
                                "end",
                                "extra",
                                "body",
                                "color",
                                "target",
                                "passcode",
                                "session",
                                "cursor",
                                "max_views",
                                "sender_name",
                                "label",
                                "replies_allowed",
                                "name",
                                "reply_ids",
                            ]
                        )
                    )
                ] = draw(values)
            else:
                container.append(draw(values))
            continue
        container, key = draw(st.sampled_from(places))
        if action == "delete":
            del container[key]
        else:
            container[key] = draw(st.one_of(near(container[key]), values))
    return body


@pytest.mark.parametrize("model", list(SEEDS), ids=lambda model: model.__name__)
def test_a_body_is_accepted_exactly_when_the_document_allows_it(app, model):
    doc = document(app)
    assert set(request_models(app).values()) <= set(SEEDS)
    validator = jsonschema_rs.Draft202012Validator(
        {"$ref": REF.format(model=model.__name__), "components": doc["components"]}
    )

    @settings(max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(body=mutated(SEEDS[model]))
    def check(body):
        documented = validator.is_valid(body)
        try:
            model.model_validate(body)
        except ValidationError as error:
            kinds = {detail["type"] for detail in error.errors()}
            # The document allowed it: only a rule beyond JSON Schema may refuse it.
            assert not documented or kinds <= BEYOND_SCHEMA, (body, kinds)
        else:
            assert documented, body  # accepted, so the document must allow it

    assert validator.is_valid(SEEDS[model])
    check()


def test_each_answer_is_what_its_response_model_documents(app, client):
    """One call per JSON answer of the API, each checked against its documented schema (no undocumented key)."""
    doc = document(app)
    owner = new_owner(client)
    note = owner.add_note(quote={"prefix": "6. "})
    owner.add_note(exact="Systemic Sclerosis", color="purple")
    generated = owner.share()
    chosen = owner.share(passcode="blue heron 42", note_ids=[note["id"]], max_views=3)
    token = chosen["url"].rsplit("/s/", 1)[1]
    opened = client.post(f"/api/v1/shared/{token}", json={"passcode": "blue heron 42"})
    link = client.post("/api/v1/notebooks/me/link-codes", headers=owner.headers)
    redeemed = client.post("/api/v1/link-codes/redeem", json={"code": link.get_json()["code"]})
    calls = [
        ("POST", "/api/v1/notebooks", None, 201),
        ("GET", "/api/v1/trials?limit=2", None, 200),
        ("GET", "/api/v1/trials?q=cirrhosis", None, 200),
        ("GET", f"/api/v1/trials/{SEED}", None, 200),
        ("GET", f"/api/v1/trials/{SEED}/versions", None, 200),
        ("GET", f"/api/v1/trials/{SEED}/notes?limit=1", None, 200),
        ("GET", f"/api/v1/notes/{note['id']}", None, 200),
        ("PATCH", f"/api/v1/notes/{note['id']}", {"color": "blue"}, 200),
        ("GET", "/api/v1/notebooks/me/export?limit=1", None, 200),
        ("GET", "/api/v1/shares", None, 200),
        ("GET", f"/api/v1/shares/{chosen['id']}", None, 200),
        ("POST", f"/api/v1/shares/{chosen['id']}/unlock", None, 200),
        ("PATCH", f"/api/v1/shares/{chosen['id']}", {"label": "For Mom"}, 200),
        (
            "POST",
            f"/api/v1/shared/{token}/notes/{note['id']}/replies",
            {"session": opened.get_json()["session"], "body": "<p>Ask</p>", "name": "Rose"},
            201,
        ),
        ("GET", f"/api/v1/trials/{SEED}/replies", None, 200),
        ("POST", f"/api/v1/shared/{token}/notes", {"session": opened.get_json()["session"]}, 200),
        ("POST", f"/api/v1/trials/{SEED}/notes", {"body": "no target"}, 422),
        ("GET", "/api/v1/notes/" + "0" * 32, None, 404),
        ("GET", "/api/v1/notebooks/me/devices", None, 200),
        ("POST", "/api/v1/link-codes/redeem", {"code": "0" * 20}, 404),
        ("POST", "/api/v1/grants", {"grant": "not.a.jwt"}, 401),
        ("POST", "/api/v1/notebooks/me/imports", {"token": new_owner(client).token}, 200),
    ]
    answers = [
        ("POST /api/v1/notebooks/me/link-codes", "/api/v1/notebooks/me/link-codes", "post", 201, link.get_json()),
        ("POST /api/v1/link-codes/redeem", "/api/v1/link-codes/redeem", "post", 201, redeemed.get_json()),
        ("POST /api/v1/shares (generated)", "/api/v1/shares", "post", 201, generated),
        ("POST /api/v1/shares (chosen)", "/api/v1/shares", "post", 201, chosen),
        ("POST /api/v1/shared/{token}", "/api/v1/shared/{token}", "post", 200, opened.get_json()),
    ]
    for method, url, body, status in calls:
        response = client.open(url, method=method, json=body, headers=owner.headers)
        assert response.status_code == status, (method, url, response.get_json())
        rule = app.url_map.bind("localhost").match(url.split("?")[0], method=method, return_rule=True)[0]
        answers.append((f"{method} {url}", flask_to_openapi(rule.rule), method.lower(), status, response.get_json()))
    first_export = next(body for label, *_, body in answers if "/export" in label)
    export_next = client.get(first_export["first"]["next"], headers=owner.headers)  # a further page, with partOf
    answers.append(("export page 2", "/api/v1/notebooks/me/export", "get", 200, export_next.get_json()))
    for label, path, method, status, body in answers:
        content = doc["paths"][path][method]["responses"][str(status)]["content"]
        (schema,) = [media["schema"] for media in content.values()]
        validator = jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})
        errors = [error.message for error in validator.iter_errors(body)]
        assert errors == [], (label, errors)


def test_what_every_route_refuses_before_its_view_is_documented(app, client):
    """A NUL in any query parameter (400) and a body over 64 KiB (413) reach no view, on every route."""
    doc = document(app)
    owner = new_owner(client)
    note = owner.add_note()
    share = owner.share()
    values = {"nct": SEED, "note_id": note["id"], "share_id": share["id"], "token": "t" * 43, "device_id": "d" * 32}
    values |= {"reply_id": "r" * 32, "digest": "0" * 16}
    undocumented = []
    for path, operations in doc["paths"].items():
        url = re.sub(r"\{([a-z_]+)\}", lambda match: values[match.group(1)], path)
        for method in operations:
            for status, kwargs in [
                (400, {"query_string": "probe=%00"}),
                (413, {"data": b"x" * (65 * 1024), "content_type": "application/json"}),
            ]:
                response = client.open(url, method=method.upper(), headers=owner.headers, **kwargs)
                assert response.status_code == status, (method, url, response.status_code)
                if str(status) not in operations[method]["responses"]:
                    undocumented.append(f"{method.upper()} {path} {status}")
    assert undocumented == []
