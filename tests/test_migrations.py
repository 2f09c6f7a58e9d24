"""Every migration goes up and down one revision at a time, on SQLite and on PostgreSQL.

Each step is checked against the schema the database actually has (reflected, not assumed),
a downgrade must give back exactly the schema of the revision below, and at the head the
models' metadata must match the migrated schema, so a model change without a migration fails.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from servers import pg_database
from sqlalchemy import Column, Integer, MetaData, event, inspect, text
from sqlalchemy.exc import IntegrityError
from support import CHEAP_HASHER, as_before_key_slots, new_owner

from notes_service import ConfigError, create_app, registry
from notes_service.crypto import Keyring
from notes_service.extensions import db
from notes_service.trials.models import outside_models

PG_URL = os.environ.get("NOTES_TEST_DATABASE_URL", "").strip()

# The tables each known revision adds. A new revision need not be listed here: the
# round-trip and metadata checks below cover it too.
NEW_TABLES = {
    "0001_trials": {"trials"},
    "0002_notes": {"notebooks", "notes"},
    "0003_shares": {"shares", "share_notes"},
    "0004_key_checks": {"key_checks"},
    "0005_attempts": {"share_attempts"},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path: Path, monkeypatch) -> Iterator[str]:
    """A fresh database with no tables: a temporary SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("NOTES_TEST_DATABASE_URL is not set: no PostgreSQL server to migrate")
    # A DDL statement waiting on a lock fails after 20 s instead of hanging the suite.
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=20000")
    with pg_database(PG_URL, prefix="tn_mig") as url:
        yield url


@pytest.fixture
def migration_app(empty_database: str, tmp_path: Path):
    app = create_app(
        {
            "NOTES_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": empty_database,
            "NOTES_KEYS": Keyring.generate_spec("mig1"),
            "NOTES_SECRET_KEY": "migration-secret-" + "x" * 32,
        }
    )
    app.config["TESTING"] = True
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def revisions(app) -> list[tuple[str, str]]:
    """(revision, the revision below it or "base"), from the first to the head, in order."""
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    assert len(script.get_heads()) == 1, "migrations have more than one head: merge them"
    ordered = list(reversed(list(script.walk_revisions())))
    return [(r.revision, r.down_revision or "base") for r in ordered]


def schema() -> dict[str, dict[str, object]]:
    """The database's schema as reflected now: tables, columns, keys, indexes, constraints."""
    inspector = inspect(db.engine)
    snapshot = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        snapshot[table] = {
            "columns": sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)),
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
            ),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted(
                (
                    fk["name"],
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    (fk.get("options") or {}).get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "checks": sorted(c["name"] or "" for c in inspector.get_check_constraints(table)),
        }
    return snapshot


def current_revision() -> str:
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if rows else "base"


def metadata_differences(metadata: MetaData) -> list:
    """What autogenerate would put in a new migration for `metadata` (empty: schema matches)."""
    with db.engine.connect() as connection:
        # The search index is the migrations' own (FTS5 table; tsvector column, trial_search), as in migrations/env.py.
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, type_, parents: not outside_models(name, type_, parents),
            },
        )
        return compare_metadata(context, metadata)


def climb(steps: list[tuple[str, str]]) -> dict[str, dict]:
    """Upgrade one revision at a time, checking each; return the schema seen at each revision."""
    seen: dict[str, dict] = {"base": schema()}
    assert seen["base"] == {}
    for revision, below in steps:
        upgrade(revision=revision)
        assert current_revision() == revision
        seen[revision] = schema()
        added = set(seen[revision]) - set(seen[below])
        if revision in NEW_TABLES:
            assert added == NEW_TABLES[revision], f"{revision} added {sorted(added)}"
    return seen


