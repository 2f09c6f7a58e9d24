"""Notebooks and notes at rest: hashes, wrapped keys and ciphertext only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime, utcnow
from ..extensions import Model


class Notebook(Model):
    """An owner: a bearer token (stored as SHA-256) and a wrapped data key."""

    __tablename__ = "notebooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Nullable: deleting a notebook first erases its wrapped key (crypto-shredding).
    kek_id: Mapped[str | None] = mapped_column(String(32), index=True)
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Note(Model):
    """One note: its payload (selectors, quote, body, colour, anchor state) is one AES-GCM ciphertext."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_notebook_trial", "notebook_id", "trial_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notebook_id: Mapped[str] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"))
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id", ondelete="RESTRICT"), index=True)
    format_version: Mapped[int] = mapped_column(Integer, default=1)
    # Deferred: a share or a count loads Note rows without their (up to ~50 KB) payloads;
    # the queries that decrypt ask for it (notes.service._slice) or load it per row.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # The trial content version the selectors were last anchored against (public data).
    anchored_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KeyCheck(Model):
    """A check value per key-encryption key id: start-up refuses configured key bytes that do not open it."""

    __tablename__ = "key_checks"

    kek_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    check_value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
