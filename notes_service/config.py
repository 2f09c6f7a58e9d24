"""Settings read once from the environment, validated and typed.

Every variable is named in its error message so a bad deployment fails at start-up
with a line that says what to fix, never later with a stack trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import click
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .accounts.publishers import Publisher, load_publishers


class ConfigError(click.ClickException, RuntimeError):
    """A configuration value is missing or invalid; the message names the variable.

    A ClickException, so that a `flask` command whose app cannot start prints the message alone
    ("Error: ...", exit 1), not a traceback; wsgi.py does the same for gunicorn.
    """


# Every per-client rate limit, in one table: name -> (environment variable, default).
# Each counts requests per client address, in RATELIMIT_STORAGE_URI (Redis shares them across
# hosts); past it the answer is 429 with Retry-After. Values use Flask-Limiter's notation, and
# several limits may be joined with ";" ("10 per minute; 100 per day").
RATE_LIMITS: dict[str, tuple[str, str]] = {
    # Passcode attempts (API and share-page form): each one may cost an Argon2 check.
    "passcode": ("NOTES_SHARE_RATE_LIMIT", "30 per minute"),
    # Notebooks: one per browser is the norm; a flood fills the database with empty rows.
    "notebooks": ("NOTES_NOTEBOOK_RATE_LIMIT", "20 per hour"),
    # Notes: each is an anchoring search over the trial text, a sanitize and an encryption.
    "notes": ("NOTES_NOTE_RATE_LIMIT", "60 per minute"),
    # Shares: each hashes a passcode with Argon2id (64 MiB).
    "shares": ("NOTES_SHARE_CREATE_RATE_LIMIT", "30 per hour"),
    # The share page: with its cookie, each view decrypts every shared note and renders the trial.
    "share_page": ("NOTES_SHARE_PAGE_RATE_LIMIT", "60 per minute"),
    # The device list and removals: light, but a removal may delete a whole notebook.
    "devices": ("NOTES_DEVICE_RATE_LIMIT", "60 per minute"),
    # Link codes, made and redeemed: each seals or opens a key slot; a code is 100 bits, so this
    # bounds work, not guessing.
    "link_codes": ("NOTES_LINK_CODE_RATE_LIMIT", "20 per hour"),
    # Grants and imports: each verifies a signature and makes a device, or re-seals a notebook.
    "grants": ("NOTES_GRANT_RATE_LIMIT", "30 per hour"),
    # Replies from family, per client address: each is a sanitize, an encryption and a row.
    "replies": ("NOTES_REPLY_RATE_LIMIT", "30 per hour"),
    # Replies per share, whoever sends them (counted by the share, not its token): a leaked
    # link and a passcode do not make a share a sink for unbounded writes.
    "share_replies": ("NOTES_SHARE_REPLY_RATE_LIMIT", "60 per hour"),
    # The owner's share settings and replies (list, mark seen, delete): cheap, but each opens
    # the notebook's key.
    "owner_changes": ("NOTES_OWNER_CHANGE_RATE_LIMIT", "300 per minute"),
    # The notebook-wide lists ("All trials" in the widget, the index's marks): a page of all my
    # notes decrypts up to 100 of them; a full notebook (5,000 notes) is 50 pages, read whole
    # each time "All trials" opens.
    "notebook_reads": ("NOTES_NOTEBOOK_READ_RATE_LIMIT", "300 per minute"),
}

# The limits that refuse (503 with Retry-After) while their storage cannot be reached, instead of
# counting in each process's memory as the others do meanwhile: per-process counts would multiply
# a guesser's allowance by the number of workers and hosts. (The lockout itself is in the database
# and holds either way.)
FAIL_CLOSED_LIMITS = frozenset({"passcode"})

# How long a Redis rate-limit storage may take to connect, and to answer one command, in seconds
# (redis-py's `socket_connect_timeout` and `socket_timeout`). A healthy Redis on the hosts' network
# answers in well under a millisecond, and a few tens of milliseconds at its worst (a fork for a
# snapshot); redis-py waits 5 s by default, so while Redis hung (a partition: connections accepted
# or dropped, nothing answered) every limited request waited 5 s or more before counting in memory,
# and every passcode request before its 503. A quarter of a second leaves room for such pauses
# and is twenty times less than that wait; past it the usual fallback applies (docs/deploy.md).
REDIS_TIMEOUT_SECONDS = 0.25
REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+unix"})


def rate_limit_storage_options(uri: str) -> dict[str, float]:
    """The options of the rate-limit storage's client for `uri`: Redis's timeouts; none for memory://."""
    if uri.split(":", 1)[0] not in REDIS_SCHEMES:
        return {}
    return {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS}


