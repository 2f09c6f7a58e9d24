"""The app's collaborators in one typed place: settings, keys, the Argon2 hasher and gate, the clock.

create_app builds one Registry per app and binds it; services, views and commands read it
through the accessors below (inside an app context), never through
``current_app.extensions["..."]`` strings. Every app has its own, so two apps in one
process (the tests build many) never share a hasher or a keyring. A test swaps a
collaborator on the app it built:

    registry.of(app).password_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from argon2 import PasswordHasher
from flask import Flask, current_app

from .clock import utcnow
from .config import Settings
from .crypto import Keyring
from .shares.passcodes import ArgonGate

EXTENSION = "trial_notes"


@dataclass
class Registry:
    """What the services of one app work with."""

    settings: Settings
    # This host's bound on concurrent Argon2 work (verifications and new passcode hashes).
    argon_gate: ArgonGate
    # argon2-cffi's RFC 9106 low-memory defaults; tests swap in a cheap real one.
    password_hasher: PasswordHasher = field(default_factory=PasswordHasher)
    # Loaded last in create_app; None only while the app is being built.
    keyring: Keyring | None = None
    # Whether the keyring was checked against the database (at start-up, or later by /readyz
    # when the database was down then).
    keys_verified: bool = False
    clock: Callable[[], datetime] = utcnow
    # The built widget's content hash, by (mtime, size) of its file: one entry at most.
    widget_digests: dict[tuple[int, int], str] = field(default_factory=dict)


def bind(app: Flask, registry: Registry) -> Registry:
    """Make ``registry`` the app's collaborators."""
    app.extensions[EXTENSION] = registry
    return registry


def of(app: Flask) -> Registry:
    """The registry bound to ``app``."""
    registry: Registry = app.extensions[EXTENSION]
    return registry


def current() -> Registry:
    """The registry of the app in context."""
    return of(current_app)


def settings() -> Settings:
    """The app's settings, read from the environment once at start-up."""
    return current().settings


def keyring() -> Keyring:
    """The configured key-encryption keys."""
    ring = current().keyring
    if ring is None:
        raise RuntimeError("no keyring is loaded: create_app loads it")
    return ring


def password_hasher() -> PasswordHasher:
    """The Argon2id hasher for share passcodes."""
    return current().password_hasher


def argon_gate() -> ArgonGate:
    """This host's bound on concurrent Argon2 work."""
    return current().argon_gate


def now() -> datetime:
    """The current time, timezone-aware UTC, from the app's clock."""
    return current().clock()
