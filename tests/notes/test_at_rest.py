"""What a stolen data folder reveals: nothing of notes, quotes, tokens or passcodes."""

from __future__ import annotations

import base64
import logging
import multiprocessing
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from servers import pg_admin
from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.engine import make_url
from support import SEED, as_before_key_slots, interrupt_once, meanwhile, new_owner, postgresql_only

from notes_service import ConfigError, create_app, crypto, keys
from notes_service.crypto import Keyring
from notes_service.extensions import db
from notes_service.notes.models import KeySlot, Note

BODY = "Zebra-unique-body-7731: my liver numbers"
QUOTE = "hemodynamically symptomatic pericardial effusion"


def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("scans the SQLite data folder's bytes")


def folder_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def needles(*texts: str) -> list[bytes]:
    found = []
    for plain in texts:
        found += [plain.encode("utf-8"), plain.encode("utf-16-le"), plain.encode("utf-16-be")]
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
    assert "re-wrapped 3 key slots under k2" in result.output
    again = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
    assert "re-wrapped 0 key slots" in again.output
    check = rotated.test_cli_runner().invoke(args=["keys", "check"])
    assert "k2: configured (newest), protects 3 key slots, key check ok" in check.output
    only_new = make_app(NOTES_KEYS=newer).test_client()
    for index, owner in enumerate(owners):
        listed = only_new.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"]
        assert [n["body"] for n in listed] == [f"body {index}"]


# -- Rotation while the service serves -------------------------------------------------


def test_rotation_skips_a_slot_that_does_not_open_names_it_and_rotates_the_rest(app_env, make_app):
    app = make_app()
    client = app.test_client()
    owners = [new_owner(client) for _ in range(4)]
    for index, owner in enumerate(owners):
        owner.add_note(body=f"body {index}")
    with app.app_context():
        damaged = db.session.scalar(select(KeySlot).order_by(KeySlot.id).limit(1))  # met first, in the first batch
        damaged_id, damaged_notebook = damaged.id, damaged.notebook_id
        damaged.wrapped = bytes([damaged.wrapped[0] ^ 1]) + damaged.wrapped[1:]
        wrapped_hex = damaged.wrapped.hex()
        db.session.commit()
        db.session.remove()
    old, newer = app_env["NOTES_KEYS"], Keyring.generate_spec("k2")
    rotating = make_app(NOTES_KEYS=f"{newer},{old}")
    result = rotating.test_cli_runner().invoke(args=["keys", "rotate", "--batch-size", "2"])
    # The run goes on past it, then fails saying which slot stays under which key, by id only.
    assert result.exit_code == 1, result.output
    assert "re-wrapped 3 key slots under k2" in result.output
    assert f"key slot {damaged_id}: its test1 layer does not open" in result.output
    assert f"test1 still protects 1 key slots (not opening: {damaged_id})" in result.output
    assert isinstance(result.exception, SystemExit)  # a clear message, no traceback
    for secret in (old.split(":", 1)[1], newer.split(":", 1)[1], wrapped_hex, *(owner.token for owner in owners)):
        assert secret not in result.output
    with rotating.app_context():
        assert keys.kek_usage() == {"k2": 3, "test1": 1}
    reader = rotating.test_client()
    for index, owner in enumerate(owners):
        if owner.notebook_id != damaged_notebook:
            listed = reader.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"]
            assert [n["body"] for n in listed] == [f"body {index}"]


