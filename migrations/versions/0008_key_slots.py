"""key slots: a notebook's data key is stored only sealed for a token the server does not keep

Revision ID: 0008_key_slots
Revises: 0007_passcode_form

Until now each notebook's data key was wrapped under a KEK only (notebooks.kek_id,
notebooks.wrapped_dek), so the database and NOTES_KEYS together opened every note. From
here a data key lives only in key_slots rows, each sealed under HKDF(token) inside a KEK
layer: the owner's slot for the notebook token; a share's slot holds a share key instead,
for its link token, which seals the keys of the share's notes (share_notes.wrapped_key).

No token is known here, so the existing wraps move over as they are: each notebook's wrap
becomes its owner slot with no salt (a KEK-only slot), and a copy of it becomes the slot of
each of its shares not revoked. The service reads such a slot once, on the first request
that brings its token, and seals it for that token in place (the KEK-only bytes are
overwritten; a share's opening also gives it its own key and its notes' keys). Nothing is
lost: every note reads back.

The two notebooks columns are dropped with ALTER TABLE DROP COLUMN (batch mode, never
recreating the table): on SQLite, recreating `notebooks` would drop it, and with foreign keys
on, dropping it deletes every note through ON DELETE CASCADE.

Downgrade moves KEK-only slots back into the notebooks columns; a slot already sealed for a
token cannot be turned back without that token, so the downgrade refuses while one exists
(restore the backup taken before upgrading instead).
"""

import uuid
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_key_slots"
down_revision = "0007_passcode_form"
branch_labels = None
depends_on = None

BATCH = 500
OWNER_WHERE = sa.text("share_id IS NULL")


def upgrade():
    op.create_table(
        "key_slots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notebook_id", sa.String(length=32), nullable=False),
        sa.Column("share_id", sa.String(length=32), nullable=True),
        sa.Column("kek_id", sa.String(length=32), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notebook_id"], ["notebooks.id"], name=op.f("fk_key_slots_notebook_id_notebooks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["share_id"], ["shares.id"], name=op.f("fk_key_slots_share_id_shares"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_slots")),
        sa.UniqueConstraint("share_id", name=op.f("uq_key_slots_share_id")),
    )
    op.create_index(op.f("ix_key_slots_notebook_id"), "key_slots", ["notebook_id"], unique=False)
    op.create_index(op.f("ix_key_slots_kek_id"), "key_slots", ["kek_id"], unique=False)
    op.create_index(
        "ux_key_slots_owner",
        "key_slots",
        ["notebook_id"],
        unique=True,
        sqlite_where=OWNER_WHERE,
        postgresql_where=OWNER_WHERE,
    )
    # The keys of a share's notes, sealed under the share's key (filled at a share's first opening).
    with op.batch_alter_table("share_notes", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("wrapped_key", sa.LargeBinary(), nullable=True))
    _move_wraps_into_slots()
    with op.batch_alter_table("notebooks", recreate="never") as batch_op:
        batch_op.drop_index("ix_notebooks_kek_id")
        batch_op.drop_column("wrapped_dek")
        batch_op.drop_column("kek_id")


def _move_wraps_into_slots():
    """Each notebook's KEK-only wrap becomes its owner slot, and a copy the slot of each live share."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    slots = sa.table(
        "key_slots",
        sa.column("id"),
        sa.column("notebook_id"),
        sa.column("share_id"),
        sa.column("kek_id"),
        sa.column("salt", sa.LargeBinary),
        sa.column("wrapped", sa.LargeBinary),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    ids = bind.execute(sa.text("SELECT id FROM notebooks WHERE wrapped_dek IS NOT NULL ORDER BY id")).scalars().all()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        wraps = {
            row.id: row
            for row in bind.execute(
                sa.text("SELECT id, kek_id, wrapped_dek FROM notebooks WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": chunk},
            )
        }
        rows = [
            {
                "id": uuid.uuid4().hex,
                "notebook_id": nb,
                "share_id": None,
                "kek_id": w.kek_id,
                "salt": None,
                "wrapped": bytes(w.wrapped_dek),
                "created_at": now,
            }
            for nb, w in wraps.items()
        ]
        # A revoked share opens nothing: it gets no slot.
        for share_id, notebook_id in bind.execute(
            sa.text("SELECT id, notebook_id FROM shares WHERE notebook_id IN :ids AND NOT revoked").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": chunk},
        ):
            wrap = wraps[notebook_id]
            rows.append(
                {
                    "id": uuid.uuid4().hex,
                    "notebook_id": notebook_id,
                    "share_id": share_id,
                    "kek_id": wrap.kek_id,
                    "salt": None,
                    "wrapped": bytes(wrap.wrapped_dek),
                    "created_at": now,
                }
            )
        if rows:
            bind.execute(slots.insert(), rows)


def downgrade():
    bind = op.get_bind()
    sealed = bind.execute(sa.text("SELECT count(*) FROM key_slots WHERE salt IS NOT NULL")).scalar()
    sealed += bind.execute(sa.text("SELECT count(*) FROM notes WHERE format_version > 1")).scalar()
    if sealed:
        raise RuntimeError(
            f"{sealed} key slots or notes are sealed for a token the server does not keep (a slot, or a note "
            "under its own key): they cannot go back to a KEK-only wrap without those tokens. Restore the "
            "backup taken before 0008_key_slots instead; nothing was changed."
        )
    with op.batch_alter_table("notebooks", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("kek_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("wrapped_dek", sa.LargeBinary(), nullable=True))
        batch_op.create_index("ix_notebooks_kek_id", ["kek_id"], unique=False)
    for slot in bind.execute(
        sa.text("SELECT notebook_id, kek_id, wrapped FROM key_slots WHERE share_id IS NULL")
    ).all():
        bind.execute(
            sa.text("UPDATE notebooks SET kek_id = :kek_id, wrapped_dek = :wrapped WHERE id = :id"),
            {"kek_id": slot.kek_id, "wrapped": bytes(slot.wrapped), "id": slot.notebook_id},
        )
    with op.batch_alter_table("share_notes", recreate="never") as batch_op:
        batch_op.drop_column("wrapped_key")
    op.drop_index("ux_key_slots_owner", table_name="key_slots", sqlite_where=OWNER_WHERE, postgresql_where=OWNER_WHERE)
    op.drop_index(op.f("ix_key_slots_kek_id"), table_name="key_slots")
    op.drop_index(op.f("ix_key_slots_notebook_id"), table_name="key_slots")
    op.drop_table("key_slots")
