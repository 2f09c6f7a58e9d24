"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from .errors import problem
from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The database answers and the keys are loaded."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return problem(503, "Not ready", "The database is not reachable.", slug="not-ready")
    if not current_app.extensions.get("notes_keyring"):
        return problem(503, "Not ready", "No encryption keys are loaded.", slug="not-ready")
    return {"status": "ready", "database": "ok", "keys": "ok"}