@postgresql_only
def test_rotation_never_writes_over_a_slot_a_request_sealed_meanwhile(app_env, make_app, monkeypatch):
    app = make_app()
    owner = new_owner(app.test_client())
    owner.add_note(body="precious")
    share = owner.share(passcode="blue heron 42")
    token = share["url"].rsplit("/s/", 1)[1]
    as_before_key_slots(app, owner)  # its device's and its share's slots: KEK-only wraps, sealed at first use
    with app.app_context():
        slot_ids = set(db.session.scalars(select(KeySlot.id).where(KeySlot.notebook_id == owner.notebook_id)))
        db.session.remove()
    old, newer = app_env["NOTES_KEYS"], Keyring.generate_spec("k2")
    rotating = make_app(NOTES_KEYS=f"{newer},{old}")
    finishing = []

    def first_read_and_first_opening() -> None:
        # Between the rotation's read of the slots and its writes: a worker not yet restarted with
        # the new key (it seals under test1) serves the owner's first read and the share's first opening.
        finishing.append(
            meanwhile(lambda: app.test_client().get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers))
        )
        finishing.append(
            meanwhile(lambda: app.test_client().post(f"/api/v1/shared/{token}", json={"passcode": "blue heron 42"}))
        )

    interrupt_once(monkeypatch, crypto, "rewrap_data_key", first_read_and_first_opening)
    result = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
    read, opened = (finish() for finish in finishing)
    assert read.status_code == 200 and read.get_json()["notes"][0]["body"] == "precious"
    assert opened.status_code == 200
    # Both slots are left as the requests wrote them, and the run says so: not silently under test1.
    assert result.exit_code == 1, result.output
    assert "re-wrapped 0 key slots under k2" in result.output
    assert "2 key slots were rewritten by a request while the rotation ran" in result.output
    assert "test1 still protects 2 key slots (rewritten meanwhile: " in result.output
    assert all(slot_id in result.output for slot_id in slot_ids)
    again = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
    assert again.exit_code == 0 and "re-wrapped 2 key slots under k2" in again.output, again.output
    only_new = make_app(NOTES_KEYS=newer).test_client()
    listed = only_new.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert [n["body"] for n in listed.get_json()["notes"]] == ["precious"]
    shared = only_new.post(f"/api/v1/shared/{token}", json={"passcode": "blue heron 42"})
    assert shared.status_code == 200 and [n["body"] for n in shared.get_json()["notes"]] == ["precious"]


@postgresql_only
def test_rotation_skips_a_slot_deleted_meanwhile(app_env, make_app, monkeypatch):
    app = make_app()
    owner = new_owner(app.test_client())
    owner.add_note(body="kept")
    share = owner.share(passcode="blue heron 42")
    old, newer = app_env["NOTES_KEYS"], Keyring.generate_spec("k2")
    rotating = make_app(NOTES_KEYS=f"{newer},{old}")
    finishing = []

    def revoke() -> None:  # between the rotation's read of the slots and its writes
        finishing.append(
            meanwhile(lambda: app.test_client().delete(f"/api/v1/shares/{share['id']}", headers=owner.headers))
        )

    interrupt_once(monkeypatch, crypto, "rewrap_slot", revoke)
    result = rotating.test_cli_runner().invoke(args=["keys", "rotate"])
    assert finishing[0]().status_code == 204
    assert result.exit_code == 0, result.output
    assert "re-wrapped 1 key slots under k2" in result.output
    assert "1 key slots were deleted while the rotation ran" in result.output
    with rotating.app_context():
        assert keys.kek_usage() == {"k2": 1}
    listed = make_app(NOTES_KEYS=newer).test_client().get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert [n["body"] for n in listed.get_json()["notes"]] == ["kept"]


def test_keys_check_reports_usage(runner, client):
    new_owner(client)
    result = runner.invoke(args=["keys", "check"])
    assert result.exit_code == 0
    assert "test1: configured (newest), protects 1 key slots, key check ok" in result.output


def test_deleted_notebook_rows_restored_from_old_copy_stay_sealed(app, client, data_dir, database_url, tmp_path):
    sqlite_only(database_url)
    owner = new_owner(client)
    owner.add_note(body=BODY)
    db_file = data_dir / "notes.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    with sqlite3.connect(db_file) as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
        wrapped = live.execute("SELECT wrapped FROM key_slots WHERE notebook_id = ?", (owner.notebook_id,)).fetchone()[
            0
        ]
    assert client.delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204
    # An attacker restores the notebook's note rows from the old copy into the live database.
    old = sqlite3.connect(backup)
    rows = old.execute("SELECT * FROM notes WHERE notebook_id = ?", (owner.notebook_id,)).fetchall()
    notebook_row = old.execute(
        "SELECT id, token_hash, created_at FROM notebooks WHERE id = ?", (owner.notebook_id,)
    ).fetchone()
    old.close()
    assert rows
    with app.app_context():
        raw = db.engine.raw_connection()
        raw.execute("INSERT INTO notebooks (id, token_hash, created_at) VALUES (?, ?, ?)", notebook_row)
        placeholders = ",".join("?" * len(rows[0]))
        raw.executemany(f"INSERT INTO notes VALUES ({placeholders})", rows)  # noqa: S608 - "?" marks only
        raw.commit()
        raw.close()
        from notes_service.notes import service

        note = db.session.get(Note, rows[0][0])
        assert service.open_note(None, note).readable is False
    # And once the WAL is checkpointed, the live files hold no trace of the erased key slot.
    with sqlite3.connect(db_file, isolation_level=None) as live:
        live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert wrapped not in folder_bytes(data_dir)


