"""share details (sender name, label, replies on or off) and replies to shared notes

Revision ID: 0012_share_details_replies
Revises: 0011_devices

shares gains two ciphertexts and a flag: owner_sealed (the owner's label and the sender name,
under a key of the notebook's DEK), sender_sealed (the sender name under the share's own key,
which its link token opens: the page shows it before the passcode) and replies_allowed (true
for every share, old ones included). replies holds the family's answers to shared notes,
each one ciphertext under a key of its note's key; a reply goes with its note, its share or
its notebook (ON DELETE CASCADE).

The columns are added and dropped with ALTER TABLE (batch mode, never recreating the table):
on SQLite, recreating `shares` would drop it, and with foreign keys on, dropping it deletes
every share's slots and notes links through ON DELETE CASCADE. Downgrading drops the replies
and the details with them.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_share_details_replies"
down_revision = "0011_devices"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shares", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("owner_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("sender_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("replies_allowed", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        "replies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notebook_id", sa.String(length=32), nullable=False),
        sa.Column("share_id", sa.String(length=32), nullable=False),
        sa.Column("note_id", sa.String(length=32), nullable=False),
        sa.Column("trial_id", sa.String(length=11), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notebook_id"], ["notebooks.id"], name=op.f("fk_replies_notebook_id_notebooks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["share_id"], ["shares.id"], name=op.f("fk_replies_share_id_shares"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], name=op.f("fk_replies_note_id_notes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name=op.f("fk_replies_trial_id_trials"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replies")),
    )
    op.create_index("ix_replies_notebook_created", "replies", ["notebook_id", "created_at"], unique=False)
    op.create_index("ix_replies_share_note", "replies", ["share_id", "note_id"], unique=False)
    op.create_index(op.f("ix_replies_note_id"), "replies", ["note_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_replies_note_id"), table_name="replies")
    op.drop_index("ix_replies_share_note", table_name="replies")
    op.drop_index("ix_replies_notebook_created", table_name="replies")
    op.drop_table("replies")
    with op.batch_alter_table("shares", recreate="never") as batch_op:
        batch_op.drop_column("replies_allowed")
        batch_op.drop_column("sender_sealed")
        batch_op.drop_column("owner_sealed")
