"""Key-encryption keys from configuration; a development key kept in the data folder."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .config import ConfigError, Settings
from .crypto import Keyring

log = logging.getLogger(__name__)

DEV_KEY_FILE = "dev-keys"


def load_keyring(settings: Settings) -> Keyring:
    """NOTES_KEYS when set; in development, a key generated once into the data folder."""
    if settings.keys_spec:
        try:
            return Keyring.parse(settings.keys_spec)
        except ValueError as exc:
            raise ConfigError(f"NOTES_KEYS is invalid: {exc}") from None
    path = settings.data_dir / DEV_KEY_FILE
    if not path.exists():
        _write_private(path, Keyring.generate_spec("dev1"))
        log.warning("NOTES_KEYS is not set: generated a development key in %s; "
                    "set NOTES_KEYS in production", path)
    try:
        return Keyring.parse(path.read_text(encoding="ascii").strip())
    except ValueError as exc:
        raise ConfigError(f"the development key file {path} is invalid: {exc}") from None


def _write_private(path: Path, content: str) -> None:
    # O_EXCL: two workers starting at once must not both write (and disagree on) the key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(content + "\n")


def key_problem(ring: Keyring) -> str | None:
    """Why the configured keys cannot serve this database (a missing id, other bytes), or None.

    Needs an app context and a reachable database; creates the check values still missing.
    """
    from sqlalchemy import inspect

    from .extensions import db
    from .notes.service import mismatched_keks, missing_keks

    # Both looked up before the session's transaction: on SQLite that one holds the write lock,
    # and the inspector's own connection would wait for it.
    tables = set(inspect(db.engine).get_table_names())
    if "notebooks" not in tables:
        return None  # not migrated yet (`flask db upgrade` builds the app too)
    missing = missing_keks(ring)
    if missing:
        return ("NOTES_KEYS lacks the key-encryption key(s) " + ", ".join(repr(k) for k in missing)
                + " that protect data in the database; add them back (older keys go after the newest)")
    wrong = mismatched_keks(ring, store="key_checks" in tables)
    if wrong:
        return ("NOTES_KEYS holds other key bytes than the database's data was written with for key id(s) "
                + ", ".join(repr(k) for k in wrong)
                + " (the stored key check does not open); configure the original bytes for that id, "
                "or give a new key a new id")
    return None