# -- Crypto-shredding: no byte of a deleted notebook left in any file ---------------------------

LONG_BODY = "Long note " + "x" * 6000  # its ciphertext spills onto overflow pages, freed on delete


def stored_traces(db_file: Path, notebook_id: str) -> dict[str, bytes | str]:
    """Every value the database holds for a notebook, read as stored: ids, hashes, key slots, ciphertexts."""
    traces: dict[str, bytes | str] = {}
    with sqlite3.connect(db_file) as live:
        token_hash = live.execute("SELECT token_hash FROM notebooks WHERE id = ?", (notebook_id,)).fetchone()[0]
        traces.update({"notebook id": notebook_id, "token hash": token_hash})
        for share_id, salt, wrapped in live.execute(
            "SELECT share_id, salt, wrapped FROM key_slots WHERE notebook_id = ?", (notebook_id,)
        ):
            holder = f"share {share_id}" if share_id else "owner"
            traces.update({f"{holder} slot": wrapped, f"{holder} slot salt": salt})
        for note_id, ciphertext in live.execute(
            "SELECT id, ciphertext FROM notes WHERE notebook_id = ?", (notebook_id,)
        ):
            traces[f"note id {note_id}"] = note_id
            traces[f"ciphertext of {note_id}"] = ciphertext
        for share_id, share_hash, passcode_hash in live.execute(
            "SELECT id, token_hash, passcode_hash FROM shares WHERE notebook_id = ?", (notebook_id,)
        ):
            traces.update(
                {
                    f"share id {share_id}": share_id,
                    f"share token hash {share_id}": share_hash,
                    f"passcode hash {share_id}": passcode_hash,
                }
            )
    return traces


