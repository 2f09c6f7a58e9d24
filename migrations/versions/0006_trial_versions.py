"""trial versions, stored renderings and full-text search

Revision ID: 0006_trial_versions
Revises: 0005_attempts

Every version of a trial's record is kept (trial_versions), rendered once at import
(sections and canonical text stored beside the record); trials keeps the current
listing and points at its current version. Full-text search: an FTS5 table fed by
triggers on SQLite, a generated tsvector column with a GIN index on PostgreSQL.
Existing trials become their own first stored version, rendered here by the service's
own parser and renderer (pure functions, the same code a load runs).
"""

import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_trial_versions"
down_revision = "0005_attempts"
branch_labels = None
depends_on = None

BATCH = 500

SQLITE_SEARCH = [
    # The NCT id, title, conditions, interventions and sponsor; the row id is the current version's id.
    "CREATE VIRTUAL TABLE trials_fts USING fts5(id, title, conditions, interventions, sponsor, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER trials_fts_insert AFTER INSERT ON trials WHEN new.version_id IS NOT NULL BEGIN "
    "INSERT INTO trials_fts (rowid, id, title, conditions, interventions, sponsor) "
    "VALUES (new.version_id, new.id, new.title, new.conditions, new.interventions, new.sponsor); END",
    "CREATE TRIGGER trials_fts_update AFTER UPDATE OF version_id, title, conditions, interventions, sponsor "
    "ON trials BEGIN "
    "DELETE FROM trials_fts WHERE rowid = old.version_id; "
    "INSERT INTO trials_fts (rowid, id, title, conditions, interventions, sponsor) "
    "SELECT new.version_id, new.id, new.title, new.conditions, new.interventions, new.sponsor "
    "WHERE new.version_id IS NOT NULL; END",
    "CREATE TRIGGER trials_fts_delete AFTER DELETE ON trials BEGIN "
    "DELETE FROM trials_fts WHERE rowid = old.version_id; END",
]
SQLITE_SEARCH_DROP = [
    "DROP TRIGGER trials_fts_delete",
    "DROP TRIGGER trials_fts_update",
    "DROP TRIGGER trials_fts_insert",
    "DROP TABLE trials_fts",
]
# Weights: A for the id and title, B conditions (a query can keep to them with `:B`), C interventions, D sponsor.
POSTGRESQL_SEARCH = [
    "ALTER TABLE trials ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', id), 'A') || "
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', conditions), 'B') || "
    "setweight(to_tsvector('english', interventions), 'C') || "
    "setweight(to_tsvector('english', sponsor), 'D')) STORED",
    "CREATE INDEX ix_trials_search ON trials USING gin (search)",
]
POSTGRESQL_SEARCH_DROP = [
    "DROP INDEX ix_trials_search",
    "ALTER TABLE trials DROP COLUMN search",
]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    op.create_table(
        "trial_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trial_id", sa.String(length=11), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=64), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("sponsor", sa.Text(), nullable=False),
        sa.Column("data_date", sa.Text(), nullable=True),
        sa.Column("first_posted", sa.Text(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("canonical_text", sa.Text(), nullable=False),
        sa.Column("sections", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_trial_versions_revision_positive")),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name=op.f("fk_trial_versions_trial_id_trials"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_versions")),
        sa.UniqueConstraint("trial_id", "revision", name="uq_trial_versions_trial_id_revision"),
    )
    op.add_column("trials", sa.Column("interventions", sa.Text(), nullable=False, server_default=""))
    op.add_column("trials", sa.Column("sponsor", sa.Text(), nullable=False, server_default=""))
    op.add_column("trials", sa.Column("version_id", sa.Integer(), nullable=True))
    op.create_index("ix_trials_version_id", "trials", ["version_id"], unique=True)
    op.create_index("ix_trials_title_id", "trials", ["title", "id"], unique=False)
    for statement in SQLITE_SEARCH if _sqlite() else POSTGRESQL_SEARCH:
        op.execute(statement)
    _store_current_versions()
    op.drop_column("trials", "record")


def _store_current_versions():
    """Each trial's record as it is becomes its stored version (revision kept), rendered once."""
    from notes_service.trials import ctgov, render

    bind = op.get_bind()
    ids = bind.execute(sa.text("SELECT id FROM trials ORDER BY id")).scalars().all()
    for start in range(0, len(ids), BATCH):
        rows = bind.execute(
            sa.text("SELECT id, record, revision, updated_at FROM trials WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids[start : start + BATCH]},
        ).all()
        for row in rows:
            study = ctgov.parse_study(json.loads(row.record))
            trial = render.render_trial(study)
            version_id = bind.execute(
                sa.text(
                    "INSERT INTO trial_versions (trial_id, revision, version, title, status, phase, conditions, "
                    "sponsor, data_date, first_posted, record, canonical_text, sections, loaded_at) VALUES "
                    "(:trial_id, :revision, :version, :title, :status, :phase, :conditions, :sponsor, :data_date, "
                    ":first_posted, :record, :canonical_text, :sections, :loaded_at) RETURNING id"
                ),
                {
                    "trial_id": row.id,
                    "revision": row.revision,
                    "version": study.version,
                    "title": trial.title,
                    "status": trial.status,
                    "phase": trial.phase,
                    "conditions": "\n".join(trial.conditions),
                    "sponsor": trial.sponsor,
                    "data_date": trial.data_date,
                    "first_posted": trial.first_posted,
                    "record": row.record,
                    "canonical_text": trial.canonical_text,
                    "sections": render.dump_sections(trial.sections),
                    "loaded_at": row.updated_at,
                },
            ).scalar_one()
            bind.execute(
                sa.text(
                    "UPDATE trials SET sponsor = :sponsor, interventions = :interventions, version_id = :version_id "
                    "WHERE id = :id"
                ),
                {
                    "sponsor": trial.sponsor,
                    "interventions": "\n".join(study.interventions),
                    "version_id": version_id,
                    "id": row.id,
                },
            )


def downgrade():
    op.add_column("trials", sa.Column("record", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE trials SET record = (SELECT v.record FROM trial_versions v WHERE v.id = trials.version_id) "
        "WHERE version_id IS NOT NULL"
    )
    if not _sqlite():
        op.alter_column("trials", "record", server_default=None)
    for statement in SQLITE_SEARCH_DROP if _sqlite() else POSTGRESQL_SEARCH_DROP:
        op.execute(statement)
    op.drop_index("ix_trials_title_id", table_name="trials")
    op.drop_index("ix_trials_version_id", table_name="trials")
    op.drop_column("trials", "version_id")
    op.drop_column("trials", "sponsor")
    op.drop_column("trials", "interventions")
    op.drop_table("trial_versions")