def descend(steps: list[tuple[str, str]], seen: dict[str, dict]) -> None:
    """Downgrade one revision at a time; each must give back the schema of the revision below."""
    for revision, below in reversed(steps):
        assert current_revision() == revision
        downgrade(revision=below if below != "base" else "base")
        assert current_revision() == below
        assert schema() == seen[below], f"downgrading {revision} did not restore {below}"


def load_trials(app) -> None:
    """The shipped trials, loaded into the app's database as it stands (`flask trials load`)."""
    result = app.test_cli_runner().invoke(args=["trials", "load"])
    assert result.exit_code == 0, result.output


def put_data_in(app) -> None:
    """Rows in every table, so the downgrades run against a used database, not an empty one."""
    load_trials(app)
    client = app.test_client()
    owner = new_owner(client)
    note = owner.add_note()
    owner.share(passcode="migrate-me", note_ids=[note["id"]])
    # Slots sealed for a token cannot go below 0008_key_slots (see the test of that refusal):
    # the data goes down as the KEK-only wrap a database of before 0007 held.
    as_before_key_slots(app, owner)


def test_each_migration_goes_up_down_and_up_again(migration_app):
    app = migration_app
    with app.app_context():
        steps = revisions(app)
        assert [r for r, _ in steps][: len(NEW_TABLES)] == list(NEW_TABLES)
        seen = climb(steps)
        assert metadata_differences(db.metadata) == []
    # Outside the app context above, so each request ends its own session (and its lock).
    put_data_in(app)
    with app.app_context():
        descend(steps, seen)
        assert current_revision() == "base" and schema() == {}
        again = climb(steps)
        assert again == seen
        assert metadata_differences(db.metadata) == []


def test_a_model_change_without_a_migration_is_caught(migration_app):
    # The check above would pass vacuously if compare_metadata saw nothing: show it sees a change.
    with migration_app.app_context():
        upgrade(revision="head")
        changed = MetaData(naming_convention=db.metadata.naming_convention)
        for table in db.metadata.sorted_tables:
            table.to_metadata(changed)
        changed.tables["notes"].append_column(Column("pinned", Integer, nullable=True))
        differences = metadata_differences(changed)
    assert [d[0] for d in differences] == ["add_column"]
    assert differences[0][2:4] == ("notes", changed.tables["notes"].c.pinned)


def test_a_database_from_0003_gets_its_key_checks_at_start_up_after_upgrade(migration_app, empty_database, tmp_path):
    # Data written by the code before key checks: wrapped keys under 'mig1', no check values.
    app = migration_app
    # The data is written by today's models, then the schema goes back to 0003 with it (what
    # a database of that time held) and up again.
    with app.app_context():
        upgrade(revision="head")
    put_data_in(app)
    with app.app_context():
        downgrade(revision="0003_shares")
        db.session.remove()
    keys = registry.of(app).keyring
    env = {
        "NOTES_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": empty_database,
        "NOTES_SECRET_KEY": "migration-secret-" + "x" * 32,
    }
    spec = f"mig1:{base64.b64encode(keys.key('mig1')).decode()}"
    with app.app_context():
        upgrade(revision="head")
        assert db.session.execute(text("SELECT count(*) FROM key_checks")).scalar() == 0
        db.session.remove()
    with pytest.raises(ConfigError, match="'mig1'"):  # other bytes: refused before any check is stored
        create_app({**env, "NOTES_KEYS": Keyring.generate_spec("mig1")})
    restarted = create_app({**env, "NOTES_KEYS": spec})
    with restarted.app_context():
        rows = db.session.execute(text("SELECT kek_id FROM key_checks")).scalars().all()
        db.session.remove()
        db.engine.dispose()
    assert rows == ["mig1"]


# -- 0008_key_slots: a database written before key slots reads back whole -------------------

PASSCODE = "before-slots-1"


