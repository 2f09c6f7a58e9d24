"""HTML pages of the trial store: the index (paged, searchable without JavaScript) and one trial."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..i18n import record_date
from . import service
from .presenter import render_sections

bp = Blueprint("trial_pages", __name__)


@bp.get("/")
def index() -> str:
    """The trial index: a page of trials, a search form, and links to the next and previous pages."""
    keyword = request.args.get("q", "").strip()[:200]
    page = service.list_trials(keyword=keyword or None, cursor=request.args.get("cursor") or None)
    return render_template("index.html", page=page, trials=page.trials, keyword=keyword)


@bp.get("/trials/<nct>")
def trial_page(nct: str) -> str:
    """A trial page whose notes root holds the canonical text; it embeds the widget."""
    row = service.get_trial_row(nct)
    trial = service.get_trial(row.id)
    return render_template(
        "trial.html",
        trial=trial,
        row=row,
        body=render_sections(trial.sections),
        data_date=record_date(trial.data_date),
    )
