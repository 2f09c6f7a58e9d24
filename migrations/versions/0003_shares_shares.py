"""shares

Revision ID: 0003_shares
Revises: 0002_notes

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003_shares"
down_revision = "0002_notes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notebook_id", sa.String(length=32), nullable=False),
        sa.Column("trial_id", sa.String(length=11), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("passcode_hash", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_views", sa.Integer(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("last_viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_streak", sa.Integer(), nullable=False),
        sa.Column("failed_total", sa.Integer(), nullable=False),
        sa.Column("lock_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("failed_streak >= 0 AND failed_total >= 0", name=op.f("ck_shares_failures_non_negative")),
        sa.CheckConstraint("max_views IS NULL OR max_views >= 1", name=op.f("ck_shares_max_views_positive")),
        sa.CheckConstraint("views >= 0", name=op.f("ck_shares_views_non_negative")),
        sa.ForeignKeyConstraint(
            ["notebook_id"], ["notebooks.id"], name=op.f("fk_shares_notebook_id_notebooks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name=op.f("fk_shares_trial_id_trials"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_shares_token_hash")),
    )
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shares_notebook_id"), ["notebook_id"], unique=False)

    op.create_table(
        "share_notes",
        sa.Column("share_id", sa.String(length=32), nullable=False),
        sa.Column("note_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_share_notes_note_id_notes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["share_id"], ["shares.id"], name=op.f("fk_share_notes_share_id_shares"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("share_id", "note_id", name=op.f("pk_share_notes")),
    )
    with op.batch_alter_table("share_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_notes_note_id"), ["note_id"], unique=False)


def downgrade():
    with op.batch_alter_table("share_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_notes_note_id"))

    op.drop_table("share_notes")
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shares_notebook_id"))

    op.drop_table("shares")