def write_as_before_key_slots(app) -> list[dict]:
    """Notebooks, notes and shares as the code before key slots wrote them, at 0006_trial_versions.

    The same steps as that code (notes.service.create_notebook, create_note, shares'
    create_share at 0006): a data key wrapped under the KEK only in notebooks.wrapped_dek, each
    note's payload sealed with it, bound to its row; a share with its token hash and Argon2id
    passcode hash. Written with the primitives, since today's models have no such columns.
    """
    import json
    import uuid
    from datetime import timedelta

    from argon2 import PasswordHasher

    from notes_service import crypto
    from notes_service.clock import utcnow
    from notes_service.notes.anchoring import quote_for_range, quote_to_selectors
    from notes_service.trials import service as trials

    hasher = PasswordHasher(**CHEAP_HASHER)
    written = []
    with app.app_context():
        ring = registry.of(app).keyring
        trial = trials.get_trial("NCT07085104")
        passages = ["Child-Pugh Class B or C cirrhosis", "Any form of primary, inherited immunodeficiency."]
        for index in range(3):
            token, notebook_id, dek, now = crypto.new_token(32), uuid.uuid4().hex, crypto.new_data_key(), utcnow()
            kek_id, wrapped = crypto.wrap_data_key(ring, dek, b"notebook:" + notebook_id.encode())
            db.session.execute(
                text(
                    "INSERT INTO notebooks (id, token_hash, kek_id, wrapped_dek, created_at) "
                    "VALUES (:id, :hash, :kek, :wrapped, :at)"
                ),
                {"id": notebook_id, "hash": crypto.hash_token(token), "kek": kek_id, "wrapped": wrapped, "at": now},
            )
            notes = {}
            for number, passage in enumerate(passages):
                note_id, at = uuid.uuid4().hex, now + timedelta(milliseconds=number)
                start = trial.canonical_text.index(passage)
                payload = {
                    "selector": quote_to_selectors(quote_for_range(trial.canonical_text, start, start + len(passage))),
                    "body": f"notebook {index} note {number}",
                    "color": "green",
                    "anchor": "anchored",
                }
                ciphertext = crypto.seal(
                    dek, json.dumps(payload, separators=(",", ":")).encode(), crypto.note_aad(notebook_id, note_id, 1)
                )
                db.session.execute(
                    text(
                        "INSERT INTO notes (id, notebook_id, trial_id, format_version, ciphertext, anchored_version, "
                        "created_at, updated_at) VALUES (:id, :nb, :trial, 1, :c, :v, :at, :at)"
                    ),
                    {
                        "id": note_id,
                        "nb": notebook_id,
                        "trial": trial.nct_id,
                        "c": ciphertext,
                        "v": trial.version,
                        "at": at,
                    },
                )
                notes[note_id] = payload["body"]
            links = {}
            for revoked in (False, True):
                link, share_id = crypto.new_token(32), uuid.uuid4().hex
                db.session.execute(
                    text(
                        "INSERT INTO shares (id, notebook_id, trial_id, token_hash, passcode_hash, expires_at, "
                        "views, failed_streak, failed_total, lock_count, revoked, created_at) VALUES "
                        "(:id, :nb, :trial, :hash, :passcode, :expires, 0, 0, 0, 0, :revoked, :at)"
                    ),
                    {
                        "id": share_id,
                        "nb": notebook_id,
                        "trial": trial.nct_id,
                        "hash": crypto.hash_token(link),
                        "passcode": hasher.hash(PASSCODE),
                        "expires": now + timedelta(days=7),
                        "revoked": revoked,
                        "at": now,
                    },
                )
                db.session.execute(
                    text("INSERT INTO share_notes (share_id, note_id) VALUES (:s, :n)"),
                    {"s": share_id, "n": next(iter(notes))},
                )
                links[revoked] = link
            written.append(
                {
                    "id": notebook_id,
                    "token": token,
                    "notes": notes,
                    "wrapped": wrapped,
                    "link": links[False],
                    "revoked_link": links[True],
                }
            )
        db.session.commit()
        db.session.remove()
    return written


