"""Creation is rate-limited per client: notebooks, notes, shares and the share page, from one settings table.

Each limit is tested with a small real value: the requests under it succeed, the next one
answers 429 with Retry-After and creates nothing, and the other limits are not touched.
(tests/shares/test_rate_limit_storage.py shows two hosts sharing each count through Redis.)
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from support import CHEAP_HASHER, SEED, new_owner

from notes_service import ConfigError, create_app, registry
from notes_service.config import RATE_LIMITS
from notes_service.extensions import db
from notes_service.notes.models import Notebook
from notes_service.shares.models import ShareAttempt
from notes_service.shares.pages import COOKIE_NAME

PASSCODE = "family-code-1"


@dataclass
class Limited:
    """One rate-limited action: how to prepare it, perform it once, and count what it made."""

    name: str
    ok: int
    prepare: Callable  # (client) -> state
    act: Callable  # (client, state) -> response
    made: Callable  # (client, state) -> int, what exists now


def _notebook_count(client, _) -> int:
    with client.application.app_context():
        return db.session.scalar(select(func.count()).select_from(Notebook))


def _prepare_owner(client):
    owner = new_owner(client)
    owner.add_note()
    return owner


def _share_count(client, owner) -> int:
    return len(client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"])


def _note_count(client, owner) -> int:
    return len(client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"])


def _prepare_share_page(client):
    owner = _prepare_owner(client)
    token = owner.share(passcode=PASSCODE)["url"].rsplit("/s/", 1)[1]
    assert client.post(f"/s/{token}", data={"passcode": PASSCODE}).status_code == 303
    assert client.get_cookie(COOKIE_NAME, path=f"/s/{token}") is not None
    return token


def _device_count(client, owner) -> int:
    return len(client.get("/api/v1/notebooks/me/devices", headers=owner.headers).get_json()["devices"])


def _prepare_link(client):
    owner = new_owner(client)
    # Made from other client addresses (one each), so only the redeems count against this client.
    codes = [
        client.post(
            "/api/v1/notebooks/me/link-codes", headers=owner.headers, environ_base={"REMOTE_ADDR": f"10.9.9.{n}"}
        ).get_json()["code"]
        for n in range(3)
    ]
    return owner, codes


def _redeem(client, state):
    _owner, codes = state
    # A notebook holds 3 pending codes: past them, a code of the right form (the limit answers first).
    code = codes.pop(0) if codes else "7Q2M-X9KD-0B4T-PW8R-H3NZ"
    return client.post("/api/v1/link-codes/redeem", json={"code": code})


def _prepare_reply(client):
    owner = _prepare_owner(client)
    share = owner.share(passcode=PASSCODE)
    token = share["url"].rsplit("/s/", 1)[1]
    session = client.post(f"/api/v1/shared/{token}", json={"passcode": PASSCODE}).get_json()["session"]
    return owner, token, share["note_ids"][0], session


def _reply(client, state, address: str = "198.51.100.7"):
    _owner, token, note_id, session = state
    return client.post(
        f"/api/v1/shared/{token}/notes/{note_id}/replies",
        json={"session": session, "body": "a reply"},
        environ_base={"REMOTE_ADDR": address},
    )


def _reply_count(client, state) -> int:
    owner = state[0]
    return len(client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"])


LIMITED = [
    Limited("notebooks", 201, lambda client: None, lambda client, _: client.post("/api/v1/notebooks"), _notebook_count),
    Limited(
        "notes",
        201,
        new_owner,
        lambda client, owner: client.post(
            f"/api/v1/trials/{SEED}/notes",
            headers=owner.headers,
            json={"target": {"selector": [{"type": "TextQuoteSelector", "exact": "cirrhosis"}]}, "body": "x"},
        ),
        _note_count,
    ),
    Limited(
        "shares",
        201,
        _prepare_owner,
        lambda client, owner: client.post("/api/v1/shares", headers=owner.headers, json={"trial_id": SEED}),
        _share_count,
    ),
    Limited(
        "share_page", 200, _prepare_share_page, lambda client, token: client.get(f"/s/{token}"), lambda client, _: None
    ),
    Limited(
        "devices",
        200,
        new_owner,
        lambda client, owner: client.get("/api/v1/notebooks/me/devices", headers=owner.headers),
        lambda client, _: None,
    ),
    Limited("link_codes", 201, _prepare_link, _redeem, lambda client, state: _device_count(client, state[0])),
    Limited(
        "grants",
        401,
        lambda client: None,
        lambda client, _: client.post("/api/v1/grants", json={"grant": "not.a.grant"}),
        lambda client, _: None,
    ),
    Limited("replies", 201, _prepare_reply, _reply, _reply_count),
    Limited(
        "notebook_reads",
        200,
        _prepare_owner,
        lambda client, owner: client.get("/api/v1/notebooks/me/trials", headers=owner.headers),
        lambda client, _: None,
    ),
    Limited("share_replies", 201, _prepare_reply, _reply, _reply_count),
]


def small_limit_app(make_app, name: str, limit: str = "2 per minute", **env: str):
    variable = RATE_LIMITS[name][0]
    app = make_app(**{variable: limit, **env})
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    return app


@pytest.mark.parametrize("limited", LIMITED, ids=[limited.name for limited in LIMITED])
def test_each_creation_limit_answers_429_with_retry_after(make_app, limited):
    app = small_limit_app(make_app, limited.name)
    client = app.test_client()
    state = limited.prepare(client)
    statuses = [limited.act(client, state).status_code for _ in range(2)]
    assert statuses == [limited.ok] * 2
    before = limited.made(client, state)
    refused = limited.act(client, state)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 60  # the window of "2 per minute"
    if limited.name == "share_page":
        assert refused.mimetype == "text/html" and "Too many requests" in refused.get_data(as_text=True)
        # The refusal sits at the share's URL: its stylesheet request must not send the token along.
        assert refused.headers["Referrer-Policy"] == "no-referrer"
        assert refused.headers["Cache-Control"] == "no-store"
    else:
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["type"].endswith("/rate-limited")
    assert limited.made(client, state) == before  # the refused request made nothing
    # The other kinds of request have counts of their own.
    assert client.get("/api/v1/trials").status_code == 200
    if limited.name != "notebooks":
        assert client.post("/api/v1/notebooks").status_code == 201


def test_the_limits_count_per_client(make_app):
    app = small_limit_app(make_app, "notebooks", "1 per minute")
    client = app.test_client()
    assert client.post("/api/v1/notebooks", environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 201
    assert client.post("/api/v1/notebooks", environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 429
    assert client.post("/api/v1/notebooks", environ_base={"REMOTE_ADDR": "198.51.100.2"}).status_code == 201


def test_the_defaults_are_the_table(make_app, app_env):
    env = {key: value for key, value in app_env.items() if not key.endswith("RATE_LIMIT")}
    app = create_app(env)
    assert dict(registry.of(app).settings.rate_limits) == {name: default for name, (_, default) in RATE_LIMITS.items()}
    assert set(RATE_LIMITS) == {
        "passcode",
        "notebooks",
        "notes",
        "shares",
        "share_page",
        "devices",
        "link_codes",
        "grants",
        "replies",
        "share_replies",
        "owner_changes",
        "notebook_reads",
    }


@pytest.mark.parametrize("name", list(RATE_LIMITS))
def test_a_bad_limit_stops_start_up_naming_its_variable(app_env, name):
    variable = RATE_LIMITS[name][0]
    with pytest.raises(ConfigError, match=variable):
        create_app({**app_env, variable: "lots per minute"})


def test_a_shares_reply_limit_counts_every_address(make_app):
    app = small_limit_app(make_app, "share_replies")
    client = app.test_client()
    state = _prepare_reply(client)
    assert [_reply(client, state, f"198.51.100.{n}").status_code for n in (1, 2, 3)] == [201, 201, 429]
    # Another share has its own count.
    other = _prepare_reply(client)
    assert _reply(client, other, "198.51.100.4").status_code == 201


def test_a_route_without_a_limit_is_not_looked_up_by_the_limiter(make_app, monkeypatch):
    # The limiter filters such a request out before resolving its limits (there are none to find).
    app = small_limit_app(make_app, "notebooks", "1 per minute")
    resolved: list[str | None] = []
    for limiter in app.extensions["limiter"]:
        resolve = limiter.limit_manager.resolve_limits

        def counted(flask_app, endpoint, *args, resolve=resolve, **kwargs):
            resolved.append(endpoint)
            return resolve(flask_app, endpoint, *args, **kwargs)

        monkeypatch.setattr(limiter.limit_manager, "resolve_limits", counted)
    client = app.test_client()
    owner = new_owner(client)  # the notebooks limit: looked up, and counted
    assert client.get("/healthz").status_code == 200
    assert client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).status_code == 200
    assert client.get("/api/v1/trials").status_code == 200
    assert set(resolved) == {"notes_api.create_notebook"}
    assert client.post("/api/v1/notebooks").status_code == 429


def test_requests_refused_without_a_session_spend_none_of_a_shares_replies(make_app):
    # Anyone with the link but no passcode is refused (401): the share's limit counts only the
    # replies stored, so they cannot use up the family's, on the API or on the page.
    app = small_limit_app(make_app, "share_replies")
    client = app.test_client()
    state = _prepare_reply(client)
    _owner, token, note_id, _session = state
    for n in range(4):
        refused = client.post(
            f"/api/v1/shared/{token}/notes/{note_id}/replies",
            json={"session": "forged", "body": "spam"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
        assert refused.status_code == 401
        page = client.post(
            f"/s/{token}/notes/{note_id}/replies",
            data={"body": "spam"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
        assert page.status_code == 401
    assert [_reply(client, state, f"198.51.100.{n}").status_code for n in (10, 11, 12)] == [201, 201, 429]


def test_a_limit_is_one_count_whichever_of_its_routes_is_taken(make_app):
    # The passcode limit guards the API's unlock and the share page's form: someone guessing
    # by turns on both gets one allowance (2 a minute here), not one a route.
    app = small_limit_app(make_app, "passcode")
    client = app.test_client()
    token = _prepare_owner(client).share(passcode=PASSCODE)["url"].rsplit("/s/", 1)[1]
    address = {"REMOTE_ADDR": "198.51.100.9"}
    api = client.post(f"/api/v1/shared/{token}", json={"passcode": "not-the-code-1"}, environ_base=address)
    page = client.post(f"/s/{token}", data={"passcode": "not-the-code-2"}, environ_base=address)
    assert (api.status_code, page.status_code) == (401, 401)
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": PASSCODE}, environ_base=address).status_code == 429
    assert client.post(f"/s/{token}", data={"passcode": PASSCODE}, environ_base=address).status_code == 429


def test_a_reply_form_sent_again_spends_one_of_a_shares_replies(make_app):
    # A second tap on the share page's "Send reply" stores nothing more (test_reply_pages.py):
    # the share's limit counts that reply once, so the family's next reply still goes through.
    app = small_limit_app(make_app, "share_replies")
    client = app.test_client()
    state = _prepare_reply(client)
    _owner, token, note_id, _session = state
    assert client.post(f"/s/{token}", data={"passcode": PASSCODE}).status_code == 303
    form = {"body": "Ask the doctor", "reply_id": uuid.uuid4().hex}
    tapped = [client.post(f"/s/{token}/notes/{note_id}/replies", data=form).status_code for _ in range(2)]
    another = client.post(f"/s/{token}/notes/{note_id}/replies", data={**form, "reply_id": uuid.uuid4().hex})
    assert tapped == [303, 303] and another.status_code == 303
    assert _reply_count(client, state) == 2
    # Two stored: the limit (2 a minute) is spent, by the page's form as by the API.
    refused = client.post(f"/s/{token}/notes/{note_id}/replies", data={**form, "reply_id": uuid.uuid4().hex})
    assert refused.status_code == 429 and _reply(client, state).status_code == 429
    assert _reply_count(client, state) == 2


# A rate-limit storage that refuses every connection (nothing listens on port 1): Redis down.
STORAGE_DOWN = "redis://127.0.0.1:1/14"


@pytest.mark.parametrize("limited", LIMITED, ids=[limited.name for limited in LIMITED])
def test_each_limit_counts_in_memory_while_its_storage_is_down(make_app, limited):
    # Prepared through a host whose storage answers (a reply's session comes from a passcode,
    # whose limit fails closed); acted through one whose Redis is down: the request is served,
    # and the limit still holds, counted in the process's memory.
    healthy = small_limit_app(make_app, limited.name, "100 per minute").test_client()
    client = small_limit_app(make_app, limited.name, RATELIMIT_STORAGE_URI=STORAGE_DOWN).test_client()
    state = limited.prepare(healthy)
    if limited.name == "share_page":
        client.set_cookie(COOKIE_NAME, healthy.get_cookie(COOKIE_NAME, path=f"/s/{state}").value, path=f"/s/{state}")
    assert [limited.act(client, state).status_code for _ in range(2)] == [limited.ok] * 2
    before = limited.made(healthy, state)
    assert limited.act(client, state).status_code == 429
    assert limited.made(healthy, state) == before


def _guess_api(client, token: str, passcode: str):
    return client.post(f"/api/v1/shared/{token}", json={"passcode": passcode})


def _guess_page(client, token: str, passcode: str):
    return client.post(f"/s/{token}", data={"passcode": passcode})


@pytest.mark.parametrize(
    ("guess", "route"), [(_guess_api, "/api/v1/shared/<token>"), (_guess_page, "/s/<token>")], ids=["api", "page"]
)
def test_passcode_checks_refuse_while_their_storage_is_down(make_app, caplog, guess, route):
    # Counted per worker instead, a guesser would get the allowance once per worker and host:
    # the passcode limit fails closed. Refused before the view: no attempt reserved or counted.
    healthy = make_app().test_client()
    owner = new_owner(healthy)
    owner.add_note()
    share = owner.share(passcode=PASSCODE)
    token = share["url"].rsplit("/s/", 1)[1]
    client = make_app(RATELIMIT_STORAGE_URI=STORAGE_DOWN).test_client()
    caplog.set_level("INFO")
    for passcode in ("wrong-passcode-1", PASSCODE):  # the right passcode does not pass either
        refused = guess(client, token, passcode)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        if guess is _guess_page:
            assert refused.mimetype == "text/html"
            assert "Your attempt was not counted" in refused.get_data(as_text=True)
            assert refused.headers["Cache-Control"] == "no-store"
            assert refused.headers["Referrer-Policy"] == "no-referrer"
        else:
            assert refused.mimetype == "application/problem+json"
            assert refused.get_json()["type"].endswith("/unavailable")
        assert client.get_cookie(COOKIE_NAME, path=f"/s/{token}") is None
    detail = healthy.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    assert (detail["failed_attempts"], detail["views"]) == (0, 0)
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(ShareAttempt)) == 0
    logged = [record.getMessage() for record in caplog.records if record.getMessage().startswith("rate-limit")]
    assert logged == [f"rate-limit storage unreachable; POST {route} refused with 503"] * 2
    secrets = (token, PASSCODE, "wrong-passcode-1", owner.token)
    assert not [r for r in caplog.records if any(s in r.getMessage() or s in (r.exc_text or "") for s in secrets)]


@pytest.fixture
def hanging_storage() -> Iterator[str]:
    """A Redis URI whose server accepts connections and never answers (a partition, a stalled host)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel completes each connection; nothing ever reads or writes
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/12"


