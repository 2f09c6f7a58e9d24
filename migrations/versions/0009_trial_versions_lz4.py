"""trial versions compressed with lz4 on PostgreSQL

Revision ID: 0009_trial_versions_lz4
Revises: 0008_key_slots

A stored version is about 40 KB of text (the record, its sections, its canonical text),
compressed into TOAST as it is written. pglz, the default, was most of what an import
spent inside PostgreSQL (profiled: the trial_versions inserts took half as long with lz4,
for a tenth more space). Values written from now on use lz4; the ones already stored stay
as they are and read the same. SQLite has no such setting: nothing to do there, and on a
PostgreSQL built without lz4 (or older than 14) nothing either.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_trial_versions_lz4"
down_revision = "0008_key_slots"
branch_labels = None
depends_on = None

COLUMNS = ("record", "sections", "canonical_text")


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    # Only methods this server was built with are listed; before 14 there is no such setting.
    return bool(
        bind.execute(
            sa.text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar()
    )


def _set_compression(method: str) -> None:
    clauses = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in COLUMNS)
    op.execute(f"ALTER TABLE trial_versions {clauses}")


def upgrade():
    if _lz4_available():
        _set_compression("lz4")


def downgrade():
    if _lz4_available():
        _set_compression("default")
