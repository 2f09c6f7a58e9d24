"""trial store

Revision ID: 0001_trials
Revises:

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0001_trials"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "trials",
        sa.Column("id", sa.String(length=11), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=64), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_trials_revision_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trials")),
    )


def downgrade():
    op.drop_table("trials")
