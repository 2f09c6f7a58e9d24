"""Devices and link codes at rest: token and code hashes only; their data keys are in key slots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime, utcnow
from ..extensions import Model

MAX_NAME_CHARS = 60


class Device(Model):
    """One browser of a notebook: its own bearer token (stored as SHA-256) and its own key slot."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notebook_id: Mapped[str] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Plain text the browser chose ("Firefox on Android"), sanitized (devices.service.device_name).
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Coarse on purpose: written at most once per LAST_USED_STEP (devices.service), so a read
    # does not turn into a write on every request.
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkCode(Model):
    """A one-time code that links another browser: its hash, its expiry, and a key slot sealed under it."""

    __tablename__ = "link_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notebook_id: Mapped[str] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
