from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support import CIRRHOSIS, SEED, meanwhile, new_owner, postgresql_only, run_until_blocked

from notes_service import crypto
from notes_service.clock import utcnow
from notes_service.extensions import db
from notes_service.notes import service as notes_service
from notes_service.notes.models import KeySlot
from notes_service.shares import service
from notes_service.shares.models import Reply, Share, ShareAttempt, share_notes

real_hash = crypto.hash_passcode


def token_of(share: dict) -> str:
    return share["url"].rsplit("/s/", 1)[1]


def open_api(client, share: dict, passcode: str):
    return client.post(f"/api/v1/shared/{token_of(share)}", json={"passcode": passcode})


def test_share_with_generated_passcode_opens(client, owner):
    note = owner.add_note()
    share = owner.share()
    assert re.fullmatch(r"\d{3}-\d{3}-\d{3}", share["passcode"])
    assert len(token_of(share)) >= 22
    assert share["note_ids"] == [note["id"]] and share["state"] == "active"
    response = open_api(client, share, share["passcode"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["trial"]["id"] == SEED and CIRRHOSIS in body["trial"]["text"]
    assert [n["body"] for n in body["notes"]] == ["Does this exclude me?"]
    # Read aloud: spaces or no dashes work too.
    assert open_api(client, share, share["passcode"].replace("-", " ")).status_code == 200


def test_chosen_passcode_rules(client, owner):
    owner.add_note()
    short = client.post("/api/v1/shares", headers=owner.headers, json={"trial_id": SEED, "passcode": "12345"})
    assert short.status_code == 422 and "passcode" in short.get_json()["errors"]
    share = owner.share(passcode="blue heron 42")
    assert "passcode" not in share
    assert open_api(client, share, "blue heron 42").status_code == 200
    wrong = open_api(client, share, "blue heron 43")
    assert wrong.status_code == 401 and wrong.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 91}, "expires_in_days"),
        ({"expires_in_days": "7"}, "expires_in_days"),
        ({"max_views": 0}, "max_views"),
        ({"note_ids": []}, "note_ids"),
        ({"note_ids": ["0" * 32]}, "note_ids"),
        ({"trial_id": None}, "trial_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_shares_are_422(client, owner, body, field):
    owner.add_note()
    response = client.post("/api/v1/shares", headers=owner.headers, json={"trial_id": SEED, **body})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_scope_is_chosen_notes_and_live(client, owner):
    first = owner.add_note(body="first")
    second = owner.add_note(exact="Systemic Sclerosis", body="second")
    share = owner.share(note_ids=[first["id"]], passcode="123456")
    owner.add_note(exact="Lupus Nephritis", body="added later")
    owner.add_note(trial="NCT04360941", exact="Palbociclib", body="other trial")
    client.patch(f"/api/v1/notes/{first['id']}", headers=owner.headers, json={"body": "first, edited"})
    notes = open_api(client, share, "123456").get_json()["notes"]
    assert [n["body"] for n in notes] == ["first, edited"]
    client.delete(f"/api/v1/notes/{first['id']}", headers=owner.headers)
    assert open_api(client, share, "123456").get_json()["notes"] == []
    assert second["id"] not in str(notes)


def test_omitted_note_ids_share_all_my_notes_on_that_trial_only(client, owner):
    owner.add_note(body="a")
    owner.add_note(exact="Systemic Sclerosis", body="b")
    owner.add_note(trial="NCT04360941", exact="Palbociclib", body="other trial")
    share = owner.share(passcode="123456")
    notes = open_api(client, share, "123456").get_json()["notes"]
    assert sorted(n["body"] for n in notes) == ["a", "b"]


def test_all_my_notes_are_held_to_the_bound_a_list_of_ids_is(client, owner, monkeypatch):
    monkeypatch.setattr(service, "MAX_SHARED_NOTES", 2)
    for body in ("a", "b", "c"):
        owner.add_note(body=body)
    status, body = owner.call("POST", "/api/v1/shares", {"trial_id": SEED, "passcode": "123456"})
    assert status == 422 and "note_ids" in body["errors"] and "at most 2 notes" in body["detail"]
    assert owner.call("GET", "/api/v1/shares")[1]["shares"] == []  # nothing was made


def test_cannot_share_another_owners_notes(client, owner, other):
    theirs = other.add_note()
    owner.add_note()
    response = client.post("/api/v1/shares", headers=owner.headers, json={"trial_id": SEED, "note_ids": [theirs["id"]]})
    assert response.status_code == 422


def test_revoke_gives_410(client, owner):
    owner.add_note()
    share = owner.share(passcode="123456")
    assert client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers).status_code == 204
    response = open_api(client, share, "123456")
    assert response.status_code == 410 and response.mimetype == "application/problem+json"
    listed = client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"]
    assert listed[0]["state"] == "revoked"