def slots() -> list:
    return db.session.execute(text("SELECT notebook_id, share_id, salt, wrapped FROM key_slots")).all()


def test_a_database_from_before_key_slots_upgrades_and_reads_back_whole(migration_app):
    from argon2 import PasswordHasher

    app = migration_app
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    with app.app_context():
        upgrade(revision="0006_trial_versions")
    load_trials(app)
    written = write_as_before_key_slots(app)
    with app.app_context():
        upgrade(revision="head")
        assert "wrapped_dek" not in {c["name"] for c in inspect(db.engine).get_columns("notebooks")}
        moved = slots()
        db.session.remove()
    # Each wrap became its owner's KEK-only slot, and a copy the slot of its live share only.
    assert len(moved) == 6 and all(slot.salt is None for slot in moved)
    expected = {(n["id"], owner) for n in written for owner in (True, False)}
    assert {(s.notebook_id, s.share_id is None) for s in moved} == expected
    assert {bytes(s.wrapped) for s in moved} == {n["wrapped"] for n in written}
    client = app.test_client()
    for notebook in written:
        headers = {"Authorization": f"Bearer {notebook['token']}"}
        listed = client.get("/api/v1/trials/NCT07085104/notes", headers=headers)
        assert listed.status_code == 200
        assert {n["id"]: n["body"] for n in listed.get_json()["notes"]} == notebook["notes"]
        for note_id, body in notebook["notes"].items():
            assert client.get(f"/api/v1/notes/{note_id}", headers=headers).get_json()["body"] == body
    with app.app_context():
        # The first request with a token sealed its owner slot for it; the shares' wait for their links.
        assert {s.share_id is None for s in slots() if s.salt is not None} == {True}
        db.session.remove()
    for notebook in written:
        opened = client.post(f"/api/v1/shared/{notebook['link']}", json={"passcode": PASSCODE})
        assert opened.status_code == 200
        assert [n["body"] for n in opened.get_json()["notes"]] == [next(iter(notebook["notes"].values()))]
        assert client.post(f"/api/v1/shared/{notebook['revoked_link']}", json={"passcode": PASSCODE}).status_code == 410
    with app.app_context():
        after = slots()
        db.session.remove()
    # Every KEK-only wrap is gone: each slot is sealed for its token, and none holds the old bytes.
    assert len(after) == 6 and all(slot.salt is not None for slot in after)
    with app.app_context():
        # Each share's first opening gave it the keys of its notes (and sealed them under their own).
        links = db.session.execute(
            text(
                "SELECT s.revoked, l.wrapped_key, n.format_version FROM share_notes l "
                "JOIN shares s ON s.id = l.share_id JOIN notes n ON n.id = l.note_id"
            )
        ).all()
        db.session.remove()
    assert (
        sorted((bool(r.revoked), r.wrapped_key is not None, r.format_version) for r in links)
        == [(False, True, 2)] * 3 + [(True, False, 2)] * 3
    )
    assert not {bytes(s.wrapped) for s in after} & {n["wrapped"] for n in written}
    # And every note still reads, through its owner's token and through the share's link.
    for notebook in written:
        headers = {"Authorization": f"Bearer {notebook['token']}"}
        listed = client.get("/api/v1/trials/NCT07085104/notes", headers=headers).get_json()["notes"]
        assert {n["id"]: n["body"] for n in listed} == notebook["notes"]


