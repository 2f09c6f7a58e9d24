"""devices, link codes and vouched accounts: every browser its own token and key slot

Revision ID: 0011_devices
Revises: 0010_trials_fts_by_nct

Until now a notebook had one token (notebooks.token_hash) and one owner slot (key_slots with
no share). From here each browser of a notebook is a `devices` row with its own token hash and
its own slot (key_slots.device_id); a link code (`link_codes`) and a vouched account
(`accounts`, with `used_grants` for the grants' ids) hold a slot of their own too.

Nothing is lost: each notebook's token becomes its first device (the same hash, so the token
every browser holds keeps working) and its owner slot becomes that device's slot as it is
(a device's slot is bound to the notebook as the owner slot was, so no token is needed to
move it). notebooks.token_hash stays, authenticating nothing: SQLite cannot drop a UNIQUE
column in place, and rebuilding `notebooks` would delete every note by ON DELETE CASCADE.

The new key_slots columns come with foreign keys and unique indexes; SQLite cannot add a
foreign key in place, so key_slots (and only it: no table refers to it) is rebuilt there. The
partial index that allowed one owner slot per notebook goes, since a notebook has a slot per
device.

Downgrade keeps each notebook's oldest device: its token hash goes back into notebooks and its
slot becomes the owner slot; the slots of other devices, link codes and accounts are deleted
(those browsers and hosts have to link again).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_devices"
down_revision = "0010_trials_fts_by_nct"
branch_labels = None
depends_on = None

OWNER_WHERE = sa.text("share_id IS NULL")
HOLDERS = (("device_id", "devices"), ("link_code_id", "link_codes"), ("account_id", "accounts"))
FIRST_DEVICE_NAME = "First browser"


def upgrade():
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notebook_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notebook_id"], ["notebooks.id"], name=op.f("fk_devices_notebook_id_notebooks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_devices_token_hash")),
    )
    op.create_index(op.f("ix_devices_notebook_id"), "devices", ["notebook_id"], unique=False)
    op.create_table(
        "link_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notebook_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notebook_id"], ["notebooks.id"], name=op.f("fk_link_codes_notebook_id_notebooks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_link_codes_code_hash")),
    )
    op.create_index(op.f("ix_link_codes_notebook_id"), "link_codes", ["notebook_id"], unique=False)
    op.create_index(op.f("ix_link_codes_expires_at"), "link_codes", ["expires_at"], unique=False)
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("notebook_id", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notebook_id"], ["notebooks.id"], name=op.f("fk_accounts_notebook_id_notebooks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("issuer", "subject", name="uq_accounts_issuer_subject"),
        sa.UniqueConstraint("notebook_id", name=op.f("uq_accounts_notebook_id")),
    )
    op.create_table(
        "used_grants",
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_used_grants")),
    )
    op.create_index(op.f("ix_used_grants_expires_at"), "used_grants", ["expires_at"], unique=False)
    # Before any rebuild: its reflected copy would lose the WHERE and refuse a notebook's shares.
    op.drop_index("ux_key_slots_owner", table_name="key_slots", sqlite_where=OWNER_WHERE, postgresql_where=OWNER_WHERE)
    # SQLite cannot add a foreign key in place: key_slots is rebuilt there (copied, the old
    # copy dropped), which is safe since no table refers to it, so nothing cascades.
    with op.batch_alter_table("key_slots", recreate=_rebuild_on_sqlite()) as batch_op:
        for column, table in HOLDERS:
            batch_op.add_column(
                sa.Column(
                    column,
                    sa.String(length=32),
                    sa.ForeignKey(f"{table}.id", name=f"fk_key_slots_{column}_{table}", ondelete="CASCADE"),
                    nullable=True,
                )
            )
    for column, _table in HOLDERS:
        op.create_index(f"ux_key_slots_{column}", "key_slots", [column], unique=True)
    _move_tokens_into_devices()


def _rebuild_on_sqlite():
    return "always" if op.get_bind().dialect.name == "sqlite" else "never"


def _move_tokens_into_devices():
    """Each notebook's token becomes its first device, and its owner slot that device's slot.

    Two statements over the whole table: the first device takes its notebook's id as its own
    (ids of different tables; the notebook's id is no secret from its owner), so each slot
    finds its device with no row-by-row pass.
    """
    op.execute(
        sa.text(
            "INSERT INTO devices (id, notebook_id, token_hash, name, created_at, last_used_at) "
            "SELECT id, id, token_hash, :name, created_at, created_at FROM notebooks"
        ).bindparams(name=FIRST_DEVICE_NAME)
    )
    op.execute(sa.text("UPDATE key_slots SET device_id = notebook_id WHERE share_id IS NULL"))


def downgrade():
    bind = op.get_bind()
    # A vouched notebook whose last device was removed opens only by its account's slot, which
    # goes below: it would be left with no slot, its notes lost to every token.
    vouched_only = bind.execute(
        sa.text(
            "SELECT count(*) FROM notebooks n WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.notebook_id = n.id)"
            " AND EXISTS (SELECT 1 FROM key_slots k WHERE k.notebook_id = n.id AND k.account_id IS NOT NULL)"
        )
    ).scalar()
    if vouched_only:
        raise RuntimeError(
            f"{vouched_only} notebooks open only through their vouched account (no browser holds them): below "
            "0011_devices they would have no key slot, and their notes would be lost. Have each user sign in on "
            "a browser first, or restore the backup taken before 0011_devices instead; nothing was changed."
        )
    # Each notebook's oldest device keeps its token and slot; every other holder's slot goes.
    oldest = bind.execute(
        sa.text(
            "SELECT d.id, d.notebook_id, d.token_hash FROM devices d WHERE d.id = ("
            "SELECT e.id FROM devices e WHERE e.notebook_id = d.notebook_id ORDER BY e.created_at, e.id LIMIT 1)"
        )
    ).all()
    kept = {row.id for row in oldest}
    bind.execute(sa.text("DELETE FROM key_slots WHERE link_code_id IS NOT NULL OR account_id IS NOT NULL"))
    for row in bind.execute(sa.text("SELECT id FROM devices")).scalars().all():
        if row not in kept:
            bind.execute(sa.text("DELETE FROM key_slots WHERE device_id = :id"), {"id": row})
    for row in oldest:
        bind.execute(
            sa.text("UPDATE notebooks SET token_hash = :hash WHERE id = :id"),
            {"hash": row.token_hash, "id": row.notebook_id},
        )
    for column, _table in HOLDERS:
        op.drop_index(f"ux_key_slots_{column}", table_name="key_slots")
    # SQLite cannot drop a column with a foreign key in place: rebuilt there, as in upgrade.
    with op.batch_alter_table("key_slots", recreate=_rebuild_on_sqlite()) as batch_op:
        for column, _table in HOLDERS:
            batch_op.drop_column(column)
    op.create_index(
        "ux_key_slots_owner",
        "key_slots",
        ["notebook_id"],
        unique=True,
        sqlite_where=OWNER_WHERE,
        postgresql_where=OWNER_WHERE,
    )
    op.drop_index(op.f("ix_used_grants_expires_at"), table_name="used_grants")
    op.drop_table("used_grants")
    op.drop_table("accounts")
    op.drop_index(op.f("ix_link_codes_expires_at"), table_name="link_codes")
    op.drop_index(op.f("ix_link_codes_notebook_id"), table_name="link_codes")
    op.drop_table("link_codes")
    op.drop_index(op.f("ix_devices_notebook_id"), table_name="devices")
    op.drop_table("devices")