def _rows_of(share_id: str) -> dict[str, int]:
    """How many rows hold something of a share, by table."""
    counts = {}
    for name, table in [
        ("shares", Share.__table__),
        ("share_notes", share_notes),
        ("key_slots", KeySlot.__table__),
        ("replies", Reply.__table__),
        ("share_attempts", ShareAttempt.__table__),
    ]:
        column = table.c.id if name == "shares" else table.c.share_id
        counts[name] = db.session.scalar(select(func.count()).select_from(table).where(column == share_id))
    return counts


@pytest.mark.parametrize("revoked_first", [False, True])
def test_deleting_a_share_for_good_takes_its_replies_keys_and_place(app, client, owner, revoked_first):
    note = owner.add_note()
    share = owner.share(passcode="123456")
    kept = owner.share(passcode="654321")
    session = open_api(client, share, "123456").get_json()["session"]
    answer = client.post(
        f"/api/v1/shared/{token_of(share)}/notes/{note['id']}/replies", json={"session": session, "body": "Ask"}
    )
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        db.session.add(ShareAttempt(id="a" * 32, share_id=share["id"], lease_until=utcnow() + timedelta(minutes=1)))
        db.session.commit()
        before = _rows_of(share["id"])
        assert all(before.values()), before
    if revoked_first:
        assert client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers).status_code == 204
    deleted = client.delete(f"/api/v1/shares/{share['id']}/record", headers=owner.headers)
    assert deleted.status_code == 204
    with app.app_context():
        assert _rows_of(share["id"]) == dict.fromkeys(before, 0)
        assert all(_rows_of(kept["id"])[name] for name in ("shares", "share_notes", "key_slots"))
    assert open_api(client, share, "123456").status_code == 404
    assert client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).status_code == 404
    assert [s["id"] for s in client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"]] == [kept["id"]]
    assert client.get(f"/api/v1/trials/{SEED}/replies", headers=owner.headers).get_json()["replies"] == []
    assert client.get(f"/api/v1/notes/{note['id']}", headers=owner.headers).status_code == 200  # the note stays
    assert open_api(client, kept, "654321").status_code == 200
    again = client.delete(f"/api/v1/shares/{share['id']}/record", headers=owner.headers)
    assert again.status_code == 404 and again.mimetype == "application/problem+json"


def test_a_notebook_holds_a_bounded_number_of_shares_and_deleting_one_makes_room(make_app, monkeypatch):
    app = make_app(NOTES_MAX_SHARES="2")
    client = app.test_client()
    owner = new_owner(client)
    owner.add_note()
    first = owner.share(passcode="123456")
    owner.share(passcode="123456")
    # A revoked share keeps its row and replies: it still counts.
    assert client.delete(f"/api/v1/shares/{first['id']}", headers=owner.headers).status_code == 204
    hashed = []
    monkeypatch.setattr(crypto, "hash_passcode", lambda *args: hashed.append(1) or real_hash(*args))
    refused = client.post("/api/v1/shares", headers=owner.headers, json={"trial_id": SEED, "passcode": "123456"})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["errors"] == {"(notebook)": "is full"}
    assert "at most 2 shares" in problem["detail"] and "Delete" in problem["detail"]
    assert hashed == []  # refused before any Argon2 work
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Share)) == 2  # nothing half-made
    assert client.delete(f"/api/v1/shares/{first['id']}/record", headers=owner.headers).status_code == 204
    assert owner.share(passcode="123456")["state"] == "active"
    # The bound is per notebook.
    other = new_owner(client)
    other.add_note()
    assert other.share(passcode="123456")["state"] == "active"


