"""how each share's passcode was normalized before it was hashed

Revision ID: 0007_passcode_form
Revises: 0006_trial_versions

Passcodes are now compared after read-aloud normalization (NFKC, case, spaces, dashes:
notes_service/shares/passcodes.py). Hashes made before are of the older form (trimmed, digits
without their separators), so every existing row is form 1, and the column's default stays 1:
a row written by code older than this revision says what it is. A form-1 share is checked in
form 1 and hashed again in form 2 on its first right passcode.

Downgrading drops the column: shares already in form 2 then open only with a passcode typed
in its normalized form (digits-only codes are the same in both forms).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007_passcode_form"
down_revision = "0006_trial_versions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passcode_form", sa.SmallInteger(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_column("passcode_form")
