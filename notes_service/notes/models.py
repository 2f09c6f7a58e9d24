"""Notebooks and notes at rest: hashes, key slots and ciphertext only."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime, utcnow
from ..extensions import Model


class Notebook(Model):
    """An owner: its devices hold the bearer tokens (devices.models); its data key is only in key slots."""

    __tablename__ = "notebooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Retired by 0011_devices: tokens are the devices' (devices.token_hash), and this column
    # authenticates nothing. It stays because SQLite cannot drop a UNIQUE column in place, and
    # rebuilding `notebooks` would delete every note through ON DELETE CASCADE; new notebooks
    # get the hash of random bytes no one is given (notes.service.create_notebook).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The token of the request being served, in memory only (never a column, never stored):
    # the device's key slot opens with it. Set by notes.auth once the token matched.
    # Set per request, never stored: typed for mypy only, since an annotation here would be a column.
    if TYPE_CHECKING:
        token: str | None
        device_id: str | None  # the device whose token it is
        owner_slot: KeySlot | None  # that device's slot, read with the notebook (notes.auth)
    else:
        token = None
        device_id = None
        owner_slot = None


class KeySlot(Model):
    """A key sealed for one secret, held by exactly one of: a device (its token), a share (its
    link token, the slot holds the share's key), a link code (the code), an account (the host's nks).

    `wrapped` is AES-GCM under a KEK (`kek_id`) of AES-GCM under HKDF(secret, `salt`) of the
    key. A slot with no salt is a KEK-only wrap carried over from before key slots
    (0008_key_slots): the first request that brings its token seals it properly in place.
    Deleting the slot is what makes its notes unreadable for its holder (crypto-shredding);
    each holder's row deletes its slot by ON DELETE CASCADE.
    """

    __tablename__ = "key_slots"
    __table_args__ = (
        # One slot per holder; a notebook has as many device slots as devices.
        Index("ux_key_slots_device_id", "device_id", unique=True),
        Index("ux_key_slots_link_code_id", "link_code_id", unique=True),
        Index("ux_key_slots_account_id", "account_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notebook_id: Mapped[str] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"), index=True)
    share_id: Mapped[str | None] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), unique=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    link_code_id: Mapped[str | None] = mapped_column(ForeignKey("link_codes.id", ondelete="CASCADE"))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kek_id: Mapped[str] = mapped_column(String(32), index=True)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Note(Model):
    """One note: its payload (selectors, quote, body, colour, anchor state) is one AES-GCM ciphertext."""

    __tablename__ = "notes"
    # id last: a page ordered by (created_at, id) comes out of the index without a sort (migration 0014).
    __table_args__ = (Index("ix_notes_notebook_trial", "notebook_id", "trial_id", "created_at", "id"),)

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