@postgresql_only
def test_shares_created_at_once_cannot_pass_the_bound_together(make_app, monkeypatch):
    app = make_app(NOTES_MAX_SHARES="1")
    owner = new_owner(app.test_client())
    owner.add_note()
    body = {"trial_id": SEED, "passcode": "123456"}
    real = notes_service.share_note_keys
    others: list = []

    def another_share_meanwhile(*args, **kwargs):
        # This creation counted its room under the notebook's lock; another starts now, and
        # must wait for it and then count it, not count beside it.
        if not others:
            others.append(None)  # the other creation passes here too: it starts no third
            others[0] = meanwhile(lambda: app.test_client().post("/api/v1/shares", headers=owner.headers, json=body))
        return real(*args, **kwargs)

    monkeypatch.setattr(notes_service, "share_note_keys", another_share_meanwhile)
    first = app.test_client().post("/api/v1/shares", headers=owner.headers, json=body)
    second = others[0]()
    assert first.status_code == 201, first.get_json()
    assert second.status_code == 422 and second.get_json()["errors"] == {"(notebook)": "is full"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Share)) == 1


def test_expiry_gives_410(app, client, owner):
    owner.add_note()
    share = owner.share(passcode="123456", expires_in_days=1)
    with app.app_context():
        row = db.session.get(Share, share["id"])
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert open_api(client, share, "123456").status_code == 410
    assert client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"][0]["state"] == "expired"


@pytest.mark.parametrize("closing", ["revoked", "expired"])
def test_a_share_closed_while_its_passcode_is_checked_opens_nothing_and_counts_nothing(
    app, client, owner, monkeypatch, closing
):
    owner.add_note()
    share = owner.share(passcode="123456", expires_in_days=1)
    check = service._verify_or_release

    def closed_meanwhile(*args):
        outcome = check(*args)  # the passcode is right; the owner acts before it is recorded
        row = db.session.get(Share, share["id"])
        if closing == "revoked":
            row.revoked = True
        else:
            row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        return outcome

    monkeypatch.setattr(service, "_verify_or_release", closed_meanwhile)
    assert open_api(client, share, "123456").status_code == 410
    with app.app_context():
        row = db.session.get(Share, share["id"])
        assert (row.views, row.failed_streak, row.last_viewed_at) == (0, 0, None)
        assert db.session.scalar(select(func.count()).select_from(ShareAttempt)) == 0  # the place given back


def test_max_views_gives_410_when_used_up(client, owner):
    owner.add_note()
    share = owner.share(passcode="123456", max_views=2)
    assert open_api(client, share, "123456").status_code == 200
    assert open_api(client, share, "123456").status_code == 200
    assert open_api(client, share, "123456").status_code == 410
    listed = client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"][0]
    assert listed["state"] == "used_up" and listed["views"] == 2 and listed["last_viewed_at"]


def test_unknown_token_is_404(client):
    response = client.post("/api/v1/shared/not-a-real-token", json={"passcode": "123456"})
    assert response.status_code == 404


def test_another_owner_cannot_see_revoke_delete_or_unlock(client, owner, other):
    owner.add_note()
    share = owner.share(passcode="123456")
    assert client.get("/api/v1/shares", headers=other.headers).get_json() == {"shares": [], "next": None}
    for response in (
        client.get(f"/api/v1/shares/{share['id']}", headers=other.headers),
        client.delete(f"/api/v1/shares/{share['id']}", headers=other.headers),
        client.post(f"/api/v1/shares/{share['id']}/unlock", headers=other.headers),
        client.delete(f"/api/v1/shares/{share['id']}/record", headers=other.headers),
    ):
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert open_api(client, share, "123456").status_code == 200


def test_list_reports_views_and_failed_attempts(client, owner):
    owner.add_note()
    share = owner.share(passcode="123456")
    open_api(client, share, "wrong-one")
    open_api(client, share, "123456")
    listed = client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"][0]
    assert listed["views"] == 1 and listed["failed_attempts"] == 1
    assert "url" not in listed and "passcode" not in listed


def test_deleted_notebook_takes_its_shares(client, owner):
    owner.add_note()
    share = owner.share(passcode="123456")
    client.delete("/api/v1/notebooks/me", headers=owner.headers)
    assert open_api(client, share, "123456").status_code == 404


