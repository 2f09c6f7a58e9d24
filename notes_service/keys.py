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