def test_downgrade_below_key_slots_refuses_while_a_slot_is_sealed_for_a_token(migration_app):
    app = migration_app
    with app.app_context():
        upgrade(revision="0008_key_slots")
        at_key_slots = schema()
        upgrade(revision="head")
    load_trials(app)
    owner = new_owner(app.test_client())
    owner.add_note(body="kept whatever the downgrade says")
    with app.app_context():
        before = schema()
        # The schema at 0008 (0010 goes down and up again with the notebook's device in it).
        downgrade(revision="0008_key_slots")
        at_key_slots = schema()
        upgrade(revision="head")
        assert schema() == before
        with pytest.raises(SystemExit):
            downgrade(revision="0006_trial_versions")
        # Each revision commits on its own (migrations/env.py), so the revisions above it stay
        # undone on both databases; the schema is that of the revision the database says it is
        # at, and 0008's refusal changed nothing.
        assert current_revision() == "0008_key_slots"
        assert schema() == at_key_slots
        upgrade(revision="head")
        db.session.remove()
    listed = app.test_client().get("/api/v1/trials/NCT07085104/notes", headers=owner.headers).get_json()
    assert [n["body"] for n in listed["notes"]] == ["kept whatever the downgrade says"]


def test_each_notebooks_token_becomes_its_first_device_and_goes_back_on_downgrade(migration_app):
    app = migration_app
    with app.app_context():
        upgrade(revision="head")
    load_trials(app)
    client = app.test_client()
    owners = [new_owner(client) for _ in range(3)]
    for number, owner in enumerate(owners):
        owner.add_note(body=f"note of notebook {number}")
    # A second browser of the first notebook: a downgrade keeps only each notebook's oldest device.
    code = client.post("/api/v1/notebooks/me/link-codes", headers=owners[0].headers).get_json()["code"]
    phone = client.post("/api/v1/link-codes/redeem", json={"code": code}).get_json()["token"]
    with app.app_context():
        downgrade(revision="0010_trials_fts_by_nct")
        assert "devices" not in inspect(db.engine).get_table_names()
        owner_slots = db.session.execute(text("SELECT count(*) FROM key_slots WHERE share_id IS NULL")).scalar()
        assert owner_slots == 3
        db.session.remove()
        upgrade(revision="head")
        moved = db.session.execute(text("SELECT id, notebook_id, name FROM devices ORDER BY id")).all()
        slots = db.session.execute(text("SELECT device_id, notebook_id FROM key_slots")).all()
        db.session.remove()
    assert sorted(row.notebook_id for row in moved) == sorted(owner.notebook_id for owner in owners)
    assert {row.name for row in moved} == {"First browser"}
    assert sorted((s.device_id, s.notebook_id) for s in slots) == sorted((r.id, r.notebook_id) for r in moved)
    for number, owner in enumerate(owners):
        listed = client.get("/api/v1/trials/NCT07085104/notes", headers=owner.headers)
        assert listed.status_code == 200
        assert [n["body"] for n in listed.get_json()["notes"]] == [f"note of notebook {number}"]
        devices = client.get("/api/v1/notebooks/me/devices", headers=owner.headers).get_json()["devices"]
        assert [(d["name"], d["current"]) for d in devices] == [("First browser", True)]
    gone = client.get("/api/v1/notebooks/me/devices", headers={"Authorization": f"Bearer {phone}"})
    assert gone.status_code == 401


def test_downgrade_below_devices_refuses_while_a_notebook_opens_only_by_its_account(migration_app):
    # A vouched notebook whose last device was removed stays, opened by its account's next grant
    # (devices.service). Going below 0011_devices dropped the account's slot and kept the
    # notebook: its notes were left with no slot at all, which no token could ever open again.
    app = migration_app
    with app.app_context():
        upgrade(revision="head")
    load_trials(app)
    owner = new_owner(app.test_client())
    owner.add_note(body="only the account opens me")
    with app.app_context():
        from notes_service import keys
        from notes_service.accounts.models import Account
        from notes_service.devices.models import Device
        from notes_service.notes.models import KeySlot

        slot = db.session.scalar(db.select(KeySlot).where(KeySlot.notebook_id == owner.notebook_id))
        dek = keys.open_slot(slot, owner.token)
        account_id = "a" * 32
        db.session.add(Account(id=account_id, notebook_id=owner.notebook_id, issuer="https://h.example", subject="u"))
        db.session.flush()
        db.session.add(keys.new_slot(owner.notebook_id, None, dek, "the-accounts-nks", account_id=account_id))
        db.session.execute(db.delete(Device).where(Device.notebook_id == owner.notebook_id))
        db.session.commit()
        with pytest.raises(SystemExit):
            downgrade(revision="0010_trials_fts_by_nct")
        db.session.remove()
        assert current_revision() == "0011_devices"
        slots = db.session.execute(text("SELECT account_id FROM key_slots")).scalars().all()
        db.session.remove()
    assert slots == [account_id]