def test_shares_come_in_pages_newest_first(client, owner):
    owner.add_note()
    made = [owner.share(passcode="family-code-1")["id"] for _ in range(5)]
    pages, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/shares", headers=owner.headers, query_string=query).get_json()
        pages.append([share["id"] for share in body["shares"]])
        cursor = body["next"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [share_id for page in pages for share_id in page] == made[::-1]
    # The trial filter pages the same way.
    body = client.get("/api/v1/shares", headers=owner.headers, query_string={"trial_id": SEED, "limit": 4}).get_json()
    assert len(body["shares"]) == 4 and body["next"]


def test_a_bad_share_cursor_is_a_400_problem(client, owner):
    response = client.get("/api/v1/shares?cursor=%00", headers=owner.headers)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


# -- An owner's change of a share, with another request at once (PostgreSQL) ----------------


def _after_the_share_is_found(monkeypatch, other) -> None:
    """Run the request `other` (to its end, or until it waits on a lock) once the owner's change has found its share."""
    real = service._owned_share
    pending = [other]

    def found_then_other(*args, **kwargs):
        share = real(*args, **kwargs)
        if pending:
            pending.pop()().join()
        return share

    monkeypatch.setattr(service, "_owned_share", found_then_other)


@postgresql_only
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("DELETE", "/api/v1/shares/{id}", None),
        ("DELETE", "/api/v1/shares/{id}/record", None),
        ("POST", "/api/v1/shares/{id}/unlock", None),
        ("PATCH", "/api/v1/shares/{id}", {"replies_allowed": False}),
        ("PATCH", "/api/v1/shares/{id}", {"label": "Mom"}),
    ],
)
def test_a_change_of_a_share_whose_notebook_is_deleted_meanwhile_is_a_401_not_a_500(
    app, owner, monkeypatch, method, path, body
):
    owner.add_note(exact=CIRRHOSIS)
    share = owner.share()

    def delete_notebook():
        assert app.test_client().delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204

    _after_the_share_is_found(monkeypatch, lambda: run_until_blocked(app, delete_notebook))
    answer = owner.client.open(path.format(id=share["id"]), method=method, json=body, headers=owner.headers)
    # The update of a share row that was gone raised StaleDataError.
    assert answer.status_code == 401, answer.get_json()


@postgresql_only
def test_an_unlock_while_a_wrong_passcode_locks_the_share_leaves_it_open(app, client, owner, monkeypatch):
    owner.add_note(exact=CIRRHOSIS)
    share = owner.share(passcode="right passcode 1")
    for _ in range(service.STREAK_LIMIT - 1):
        assert open_api(client, share, "wrong passcode 2").status_code == 401
    locking = {}

    def last_wrong_guess():
        locking["answer"] = open_api(app.test_client(), share, "wrong passcode 2")

    _after_the_share_is_found(monkeypatch, lambda: run_until_blocked(app, last_wrong_guess))
    unlocked = owner.client.post(f"/api/v1/shares/{share['id']}/unlock", headers=owner.headers)
    assert locking["answer"].status_code == 423
    # The unlock wrote back its older copy's counters: it answered "locked", and the lock stayed.
    assert unlocked.status_code == 200 and unlocked.get_json()["state"] == "active", unlocked.get_json()
    assert owner.client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()["state"] == "active"
    assert open_api(client, share, "right passcode 1").status_code == 200


@pytest.mark.parametrize("route", ["api", "page"])
def test_a_share_deleted_while_its_reader_waits_for_the_gate_is_a_404(app, client, owner, monkeypatch, route):
    # The owner's Delete lands between the share's lookup and the attempt's reservation (the reader
    # waits for an Argon2 slot there): a 404, as for any link that leads nowhere (it was a 500).
    owner.add_note(exact=CIRRHOSIS)
    share = owner.share(passcode="123456")
    token = share["url"].rsplit("/s/", 1)[1]
    reserve = service._reserve_waiting

    def owner_deletes_first(share_id, now):
        assert (
            app.test_client().delete(f"/api/v1/shares/{share['id']}/record", headers=owner.headers).status_code == 204
        )
        return reserve(share_id, now)

    monkeypatch.setattr(service, "_reserve_waiting", owner_deletes_first)
    app.testing = False  # answered as in production, not raised into the test
    if route == "api":
        answer = client.post(f"/api/v1/shared/{token}", json={"passcode": "123456"})
    else:
        answer = client.post(f"/s/{token}", data={"passcode": "123456"})
    assert answer.status_code == 404
