"""Every /api/v1 and /s/ route times every kind of caller, from one table.

Each cell that may change state builds a fresh little world on a shared app (the GET cells
share one): an owner with a private note and
a shared note (one share, passcode known to the share holders), another live notebook,
and a deleted one. The request always aims at the *owner's* resources (ids and link as if
leaked); what differs is who asks. For each cell the test checks the status from TABLE,
that no body shows a secret the caller may not see, and, for callers other than the
owner, that the owner's note and share are unchanged afterwards.

A route added to the app without a row here fails `test_every_route_has_a_row`.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from support import CIRRHOSIS, SEED, Owner, new_owner

from notes_service.shares.pages import COOKIE_NAME

CALLERS = ("owner", "other", "anonymous", "bad_token", "deleted", "share_cookie", "share_no_cookie")
# Callers who were told the passcode (the owner chose it; the share holders are family).
KNOW_PASSCODE = {"owner", "share_cookie", "share_no_cookie"}
PASSCODE = "family-code-matrix"
WRONG_PASSCODE = "not-the-passcode"


@dataclass(frozen=True)
class Shows:
    """A cell whose response may show the *shared* note (never the private one)."""

    status: int


S = Shows
# route -> status per caller, in CALLERS order. Shows(...) marks the cells that may show the shared note.
TABLE: dict[tuple[str, str], tuple[int | Shows, ...]] = {
    #                                          owner other anon  bad  deleted cookie no-cookie
    ("GET", "/api/v1/openapi.json"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/trials"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/trials/<nct>"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/trials/<nct>/versions"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/trials/<nct>/embedding"): (200, 200, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/notebooks"): (201, 201, 201, 201, 201, 201, 201),
    ("DELETE", "/api/v1/notebooks/me"): (204, 204, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/notebooks/me/export"): (200, 200, 401, 401, 401, 401, 401),
    # Each notebook lists its own trials and notes: another notebook gets its own (none of the owner's).
    ("GET", "/api/v1/notebooks/me/trials"): (200, 200, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/notebooks/me/notes"): (200, 200, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/trials/<nct>/notes"): (200, 200, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/trials/<nct>/notes"): (201, 201, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/notes/<note_id>"): (200, 404, 401, 401, 401, 401, 401),
    ("PATCH", "/api/v1/notes/<note_id>"): (200, 404, 401, 401, 401, 401, 401),
    ("DELETE", "/api/v1/notes/<note_id>"): (204, 404, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/shares"): (201, 422, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/shares"): (200, 200, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/shares/<share_id>"): (200, 404, 401, 401, 401, 401, 401),
    ("PATCH", "/api/v1/shares/<share_id>"): (200, 404, 401, 401, 401, 401, 401),
    ("DELETE", "/api/v1/shares/<share_id>"): (204, 404, 401, 401, 401, 401, 401),
    ("DELETE", "/api/v1/shares/<share_id>/record"): (204, 404, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/shares/<share_id>/unlock"): (200, 404, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/shared/<token>"): (200, 401, 401, 401, 401, S(200), S(200)),
    ("POST", "/api/v1/shared/<token>/notes"): (200, 401, 401, 401, 401, S(200), S(200)),
    ("POST", "/api/v1/shared/<token>/notes/<note_id>/replies"): (201, 401, 401, 401, 401, 201, 201),
    ("GET", "/api/v1/trials/<nct>/replies"): (200, 200, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/trials/<nct>/replies/seen"): (204, 204, 401, 401, 401, 401, 401),
    ("DELETE", "/api/v1/replies/<reply_id>"): (204, 404, 401, 401, 401, 401, 401),
    ("GET", "/s/<token>"): (200, 200, 200, 200, 200, S(200), 200),
    ("POST", "/s/<token>"): (303, 401, 401, 401, 401, 303, 303),
    ("GET", "/api/v1/notebooks/me/devices"): (200, 200, 401, 401, 401, 401, 401),
    # The owner's device, aimed at by everyone: for the owner it is the notebook's last device.
    ("DELETE", "/api/v1/notebooks/me/devices/<device_id>"): (204, 404, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/notebooks/me/link-codes"): (201, 201, 401, 401, 401, 401, 401),
    # Only the owner was shown the code (as a passcode); everyone else sends one of the right form.
    ("POST", "/api/v1/link-codes/redeem"): (201, 404, 404, 404, 404, 404, 404),
    # No publisher is configured here: no grant is accepted (tests/accounts covers the accepted ones).
    ("POST", "/api/v1/grants"): (401, 401, 401, 401, 401, 401, 401),
    # The owner moves the other notebook in (it holds that token); anyone else sends a token of no notebook.
    ("POST", "/api/v1/notebooks/me/imports"): (200, 401, 401, 401, 401, 401, 401),
    ("POST", "/s/<token>/notes/<note_id>/replies"): (401, 401, 401, 401, 401, 303, 401),
    # The reply form's address as a page: to the share's page, which asks for what it needs.
    ("GET", "/s/<token>/notes/<note_id>/replies"): (303, 303, 303, 303, 303, 303, 303),
}
CELLS = [
    (route, caller, expected) for route, row in TABLE.items() for caller, expected in zip(CALLERS, row, strict=True)
]
checked: list[str] = []


@dataclass
class World:
    """One owner's data, and everyone else's credentials."""

    owner: Owner
    other: Owner
    deleted_token: str
    private_note: dict
    shared_note: dict
    share: dict
    share_token: str
    cookie: str
    session: str
    other_session: str
    marks: dict[str, str]
    device_id: str
    link_code: str
    reply: dict

    def owner_secrets(self) -> dict[str, str]:
        """What only the owner may see (the notebook token: not even the owner, after creation)."""
        return {
            "private note text": self.marks["private"],
            "private note id": self.private_note["id"],
            "share id": self.share["id"],
            "notebook id": self.owner.notebook_id,
            "device id": self.device_id,
            "link code": self.link_code,
        }

    def shared_secrets(self) -> dict[str, str]:
        """What a share holder with the passcode may see."""
        return {
            "shared note text": self.marks["shared"],
            "shared note id": self.shared_note["id"],
            "reply text": self.marks["reply"],
        }


@pytest.fixture(scope="module")
def matrix_app(module_app) -> Iterator:
    yield module_app
    print(f"authorization matrix: {len(checked)} cells checked ({len(TABLE)} routes x {len(CALLERS)} callers)")


def build_world(app) -> World:
    client = app.test_client()
    marks = {name: f"{name}-{uuid.uuid4().hex}" for name in ("private", "shared", "other", "deleted", "reply")}
    owner = new_owner(client)
    private_note = owner.add_note(body=f"<p>{marks['private']}</p>")
    shared_note = owner.add_note(body=f"<p>{marks['shared']}</p>", color="green")
    share = owner.share(passcode=PASSCODE, note_ids=[shared_note["id"]])
    share_token = share["url"].rsplit("/s/", 1)[1]
    other = new_owner(client)
    other.add_note(body=f"<p>{marks['other']}</p>")
    deleted = new_owner(client)
    deleted.add_note(body=f"<p>{marks['deleted']}</p>")
    assert client.delete("/api/v1/notebooks/me", headers=deleted.headers).status_code == 204
    opened = app.test_client().post(f"/s/{share_token}", data={"passcode": PASSCODE})
    assert opened.status_code == 303
    cookie = re.search(rf"{COOKIE_NAME}=([^;]+)", opened.headers["Set-Cookie"]).group(1)
    # The API's session for next pages, as the share holders got it by opening the share.
    session = app.test_client().post(f"/api/v1/shared/{share_token}", json={"passcode": PASSCODE}).get_json()["session"]
    # Callers who do not know the passcode hold a session of their own notebook's share.
    other_share = other.share(passcode=PASSCODE)
    other_session = (
        app.test_client()
        .post(f"/api/v1/shared/{other_share['url'].rsplit('/s/', 1)[1]}", json={"passcode": PASSCODE})
        .get_json()["session"]
    )
    device_id = client.get("/api/v1/notebooks/me/devices", headers=owner.headers).get_json()["devices"][0]["id"]
    link_code = client.post("/api/v1/notebooks/me/link-codes", headers=owner.headers).get_json()["code"]
    reply = app.test_client().post(
        f"/api/v1/shared/{share_token}/notes/{shared_note['id']}/replies",
        json={"session": session, "body": marks["reply"], "name": "Rose"},
    )
    assert reply.status_code == 201, reply.get_json()
    return World(
        owner,
        other,
        deleted.token,
        private_note,
        shared_note,
        share,
        share_token,
        cookie,
        session,
        other_session,
        marks,
        device_id,
        link_code,
        reply.get_json(),
    )


def caller_headers(world: World, caller: str) -> dict[str, str]:
    bearer = {
        "owner": world.owner.token,
        "other": world.other.token,
        "bad_token": secrets.token_urlsafe(32),
        "deleted": world.deleted_token,
    }.get(caller)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    if caller == "share_cookie":
        # Sent on every route, not only where the browser would (the cookie's path is /s/<token>).
        headers["Cookie"] = f"{COOKIE_NAME}={world.cookie}"
    return headers


def request_for(world: World, route: tuple[str, str], caller: str) -> tuple[str, str, dict]:
    method, rule = route
    path = (
        rule.replace("<nct>", SEED)
        .replace("<note_id>", world.shared_note["id"] if rule.endswith("/replies") else world.private_note["id"])
        .replace("<reply_id>", world.reply["id"])
        .replace("<share_id>", world.share["id"])
        .replace("<token>", world.share_token)
        .replace("<device_id>", world.device_id)
    )
    passcode = PASSCODE if caller in KNOW_PASSCODE else WRONG_PASSCODE
    kwargs: dict = {"headers": caller_headers(world, caller)}
    if route == ("POST", "/api/v1/trials/<nct>/notes"):
        kwargs["json"] = {
            "target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]},
            "body": "a new note",
        }
    elif route == ("PATCH", "/api/v1/notes/<note_id>"):
        kwargs["json"] = {"body": "edited by the caller"}
    elif route == ("PATCH", "/api/v1/shares/<share_id>"):
        kwargs["json"] = {"label": "relabelled by the caller"}
    elif route == ("POST", "/api/v1/shares"):
        kwargs["json"] = {"trial_id": SEED, "note_ids": [world.private_note["id"]], "passcode": "another-code"}
    elif route == ("POST", "/api/v1/shared/<token>"):
        kwargs["json"] = {"passcode": passcode}
    elif route == ("POST", "/s/<token>"):
        kwargs["data"] = {"passcode": passcode}
    elif route == ("POST", "/api/v1/link-codes/redeem"):
        kwargs["json"] = {"code": world.link_code if caller == "owner" else "7Q2M-X9KD-0B4T-PW8R-H3NZ"}
    elif route == ("POST", "/api/v1/grants"):
        kwargs["json"] = {"grant": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}
    elif route == ("POST", "/api/v1/notebooks/me/imports"):
        kwargs["json"] = {"token": world.other.token if caller == "owner" else secrets.token_urlsafe(32)}
    elif route == ("POST", "/s/<token>/notes/<note_id>/replies"):
        kwargs["data"] = {"body": "a reply from the caller", "number": "1"}
    elif route in {
        ("POST", "/api/v1/shared/<token>/notes"),
        ("POST", "/api/v1/shared/<token>/notes/<note_id>/replies"),
    }:
        kwargs["json"] = {"session": world.session if caller in KNOW_PASSCODE else world.other_session}
        if route[1].endswith("/replies"):
            kwargs["json"]["body"] = "a reply from the caller"
    elif route == ("POST", "/api/v1/trials/<nct>/replies/seen"):
        kwargs["json"] = {"reply_ids": [world.reply["id"]]}
    return method, path, kwargs


def forbidden_secrets(world: World, route: tuple[str, str], caller: str, expected: int | Shows) -> dict[str, str]:
    """Everything this caller must not find in the response body."""
    forbidden = {"owner's notebook token": world.owner.token, "deleted notebook's note": world.marks["deleted"]}
    if caller != "other":
        forbidden["other notebook's note"] = world.marks["other"]
    if caller == "owner":
        return forbidden
    forbidden |= world.owner_secrets()
    if not isinstance(expected, Shows):
        forbidden |= world.shared_secrets()
    if "<token>" not in route[1]:
        forbidden["share token"] = world.share_token  # a caller who did not send the link is never shown it
    if route[1].endswith("/replies") and "<token>" in route[1]:
        forbidden.pop("shared note id", None)  # the caller named it in the URL: its reply says which note
    return forbidden


def assert_owner_data_intact(app, world: World) -> None:
    client = app.test_client()
    note = client.get(f"/api/v1/notes/{world.private_note['id']}", headers=world.owner.headers)
    assert note.status_code == 200 and note.get_json()["body"] == world.private_note["body"]
    share = client.get(f"/api/v1/shares/{world.share['id']}", headers=world.owner.headers)
    assert share.status_code == 200
    assert share.get_json()["state"] == "active" and share.get_json()["revoked_at"] is None
    replies = client.get("/api/v1/trials/<nct>/replies".replace("<nct>", SEED), headers=world.owner.headers)
    assert [(r["id"], r["unread"]) for r in replies.get_json()["replies"]][-1] == (world.reply["id"], True)


def test_every_route_has_a_row(matrix_app):
    routes = {
        (method, rule.rule)
        for rule in matrix_app.url_map.iter_rules()
        if rule.rule.startswith(("/api/v1/", "/s/"))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routes == set(TABLE), "every /api/v1 and /s/ route needs a row in TABLE (and every row a route)"
    print(f"authorization matrix: {len(TABLE)} routes x {len(CALLERS)} callers = {len(CELLS)} cells")


@pytest.fixture(scope="module")
def read_world(matrix_app) -> World:
    """One world for every GET cell: a GET changes nothing a cell looks at (each cell's check that
    the owner's data is intact would see it if one did), and a world costs a score of requests."""
    return build_world(matrix_app)


@pytest.mark.parametrize(("route", "caller", "expected"), CELLS, ids=[f"{m} {r} as {c}" for (m, r), c, _ in CELLS])
def test_cell(matrix_app, read_world, route, caller, expected):
    world = read_world if route[0] == "GET" else build_world(matrix_app)
    method, path, kwargs = request_for(world, route, caller)
    # No cookie jar: the client sends exactly the headers the caller has (a jar would drop our Cookie header).
    response = matrix_app.test_client(use_cookies=False).open(path, method=method, **kwargs)
    status = expected.status if isinstance(expected, Shows) else expected
    assert response.status_code == status, f"{method} {route[1]} as {caller}"
    body = response.get_data(as_text=True)
    leaked = [name for name, secret in forbidden_secrets(world, route, caller, expected).items() if secret in body]
    assert leaked == [], f"{method} {route[1]} as {caller} shows {leaked}"
    if isinstance(expected, Shows):
        # The cell that may show the shared note does show it: the test can see a leak when there is one.
        assert world.marks["shared"] in body
    if caller != "owner":
        assert_owner_data_intact(matrix_app, world)
    checked.append(f"{method} {route[1]} as {caller}")