@dataclass(frozen=True)
class Settings:
    """The service's configuration, after validation."""

    data_dir: Path
    database_url: str
    keys_spec: str | None
    allowed_origins: tuple[str, ...] = ()
    ratelimit_storage_uri: str = "memory://"
    ratelimit_key_prefix: str = ""
    rate_limits: Mapping[str, str] = field(
        default_factory=lambda: {name: default for name, (_, default) in RATE_LIMITS.items()}
    )
    argon2_max_concurrent: int = 2
    max_notes_per_notebook: int = 5000
    # Shares a notebook holds, revoked and expired ones included (their rows, replies and
    # wrapped note keys are stored until the owner deletes them for good).
    max_shares_per_notebook: int = 200
    secret_key: str | None = None
    development: bool = True
    trust_proxy: bool = False
    # The host sites that may vouch for their users (NOTES_PUBLISHERS_FILE); none: no grants.
    publishers: tuple[Publisher, ...] = ()


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    origins = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        parts = urlsplit(item)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
            raise ConfigError(
                f"{name} must be a comma-separated list of origins like https://trials.example, got {item!r}"
            )
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins)


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{data_dir / 'notes.sqlite3'}"
    scheme = url.split(":", 1)[0]
    if scheme == "postgres" or scheme == "postgresql":
        # Heroku-style and bare URLs: pin the psycopg 3 driver we ship.
        url = "postgresql+psycopg:" + url.split(":", 1)[1]
    elif scheme not in {"sqlite", "postgresql+psycopg"}:
        raise ConfigError(
            f"DATABASE_URL must start with sqlite:/// or postgresql+psycopg://, got a URL with scheme {scheme!r}"
        )
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        # Parsed here, not at the engine's creation (a traceback without the variable's name);
        # the URL itself is not quoted: it may hold the database's password.
        raise ConfigError(
            "DATABASE_URL is not a valid URL (expected sqlite:////abs/path.sqlite3 or "
            "postgresql+psycopg://user:password@host:5432/db; check the port and the brackets)"
        ) from None
    return url


def _rate_limit_uri(env: Mapping[str, str]) -> str:
    uri = env.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://"
    scheme = uri.split(":", 1)[0]
    if scheme != "memory" and scheme not in REDIS_SCHEMES:
        raise ConfigError(f"RATELIMIT_STORAGE_URI must be memory:// or redis://host:port, got scheme {scheme!r}")
    try:
        valid = uri.startswith(f"{scheme}://")
        urlsplit(uri).port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        valid = False
    if not valid:
        # Checked here, not by the limiter's storage at start-up (a traceback without the
        # variable's name); the URI is not quoted: it may hold Redis's password.
        raise ConfigError("RATELIMIT_STORAGE_URI is not a valid URL (expected redis://[:password@]host:port/db)")
    return uri


def _rate_limits(env: Mapping[str, str]) -> dict[str, str]:
    limits = {}
    for name, (variable, default) in RATE_LIMITS.items():
        value = env.get(variable, "").strip() or default
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(
                f"{variable} must be a rate limit like '30 per minute' (several joined by ';'), got {value!r}"
            ) from None
        limits[name] = value
    return limits


def _publishers(env: Mapping[str, str]) -> tuple[Publisher, ...]:
    raw = env.get("NOTES_PUBLISHERS_FILE", "").strip()
    if not raw:
        return ()
    try:
        return load_publishers(Path(raw).expanduser())
    except ValueError as exc:
        raise ConfigError(f"NOTES_PUBLISHERS_FILE is invalid: {exc}") from None


def load_settings(env: Mapping[str, str], instance_path: str) -> Settings:
    """Read and validate every setting; raise ConfigError naming the bad variable."""
    data_dir = Path(env.get("NOTES_DATA_DIR") or instance_path).expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"NOTES_DATA_DIR {str(data_dir)!r} cannot be created: {exc.strerror}") from None
    if not os.access(data_dir, os.W_OK):
        raise ConfigError(f"NOTES_DATA_DIR {str(data_dir)!r} is not writable")
    environment = env.get("NOTES_ENV", "development").strip().lower()
    if environment not in {"development", "production"}:
        raise ConfigError(f"NOTES_ENV must be development or production, got {environment!r}")
    development = environment == "development"
    keys_spec = env.get("NOTES_KEYS", "").strip() or None
    if not development and keys_spec is None:
        raise ConfigError("NOTES_KEYS must be set in production (id:base64key,... newest first)")
    secret_key = env.get("NOTES_SECRET_KEY", "").strip() or None
    if not development and (secret_key is None or len(secret_key) < 32):
        raise ConfigError("NOTES_SECRET_KEY must be set to at least 32 characters in production")
    return Settings(
        data_dir=data_dir,
        database_url=_database_url(env, data_dir),
        keys_spec=keys_spec,
        allowed_origins=_origins(env, "NOTES_ALLOWED_ORIGINS"),
        ratelimit_storage_uri=_rate_limit_uri(env),
        # Namespaces the counters when several deployments (or test runs) share one Redis.
        ratelimit_key_prefix=env.get("RATELIMIT_KEY_PREFIX", "").strip(),
        rate_limits=_rate_limits(env),
        argon2_max_concurrent=_int(env, "NOTES_ARGON2_MAX_CONCURRENT", 2, 1, 64),
        max_notes_per_notebook=_int(env, "NOTES_MAX_NOTES", 5000, 1, 1_000_000),
        max_shares_per_notebook=_int(env, "NOTES_MAX_SHARES", 200, 1, 100_000),
        secret_key=secret_key,
        development=development,
        trust_proxy=_bool(env, "NOTES_TRUST_PROXY", False),
        publishers=_publishers(env),
    )
