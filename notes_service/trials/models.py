"""The trial store's table: one row per trial, its record and its content version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime, utcnow
from ..extensions import db


class Trial(db.Model):  # type: ignore[name-defined]
    """A ClinicalTrials.gov record as loaded, with the fields we list and search."""

    __tablename__ = "trials"
    __table_args__ = (CheckConstraint("revision >= 1", name="revision_positive"),)

    id: Mapped[str] = mapped_column(String(11), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(64), default="")
    phase: Mapped[str] = mapped_column(String(64), default="")
    conditions: Mapped[str] = mapped_column(Text, default="")  # one per line
    version: Mapped[str] = mapped_column(String(64))  # SHA-256 of the record
    revision: Mapped[int] = mapped_column(Integer, default=1)
    record: Mapped[str] = mapped_column(Text)  # the study JSON as loaded
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def condition_list(self) -> list[str]:
        """Conditions as a list."""
        return [c for c in self.conditions.split("\n") if c]
