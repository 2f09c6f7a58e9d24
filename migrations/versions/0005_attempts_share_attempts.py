"""share attempts in flight, apart from completed failures

Revision ID: 0005_attempts
Revises: 0004_key_checks

Before this revision an attempt was counted as a failure while it was being verified, so
right passcodes at once looked like a streak of wrong ones, and an attempt that ended in an
error stayed a failure for good. A streak of 5 or more without a lock (only that bug made
one: a lock resets the streak) is cleared here, since nothing tells its failures from its
leaked reservations; a share at 20 in all stays locked for its owner to unlock.

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005_attempts"
down_revision = "0004_key_checks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "share_attempts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("share_id", sa.String(length=32), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"], ["shares.id"], name=op.f("fk_share_attempts_share_id_shares"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_attempts")),
    )
    with op.batch_alter_table("share_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_attempts_share_id"), ["share_id"], unique=False)
    op.execute("UPDATE shares SET failed_streak = 0 WHERE failed_streak >= 5 AND failed_total < 20")


def downgrade():
    with op.batch_alter_table("share_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_attempts_share_id"))

    op.drop_table("share_attempts")
