"""What a stolen data folder reveals: nothing of notes, quotes, tokens or passcodes."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from support import SEED, new_owner

from notes_service import ConfigError, create_app
from notes_service.crypto import Keyring
from notes_service.extensions import db
from notes_service.notes.models import Note

BODY = "Zebra-unique-body-7731: my liver numbers"
QUOTE = "hemodynamically symptomatic pericardial effusion"


def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("scans the SQLite data folder's bytes")


def folder_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def needles(*texts: str) -> list[bytes]:
    found = []
    for text in texts:
        found += [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]
    return found


def test_log_holds_no_body_token_or_passcode(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    owner = new_owner(client)
    note = owner.add_note(exact=QUOTE, body=BODY)
    share = owner.share(passcode="heron-passcode-55")
    token = share["url"].rsplit("/s/", 1)[1]
    client.post(f"/api/v1/shared/{token}", json={"passcode": "heron-passcode-56"})
    client.post(f"/s/{token}", data={"passcode": "heron-passcode-55"})
    with app.app_context():  # an unreadable note is logged: by its id only
        row = db.session.get(Note, note["id"])
        row.ciphertext = row.ciphertext[:-1] + bytes([row.ciphertext[-1] ^ 1])
        db.session.commit()
    client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert "could not be decrypted" in caplog.text
    for secret in (BODY, QUOTE, owner.token, token, "heron-passcode-55", "heron-passcode-56"):
        assert secret not in caplog.text


def test_data_folder_holds_no_body_quote_or_token(app, client, data_dir, database_url):
    sqlite_only(database_url)
    quote_copies_before = folder_bytes(data_dir).count(QUOTE.encode())
    owner = new_owner(client)
    owner.add_note(exact=QUOTE, body=BODY)
    note = owner.add_note(body=BODY + " second")
    client.patch(f"/api/v1/notes/{note['id']}", headers=owner.headers, json={"body": BODY + " edited"})
    share = owner.share(passcode="heron-passcode-55")
    token = share["url"].rsplit("/s/", 1)[1]
    client.post(f"/api/v1/shared/{token}", json={"passcode": "heron-passcode-55"})
    blob = folder_bytes(data_dir)
    assert len(blob) > 10_000 and any(p.name.endswith("-wal") for p in data_dir.iterdir())
    for needle in needles(BODY, owner.token, token, "heron-passcode-55", "Zebra-unique", "TextQuoteSelector"):
        assert needle not in blob
    # A quote is public trial text, so it is in the trial record; no note adds a copy of it.
    assert blob.count(QUOTE.encode()) == quote_copies_before > 0


def test_copied_ciphertext_fails_and_list_marks_it_unreadable(app, client):
    owner = new_owner(client)
    first = owner.add_note(body="first note")
    second = owner.add_note(body="second note")
    with app.app_context():
        one, two = db.session.get(Note, first["id"]), db.session.get(Note, second["id"])
        two.ciphertext = one.ciphertext
        db.session.commit()
    listed = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert listed.status_code == 200
    by_id = {n["id"]: n for n in listed.get_json()["notes"]}
    assert by_id[first["id"]]["body"] == "first note"
    assert by_id[second["id"]]["readable"] is False and by_id[second["id"]]["body"] is None
    assert client.get(f"/api/v1/notes/{second['id']}", headers=owner.headers).get_json()["readable"] is False


def test_corrupted_ciphertext_leaves_the_rest_served(app, client):
    owner = new_owner(client)
    notes = [owner.add_note(body=f"note {i}") for i in range(3)]
    with app.app_context():
        row = db.session.get(Note, notes[1]["id"])
        row.ciphertext = row.ciphertext[:-1] + bytes([row.ciphertext[-1] ^ 1])
        db.session.commit()
    listed = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"]
    assert [n["readable"] for n in listed] == [True, False, True]


def test_missing_key_refuses_start_naming_it(app_env, client):
    new_owner(client).add_note()
    other_keys = Keyring.generate_spec("brandnew")
    with pytest.raises(ConfigError) as info:
        create_app({**app_env, "NOTES_KEYS": other_keys})
    assert "'test1'" in str(info.value) and "NOTES_KEYS" in str(info.value)


def test_rotate_then_remove_old_key_every_note_reads(app_env, make_app):
    app = make_app()
    client = app.test_client()
    owners = [new_owner(client) for _ in range(3)]
    for index, owner in enumerate(owners):
        owner.add_note(body=f"body {index}")
    old = app_env["NOTES_KEYS"]
    newer = Keyring.generate_spec("k2")
    rotated = make_app(NOTES_KEYS=f"{newer},{old}")
    result = rotated.test_cli_runner().invoke(args=["keys", "rotate", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "re-wrapped 3 data keys under k2" in result.output
    again = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
    assert "re-wrapped 0 data keys" in again.output
    check = rotated.test_cli_runner().invoke(args=["keys", "check"])
    assert "k2: configured (newest), protects 3 notebook keys" in check.output
    only_new = make_app(NOTES_KEYS=newer).test_client()
    for index, owner in enumerate(owners):
        listed = only_new.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"]
        assert [n["body"] for n in listed] == [f"body {index}"]


def test_keys_check_reports_usage(runner, client):
    new_owner(client)
    result = runner.invoke(args=["keys", "check"])
    assert result.exit_code == 0
    assert "test1: configured (newest), protects 1 notebook keys" in result.output


def test_deleted_notebook_rows_restored_from_old_copy_stay_sealed(app, client, data_dir, database_url, tmp_path):
    sqlite_only(database_url)
    owner = new_owner(client)
    owner.add_note(body=BODY)
    db_file = data_dir / "notes.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    with sqlite3.connect(db_file) as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
        wrapped = live.execute("SELECT wrapped_dek FROM notebooks WHERE id = ?", (owner.notebook_id,)).fetchone()[0]
    assert client.delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204
    # An attacker restores the notebook's note rows from the old copy into the live database.
    old = sqlite3.connect(backup)
    rows = old.execute("SELECT * FROM notes WHERE notebook_id = ?", (owner.notebook_id,)).fetchall()
    notebook_row = old.execute("SELECT id, token_hash, created_at FROM notebooks WHERE id = ?",
                               (owner.notebook_id,)).fetchone()
    old.close()
    assert rows
    with app.app_context():
        raw = db.engine.raw_connection()
        raw.execute("INSERT INTO notebooks (id, token_hash, kek_id, wrapped_dek, created_at) "
                    "VALUES (?, ?, NULL, NULL, ?)", notebook_row)
        placeholders = ",".join("?" * len(rows[0]))
        raw.executemany(f"INSERT INTO notes VALUES ({placeholders})", rows)  # noqa: S608 - "?" marks only
        raw.commit()
        raw.close()
        from notes_service.notes import service

        note = db.session.get(Note, rows[0][0])
        assert service.open_note(None, note).readable is False
    # And once the WAL is checkpointed, the live files hold no trace of the erased wrapped key.
    with sqlite3.connect(db_file, isolation_level=None) as live:
        live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert wrapped not in folder_bytes(data_dir)
