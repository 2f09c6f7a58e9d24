"""Trial store JSON API: list and search trials, read one, list its versions."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .. import registry
from ..clock import isoformat
from ..web import allowed_origin
from . import ctgov, service
from .presenter import present_summary, present_text

bp = Blueprint("trials_api", __name__, url_prefix="/api/v1/trials")

MAX_QUERY = 200


def _arg(name: str) -> str | None:
    return request.args.get(name, "").strip()[:MAX_QUERY] or None


@bp.get("")
def list_trials() -> dict[str, object]:
    """A page of trials: by title, or ranked by a full-text search of `q` (and `condition`)."""
    page = service.list_trials(
        keyword=_arg("q"),
        condition=_arg("condition"),
        cursor=request.args.get("cursor") or None,
        limit=request.args.get("limit"),
    )
    body: dict[str, object] = {
        "trials": [present_summary(row) for row in page.trials],
        "next": page.next,
        "previous": page.previous,
    }
    if page.matches is not None:
        body["matches"] = page.matches
        body["matches_capped"] = page.capped
    return body


# The widget asks once per page: a page fixing its setup sees the change within a minute.
EMBED_CHECK_MAX_AGE = 60


@bp.get("/<nct>/embedding")
def check_embedding(nct: str) -> Response:
    """Whether the widget can work for this trial on the calling page: the trial known, the origin allowed."""
    key = service.trial_key(nct)
    row = service.find_trial_row(key) if key else None
    origin = request.headers.get("Origin")
    response = jsonify(
        trial=nct[:32],
        known=row is not None,
        title=row.title if row is not None else None,
        origin=origin[:256] if origin else None,
        # No Origin: a same-origin request (browsers send one on every cross-origin fetch), or no browser.
        origin_allowed=not origin or allowed_origin(registry.settings()) is not None,
    )
    # Readable from any page, the refused ones included: telling them why is the point.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={EMBED_CHECK_MAX_AGE}"
    return response


@bp.get("/<nct>")
def read_trial(nct: str) -> dict[str, object]:
    """One trial with its sections: its current version, or the one `version` names."""
    row = service.get_trial_row(nct)
    trial = service.get_trial(row.id, version=request.args.get("version") or None)
    return {
        **present_summary(row),
        "title": trial.title,
        "status": trial.status,
        "phase": trial.phase,
        "conditions": list(trial.conditions),
        "version": trial.version,
        "sponsor": trial.sponsor,
        "data_date": trial.data_date,
        "first_posted": trial.first_posted,
        "revision": trial.revision,
        "current": trial.revision == row.revision,
        "updated_at": isoformat(row.updated_at),
        **present_text(trial),
        "source": ctgov.SOURCE,
    }


@bp.get("/<nct>/versions")
def list_versions(nct: str) -> dict[str, object]:
    """The trial's stored versions, newest first (paged)."""
    page = service.list_versions(nct, cursor=request.args.get("cursor") or None, limit=request.args.get("limit"))
    return {
        "versions": [
            {
                "revision": v.revision,
                "version": v.version,
                "data_date": v.data_date,
                "loaded_at": isoformat(v.loaded_at),
                "current": v.revision == page.trial.revision,
                "url": f"/api/v1/trials/{page.trial.id}?version={v.revision}",
            }
            for v in page.versions
        ],
        "next": page.next,
    }
