"""Shares at rest: a token hash, an Argon2id passcode hash, scope, limits and lockout counters."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime, utcnow
from ..extensions import Model, db
from ..notes.models import Note
from .schemas import SHARE_LANGUAGES

# The notes a share shows. Deleting a note deletes its rows here: it disappears from shares.
share_notes = Table(
    "share_notes",
    db.metadata,
    Column("share_id", ForeignKey("shares.id", ondelete="CASCADE"), primary_key=True),
    Column("note_id", ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True, index=True),
    # The note's key sealed under the share's key (the share's slot holds that one, for its link).
    # Null only for a share from before key slots until its first opening (0008_key_slots).
    Column("wrapped_key", LargeBinary, nullable=True),
)


class Share(Model):
    """A passcode-protected link to chosen notes on one trial."""

    __tablename__ = "shares"
    __table_args__ = (
        CheckConstraint("views >= 0", name="views_non_negative"),
        CheckConstraint("max_views IS NULL OR max_views >= 1", name="max_views_positive"),
        CheckConstraint("failed_streak >= 0 AND failed_total >= 0", name="failures_non_negative"),
        CheckConstraint(f"language IN ({', '.join(repr(code) for code in SHARE_LANGUAGES)})", name="language_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notebook_id: Mapped[str] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"), index=True)
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id", ondelete="RESTRICT"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    passcode_hash: Mapped[str] = mapped_column(String(255))
    # How the passcode was normalized before hashing (shares/passcodes.py: 1 legacy, 2 current);
    # the database default is the legacy form, so rows written by older code say what they are.
    passcode_form: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_views: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int] = mapped_column(Integer, default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Completed wrong verifications in a row and in all, and locks so far. Attempts still
    # being verified are ShareAttempt rows, never counted here: a right passcode in flight is
    # not a failure, and an attempt that ends in an error leaves these untouched.
    failed_streak: Mapped[int] = mapped_column(Integer, default=0)
    failed_total: Mapped[int] = mapped_column(Integer, default=0)
    lock_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The owner's label and the sender name as JSON, sealed under a key of the notebook's DEK
    # (crypto.share_owner_key): only the owner's token reads them. Null: neither was given.
    owner_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The sender name again, sealed under the share's own key (its slot opens with the link
    # token): the share page shows it before the passcode. Null: no sender name.
    sender_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    replies_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The language the patient chose for the share page ("en", "es", "ar"); null: the reader's
    # own. Not secret (anyone with the link sees the page in it), so a plain column.
    language: Mapped[str | None] = mapped_column(String(2))

    # Loaded when used, not with every share: opening a share's page must not load the
    # (up to 5,000) notes it holds; the page queries the ones it shows.
    notes: Mapped[list[Note]] = relationship(secondary=share_notes, lazy="select")

    # The link token of the request being served, in memory only (never a column, never
    # stored): the share's key slot opens with it. Set by shares.service.find_share.
    # Set per request, never stored: typed for mypy only, since an annotation here would be a column.
    if TYPE_CHECKING:
        token: str | None
    else:
        token = None


class ShareAttempt(Model):
    """A passcode verification in flight: reserved before Argon2 runs, deleted when it ends.

    It holds a place under the lockout bound (wrong so far + in flight < 5) so parallel
    guesses get no more than 5 verifications, without being taken for a failure by anyone.
    The lease ends it should its worker die mid-verification (a SIGKILL runs no cleanup).
    """

    __tablename__ = "share_attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), index=True)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)


class Reply(Model):
    """A reply to a shared note, written through a share: its name and body are one AES-GCM ciphertext.

    Sealed under a key derived from its note's key (crypto.reply_key), which the owner derives
    from the notebook's DEK and the share's readers unwrap from the share: the owner reads
    every reply to their notes, a share's readers those to its notes. It goes with its note
    or its share (ON DELETE CASCADE), and with the notebook.
    """

    __tablename__ = "replies"
    __table_args__ = (
        Index("ix_replies_notebook_created", "notebook_id", "created_at"),
        Index("ix_replies_share_note", "share_id", "note_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notebook_id: Mapped[str] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"))
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"))
    note_id: Mapped[str] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    # The note's trial (public data), so the owner's list of a trial's replies needs no join.
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id", ondelete="RESTRICT"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the owner marked it seen; null: unread.
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
