"""Every migration goes up and down one revision at a time, on SQLite and on PostgreSQL.

Each step is checked against the schema the database actually has (reflected, not assumed),
a downgrade must give back exactly the schema of the revision below, and at the head the
models' metadata must match the migrated schema, so a model change without a migration fails.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from servers import pg_database
from sqlalchemy import Column, Integer, MetaData, inspect, text
from support import new_owner

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
    app = create_app({
        "NOTES_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": empty_database,
        "NOTES_KEYS": Keyring.generate_spec("mig1"),
        "NOTES_SECRET_KEY": "migration-secret-" + "x" * 32,
    })
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
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table)),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted((fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"],
                                    (fk.get("options") or {}).get("ondelete"))
                                   for fk in inspector.get_foreign_keys(table)),
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
        # The search index is the migrations' own (FTS5 table, tsvector column), as in migrations/env.py.
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            "include_name": lambda name, type_, parents: not outside_models(name, type_, parents),
        })
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


def put_data_in(app) -> None:
    """Rows in every table, so the downgrades run against a used database, not an empty one."""
    result = app.test_cli_runner().invoke(args=["trials", "load"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    owner = new_owner(client)
    note = owner.add_note()
    owner.share(passcode="migrate-me", note_ids=[note["id"]])


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


def test_a_database_from_0003_gets_its_key_checks_at_start_up_after_upgrade(migration_app, empty_database,
                                                                            tmp_path):
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
    env = {"NOTES_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": empty_database,
           "NOTES_SECRET_KEY": "migration-secret-" + "x" * 32}
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
