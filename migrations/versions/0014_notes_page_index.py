"""the notes index orders a page completely: (notebook, trial, created_at, id)

Revision ID: 0014_notes_page_index
Revises: 0013_share_language

A page of my notes on a trial is ordered by (created_at, id). ix_notes_notebook_trial held
(notebook_id, trial_id, created_at), so SQLite sorted the ties by id in a temporary b-tree on
every read: about a third of the read's first statement (callgrind: 633,000 instructions with
the sort, 426,000 without). With id as the index's last column the page comes out of the index
in order. Dropped and created again, the same statements on SQLite and PostgreSQL (an index is
not a table: no batch mode needed). Downgrading puts back the three-column index.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0014_notes_page_index"
down_revision = "0013_share_language"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_notes_notebook_trial", table_name="notes")
    op.create_index("ix_notes_notebook_trial", "notes", ["notebook_id", "trial_id", "created_at", "id"])


def downgrade():
    op.drop_index("ix_notes_notebook_trial", table_name="notes")
    op.create_index("ix_notes_notebook_trial", "notes", ["notebook_id", "trial_id", "created_at"])
