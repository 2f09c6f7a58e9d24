"""Fixtures: a fresh app per test on a real database (SQLite, or PostgreSQL when asked).

The schema comes from the Alembic migrations, never create_all. A template database is
migrated and loaded with the shipped trials once per run; each test gets its own copy
(a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from support import CHEAP_HASHER, Owner, new_owner

from notes_service import create_app, registry
from notes_service.config import RATE_LIMITS
from notes_service.crypto import Keyring

TEST_KEYS = Keyring.generate_spec("test1")
SECRET = "test-secret-" + "x" * 40
PG_URL = os.environ.get("NOTES_TEST_DATABASE_URL", "").strip()
BACKEND = "postgresql" if os.environ.get("NOTES_TEST_BACKEND") == "postgresql" else "sqlite"
# Tests make many notebooks, notes and shares from one address, so the creation limits are out of
# the way; the passcode limit keeps its default. tests/security/test_rate_limits.py sets small real ones.
ROOMY_RATE_LIMITS = {variable: "100000 per minute" for name, (variable, _) in RATE_LIMITS.items() if name != "passcode"}


def pytest_report_header(config: pytest.Config) -> str:
    return f"trial-notes database backend: {BACKEND}"


# Used test databases are dropped this many at a time (see DatabaseFactory).
DROP_BATCH = 8


@dataclass
class DatabaseFactory:
    """Makes one database per test from a migrated, trial-loaded template.

    On PostgreSQL, CREATE DATABASE copies the template (about 9 MB, mostly the system catalogs)
    and DROP DATABASE forces a checkpoint (PostgreSQL 15: every dirty buffer of the cluster is
    written and synced, the next test's fresh copy included) before unlinking the files. One
    background thread per worker makes the next test's database while the current test runs.
    Used databases are dropped DROP_BATCH at a time, side by side on threads of their own: the
    batch's drops share a checkpoint or so instead of one each, and no drop stands between a
    test and its copy. Every statement goes through one admin engine, not a new connection.
    """

    workdir: Path
    template: str | None = None
    _next: Future[str] | None = None
    _background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
    )
    _drops: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=DROP_BATCH, thread_name_prefix="test-database-drops")
    )
    _used: list[str] = field(default_factory=list)
    _admin: Engine | None = None

    def env(self, data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
        return {
            "NOTES_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "NOTES_KEYS": TEST_KEYS,
            "NOTES_SECRET_KEY": SECRET,
            "PATH": os.environ.get("PATH", ""),
            **ROOMY_RATE_LIMITS,
            **extra,
        }

    def build_template(self) -> None:
        data_dir = self.workdir / "template-data"
        if BACKEND == "sqlite":
            url = f"sqlite:///{data_dir / 'notes.sqlite3'}"
        else:
            self.template = f"tn_tpl_{uuid.uuid4().hex[:10]}"
            self._pg_admin(f'CREATE DATABASE "{self.template}"')
            url = str(make_url(PG_URL).set(database=self.template))
        app = create_app(self.env(data_dir, url))
        runner = app.test_cli_runner()
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["trials", "load"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            from notes_service.extensions import db

            db.engine.dispose()
        self.template_url = url
        self.template_dir = data_dir

    def new_database(self, data_dir: Path) -> str:
        data_dir.mkdir(parents=True, exist_ok=True)
        if BACKEND == "sqlite":
            shutil.copy(self.template_dir / "notes.sqlite3", data_dir / "notes.sqlite3")
            return f"sqlite:///{data_dir / 'notes.sqlite3'}"
        ready = self._next.result() if self._next is not None else self._copy_template()
        self._next = self._background.submit(self._copy_template)
        return ready

    def _copy_template(self) -> str:
        name = f"tn_{uuid.uuid4().hex[:12]}"
        self._pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        # A test's commits need not wait for the disk: the database is gone when the test ends.
        # (Visibility and locking are unchanged; only the flush of a commit's WAL is deferred.)
        self._pg_admin(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
        return str(make_url(PG_URL).set(database=name))

    def drop(self, url: str) -> None:
        if BACKEND == "sqlite":
            return
        self._used.append(make_url(url).database)
        if len(self._used) >= DROP_BATCH:
            self._drop_used()

    def _drop_used(self) -> None:
        for name in self._used:
            self._drops.submit(self._pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._used.clear()

    def close(self) -> None:
        if self._next is not None:
            self.drop(self._next.result())
        self._drop_used()
        self._background.shutdown(wait=True)
        self._drops.shutdown(wait=True)
        if BACKEND == "postgresql" and self.template:
            self._pg_admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        if self._admin is not None:
            self._admin.dispose()

    def _pg_admin(self, statement: str) -> None:
        """One statement outside a transaction on the admin database, on a pooled connection."""
        if self._admin is None:  # first made by build_template, before any background thread runs
            self._admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_size=DROP_BATCH + 1)
        with self._admin.connect() as connection:
            connection.execute(text(statement))


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    if BACKEND == "postgresql" and not PG_URL:
        pytest.fail("NOTES_TEST_BACKEND=postgresql needs NOTES_TEST_DATABASE_URL")
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    factory.build_template()
    yield factory
    factory.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def database_url(database_factory: DatabaseFactory, data_dir: Path) -> Iterator[str]:
    url = database_factory.new_database(data_dir)
    yield url
    database_factory.drop(url)


@pytest.fixture
def app_env(database_factory: DatabaseFactory, data_dir: Path, database_url: str) -> dict[str, str]:
    return database_factory.env(data_dir, database_url)


@pytest.fixture
def make_app(app_env: dict[str, str]):
    """Build an app with extra settings; every app made is disposed after the test.

    Its Argon2id runs at parameters that take a millisecond (`CHEAP_HASHER`): the same algorithm
    and code paths, without 64 MiB and three passes per share made or opened. The production
    parameters are checked where they are set (tests/test_crypto.py, tests/shares/test_argon_gate.py),
    and a test that needs them puts `PasswordHasher()` back on its app.
    """
    made = []

    def build(**extra: str):
        app = create_app({**app_env, **extra})
        app.config["TESTING"] = True
        registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            from notes_service.extensions import db

            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def owner(client) -> Owner:
    return new_owner(client)


@pytest.fixture
def other(client) -> Owner:
    return new_owner(client)


# Two passes would run each database-independent check twice for nothing. When both passes
# run (PostgreSQL is configured; `make test` runs them side by side, so the two should take
# about as long), the browser tests, the log checks and the front (it keeps a SQLite data folder
# of its own) run in the SQLite pass, and the API fuzzing (where text-type bugs such as NUL bytes
# show), the contract's property tests and the pure cores in the PostgreSQL pass. With SQLite
# alone, everything runs. (On 2026-12-08 the SQLite pass took 9:28 and the PostgreSQL pass 7:28:
# the contract's tests, the server-side XSS checks and one browser file moved to the second.)
ONE_PASS = {
    # Entries are looked up in order, the first one the test's path holds decides: a file's entry
    # stays above its folder's. This browser file (the widget in each language, at two widths: a
    # minute of the SQLite pass) runs in the PostgreSQL pass, the other browser files in SQLite's.
    "test_widget_languages.py": "postgresql",
    "browser": "sqlite",
    "test_fuzz_api.py": "postgresql",
    "test_openapi.py": "postgresql",  # the document against the models: property tests, no SQL of their own
    "test_front.py": "sqlite",
    "test_log_masking.py": "sqlite",
    "test_gunicorn_conf.py": "sqlite",
    "test_wsgi.py": "sqlite",  # start-up refusals of flask and gunicorn processes, before any database
    "test_database_unreachable.py": "sqlite",  # databases of its own that do not answer, of both kinds
    # Pages rendered from hostile notes and trials: the escaping is the templates', not the database's.
    "test_xss_server.py": "postgresql",
    # The host-wide Argon2 gate is slot files and flock, no SQL.
    "test_argon_gate.py": "sqlite",
    # Hypothesis models (the lockout ladder, imports, parsing): on the stricter database; the
    # lockout's example tests run on both.
    "test_properties.py": "postgresql",
    "anchoring": "postgresql",  # tests/notes/anchoring/
    "test_sanitize.py": "postgresql",
    "test_crypto.py": "postgresql",
    "test_paging.py": "postgresql",
    "test_reader.py": "postgresql",
    "test_render.py": "postgresql",
    # Pages and problems in each language: rendering, with no SQL of its own to test.
    "i18n": "sqlite",
    # The limiter counts in memory or Redis, never in the database.
    "test_rate_limits.py": "sqlite",
    # The request layer's refusals: PostgreSQL is where a NUL that slipped through would fail.
    "test_request_hardening.py": "postgresql",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not PG_URL:
        return
    keep, moved = [], []
    for item in items:
        parts = Path(str(item.path)).parts
        home = next((backend for name, backend in ONE_PASS.items() if name in parts), BACKEND)
        # A test parametrized by the database it makes (tests/test_migrations.py) runs in that one's pass.
        callspec = getattr(item, "callspec", None)
        home = callspec.params.get("empty_database", home) if callspec else home
        (keep if home == BACKEND else moved).append(item)
    if moved:
        config.hook.pytest_deselected(items=moved)
        items[:] = keep


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if PG_URL:
        terminalreporter.write_line(
            f"{BACKEND} pass: some database-independent checks run in one pass only (tests/conftest.py ONE_PASS)"
        )
