"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from . import registry
from .errors import N_, problem
from .extensions import db
from .i18n import gettext
from .keys import key_problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _database_answers() -> bool:
    # Twice: the pool does not ping before handing a connection out, so after a database
    # restart the first statement meets a dropped connection (discarded as it fails).
    for _ in range(2):
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            db.session.rollback()
        else:
            return True
    return False


@bp.get("/readyz")
def readyz() -> Response | dict[str, str]:
    """The database answers and the keys are loaded."""
    if not _database_answers():
        return problem(503, N_("Not ready"), gettext("The database is not reachable."), slug="not-ready")
    collaborators = registry.current()
    ring = collaborators.keyring
    if not ring:
        return problem(503, N_("Not ready"), gettext("No encryption keys are loaded."), slug="not-ready")
    if not collaborators.keys_verified:
        # The database was down at start-up, so the keys were never checked against it: until
        # they are, "keys ok" would be a guess (a wrong key reads every note as unreadable).
        try:
            wrong = key_problem(ring)
            db.session.commit()
        except OperationalError:  # e.g. SQLite busy while storing a missing check: next probe
            db.session.rollback()
            return problem(
                503, N_("Not ready"), gettext("The keys are not checked against the database yet."), slug="not-ready"
            )
        if wrong:
            current_app.logger.error("%s", wrong)
            return problem(503, N_("Not ready"), wrong, slug="not-ready")
        collaborators.keys_verified = True
    return {"status": "ready", "database": "ok", "keys": "ok"}
