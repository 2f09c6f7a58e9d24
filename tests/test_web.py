from __future__ import annotations

import gzip
import json

import pytest
from flask import session
from flask.sessions import NullSession

from notes_service.web import WIDGET_FILE

ALLOWED = "https://trials.example"


@pytest.fixture
def cors_client(make_app):
    return make_app(NOTES_ALLOWED_ORIGINS=f"{ALLOWED}, http://127.0.0.1:8123").test_client()


def test_no_request_opens_a_cookie_session(app, client):
    # Nothing keeps state in Flask's session: a request gets the null session, which refuses a write,
    # and a cookie named like Flask's is never read or answered.
    with app.test_request_context("/", headers={"Cookie": "session=eyJ4IjoxfQ.forged.sig"}):
        assert isinstance(session._get_current_object(), NullSession)
        assert dict(session) == {}
        with pytest.raises(RuntimeError):
            session["x"] = 1
    client.set_cookie("session", "eyJ4IjoxfQ.forged.sig")
    response = client.get("/")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_preflight_for_listed_origin(cors_client):
    response = cors_client.options(
        "/api/v1/trials/NCT07085104/notes",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_preflight_for_unlisted_origin_is_refused(cors_client):
    response = cors_client.options(
        "/api/v1/notebooks", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_actual_request_carries_cors_only_for_listed_origins(cors_client):
    ok = cors_client.post("/api/v1/notebooks", headers={"Origin": ALLOWED})
    assert ok.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in ok.headers.get_all("Vary")
    evil = cors_client.get("/api/v1/trials", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers


def test_own_origin_is_always_allowed(client):
    response = client.options(
        "/api/v1/notebooks", headers={"Origin": "http://localhost", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 204


def test_api_responses_are_not_cached(client, owner):
    owner.add_note()
    response = client.get("/api/v1/trials/NCT07085104/notes", headers=owner.headers)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.skipif(not WIDGET_FILE.exists(), reason="widget not built: `make widget` (make test builds it)")
def test_widget_served_small_and_versioned(client):
    plain = client.get("/widget.js")
    assert plain.status_code == 200 and plain.mimetype == "text/javascript"
    assert "max-age=300" in plain.headers["Cache-Control"]
    assert len(gzip.compress(plain.data, 9)) <= 15 * 1024
    page = client.get("/trials/NCT07085104").get_data(as_text=True)
    start = page.index('src="/widget.') + len('src="')
    url = page[start : page.index('"', start)]
    versioned = client.get(url)
    assert versioned.status_code == 200 and versioned.data == plain.data
    assert "immutable" in versioned.headers["Cache-Control"]
    assert "max-age=31536000" in versioned.headers["Cache-Control"]
    assert client.get("/widget.0000000000000000.js").status_code == 404


@pytest.fixture
def widget_parts() -> dict[str, list[str]]:
    parts = WIDGET_FILE.parent / "widget" / "parts.json"
    if not parts.exists():
        pytest.skip("widget not built: `make widget` (make test builds it)")
    return json.loads(parts.read_text())


def test_widget_modules_load_from_any_page_and_are_cached_for_good(client, widget_parts):
    loader = client.get("/widget.js").get_data(as_text=True)
    entry = widget_parts["first_load"][1]
    assert f"/static/{entry}" in loader, "the loader imports the entry module the build listed"
    for name in widget_parts["first_load"][1:] + widget_parts["on_demand"]:
        response = client.get(f"/static/{name}", headers={"Origin": "https://trials.example"})
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/widget/missing-0000.js").status_code == 404
