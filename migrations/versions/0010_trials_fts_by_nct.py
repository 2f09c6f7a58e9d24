"""SQLite's search index keyed by NCT number, without a copy of the text

Revision ID: 0010_trials_fts_by_nct
Revises: 0009_trial_versions_lz4

A search ranks up to a thousand matches and needs only their NCT ids and scores. The FTS5
table of 0006 kept its own copy of the indexed text and was keyed by the current version's
id, so each ranked match read its NCT id out of that copy: a thousand row reads scattered
over tens of MB at 100,000 trials, most of a broad search's time there (profiled), and a cost
that grew with the store. Now the row id is the NCT number itself (NCT07085104 is row
7085104: every id is NCT and eight digits, ctgov.NCT_RE), so the index alone answers, and the
table is contentless (content=''): the text lives in `trials` only; the triggers delete an
entry by giving back the values it was indexed with, which the old row holds. PostgreSQL's
tsvector column is unchanged: nothing to do there.
"""

from alembic import op

# ruff: noqa: S608 - the statements are built from this file's constants only, never from input


# revision identifiers, used by Alembic.
revision = "0010_trials_fts_by_nct"
down_revision = "0009_trial_versions_lz4"
branch_labels = None
depends_on = None

COLUMNS = "id, title, conditions, interventions, sponsor"
TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2'"


def _values(row: str) -> str:
    return ", ".join(f"{row}.{column.strip()}" for column in COLUMNS.split(","))


def _number(row: str) -> str:
    return f"CAST(substr({row}.id, 4) AS INTEGER)"


DROP = [
    "DROP TRIGGER trials_fts_delete",
    "DROP TRIGGER trials_fts_update",
    "DROP TRIGGER trials_fts_insert",
    "DROP TABLE trials_fts",
]
BY_NCT = [
    f"CREATE VIRTUAL TABLE trials_fts USING fts5({COLUMNS}, content='', {TOKENIZE})",
    "CREATE TRIGGER trials_fts_insert AFTER INSERT ON trials WHEN new.version_id IS NOT NULL BEGIN "
    f"INSERT INTO trials_fts (rowid, {COLUMNS}) VALUES ({_number('new')}, {_values('new')}); END",
    f"CREATE TRIGGER trials_fts_update AFTER UPDATE OF version_id, {COLUMNS} ON trials BEGIN "
    f"INSERT INTO trials_fts (trials_fts, rowid, {COLUMNS}) "
    f"SELECT 'delete', {_number('old')}, {_values('old')} WHERE old.version_id IS NOT NULL; "
    f"INSERT INTO trials_fts (rowid, {COLUMNS}) "
    f"SELECT {_number('new')}, {_values('new')} WHERE new.version_id IS NOT NULL; END",
    "CREATE TRIGGER trials_fts_delete AFTER DELETE ON trials WHEN old.version_id IS NOT NULL BEGIN "
    f"INSERT INTO trials_fts (trials_fts, rowid, {COLUMNS}) VALUES ('delete', {_number('old')}, {_values('old')}); "
    "END",
    f"INSERT INTO trials_fts (rowid, {COLUMNS}) SELECT {_number('trials')}, {_values('trials')} "
    "FROM trials WHERE version_id IS NOT NULL",
]
# 0006's index, as it was: its own copy of the text, keyed by the current version's id.
BY_VERSION = [
    f"CREATE VIRTUAL TABLE trials_fts USING fts5({COLUMNS}, {TOKENIZE})",
    "CREATE TRIGGER trials_fts_insert AFTER INSERT ON trials WHEN new.version_id IS NOT NULL BEGIN "
    f"INSERT INTO trials_fts (rowid, {COLUMNS}) VALUES (new.version_id, {_values('new')}); END",
    f"CREATE TRIGGER trials_fts_update AFTER UPDATE OF version_id, {COLUMNS} ON trials BEGIN "
    "DELETE FROM trials_fts WHERE rowid = old.version_id; "
    f"INSERT INTO trials_fts (rowid, {COLUMNS}) SELECT new.version_id, {_values('new')} "
    "WHERE new.version_id IS NOT NULL; END",
    "CREATE TRIGGER trials_fts_delete AFTER DELETE ON trials BEGIN "
    "DELETE FROM trials_fts WHERE rowid = old.version_id; END",
    f"INSERT INTO trials_fts (rowid, {COLUMNS}) SELECT version_id, {_values('trials')} "
    "FROM trials WHERE version_id IS NOT NULL",
]


def _run(statements: list[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in statements:
        op.execute(statement)


def upgrade():
    _run(DROP + BY_NCT)


def downgrade():
    _run(DROP + BY_VERSION)
