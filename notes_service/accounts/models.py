"""Vouched accounts at rest: a host's (issuer, subject) per notebook, and the grant ids already used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime, utcnow
from ..extensions import Model

MAX_CLAIM_CHARS = 255


class Account(Model):
    """A notebook a host site vouches for: the notebook of (issuer, subject), its slot opened by the grant's nks."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_accounts_issuer_subject"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notebook_id: Mapped[str] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"), unique=True)
    issuer: Mapped[str] = mapped_column(String(MAX_CLAIM_CHARS))
    subject: Mapped[str] = mapped_column(String(MAX_CLAIM_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsedGrant(Model):
    """A grant's `jti`, kept until the grant's `exp`: a grant is exchanged once."""

    __tablename__ = "used_grants"

    issuer: Mapped[str] = mapped_column(String(MAX_CLAIM_CHARS), primary_key=True)
    jti: Mapped[str] = mapped_column(String(MAX_CLAIM_CHARS), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
