"""The trial store's tables: the current state of each trial, and every version it has had."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime, utcnow
from ..extensions import Model

# The full-text index lives beside the models, not in them: SQLite's FTS5 table `trials_fts`
# (and the shadow tables FTS5 keeps for it) fed by triggers; PostgreSQL's generated tsvector
# column `trials.search`, copied by a trigger into the narrow table `trial_search` (id, search)
# with its GIN index, which is what a search reads. They come from migration 0006_trial_versions
# (on SQLite contentless and keyed by NCT number since 0010_trials_fts_by_nct; on PostgreSQL the
# narrow table since 0015_trial_search); schema comparisons (autogenerate, the migration tests)
# skip them.
SEARCH_INDEX_TABLES = frozenset(
    {
        "trials_fts",
        "trials_fts_data",
        "trials_fts_idx",
        "trials_fts_content",
        "trials_fts_docsize",
        "trials_fts_config",
        "trial_search",
    }
)
SEARCH_INDEX_COLUMN = ("trials", "search")


def outside_models(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    """True for the search-index objects a schema comparison must not ask to drop (`include_name`)."""
    if type_ == "table":
        return name in SEARCH_INDEX_TABLES
    if type_ == "column":
        return (parent_names.get("table_name"), name) == SEARCH_INDEX_COLUMN
    return False


class Trial(Model):
    """A trial as it is now: the fields we list and search, and which version is current."""

    __tablename__ = "trials"
    __table_args__ = (
        CheckConstraint("revision >= 1", name="revision_positive"),
        # The list is read in (title, id) order, a page at a time.
        Index("ix_trials_title_id", "title", "id"),
        Index("ix_trials_version_id", "version_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(11), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(64), default="")
    phase: Mapped[str] = mapped_column(String(64), default="")
    conditions: Mapped[str] = mapped_column(Text, default="")  # one per line
    interventions: Mapped[str] = mapped_column(Text, default="")  # one per line
    sponsor: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(64))  # SHA-256 of the current record
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The current TrialVersion's id, and the search index's row key. Not a foreign key:
    # the two tables would point at each other; the loader writes both in one transaction.
    version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def condition_list(self) -> list[str]:
        """Conditions as a list."""
        return [c for c in self.conditions.split("\n") if c]


class TrialVersion(Model):
    """One version of a trial's record as loaded, rendered once at import; never changed after."""

    __tablename__ = "trial_versions"
    __table_args__ = (
        UniqueConstraint("trial_id", "revision", name="uq_trial_versions_trial_id_revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))  # SHA-256 of the record (content hash)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(64), default="")
    phase: Mapped[str] = mapped_column(String(64), default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    sponsor: Mapped[str] = mapped_column(Text, default="")
    data_date: Mapped[str | None] = mapped_column(Text, nullable=True)
    first_posted: Mapped[str | None] = mapped_column(Text, nullable=True)
    record: Mapped[str] = mapped_column(Text)  # the study JSON as loaded
    canonical_text: Mapped[str] = mapped_column(Text)
    sections: Mapped[str] = mapped_column(Text)  # render.dump_sections
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
