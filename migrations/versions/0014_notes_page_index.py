"""the notes index orders a page completely: (notebook, trial, created_at, id)

Revision ID: 0014_notes_page_index
Revises: 0013_share_language

A page of my notes on a trial is ordered by (created_at, id). ix_notes_notebook_trial held
(notebook_id, trial_id, created_at), so SQLite sorted the ties by id in a temporary b-tree on
every read: about a third of the read's first statement (callgrind: 633,000 instructions with
the sort, 426,000 without). With id as the index's last column the page comes out of the index
in order. On SQLite the index is dropped and created again (an index is not a table: no batch
mode needed).

On PostgreSQL a plain CREATE INDEX holds every write to `notes` for the whole build, and a plain
DROP INDEX every read too, on a table that may be large. So the new index is built beside the
old one with CREATE INDEX CONCURRENTLY under a temporary name, the old one is dropped with DROP
INDEX CONCURRENTLY, and the new one takes the old name (ALTER INDEX ... RENAME: a brief lock).
Neither CONCURRENTLY statement may run in a transaction, so they run in an autocommit block
(each revision has its own transaction, migrations/env.py, so the stamp stays with its DDL). A build
that failed leaves an INVALID index under the temporary name; it is dropped first, and the old
index is dropped only if it is still there (a run stopped before the rename), so running the
migration again succeeds. Either way the result is the same index as before: the same name,
the same columns in the same order. Downgrading puts back the three-column index the same way.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0014_notes_page_index"
down_revision = "0013_share_language"
branch_labels = None
depends_on = None

NAME = "ix_notes_notebook_trial"
PAGE_ORDER = ["notebook_id", "trial_id", "created_at", "id"]
BEFORE = ["notebook_id", "trial_id", "created_at"]


def _rebuild(columns: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="notes")
        op.create_index(NAME, "notes", columns)
        return
    building = f"{NAME}_new"
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {building}")
        op.execute(f"CREATE INDEX CONCURRENTLY {building} ON notes ({', '.join(columns)})")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")  # gone already if a run stopped before the rename
        op.execute(f"ALTER INDEX {building} RENAME TO {NAME}")


def upgrade():
    _rebuild(PAGE_ORDER)


def downgrade():
    _rebuild(BEFORE)
