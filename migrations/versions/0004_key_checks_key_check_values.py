"""key checks: one check value per key-encryption key id

Revision ID: 0004_key_checks
Revises: 0003_shares

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_key_checks"
down_revision = "0003_shares"
branch_labels = None
depends_on = None


def upgrade():
    # Filled at start-up: a key id with data gets its check only once a data key unwraps under it.
    op.create_table(
        "key_checks",
        sa.Column("kek_id", sa.String(length=32), nullable=False),
        sa.Column("check_value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kek_id", name=op.f("pk_key_checks")),
    )


def downgrade():
    op.drop_table("key_checks")