def encodings(value: bytes | str) -> list[bytes]:
    """The forms a value can take in a file: UTF-8/16 text; raw, hex and base64 bytes, in pieces.

    A long ciphertext is split across overflow pages, so each 32-byte piece is looked for on
    its own (a piece of random bytes found anywhere is a trace).
    """
    if isinstance(value, str):
        return [value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be")]
    pieces = [value[i : i + 32] for i in range(0, len(value), 32)]
    pieces = [piece for piece in pieces if len(piece) >= 16]
    return [
        form
        for piece in pieces
        for form in (piece, piece.hex().encode(), piece.hex().upper().encode(), base64.b64encode(piece))
    ]


def traces_left(data_dir: Path, traces: dict[str, bytes | str]) -> list[str]:
    """(file, what) for every trace found in any file of the data folder."""
    files = {p.name: p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()}
    return [
        f"{name}: {what}"
        for name, blob in files.items()
        for what, value in traces.items()
        if any(form in blob for form in encodings(value))
    ]


def fill_notebook(client, db_file: Path):
    """A notebook with a short note (edited: two ciphertexts), a long one and a share; its traces."""
    owner = new_owner(client)
    first = owner.add_note(body=BODY)
    owner.add_note(body=LONG_BODY)
    before_edit = stored_traces(db_file, owner.notebook_id)[f"ciphertext of {first['id']}"]
    client.patch(f"/api/v1/notes/{first['id']}", headers=owner.headers, json={"body": BODY + " edited"})
    owner.share(passcode="heron-passcode-55")
    traces = stored_traces(db_file, owner.notebook_id)
    assert traces[f"ciphertext of {first['id']}"] != before_edit
    return owner, {**traces, "ciphertext before the edit": before_edit}


def test_deleted_notebook_leaves_no_byte_in_any_file_of_the_data_folder(app, client, data_dir, database_url):
    sqlite_only(database_url)
    db_file = data_dir / "notes.sqlite3"
    kept = new_owner(client)
    kept.add_note(body=LONG_BODY)
    owner, traces = fill_notebook(client, db_file)
    assert len(traces) == 14  # 11 before key slots: the wrapped key is now two slots and their salts
    # The scan finds what is there: every trace of both notebooks is in the files before the delete.
    assert len(traces_left(data_dir, traces)) >= len(traces)
    kept_traces = stored_traces(db_file, kept.notebook_id)
    assert client.delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204
    assert traces_left(data_dir, traces) == []
    # What the scan read: the database, its (now empty) write-ahead log and its shared-memory index.
    names = {p.name: p.stat().st_size for p in data_dir.iterdir()}
    assert {"notes.sqlite3", "notes.sqlite3-wal", "notes.sqlite3-shm"} <= set(names)
    assert names["notes.sqlite3-wal"] == 0
    # Deleting freed whole pages (the long note's overflow pages), and they hold zeros only.
    with sqlite3.connect(db_file) as live:
        assert live.execute("PRAGMA freelist_count").fetchone()[0] > 0
        assert live.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The notebook that stays is intact, and its traces are found by the same scan.
    assert len(traces_left(data_dir, kept_traces)) == len(kept_traces)
    listed = client.get(f"/api/v1/trials/{SEED}/notes", headers=kept.headers).get_json()["notes"]
    assert [n["body"] for n in listed] == [LONG_BODY]


def postgresql_traces(connection, notebook_id: str) -> dict[str, bytes | str]:
    rows = connection.execute(text("SELECT id, token_hash FROM notebooks WHERE id = :id"), {"id": notebook_id}).one()
    slot = connection.execute(
        text("SELECT wrapped FROM key_slots WHERE notebook_id = :id AND share_id IS NULL"), {"id": notebook_id}
    ).scalar()
    traces: dict[str, bytes | str] = {"notebook id": rows.id, "token hash": rows.token_hash, "wrapped key": bytes(slot)}
    for note_id, ciphertext in connection.execute(
        text("SELECT id, ciphertext FROM notes WHERE notebook_id = :id"), {"id": notebook_id}
    ):
        traces.update({f"note id {note_id}": note_id, f"ciphertext of {note_id}": bytes(ciphertext)})
    return traces


NOTEBOOK_TABLES = ("notebooks", "key_slots", "notes", "shares", "share_notes")


def postgresql_files(connection, first_segment: str | None = None) -> dict[str, bytes]:
    """The bytes of the notebook tables' relations, and of the WAL written since `first_segment` if given."""
    # The notebook tables, their indexes and their TOAST tables (the trial records are public).
    relations = (
        connection.execute(
            text(
                "SELECT c.oid::regclass::text FROM pg_class c WHERE pg_relation_size(c.oid) > 0 AND ("
                " c.oid = ANY(:tables) OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY(:tables))"
                " OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE oid = ANY(:tables)))"
            ),
            {
                "tables": [
                    connection.execute(text("SELECT CAST(:t AS regclass)::oid"), {"t": t}).scalar()
                    for t in NOTEBOOK_TABLES
                ]
            },
        )
        .scalars()
        .all()
    )
    files = {}
    for relation in relations:
        files[relation] = bytes(
            connection.execute(
                text(
                    "SELECT string_agg(get_raw_page(CAST(:r AS text), b::int), ''::bytea ORDER BY b) "
                    "FROM generate_series(0, pg_relation_size(CAST(:r AS regclass)) / 8192 - 1) AS b"
                ),
                {"r": relation},
            ).scalar()
        )
    segments = (
        connection.execute(
            # Segments only (24 hex digits): not a server's xlogtemp.<pid>, there one moment and
            # renamed the next (a file listed then gone failed the read, once in CI).
            text("SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' AND name >= :first ORDER BY name"),
            {"first": first_segment},
        )
        .scalars()
        .all()
        if first_segment
        else []
    )
    for segment in segments:
        # missing_ok: a segment recycled since the listing holds nothing of the test's any more.
        # (PostgreSQL 15 takes missing_ok only with an offset and a length.)
        read = text(
            "SELECT pg_read_binary_file(f, 0, (pg_stat_file(f, true)).size, true)"
            " FROM (SELECT 'pg_wal/' || :s AS f) AS wal"
        )
        content = connection.execute(read, {"s": segment}).scalar()
        if content is not None:
            files[f"pg_wal/{segment}"] = bytes(content)
    return files


def found_in(files: dict[str, bytes], traces: dict[str, bytes | str]) -> dict[str, set[str]]:
    # PostgreSQL stores bytea raw and text as UTF-8 in its pages and WAL; the first 32 bytes of
    # a value are enough to find it (the server's WAL is several 16 MiB segments to search).
    forms = {what: value.encode() if isinstance(value, str) else value[:32] for what, value in traces.items()}
    return {
        name: hits for name, blob in files.items() if (hits := {what for what, form in forms.items() if form in blob})
    }


# Checkpoints completed since the server started: a WAL segment is removed or recycled only at the end of one.
CHECKPOINTS = "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"


def test_postgresql_leftovers_are_where_security_md_says(app, client, database_url):
    """What a deletion leaves on PostgreSQL, and that the documented VACUUM FULL clears the table files."""
    if not database_url.startswith("postgresql"):
        pytest.skip("reads PostgreSQL's pages and WAL")
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            first = connection.execute(text("SELECT pg_walfile_name(pg_current_wal_lsn())")).scalar()
            checkpoints = connection.execute(text(CHECKPOINTS)).scalar()
            kept = new_owner(client)
            kept.add_note(body=BODY)
            owner = new_owner(client)
            owner.add_note(body=BODY)
            owner.add_note(body=LONG_BODY)
            owner.share(passcode="heron-passcode-55")
            traces = postgresql_traces(connection, owner.notebook_id)
            assert client.delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204
            left = found_in(postgresql_files(connection, first), traces)
            # Dead row versions keep the owner's key slot in the key_slots table's pages, and the
            # WAL holds the inserts: until VACUUM FULL and until the segments are overwritten.
            assert "wrapped key" in left["key_slots"]
            # A checkpoint that ended meanwhile (other tests' databases fill the WAL fast) may have
            # removed those segments, or recycled them for other writes to overwrite: the bytes are
            # gone then, as docs/security.md says. Otherwise they must still be there.
            if connection.execute(text(CHECKPOINTS)).scalar() == checkpoints:
                assert any(name.startswith("pg_wal/") and "wrapped key" in hits for name, hits in left.items())
            connection.execute(text("VACUUM notebooks, key_slots, notes, shares, share_notes"))
            after_vacuum = found_in(postgresql_files(connection), traces)
            assert "wrapped key" in after_vacuum["key_slots"]  # plain VACUUM frees the space, leaves the bytes
            connection.execute(text("VACUUM (FULL) notebooks, key_slots, notes, shares, share_notes"))
            after_full = found_in(postgresql_files(connection), traces)
            assert after_full == {}
            print(
                f"\nafter delete: {sorted(left)}\nafter VACUUM: {sorted(after_vacuum)}"
                f"\nafter VACUUM FULL: {sorted(after_full)}"
            )
        listed = client.get(f"/api/v1/trials/{SEED}/notes", headers=kept.headers).get_json()["notes"]
        assert [n["body"] for n in listed] == [BODY]
    finally:
        engine.dispose()


def hold_snapshot(db_file: Path) -> sqlite3.Connection:
    """Another connection inside a read transaction: it keeps reading the log as it was."""
    reader = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM notebooks").fetchone()[0] > 0
    return reader


def wait_until_gone(db_file: Path, notebook_id: str, deadline: float) -> None:
    watcher = sqlite3.connect(db_file)
    try:
        while watcher.execute("SELECT count(*) FROM notebooks WHERE id = ?", (notebook_id,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the notebook was never deleted"
            time.sleep(0.01)
    finally:
        watcher.close()


def test_erasure_waits_for_a_reader_holding_an_old_snapshot(app, client, data_dir, database_url):
    sqlite_only(database_url)
    db_file = data_dir / "notes.sqlite3"
    owner, traces = fill_notebook(client, db_file)
    reader = hold_snapshot(db_file)
    seen_by_old_snapshot = []

    def release_once_deleted() -> None:
        wait_until_gone(db_file, owner.notebook_id, time.monotonic() + 30)
        # The delete is committed, yet this snapshot still reads the notebook from the log's old frames.
        seen_by_old_snapshot.append(
            reader.execute("SELECT count(*) FROM notebooks WHERE id = ?", (owner.notebook_id,)).fetchone()[0]
        )
        reader.execute("COMMIT")

    releaser = threading.Thread(target=release_once_deleted)
    releaser.start()
    try:
        response = client.delete("/api/v1/notebooks/me", headers=owner.headers)
    finally:
        releaser.join(timeout=60)
        reader.close()
    assert seen_by_old_snapshot == [1]
    assert response.status_code == 204
    assert traces_left(data_dir, traces) == []


def test_erasure_blocked_for_good_answers_503_and_start_up_finishes_it(
    app_env, make_app, data_dir, database_url, monkeypatch
):
    sqlite_only(database_url)
    from notes_service.notes import service

    monkeypatch.setattr(service, "ERASE_WAIT_MS", 200)
    db_file = data_dir / "notes.sqlite3"
    client = make_app().test_client()
    owner, traces = fill_notebook(client, db_file)
    reader = hold_snapshot(db_file)  # never lets go while the delete runs
    try:
        response = client.delete("/api/v1/notebooks/me", headers=owner.headers)
    finally:
        reader.close()
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "is deleted" in response.get_json()["detail"]
    # The deletion itself stands: the notebook cannot be opened; only the log still holds old frames.
    assert client.get("/api/v1/notebooks/me/export", headers=owner.headers).status_code == 401
    assert traces_left(data_dir, traces) != []
    make_app()  # a restart (any worker starting) empties the log
    assert traces_left(data_dir, traces) == []


def test_erasure_holds_with_gunicorn_workers_reading_meanwhile(app_env, data_dir, database_url, tmp_path):
    sqlite_only(database_url)
    from servers import ServerPool
    from support import http_owner, request_json

    db_file = data_dir / "notes.sqlite3"
    with ServerPool(tmp_path / "servers") as pool:
        server = pool.start(app_env, workers=2)
        kept = http_owner(server.url)
        assert kept.post_note(body=LONG_BODY)[0] == 201
        owner = http_owner(server.url)
        for body in (BODY, LONG_BODY):
            assert owner.post_note(body=body)[0] == 201
        traces = stored_traces(db_file, owner.notebook_id)
        stop, reads, failures = threading.Event(), [], []

        def read_without_pause() -> None:
            while not stop.is_set():
                notes = kept.notes(SEED)
                (reads if [n["body"] for n in notes] == [LONG_BODY] else failures).append(1)

        readers = [threading.Thread(target=read_without_pause) for _ in range(3)]
        for thread in readers:
            thread.start()
        try:
            while len(reads) < 20:  # the readers are going on both workers before the delete
                assert not failures and all(t.is_alive() for t in readers)
                time.sleep(0.01)
            status, _ = request_json("DELETE", server.url + "/api/v1/notebooks/me", headers=owner.headers)
        finally:
            stop.set()
            for thread in readers:
                thread.join(timeout=30)
        assert status == 204 and not failures
        # Scanned while the workers still hold their connections open.
        assert traces_left(data_dir, traces) == []
        print(f"\nreads during the deletion: {len(reads)}")


# -- A wrong key is caught at start-up -------------------------------------------------------


def stored_checks(app) -> dict[str, bytes]:
    from notes_service.notes.models import KeyCheck

    with app.app_context():
        checks = {row.kek_id: row.check_value for row in db.session.scalars(select(KeyCheck))}
        db.session.remove()
    return checks


def forget_checks(app) -> None:
    """Make the database look like one written before key checks existed."""
    from notes_service.notes.models import KeyCheck

    with app.app_context():
        db.session.execute(delete(KeyCheck))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("with_data", [True, False], ids=["with notes", "empty database"])
def test_other_key_bytes_under_the_same_id_refuse_start_naming_it(app, client, make_app, with_data):
    if with_data:
        new_owner(client).add_note()
    assert set(stored_checks(app)) == {"test1"}  # made at start-up from the configured key
    with pytest.raises(ConfigError) as info:
        make_app(NOTES_KEYS=Keyring.generate_spec("test1"))
    assert "'test1'" in str(info.value) and "NOTES_KEYS" in str(info.value)
    assert make_app().test_client().get("/readyz").get_json()["keys"] == "ok"  # the right key still starts


def test_database_from_before_key_checks_is_proven_on_its_data(app, client, make_app):
    owner = new_owner(client)
    owner.add_note(body=BODY)
    original = stored_checks(app)["test1"]
    forget_checks(app)
    with pytest.raises(ConfigError, match="'test1'"):
        make_app(NOTES_KEYS=Keyring.generate_spec("test1"))
    assert stored_checks(app) == {}  # a key that failed its proof is not recorded
    restarted = make_app()  # the right key unwraps a data key, so its check is created
    created = stored_checks(restarted)
    assert set(created) == {"test1"} and created["test1"] != original
    assert restarted.test_client().get("/readyz").get_json()["keys"] == "ok"
    with pytest.raises(ConfigError, match="'test1'"):
        make_app(NOTES_KEYS=Keyring.generate_spec("test1"))


def test_proof_on_data_survives_one_damaged_wrapped_key(app, client, make_app):
    for _ in range(3):
        new_owner(client)
    with app.app_context():
        # The proof's first pick (by notebook id): its KEK layer damaged.
        first = db.session.scalars(select(KeySlot).order_by(KeySlot.notebook_id, KeySlot.id)).first()
        first.wrapped = first.wrapped[:-1] + bytes([first.wrapped[-1] ^ 1])
        db.session.commit()
    forget_checks(app)
    assert set(stored_checks(make_app())) == {"test1"}


def test_rotate_stores_a_check_for_the_new_key_and_start_up_holds_it(app_env, client, make_app):
    new_owner(client).add_note(body=BODY)
    old, newer = app_env["NOTES_KEYS"], Keyring.generate_spec("k2")
    rotated = make_app(NOTES_KEYS=f"{newer},{old}")
    result = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "key check k2: ok" in result.output
    assert set(stored_checks(rotated)) == {"test1", "k2"}
    with pytest.raises(ConfigError) as info:
        make_app(NOTES_KEYS=Keyring.generate_spec("k2"))
    assert "'k2'" in str(info.value) and "'test1'" not in str(info.value)
    check = make_app(NOTES_KEYS=newer).test_cli_runner().invoke(args=["keys", "check"])
    assert check.exit_code == 0 and "k2: configured (newest), protects 1 key slots, key check ok" in check.output


def boot_when_told(env: dict[str, str], go, failures) -> None:
    """A worker process: builds the app once every worker is waiting, as gunicorn's boot side by side."""
    go.wait(timeout=60)
    try:
        create_app(env)
    except Exception as error:
        failures.put(f"{type(error).__name__}: {error}")


def test_workers_starting_together_create_one_check_per_key(app, client, app_env):
    new_owner(client).add_note()
    forget_checks(app)
    with app.app_context():
        db.engine.dispose()  # no connection of ours is inherited by the forked workers
    newer = Keyring.generate_spec("k2")
    env = {**app_env, "NOTES_KEYS": f"{newer},{app_env['NOTES_KEYS']}"}
    # Forked, so the workers have the code loaded already and race on the missing check values.
    context = multiprocessing.get_context("fork")
    go, failures = context.Event(), context.Queue()
    workers = [context.Process(target=boot_when_told, args=(env, go, failures)) for _ in range(4)]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * 4
    assert failures.empty(), failures.get()
    checks = stored_checks(app)
    assert set(checks) == {"test1", "k2"}
    ring = Keyring.parse(env["NOTES_KEYS"])
    assert all(crypto.key_check_matches(ring, kek_id, value) for kek_id, value in checks.items())


def later_database(database_url: str, tmp_path: Path) -> tuple[str, object]:
    """A URL for a database that is not there yet, and how to make it a copy of `database_url`."""
    if database_url.startswith("sqlite"):
        later = tmp_path / "later" / "notes.sqlite3"

        def copy_sqlite() -> None:
            later.parent.mkdir()
            with sqlite3.connect(database_url.removeprefix("sqlite:///")) as source, sqlite3.connect(later) as to:
                source.backup(to)

        return f"sqlite:///{later}", copy_sqlite
    source = make_url(database_url)
    later_url = source.set(database=f"later_{source.database}")

    def copy_postgresql() -> None:
        pg_admin(
            os.environ["NOTES_TEST_DATABASE_URL"],
            f'CREATE DATABASE "{later_url.database}" TEMPLATE "{source.database}"',
        )

    return later_url.render_as_string(hide_password=False), copy_postgresql


def test_readyz_checks_the_keys_once_a_database_down_at_start_up_answers(
    app, client, make_app, app_env, database_url, database_factory, tmp_path
):
    new_owner(client).add_note()
    later_url, make_it_answer = later_database(database_url, tmp_path)
    # The database is not there: the app starts anyway, and the probe says it is not ready.
    probe = make_app(DATABASE_URL=later_url, NOTES_KEYS=Keyring.generate_spec("test1")).test_client()
    assert probe.get("/readyz").status_code == 503
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # PostgreSQL copies a template only when no one is connected to it
    make_it_answer()
    try:
        answer = probe.get("/readyz")
        assert answer.status_code == 503 and "'test1'" in answer.get_json()["detail"]
        assert make_app(DATABASE_URL=later_url).test_client().get("/readyz").get_json()["keys"] == "ok"
    finally:
        database_factory.drop(later_url)
