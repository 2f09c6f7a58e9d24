"""GET /api/v1/trials/{nct}/embedding: what the widget asks at start to explain a wrong embed."""

from __future__ import annotations

import pytest
from support import SEED

ALLOWED = "https://trials.example"


@pytest.fixture
def app(make_app):
    return make_app(NOTES_ALLOWED_ORIGINS=ALLOWED)


def check(client, nct: str, origin: str | None = None):
    headers = {"Origin": origin} if origin else {}
    return client.get(f"/api/v1/trials/{nct}/embedding", headers=headers)


def test_a_known_trial_from_an_allowed_origin(client):
    response = check(client, SEED, ALLOWED)
    assert response.status_code == 200
    body = response.get_json()
    assert body["trial"] == SEED and body["known"] is True and body["title"]
    assert body["origin"] == ALLOWED and body["origin_allowed"] is True
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_a_refused_origin_can_read_why(client):
    response = check(client, SEED, "https://elsewhere.example")
    body = response.get_json()
    assert body["known"] is True and body["origin_allowed"] is False
    # Any page may read the answer: it is how a refused page learns what to fix.
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("nct", ["NCT00000000", "nct99999999", "not-a-trial", "N" * 80])
def test_an_unknown_trial_is_said_plainly(client, nct):
    body = check(client, nct, ALLOWED).get_json()
    assert body["known"] is False and body["title"] is None
    assert body["trial"] == nct[:32]


def test_the_service_own_pages_are_allowed(client):
    # Its own origin named, or none at all: a browser sends no Origin on a same-origin GET.
    assert check(client, SEED, "http://localhost").get_json()["origin_allowed"] is True
    body = check(client, SEED).get_json()
    assert body["origin"] is None and body["origin_allowed"] is True


def test_the_answer_may_be_cached_briefly(client):
    assert check(client, SEED, ALLOWED).headers["Cache-Control"] == "public, max-age=60"
