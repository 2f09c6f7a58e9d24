"""Trial store JSON API: list and read trials."""

from __future__ import annotations

from flask import Blueprint, request

from ..clock import isoformat
from . import service, store
from .models import Trial

bp = Blueprint("trials_api", __name__, url_prefix="/api/v1/trials")

MAX_QUERY = 200


def present_summary(row: Trial) -> dict[str, object]:
    """A trial as listed."""
    return {
        "id": row.id,
        "title": row.title,
        "status": row.status,
        "phase": row.phase,
        "conditions": row.condition_list,
        "version": row.version,
        "url": f"/trials/{row.id}",
    }


def present_text(trial: store.Trial) -> dict[str, object]:
    """A trial's sections and the canonical text notes anchor to."""
    return {
        "sections": [
            {"id": s.id, "heading": s.heading, "level": s.level, "text": s.text}
            for s in trial.sections
        ],
        "text": trial.canonical_text,
    }


@bp.get("")
def list_trials() -> dict[str, object]:
    """Trials in the store, filtered by `q` (keyword) and `condition`."""
    keyword = request.args.get("q", "").strip()[:MAX_QUERY] or None
    condition = request.args.get("condition", "").strip()[:MAX_QUERY] or None
    rows = service.search_trials(keyword=keyword, condition=condition)
    return {"trials": [present_summary(row) for row in rows], "count": len(rows)}


@bp.get("/<nct>")
def read_trial(nct: str) -> dict[str, object]:
    """One trial with its sections and content version."""
    row = service.get_trial_row(nct)
    trial = service.get_trial(row.id)
    return {
        **present_summary(row),
        "sponsor": trial.sponsor,
        "data_date": trial.data_date,
        "first_posted": trial.first_posted,
        "revision": row.revision,
        "updated_at": isoformat(row.updated_at),
        **present_text(trial),
        "source": "ClinicalTrials.gov",
    }
