from __future__ import annotations

import pytest

from notes_service import ConfigError, create_app, registry


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/x"),
        ("NOTES_KEYS", "k1:not-base64!!"),
        ("NOTES_KEYS", "k1:c2hvcnQ="),
        ("NOTES_ALLOWED_ORIGINS", "trials.example"),
        ("NOTES_ARGON2_MAX_CONCURRENT", "zero"),
        ("NOTES_ARGON2_MAX_CONCURRENT", "0"),
        ("NOTES_MAX_SHARES", "0"),
        ("NOTES_MAX_SHARES", "many"),
        ("RATELIMIT_STORAGE_URI", "memcached://x"),
        ("NOTES_ENV", "staging"),
        ("NOTES_TRUST_PROXY", "maybe"),
    ],
)
def test_bad_value_stops_startup_naming_the_variable(app_env, variable, value):
    with pytest.raises(ConfigError) as info:
        create_app({**app_env, variable: value})
    assert variable in str(info.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "postgresql://user:hunter2-secret@127.0.0.1:54x2/db"),
        ("DATABASE_URL", "postgresql+psycopg://user:hunter2-secret@[::1/db"),
        ("DATABASE_URL", "sqlite:"),
        ("RATELIMIT_STORAGE_URI", "redis://:hunter2-secret@127.0.0.1:63x9/0"),
        ("RATELIMIT_STORAGE_URI", "redis://:hunter2-secret@127.0.0.1:99999/0"),
        ("RATELIMIT_STORAGE_URI", "redis:hunter2-secret@127.0.0.1"),
    ],
)
def test_a_malformed_url_stops_startup_naming_the_variable_not_its_password(app_env, variable, value):
    # A mistyped port or a missing "//" was the driver's ValueError at the engine's or the
    # limiter's creation: a traceback that did not say which variable to fix.
    with pytest.raises(ConfigError) as info:
        create_app({**app_env, variable: value})
    assert variable in str(info.value)
    assert "hunter2" not in str(info.value)


def test_production_requires_keys_and_secret(app_env):
    env = {k: v for k, v in app_env.items() if k not in {"NOTES_KEYS"}}
    with pytest.raises(ConfigError, match="NOTES_KEYS"):
        create_app({**env, "NOTES_ENV": "production"})
    with pytest.raises(ConfigError, match="NOTES_SECRET_KEY"):
        create_app({**app_env, "NOTES_ENV": "production", "NOTES_SECRET_KEY": "short"})


def test_data_dir_holds_state(app_env, data_dir, tmp_path):
    env = {k: v for k, v in app_env.items() if k not in {"NOTES_KEYS", "NOTES_SECRET_KEY"}}
    create_app(env)
    key_file = data_dir / "dev-keys"
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (data_dir / "dev-secret").stat().st_mode & 0o777 == 0o600


def test_an_empty_development_secret_stops_start_up(app_env, data_dir):
    # The file as a start killed between creating it and writing it left it (or as a worker saw
    # it while another wrote it): the app signed share sessions with an empty key, which anyone
    # can forge for a share's id.
    env = {k: v for k, v in app_env.items() if k != "NOTES_SECRET_KEY"}
    (data_dir / "dev-secret").touch(mode=0o600)
    with pytest.raises(ConfigError, match="dev-secret"):
        create_app(env)


def test_development_files_are_written_whole_and_nothing_else_is_left(app_env, data_dir):
    env = {k: v for k, v in app_env.items() if k not in {"NOTES_KEYS", "NOTES_SECRET_KEY"}}
    app = create_app(env)
    assert len(app.config["SECRET_KEY"]) >= 32
    assert not [p.name for p in data_dir.iterdir() if p.name.startswith(".")]
    assert create_app(env).config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_default_database_is_sqlite_in_data_dir(tmp_path):
    data = tmp_path / "state"
    app = create_app({"NOTES_DATA_DIR": str(data)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{data / 'notes.sqlite3'}"


def test_sqlite_runs_in_wal_with_busy_timeout(app):
    from notes_service.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        # Deleted rows are zeroed, not left in free space (the erasure test scans for them).
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_an_app_hashes_passcodes_at_the_production_cost(app_env):
    # The test fixtures swap in a cheap hasher (tests/conftest.py make_app); an app as built for
    # serving keeps RFC 9106's low-memory Argon2id (tests/test_crypto.py pins the hash it writes).
    hasher = registry.of(create_app(app_env)).password_hasher
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)
