"""PostgreSQL searches a narrow table of the vectors, kept by a trigger: trial_search

Revision ID: 0015_trial_search
Revises: 0014_notes_page_index

A broad search's first 1,000 matches are read and ranked from `trials.search`, the generated
tsvector of 0006. It is the last column of rows of 751 bytes on average, after four text
columns: every match read walks the whole row to reach its vector, and at 100,000 trials that
was most of the search (issue 17: the p99 at 100,000 trials was 1.5-1.8 times that at 1,000).
The same statement on a narrow copy (id, search) with its own GIN index, on the 100,000-trial
store: 4.0 -> 1.4 ms for "placebo", 3.1 -> 1.05 ms for "cancer". So the vectors now live in
`trial_search` as well, one row per trial with a current version (as SQLite's index keeps only
those), written by a trigger on `trials` whenever the vector or the current version changes,
and gone with their trial by the foreign key's cascade. The generated column stays the source
of the vector (an AFTER trigger sees it computed); its GIN index on `trials` is no longer read
and is dropped (concurrently, after the revision's transaction), so an import maintains one
index of the text, not two. SQLite's FTS5 index is
already apart from the rows: nothing to do there. Downgrading gives back `ix_trials_search`.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0015_trial_search"
down_revision = "0014_notes_page_index"
branch_labels = None
depends_on = None

# Column list of the trigger = the generated column's sources and the current version: an
# UPDATE that sets none of them leaves the vector as it was.
WATCHED = "version_id, title, conditions, interventions, sponsor"

TABLE = (
    "CREATE TABLE trial_search ("
    "id varchar(11) NOT NULL, "
    "search tsvector NOT NULL, "
    "CONSTRAINT pk_trial_search PRIMARY KEY (id), "
    "CONSTRAINT fk_trial_search_id_trials FOREIGN KEY (id) REFERENCES trials (id) ON DELETE CASCADE)"
)
# An UPDATE that leaves the vector and the current version as they were writes nothing;
# otherwise the row is written, or deleted when the trial has no current version.
FUNCTION = (
    "CREATE FUNCTION trial_search_write() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "IF TG_OP = 'UPDATE' AND NEW.search IS NOT DISTINCT FROM OLD.search "
    "AND (NEW.version_id IS NULL) = (OLD.version_id IS NULL) THEN RETURN NULL; END IF; "
    "IF NEW.version_id IS NULL THEN "
    "DELETE FROM trial_search WHERE id = NEW.id; "
    "ELSE "
    "INSERT INTO trial_search (id, search) VALUES (NEW.id, NEW.search) "
    "ON CONFLICT (id) DO UPDATE SET search = EXCLUDED.search "
    "WHERE trial_search.search IS DISTINCT FROM EXCLUDED.search; "
    "END IF; "
    "RETURN NULL; "
    "END $$"
)
UPGRADE = [
    TABLE,
    FUNCTION,
    # The trigger first: creating it waits for the imports under way and holds off new ones
    # until the migration commits, so the fill below misses no trial written meanwhile.
    f"CREATE TRIGGER trials_trial_search AFTER INSERT OR UPDATE OF {WATCHED} ON trials "
    "FOR EACH ROW EXECUTE FUNCTION trial_search_write()",
    "INSERT INTO trial_search (id, search) SELECT id, search FROM trials WHERE version_id IS NOT NULL",
    # Built after the fill: one sorted build instead of 100,000 insertions into the index.
    "CREATE INDEX ix_trial_search_search ON trial_search USING gin (search)",
    "ANALYZE trial_search",
]
# After the revision's transaction, on its own: a plain DROP INDEX in it would ask for an
# exclusive lock on `trials` while holding the trigger's, so an import batch that had read
# `trials` and waits to write it would deadlock with the migration, and every reader of
# `trials` would queue behind the request meanwhile.
UPGRADE_AFTER = ["DROP INDEX CONCURRENTLY IF EXISTS ix_trials_search"]
DOWNGRADE = [
    "DROP TRIGGER trials_trial_search ON trials",
    "DROP FUNCTION trial_search_write()",
    "DROP TABLE trial_search",
]
# The index on `trials` back, built without holding the writes to `trials` (nor its readers).
DOWNGRADE_AFTER = [
    "DROP INDEX CONCURRENTLY IF EXISTS ix_trials_search",  # an invalid one, left by a build that failed
    "CREATE INDEX CONCURRENTLY ix_trials_search ON trials USING gin (search)",
]


def _run(statements: list[str], after: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in statements:
        op.execute(statement)
    with op.get_context().autocommit_block():  # commits the statements above first
        for statement in after:
            op.execute(statement)


def upgrade():
    _run(UPGRADE, UPGRADE_AFTER)


def downgrade():
    _run(DOWNGRADE, DOWNGRADE_AFTER)
