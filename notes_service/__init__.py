"""Trial Notes: private, encrypted notes on clinical-trial pages."""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from . import registry
from .config import ConfigError, Settings, load_settings, rate_limit_storage_options
from .extensions import bind_limiter, db, driver_error, migrate

MAX_REQUEST_BYTES = 64 * 1024
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = ["ConfigError", "create_app"]


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    """Build the app from environment-style settings (default: os.environ)."""
    app = Flask(__name__)
    settings = load_settings(os.environ if env is None else env, app.instance_path)
    _configure(app, settings)
    _mask_logs()
    _bind_extensions(app, settings)
    _register_blueprints(app)
    bind_limiter(app)  # after the blueprints: it wraps their rate-limited views
    from .errors import register_error_handlers
    from .web import register_web_hooks

    register_error_handlers(app)
    register_web_hooks(app, settings)
    _load_keys(app, settings)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key or _dev_secret(settings.data_dir),
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_STORAGE_OPTIONS=rate_limit_storage_options(settings.ratelimit_storage_uri),
        RATELIMIT_KEY_PREFIX=settings.ratelimit_key_prefix,
        RATELIMIT_HEADERS_ENABLED=False,  # our 429 handler sets Retry-After; others keep theirs
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    from .shares.passcodes import ArgonGate

    gate = ArgonGate(settings.data_dir / "argon2-gate", settings.argon2_max_concurrent)
    registry.bind(app, registry.Registry(settings=settings, argon_gate=gate))


def _mask_logs() -> None:
    # The development server (`flask run`, `make run`) logs each request line as the client sent
    # it to the "werkzeug" logger; Flask's handler carries our own records. Both go through the
    # one masking filter gunicorn's logs use, so no server writes a share token.
    from flask.logging import default_handler

    from .logmask import install

    install(logging.getLogger("werkzeug"), default_handler)


def _engine_options(url: str) -> dict[str, object]:
    # A database error's message carries the statement's parameters (ciphertexts, hashes, search
    # terms) and the 500 handler logs it: keep the SQL in the log, never the values.
    if url.startswith("sqlite"):
        # Writers wait for each other (busy timeout) instead of failing at once.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}, "hide_parameters": True}
    # No pre-ping (a round trip before every request's first statement): a connection the
    # server dropped fails once and a read is retried on a new one (errors.handle_database_error);
    # connections are renewed hourly, before any idle timeout between here and the server.
    return {"pool_recycle": 3600, "pool_size": 5, "max_overflow": 10, "hide_parameters": True}


def _dev_secret(data_dir: Path) -> str:
    from .keys import write_private

    path = data_dir / "dev-secret"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48))
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        # Left empty by an earlier version's start that ended between creating and writing it: an
        # empty key signs share sessions anyone can forge for a share's id.
        raise ConfigError(
            f"NOTES_SECRET_KEY is not set and the development secret file {path} is empty or short: "
            "delete it to have a new one made, or set NOTES_SECRET_KEY"
        )
    return secret


def _bind_extensions(app: Flask, settings: Settings) -> None:
    from . import i18n

    i18n.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    with app.app_context():
        if settings.database_url.startswith("sqlite"):
            _tune_sqlite(db.engine)
        elif db.engine.dialect.driver == "psycopg":
            _tune_postgresql(db.engine)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE can be issued below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows (an erased wrapped key) are overwritten, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with "database is locked" without waiting when another worker wrote.
        # GET and HEAD never write, so they read under WAL without taking the lock at all
        # (profiled: the lock was 16% of a read's time, and made the workers take turns).
        if has_request_context() and request.method in {"GET", "HEAD"}:
            # On the driver's cursor: a deferred BEGIN takes no lock, so it neither waits nor
            # fails busy, and SQLAlchemy's execution of it was 107,000 instructions of every read.
            cursor = connection.connection.cursor()
            try:
                cursor.execute("BEGIN")
            except sqlite3.Error as error:  # as SQLAlchemy raises it: the event runs outside its handling
                raise driver_error("BEGIN", (), error, connection.dialect) from error
            finally:
                cursor.close()
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    _empty_sqlite_log(engine)


def _tune_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Every session in UTC, whatever the server's default: psycopg then returns timestamps
        # aware in `datetime.UTC` itself, which is what clock.UTCDateTime returns, so that type
        # reads them as they come (its result processor was 40 calls a read of 20 notes).
        # Outside a transaction (SQLAlchemy's documented recipe for a session setting).
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET TIME ZONE 'UTC'")
            cursor.close()
        finally:
            dbapi_connection.autocommit = autocommit


def _empty_sqlite_log(engine: Engine) -> None:
    # A notebook deletion whose log checkpoint was blocked (it answered 503) left earlier page
    # images in the log; start-up finishes the erasure. It waits a second at most for other
    # processes (workers starting side by side) and otherwise leaves it to the next deletion.
    try:
        raw = engine.raw_connection()  # the pool hands on sqlite3's own error, unwrapped
    except (OperationalError, sqlite3.Error):
        return  # a database that cannot be opened is reported by /readyz
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA busy_timeout=1000")
        busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        cursor.close()
    finally:
        raw.invalidate()  # its busy timeout was changed: do not hand it to the pool
    if busy:
        logging.getLogger(__name__).warning("the SQLite log could not be emptied at start-up (busy)")


def _register_blueprints(app: Flask) -> None:
    from .accounts import models as _accounts_models  # noqa: F401 - register the tables
    from .accounts.api import bp as accounts_api_bp
    from .devices.api import bp as devices_api_bp
    from .devices.pages import bp as device_pages_bp
    from .health import bp as health_bp
    from .notes import models as _notes_models  # noqa: F401
    from .notes.api import bp as notes_api_bp
    from .notes.cli import bp as keys_cli_bp
    from .notes.reanchor import subscribe as subscribe_reanchoring
    from .openapi import bp as openapi_bp
    from .shares import models as _shares_models  # noqa: F401
    from .shares.api import bp as shares_api_bp
    from .shares.pages import bp as share_pages_bp
    from .trials.api import bp as trials_api_bp
    from .trials.cli import bp as trials_cli_bp
    from .trials.pages import bp as trial_pages_bp

    for blueprint in (
        health_bp,
        openapi_bp,
        trials_api_bp,
        trial_pages_bp,
        trials_cli_bp,
        notes_api_bp,
        keys_cli_bp,
        shares_api_bp,
        share_pages_bp,
        devices_api_bp,
        device_pages_bp,
        accounts_api_bp,
    ):
        app.register_blueprint(blueprint)
    subscribe_reanchoring(app)  # the trial store announces changed trials; notes re-anchor on them


def _load_keys(app: Flask, settings: Settings) -> None:
    from .keys import key_problem, load_keyring

    ring = load_keyring(settings)
    collaborators = registry.of(app)
    collaborators.keyring = ring
    collaborators.keys_verified = False
    with app.app_context():
        try:
            problem = key_problem(ring)
        except OperationalError:
            # The database is down: start anyway so /readyz can say so (it checks the keys once
            # the database answers); nothing is decrypted under a missing key meanwhile (such
            # notes read as unreadable, never lost).
            app.logger.warning("database unreachable at start-up; key check deferred to /readyz")
            return
        finally:
            db.session.remove()
    if problem:
        raise ConfigError(problem)
    collaborators.keys_verified = True
