"""Grants: a host site vouches for its user; every way a grant can be wrong is a 401 problem."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from grant_hosts import AUDIENCE, JWKS_ISSUER, Host, nks_for, public_pem
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from support import (
    CIRRHOSIS,
    SEED,
    InProcess,
    Owner,
    changed_seed,
    interrupt_once,
    meanwhile,
    postgresql_only,
    run_until_blocked,
)

from notes_service import create_app, keys, registry
from notes_service.accounts import service
from notes_service.accounts.grants import LEEWAY_SECONDS
from notes_service.accounts.models import Account, UsedGrant
from notes_service.config import ConfigError
from notes_service.devices.models import Device
from notes_service.extensions import db
from notes_service.notes import imports
from notes_service.notes import service as notes
from notes_service.notes.models import KeySlot, Notebook


def exchange(client, grant: str, name: str | None = None):
    body = {"grant": grant} if name is None else {"grant": grant, "device_name": name}
    return client.post("/api/v1/grants", json=body)


def signed_in(client, grant: str) -> Owner:
    answer = exchange(client, grant)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    return Owner(InProcess(client), body["notebook_id"], body["token"])


def count(app, model) -> int:
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return int(total or 0)


def test_the_first_grant_makes_the_notebook_and_the_next_adds_a_device_of_it(client, host):
    first = exchange(client, host.grant("alice"), "Laptop")
    assert first.status_code == 201
    body = first.get_json()
    assert body["created"] is True and set(body) == {"token", "notebook_id", "device_id", "created"}
    laptop = Owner(InProcess(client), body["notebook_id"], body["token"])
    laptop.add_note(body="<p>from the laptop</p>")
    second = exchange(client, host.grant("alice"), "Phone")
    assert second.status_code == 201 and second.get_json()["created"] is False
    assert second.get_json()["notebook_id"] == body["notebook_id"]
    phone = Owner(laptop.api, body["notebook_id"], second.get_json()["token"])
    assert [n["body"] for n in phone.notes()] == ["<p>from the laptop</p>"]
    names = [d["name"] for d in client.get("/api/v1/notebooks/me/devices", headers=phone.headers).get_json()["devices"]]
    assert names == ["Laptop", "Phone"]


def test_another_user_of_the_same_host_gets_another_notebook(client, host):
    alice = exchange(client, host.grant("alice")).get_json()
    bob = exchange(client, host.grant("bob")).get_json()
    assert alice["notebook_id"] != bob["notebook_id"] and bob["created"] is True


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_a_jwks_publisher_signs_with_either_of_its_keys(client, host, algorithm):
    jwks_host = Host(key=host.jwks_keys[algorithm], algorithm=algorithm, issuer=JWKS_ISSUER)
    kid = {"RS256": "rsa-1", "EdDSA": "ed-1"}[algorithm]
    grant = jwt.encode(jwks_host.claims("carol"), jwks_host.key, algorithm=algorithm, headers={"kid": kid})
    assert exchange(client, grant).status_code == 201


def _none_grant(host: Host) -> str:
    return jwt.encode(host.claims(), None, algorithm="none")


def _hs256_with_the_public_key(host: Host) -> str:
    # The classic confusion: the public key taken as an HMAC secret. PyJWT refuses to sign with a
    # PEM-looking secret, so the JWT is put together by hand.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(host.claims()).encode())
    )
    signature = hmac.new(public_pem(host.key).encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def _tampered(host: Host) -> str:
    head, _payload, signature = host.grant().split(".")
    claims = jwt.decode(host.grant(), options={"verify_signature": False})
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{head}.{forged}.{signature}"


WRONG_GRANTS = {
    "signature": (_tampered, "signature does not verify"),
    "algorithm none": (_none_grant, "algorithm must be one of"),
    "algorithm HS256 with the public key": (_hs256_with_the_public_key, "algorithm must be one of"),
    "algorithm outside the three": (
        lambda host: jwt.encode(host.claims(), ec.generate_private_key(ec.SECP384R1()), algorithm="ES384"),
        "algorithm must be one of",
    ),
    "algorithm the publisher does not sign with": (
        lambda host: jwt.encode(host.claims(), ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA"),
        "not one its publisher signs with",
    ),
    "another key": (lambda host: host.grant(key=ec.generate_private_key(ec.SECP256R1())), "signature does not verify"),
    "unknown issuer": (lambda host: host.grant(iss="https://evil.example"), "issuer (iss) is not a publisher"),
    "other audience": (lambda host: host.grant(aud="another-service"), "audience (aud) is not this service"),
    "expired": (lambda host: host.grant(exp=int(time.time()) - 120), "has expired"),
    "exp too far ahead": (lambda host: host.grant(exp=int(time.time()) + 3600), "more than 10 minutes ahead"),
    "issued in the future": (lambda host: host.grant(iat=int(time.time()) + 3600), "iat claim is in the future"),
    "no sub": (lambda host: host.grant(sub=None), "lacks its sub claim"),
    "no jti": (lambda host: host.grant(jti=None), "lacks its jti claim"),
    "no exp": (lambda host: host.grant(exp=None), "lacks its exp claim"),
    "no aud": (lambda host: host.grant(aud=None), "lacks its aud claim"),
    "no nks": (lambda host: host.grant(nks=None), "lacks its nks claim"),
    "short nks": (
        lambda host: host.grant(nks=base64.urlsafe_b64encode(b"x" * 16).decode()),
        "nks claim must hold 32 to 64 bytes",
    ),
    "nks not base64url": (lambda host: host.grant(nks="not base64 at all!"), "nks claim must be base64url"),
    "oversized": (lambda host: host.grant(padding="x" * 5000), "is over 4096 characters"),
    # Neither can be stored: no UTF-8 form for a lone surrogate, no NUL in PostgreSQL's text.
    "sub with a NUL": (lambda host: host.grant(sub="alice\x00"), "sub claim must be text without NUL"),
    "sub with a lone surrogate": (lambda host: host.grant(sub="alice\ud800"), "sub claim must be text without NUL"),
    "jti with a NUL": (lambda host: host.grant(jti="j\x00"), "jti claim must be text without NUL"),
    "jti with a lone surrogate": (lambda host: host.grant(jti="j\udfff"), "jti claim must be text without NUL"),
    "not a JWT": (lambda host: "not.a.jwt", "is not a signed JWT"),
}


@pytest.mark.parametrize("case", list(WRONG_GRANTS))
def test_every_wrong_grant_is_a_401_problem_saying_which_check_failed(app, client, host, case):
    make, words = WRONG_GRANTS[case]
    answer = exchange(client, make(host))
    assert answer.status_code == 401, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    assert words in answer.get_json()["detail"]
    assert answer.get_json()["errors"] == {"grant": answer.get_json()["detail"]}
    assert count(app, Notebook) == 0 and count(app, UsedGrant) == 0


def test_a_replayed_grant_is_refused_and_makes_no_device(app, client, host):
    grant = host.grant("alice")
    assert exchange(client, grant).status_code == 201
    again = exchange(client, grant)
    assert again.status_code == 401 and "used already" in again.get_json()["detail"]
    with app.app_context():
        devices = db.session.execute(db.text("SELECT count(*) FROM devices")).scalar()
        db.session.remove()
    assert devices == 1


def test_a_spent_grant_id_is_kept_while_the_leeway_after_its_exp_still_accepts_the_grant(app, client, host):
    exp = int(time.time()) + 60
    grant = host.grant("alice", exp=exp)
    assert exchange(client, grant).status_code == 201
    registry.of(app).clock = lambda: datetime.fromtimestamp(exp + LEEWAY_SECONDS - 1, UTC)
    again = exchange(client, grant)  # its exp is past, but within the leeway it is still a grant
    assert again.status_code == 401 and "used already" in again.get_json()["detail"]
    # Once the leeway is over too, the id is forgotten with the next exchange: the grant is refused as expired.
    registry.of(app).clock = lambda: datetime.fromtimestamp(exp + LEEWAY_SECONDS + 1, UTC)
    assert exchange(client, host.grant("bob", exp=exp + 300)).status_code == 201
    assert count(app, UsedGrant) == 1
    late = exchange(client, grant)
    assert late.status_code == 401 and "has expired" in late.get_json()["detail"]
    assert count(app, Device) == 2


def test_a_changed_nks_is_refused_and_the_notes_stay_sealed_until_the_old_one_returns(app, client, host):
    laptop = signed_in(client, host.grant("alice"))
    laptop.add_note(body="<p>sealed by the first nks</p>")
    changed = base64.urlsafe_b64encode(b"another key of the host, 32 byt").decode().rstrip("=")
    refused = exchange(client, host.grant("alice", nks=changed + "A"))
    assert refused.status_code == 401 and "does not open its notebook" in refused.get_json()["detail"]
    assert count(app, Notebook) == 1  # no new, empty notebook in its place
    back = signed_in(client, host.grant("alice", nks=nks_for("alice")))
    assert back.notebook_id == laptop.notebook_id
    assert [n["body"] for n in back.notes()] == ["<p>sealed by the first nks</p>"]


def test_no_subject_or_nks_in_the_database_rows_but_the_account(app, client, host):
    signed_in(client, host.grant("alice@example.org"))
    with app.app_context():
        account = db.session.scalar(select(Account))
        slots = db.session.execute(db.text("SELECT wrapped FROM key_slots")).scalars().all()
        db.session.remove()
    assert account.subject == "alice@example.org"
    assert not any(nks_for("alice@example.org").encode() in bytes(blob) for blob in slots)


def test_without_publishers_no_grant_is_accepted(make_app, host):
    client = make_app().test_client()
    answer = exchange(client, host.grant())
    assert answer.status_code == 401 and "no publisher is configured" in answer.get_json()["detail"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{}", "must be a JSON list"),
        ('[{"issuer": "a", "audience": "b", "algorithms": ["HS256"], "public_key_pem": "x"}]', "not HS256"),
        ('[{"issuer": "a", "audience": "b", "algorithms": ["ES256"]}]', "exactly one of"),
        ('[{"issuer": "a", "audience": "b", "algorithms": ["ES256"], "public_key_pem": "nope"}]', "not a PEM"),
        ('[{"issuer": "a", "audience": "b", "algorithms": ["RS256"], "jwks_file": "missing.json"}]', "cannot be read"),
    ],
)
def test_a_bad_publishers_file_stops_the_start_naming_the_variable(app_env, tmp_path, content, words):
    path = tmp_path / "bad-publishers.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as error:
        create_app({**app_env, "NOTES_PUBLISHERS_FILE": str(path)})
    assert "NOTES_PUBLISHERS_FILE" in str(error.value) and words in str(error.value)


def test_a_key_that_serves_none_of_its_algorithms_is_refused(app_env, tmp_path, host):
    path = tmp_path / "mismatch.json"
    entry = {"issuer": "a", "audience": AUDIENCE, "algorithms": ["RS256"], "public_key_pem": public_pem(host.key)}
    path.write_text(json.dumps([entry]))
    with pytest.raises(ConfigError, match="serves none of its algorithms"):
        create_app({**app_env, "NOTES_PUBLISHERS_FILE": str(path)})


def test_anonymous_notes_move_into_the_account_in_one_go(app, client, host):
    anonymous = Owner(InProcess(client), *_new_notebook(client))
    first = anonymous.add_note(body="<p>made before signing in</p>")
    anonymous.add_note(body="<p>another</p>", exact="Systemic Sclerosis")
    share = anonymous.share(passcode="blue heron 42")
    account = signed_in(client, host.grant("alice"))
    account.add_note(body="<p>already in the account</p>")
    moved = client.post("/api/v1/notebooks/me/imports", json={"token": anonymous.token}, headers=account.headers)
    assert moved.status_code == 200 and moved.get_json() == {"moved": 2}
    bodies = sorted(n["body"] for n in account.notes())
    assert bodies == ["<p>already in the account</p>", "<p>another</p>", "<p>made before signing in</p>"]
    assert client.get(f"/api/v1/notes/{first['id']}", headers=account.headers).status_code == 200
    # The anonymous notebook is gone, its token and its share's link with it.
    assert client.get(f"/api/v1/trials/{SEED}/notes", headers=anonymous.headers).status_code == 401
    token = share["url"].rsplit("/s/", 1)[1]
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": "blue heron 42"}).status_code == 404


def _new_notebook(client) -> tuple[str, str]:
    body = client.post("/api/v1/notebooks").get_json()
    return body["notebook_id"], body["token"]


def test_a_wrong_import_token_is_a_401_naming_the_field_and_moves_nothing(client, host):
    account = signed_in(client, host.grant("alice"))
    answer = client.post("/api/v1/notebooks/me/imports", json={"token": "x" * 43}, headers=account.headers)
    assert answer.status_code == 401 and set(answer.get_json()["errors"]) == {"token"}
    own = client.post("/api/v1/notebooks/me/imports", json={"token": account.token}, headers=account.headers)
    assert own.status_code == 422 and set(own.get_json()["errors"]) == {"token"}


def test_an_import_that_does_not_fit_moves_nothing(make_app, publishers_file, host):
    client = make_app(NOTES_PUBLISHERS_FILE=str(publishers_file), NOTES_MAX_NOTES="2").test_client()
    anonymous = Owner(InProcess(client), *_new_notebook(client))
    anonymous.add_note(body="one")
    anonymous.add_note(body="two", exact="Systemic Sclerosis")
    account = signed_in(client, host.grant("alice"))
    account.add_note(body="three", exact=CIRRHOSIS)
    answer = client.post("/api/v1/notebooks/me/imports", json={"token": anonymous.token}, headers=account.headers)
    assert answer.status_code == 422
    assert sorted(n["body"] for n in anonymous.notes()) == ["one", "two"]
    assert [n["body"] for n in account.notes()] == ["three"]


def _import_with(client, host, monkeypatch, other, before=None):
    """Import an anonymous notebook with one note into alice's; `other(anonymous, note)` runs once its notes moved.

    The request `other` makes runs meanwhile (support.meanwhile): the import goes on (deletes the
    anonymous notebook, commits) once that request ended or waits on a lock. `before()` runs
    before the import. Returns the other request's answer and alice's notebook.
    """
    anonymous = Owner(InProcess(client), *_new_notebook(client))
    note = anonymous.add_note(body="<p>first</p>", exact=CIRRHOSIS)
    account = signed_in(client, host.grant("alice"))
    if before is not None:
        before()
    moved = imports._move
    finishes = []

    def move_then_other(*args, **kwargs):
        moved(*args, **kwargs)
        finishes.append(meanwhile(lambda: other(anonymous, note)))

    monkeypatch.setattr(imports, "_move", move_then_other)
    answer = client.post("/api/v1/notebooks/me/imports", json={"token": anonymous.token}, headers=account.headers)
    assert answer.status_code == 200 and answer.get_json() == {"moved": 1}, answer.get_json()
    return finishes[0](), account


@postgresql_only
def test_a_share_made_with_the_anonymous_token_during_an_import_is_refused_not_a_500(app, client, host, monkeypatch):
    def share(anonymous, _note):
        return app.test_client().post(
            "/api/v1/shares", json={"trial_id": SEED, "passcode": "correct horse 42"}, headers=anonymous.headers
        )

    made, account = _import_with(client, host, monkeypatch, share)
    # It waited for the import, then found the anonymous notebook gone (a foreign key it could not keep was a 500).
    assert made.status_code == 401, made.get_json()
    assert [n["body"] for n in account.notes()] == ["<p>first</p>"]


@postgresql_only
def test_a_note_written_with_the_anonymous_token_during_an_import_is_refused_not_lost(app, client, host, monkeypatch):
    def create(anonymous, _note):
        return app.test_client().post(
            f"/api/v1/trials/{SEED}/notes",
            json={"target": {"selector": [{"type": "TextQuoteSelector", "exact": "Systemic Sclerosis"}]}, "body": "2"},
            headers=anonymous.headers,
        )

    created, account = _import_with(client, host, monkeypatch, create)
    # It waited for the import, then found the anonymous notebook gone: no 201 for a note in no notebook.
    assert created.status_code == 401, created.get_json()
    assert [n["body"] for n in account.notes()] == ["<p>first</p>"]


@postgresql_only
def test_a_note_edited_with_the_anonymous_token_during_an_import_is_refused_and_stays_readable(
    app, client, host, monkeypatch
):
    def edit(anonymous, note):
        return app.test_client().patch(
            f"/api/v1/notes/{note['id']}", json={"body": "edited"}, headers=anonymous.headers
        )

    edited, account = _import_with(client, host, monkeypatch, edit)
    # Refused, not sealed under the anonymous notebook's key, which the import it waited for shredded.
    assert edited.status_code == 401, edited.get_json()
    assert [(n["readable"], n["body"]) for n in account.notes()] == [(True, "<p>first</p>")]


@postgresql_only
def test_a_note_deleted_with_the_anonymous_token_during_an_import_is_refused_and_moves(app, client, host, monkeypatch):
    def delete(anonymous, note):
        return app.test_client().delete(f"/api/v1/notes/{note['id']}", headers=anonymous.headers)

    deleted, account = _import_with(client, host, monkeypatch, delete)
    assert deleted.status_code == 401, deleted.get_json()
    assert [n["body"] for n in account.notes()] == ["<p>first</p>"]


@postgresql_only
def test_a_note_reanchored_by_a_read_during_an_import_stays_readable(app, client, host, runner, tmp_path, monkeypatch):
    study = tmp_path / "changed.json"
    study.write_text(json.dumps(changed_seed()))

    def new_version():  # the note is stale: the next read that opens it re-anchors it and writes it
        assert runner.invoke(args=["trials", "load", str(study)]).exit_code == 0

    def read(anonymous, _note):
        return app.test_client().get(f"/api/v1/trials/{SEED}/notes", headers=anonymous.headers)

    # The read re-anchors the note as it was before the move; its write waits for the import.
    listed, account = _import_with(client, host, monkeypatch, read, before=new_version)
    assert listed.status_code == 200, listed.get_json()
    assert [(n["readable"], n["body"]) for n in account.notes()] == [(True, "<p>first</p>")]


def test_the_grant_and_import_answers_are_what_the_document_says(app, client, host):
    import jsonschema_rs

    from notes_service.openapi import document

    doc = document(app)
    anonymous = _new_notebook(client)[1]
    exchanged = exchange(client, host.grant("alice"))
    headers = {"Authorization": f"Bearer {exchanged.get_json()['token']}"}
    imported = client.post("/api/v1/notebooks/me/imports", json={"token": anonymous}, headers=headers)
    for path, status, answer in (
        ("/api/v1/grants", "201", exchanged),
        ("/api/v1/notebooks/me/imports", "200", imported),
    ):
        assert str(answer.status_code) == status
        schema = doc["paths"][path]["post"]["responses"][status]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})
        assert [error.message for error in validator.iter_errors(answer.get_json())] == []


def test_rotation_moves_every_kind_of_slot_and_each_still_opens(app_env, make_app, publishers_file, host):
    from notes_service.crypto import Keyring

    app = make_app(NOTES_PUBLISHERS_FILE=str(publishers_file))
    client = app.test_client()
    anonymous = Owner(InProcess(client), *_new_notebook(client))
    anonymous.add_note(body="<p>anonymous</p>")
    code = client.post("/api/v1/notebooks/me/link-codes", headers=anonymous.headers).get_json()["code"]
    share = anonymous.share(passcode="blue heron 42")
    account = signed_in(client, host.grant("alice"))
    account.add_note(body="<p>vouched</p>")
    newer = Keyring.generate_spec("k2")
    settings = {"NOTES_KEYS": f"{newer},{app_env['NOTES_KEYS']}", "NOTES_PUBLISHERS_FILE": str(publishers_file)}
    result = make_app(**settings).test_cli_runner().invoke(args=["keys", "rotate"])
    # A device slot each, the link code's, the share's and the account's.
    assert result.exit_code == 0 and "re-wrapped 5 key slots under k2" in result.output, result.output
    only_new = make_app(NOTES_KEYS=newer, NOTES_PUBLISHERS_FILE=str(publishers_file)).test_client()
    phone = only_new.post("/api/v1/link-codes/redeem", json={"code": code}).get_json()["token"]
    listed = only_new.get(f"/api/v1/trials/{SEED}/notes", headers={"Authorization": f"Bearer {phone}"})
    assert [n["body"] for n in listed.get_json()["notes"]] == ["<p>anonymous</p>"]
    token = share["url"].rsplit("/s/", 1)[1]
    assert only_new.post(f"/api/v1/shared/{token}", json={"passcode": "blue heron 42"}).status_code == 200
    again = only_new.post("/api/v1/grants", json={"grant": host.grant("alice")}).get_json()
    listed = only_new.get(f"/api/v1/trials/{SEED}/notes", headers={"Authorization": f"Bearer {again['token']}"})
    assert [n["body"] for n in listed.get_json()["notes"]] == ["<p>vouched</p>"]


# -- Grants at once, and a grant during a deletion (PostgreSQL) -------------------------------


@postgresql_only
def test_two_first_grants_of_one_user_at_once_give_one_notebook_and_log_no_subject(
    app, client, host, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    user = "alice@example.org"
    other = {}

    def second_grant() -> None:
        other["answer"] = exchange(app.test_client(), host.grant(user))

    # The second first grant makes the account while the first is about to make it.
    threads = []
    interrupt_once(monkeypatch, service, "_new_account", lambda: threads.append(run_until_blocked(app, second_grant)))
    answer = exchange(client, host.grant(user))
    threads[0].join()
    assert (answer.status_code, other["answer"].status_code) == (201, 201), answer.get_json()
    assert (answer.get_json()["created"], other["answer"].get_json()["created"]) == (False, True)
    assert answer.get_json()["notebook_id"] == other["answer"].get_json()["notebook_id"]
    assert (count(app, Account), count(app, Notebook), count(app, Device)) == (1, 1, 2)
    assert user not in caplog.text  # the unique key's detail names the subject: never logged


@postgresql_only
def test_grants_at_once_stay_within_max_devices(app, client, host, monkeypatch):
    monkeypatch.setattr(service, "MAX_DEVICES", 2)
    signed_in(client, host.grant("alice"))
    other = {}

    def second_grant() -> None:
        other["answer"] = exchange(app.test_client(), host.grant("alice"))

    # The second grant comes once the first has counted the devices.
    threads = []
    interrupt_once(monkeypatch, notes, "add_device", lambda: threads.append(run_until_blocked(app, second_grant)))
    answer = exchange(client, host.grant("alice"))
    threads[0].join()
    assert (answer.status_code, other["answer"].status_code) == (201, 422)
    assert count(app, Device) == 2


def _deleting(app, owner: Owner) -> Callable[[], None]:
    def delete() -> None:
        assert app.test_client().delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204

    return delete


@postgresql_only
def test_a_grant_while_its_notebook_is_deleted_adds_a_device_that_goes_with_it(app, client, host, monkeypatch):
    laptop = signed_in(client, host.grant("alice"))
    # The deletion comes as the grant is about to add the device: it waits for the grant's
    # device (a foreign key to a deleted notebook was a 500), and takes it along.
    threads: list[threading.Thread] = []
    interrupt_once(
        monkeypatch, notes, "add_device", lambda: threads.append(run_until_blocked(app, _deleting(app, laptop)))
    )
    asking = threading.current_thread()

    def deletion_done_before_the_answer(_session) -> None:
        if threading.current_thread() is asking and threads:
            threads.pop().join()  # the answer is written after the deletion took the device's row

    event.listen(Session, "after_commit", deletion_done_before_the_answer)
    try:
        answer = exchange(client, host.grant("alice"))
    finally:
        event.remove(Session, "after_commit", deletion_done_before_the_answer)
    assert not threads
    assert answer.status_code == 201, answer.get_json()
    assert count(app, Notebook) == 0
    assert (count(app, Account), count(app, Device), count(app, KeySlot)) == (0, 0, 0)


@postgresql_only
def test_a_grant_whose_notebook_was_deleted_after_it_read_the_account_makes_a_new_one(app, client, host):
    laptop = signed_in(client, host.grant("alice"))
    with app.app_context():
        engine = db.engine
    pending = [_deleting(app, laptop)]

    def after_the_account_is_read(_conn, _cursor, statement, *_args) -> None:
        if pending and "FROM accounts" in statement:
            run_until_blocked(app, pending.pop()).join()

    event.listen(engine, "after_cursor_execute", after_the_account_is_read)
    try:
        answer = exchange(client, host.grant("alice"))
    finally:
        event.remove(engine, "after_cursor_execute", after_the_account_is_read)
    assert not pending
    # Its account went with the notebook: the grant makes a new one, as a grant a moment later would.
    assert answer.status_code == 201 and answer.get_json()["created"] is True, answer.get_json()
    assert answer.get_json()["notebook_id"] != laptop.notebook_id
    assert (count(app, Account), count(app, Notebook), count(app, Device)) == (1, 1, 1)


@postgresql_only
def test_a_deletion_waits_for_a_grant_adding_a_device_before_it_erases_any_slot(app, client, host, monkeypatch):
    # The deletion's first step (erasing every slot, committed on its own) takes the notebook's
    # row, as grants do: it erases the grant's new slot with the others. Without the row it
    # erased what it saw and committed, and the grant's slot lived until the second step: a
    # process ending between the two left a device that still opened the notes.
    laptop = signed_in(client, host.grant("alice"))
    seen: list[int] = []

    def delete_meanwhile() -> None:
        deleting = run_until_blocked(app, _deleting(app, laptop))
        seen.append(count(app, KeySlot))  # what the deletion had erased while it waited
        threads.append(deleting)

    threads: list[threading.Thread] = []
    interrupt_once(monkeypatch, notes, "add_device", delete_meanwhile)
    answer = exchange(client, host.grant("alice"))
    threads.pop().join()
    assert answer.status_code == 201, answer.get_json()
    assert seen == [2]  # the laptop's and the account's slots, untouched while the grant held the row
    assert (count(app, Notebook), count(app, Account), count(app, Device), count(app, KeySlot)) == (0, 0, 0, 0)


def test_a_grant_finishes_a_deletion_that_ended_after_erasing_the_slots(app, client, host):
    # A deletion erases the slots (committed), then removes the notebook; a process that ended
    # between the two left an account whose every grant was refused "being deleted", for good.
    laptop = signed_in(client, host.grant("alice"))
    with app.app_context():
        keys.delete_notebook_slots(laptop.notebook_id)
        db.session.commit()
        db.session.remove()
    answer = exchange(client, host.grant("alice"), "Phone")
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["created"] is True and body["notebook_id"] != laptop.notebook_id
    assert (count(app, Notebook), count(app, Account), count(app, Device)) == (1, 1, 1)
    phone = Owner(InProcess(client), body["notebook_id"], body["token"])
    assert phone.notes() == []