# Far over the storage's timeouts, far under redis-py's 5 s default: a bound on hanging, not a speed test.
NOT_HANGING = 3.0


def test_a_limited_request_does_not_hang_on_a_storage_that_never_answers(make_app, hanging_storage):
    client = make_app(RATELIMIT_STORAGE_URI=hanging_storage).test_client()
    started = time.monotonic()
    response = client.post("/api/v1/notebooks")
    elapsed = time.monotonic() - started
    assert response.status_code == 201  # counted in memory meanwhile
    assert elapsed < NOT_HANGING, f"a notebook's creation waited {elapsed:.2f} s on the rate-limit storage"


@pytest.mark.parametrize("guess", [_guess_api, _guess_page], ids=["api", "page"])
def test_a_passcode_check_does_not_hang_on_a_storage_that_never_answers(make_app, hanging_storage, guess):
    owner = new_owner(make_app().test_client())
    owner.add_note()
    token = owner.share(passcode=PASSCODE)["url"].rsplit("/s/", 1)[1]
    client = make_app(RATELIMIT_STORAGE_URI=hanging_storage).test_client()
    started = time.monotonic()
    response = guess(client, token, PASSCODE)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert elapsed < NOT_HANGING, f"a passcode check waited {elapsed:.2f} s on the rate-limit storage"


def test_only_a_redis_storage_is_given_timeouts(make_app, hanging_storage):
    assert make_app().config["RATELIMIT_STORAGE_OPTIONS"] == {}  # memory:// takes no client options
    options = make_app(RATELIMIT_STORAGE_URI=hanging_storage).config["RATELIMIT_STORAGE_OPTIONS"]
    assert options == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