def trials_on_postgresql_at(app, revision: str, why_postgresql_only: str) -> None:
    """The database at `revision` with the shipped trials loaded; skips (saying why) on SQLite."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip(why_postgresql_only)
        upgrade(revision=revision)
    load_trials(app)


def test_postgresql_search_table_is_filled_from_the_trials_there_and_goes_back_on_downgrade(migration_app):
    app = migration_app
    trials_on_postgresql_at(
        app,
        "0014_notes_page_index",
        "trial_search is PostgreSQL's (SQLite's FTS5 index is apart from the rows already)",
    )
    by_vector = "SELECT id FROM trials WHERE search @@ to_tsquery('english', 'diabetes') ORDER BY id"
    with app.app_context():
        expected = list(db.session.execute(text(by_vector)).scalars())
        db.session.remove()  # its read lock on trials would hold up the migration's DROP INDEX
        with statements_sent() as sent:
            upgrade(revision="head")
        # The index of trials goes without an exclusive lock on trials (readers and imports go on).
        assert [s for s in sent if "ix_trials_search" in s] == ["DROP INDEX CONCURRENTLY IF EXISTS ix_trials_search"]
        copied = db.session.scalar(
            text("SELECT count(*) FROM trials t JOIN trial_search s USING (id) WHERE s.search = t.search")
        )
        assert copied == db.session.scalar(text("SELECT count(*) FROM trials WHERE version_id IS NOT NULL")) > 0
        db.session.remove()
    # The trials there before the migration are found through the table it filled.
    found = app.test_client().get("/api/v1/trials?q=diabetes").get_json()
    assert len(expected) >= 2 and sorted(t["id"] for t in found["trials"]) == expected
    with app.app_context():
        with statements_sent() as sent:
            downgrade(revision="0014_notes_page_index")
        assert [s for s in sent if "ix_trials_search" in s and BLOCKING_INDEX_DDL.search(s)] == []
        inspector = inspect(db.engine)
        assert "trial_search" not in inspector.get_table_names()
        assert "ix_trials_search" in {i["name"] for i in inspector.get_indexes("trials")}
        functions = "SELECT count(*) FROM pg_proc WHERE proname = 'trial_search_write'"
        assert db.session.scalar(text(functions)) == 0
        db.session.remove()


PAGE_INDEX = "ix_notes_notebook_trial"
PAGE_ORDER = ["notebook_id", "trial_id", "created_at", "id"]
BEFORE_PAGE_ORDER = ["notebook_id", "trial_id", "created_at"]
# A CREATE or DROP INDEX without CONCURRENTLY: it would hold the writes to notes (a DROP, the reads too).
BLOCKING_INDEX_DDL = re.compile(r"\b(CREATE|DROP)\s+INDEX\s+(?!CONCURRENTLY\b)", re.IGNORECASE)


def notes_on_postgresql_at_0013(app) -> None:
    """The database at 0013 with two notes of one notebook in it; skips on SQLite, whose path is unchanged."""
    trials_on_postgresql_at(app, "0013_share_language", "0014 builds its index concurrently on PostgreSQL only")
    owner = new_owner(app.test_client())
    owner.add_note(body="first note")
    owner.add_note(body="second note")


def page_indexes() -> list[tuple[str, bool, list[str]]]:
    """The indexes on notes named like ix_notes_notebook_trial*: (name, valid, columns in order)."""
    query = text(
        "SELECT c.relname, i.indisvalid, ARRAY("
        "  SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)"
        "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'notes'::regclass AND c.relname LIKE :prefix ORDER BY c.relname"
    )
    with db.engine.connect() as connection:
        rows = connection.execute(query, {"prefix": PAGE_INDEX + "%"}).all()
    return [(name, valid, list(columns)) for name, valid, columns in rows]


@contextmanager
def statements_sent() -> Iterator[list[str]]:
    """Every statement the engine sends to the database inside the block, in order."""
    sent: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def assert_rebuilt_concurrently(sent: list[str], columns: list[str]) -> None:
    about_index = [s for s in sent if PAGE_INDEX in s]
    built = f"CREATE INDEX CONCURRENTLY {PAGE_INDEX}_new ON notes ({', '.join(columns)})"
    assert built in about_index
    assert f"DROP INDEX CONCURRENTLY IF EXISTS {PAGE_INDEX}" in about_index
    assert [s for s in about_index if BLOCKING_INDEX_DDL.search(s)] == []


def test_postgresql_page_index_is_built_concurrently_on_upgrade(migration_app):
    app = migration_app
    notes_on_postgresql_at_0013(app)
    with app.app_context():
        assert page_indexes() == [(PAGE_INDEX, True, BEFORE_PAGE_ORDER)]
        with statements_sent() as sent:
            upgrade(revision="0014_notes_page_index")
        assert current_revision() == "0014_notes_page_index"
        assert page_indexes() == [(PAGE_INDEX, True, PAGE_ORDER)]
    assert_rebuilt_concurrently(sent, PAGE_ORDER)


def left_by_a_failed_build() -> list[tuple[str, bool, list[str]]]:
    """What a concurrent build that failed leaves behind: an INVALID index under the temporary name."""
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(IntegrityError):
            connection.execute(text(f"CREATE UNIQUE INDEX CONCURRENTLY {PAGE_INDEX}_new ON notes (notebook_id)"))
    return [(PAGE_INDEX, True, BEFORE_PAGE_ORDER), (f"{PAGE_INDEX}_new", False, ["notebook_id"])]


def left_by_a_run_stopped_before_the_rename() -> list[tuple[str, bool, list[str]]]:
    """A run stopped after dropping the old index: only the new one is there, under the temporary name."""
    with db.engine.begin() as connection:
        connection.execute(text(f"CREATE INDEX {PAGE_INDEX}_new ON notes ({', '.join(PAGE_ORDER)})"))
        connection.execute(text(f"DROP INDEX {PAGE_INDEX}"))
    return [(f"{PAGE_INDEX}_new", True, PAGE_ORDER)]


@pytest.mark.parametrize("leave", [left_by_a_failed_build, left_by_a_run_stopped_before_the_rename])
def test_postgresql_page_index_upgrade_gets_past_what_an_earlier_run_left(migration_app, leave):
    app = migration_app
    notes_on_postgresql_at_0013(app)
    with app.app_context():
        left = leave()
        assert page_indexes() == left
        upgrade(revision="0014_notes_page_index")
        assert current_revision() == "0014_notes_page_index"
        assert page_indexes() == [(PAGE_INDEX, True, PAGE_ORDER)]


def test_postgresql_page_index_downgrade_puts_back_three_columns_concurrently(migration_app):
    app = migration_app
    notes_on_postgresql_at_0013(app)
    with app.app_context():
        upgrade(revision="0014_notes_page_index")
        with statements_sent() as sent:
            downgrade(revision="0013_share_language")
        assert current_revision() == "0013_share_language"
        assert page_indexes() == [(PAGE_INDEX, True, BEFORE_PAGE_ORDER)]
    assert_rebuilt_concurrently(sent, BEFORE_PAGE_ORDER)
