"""the language a share's page is shown in

Revision ID: 0013_share_language
Revises: 0012_share_details_replies

shares gains `language`: "en", "es" or "ar", the language the patient chose for the share
page; null (every share before this revision) leaves it to the reader. Not secret: a plain
column, checked by a constraint on the column itself.

Added with ALTER TABLE ... ADD COLUMN carrying its CHECK, the same statement on SQLite and
PostgreSQL: batch mode would have to recreate `shares` on SQLite to add a table constraint,
and with foreign keys on, dropping the table deletes every share's slots and notes links
through ON DELETE CASCADE. Downgrading drops the column (its constraint goes with it).
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0013_share_language"
down_revision = "0012_share_details_replies"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "ALTER TABLE shares ADD COLUMN language VARCHAR(2) "
        "CONSTRAINT ck_shares_language_known CHECK (language IN ('en', 'es', 'ar'))"
    )


def downgrade():
    with op.batch_alter_table("shares", recreate="never") as batch_op:
        batch_op.drop_column("language")
