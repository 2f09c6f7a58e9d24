"""Notebook and note routes: parse, call one service function, present."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, json, request

from ..errors import BadRequest
from ..extensions import rate_limited
from ..paging import PageRequest, parse_page_request
from ..web import accepted, accepts, created
from . import service
from .auth import bearer_token, current_notebook
from .presenters import export_key, present_export, present_note, present_notes_page, present_trials_page
from .schemas import NoteInput, NotePatch

bp = Blueprint("notes_api", __name__, url_prefix="/api/v1")


@bp.post("/notebooks")
@rate_limited("notebooks")
def create_notebook() -> Response:
    """A new anonymous notebook; its token is shown this once."""
    notebook, token = service.create_notebook()
    return created({"notebook_id": notebook.id, "token": token}, "/api/v1/notebooks/me")


@bp.delete("/notebooks/me")
def delete_notebook() -> Response:
    """Delete my notebook, its notes and its shares."""
    service.delete_notebook(current_notebook())
    return Response(status=204)


# Sort keys the cursors carry: (created_at, id) for a trial's notes; (trial, created_at,
# id, index of the next page in the collection) for the export.
NOTE_KEY = (datetime, str)
EXPORT_KEY = (str, datetime, str, int)


@bp.get("/notebooks/me/export")
def export_notebook() -> Response:
    """A page of every note as W3C Web Annotations; the first inside its AnnotationCollection."""
    notebook = current_notebook()
    page = parse_page_request(request.args, EXPORT_KEY)
    start = page.after[3] if page.after else 0
    found = service.export_notes(notebook, PageRequest(page.after[:3] if page.after else None, page.limit))
    host = request.host_url.rstrip("/")
    body = present_export(found, host, f"{host}/api/v1/notebooks/me/export", start, first=page.after is None)
    return Response(
        json.dumps(body),
        mimetype="application/ld+json",
        headers={"Content-Disposition": 'attachment; filename="trial-notes.jsonld"'},
    )


# (last edited, NCT number) for the trials holding my notes; (trial, created_at, id) for all my notes.
TRIAL_KEY = (datetime, str)
ALL_NOTES_KEY = (str, datetime, str)


@bp.get("/notebooks/me/trials")
@rate_limited("notebook_reads")
def list_my_trials() -> Response:
    """A page of the trials holding my notes (title, count, last edited), the last edited first."""
    notebook = current_notebook()
    page = parse_page_request(request.args, TRIAL_KEY)
    found, more = service.my_trials(notebook, page)
    return Response(json.dumps(present_trials_page(found, more)), mimetype="application/json")


@bp.get("/notebooks/me/notes")
@rate_limited("notebook_reads")
def list_all_notes() -> Response:
    """A page of every note of mine, by trial then age (the widget's "All trials" and its search)."""
    notebook = current_notebook()
    page = parse_page_request(request.args, ALL_NOTES_KEY)
    return Response(present_notes_page(service.all_notes(notebook, page), export_key), mimetype="application/json")


@bp.get("/trials/<nct>/notes")
def list_notes(nct: str) -> Response:
    """A page of my notes on a trial and the cursor of the next."""
    try:
        page = parse_page_request(request.args, NOTE_KEY)
    except BadRequest:
        current_notebook()  # a bad token's 401 comes before a bad cursor's 400, as on every route
        raise
    found = service.my_notes_on_trial(bearer_token(), nct, page)
    return Response(present_notes_page(found), mimetype="application/json")


@bp.post("/trials/<nct>/notes")
@accepts(NoteInput)
@rate_limited("notes")
def create_note(nct: str) -> Response:
    """Add a note to a trial."""
    notebook = current_notebook()
    note, new = service.create_note(notebook, nct, accepted(NoteInput))
    if not new:  # the same id sent again: the note as stored
        return Response(json.dumps(present_note(note)), mimetype="application/json")
    return created(present_note(note), f"/api/v1/notes/{note.id}")


@bp.get("/notes/<note_id>")
def read_note(note_id: str) -> dict[str, Any]:
    """One of my notes."""
    return present_note(service.get_note(current_notebook(), note_id))


@bp.patch("/notes/<note_id>")
@accepts(NotePatch)
def update_note(note_id: str) -> dict[str, Any]:
    """Change one of my notes."""
    notebook = current_notebook()
    return present_note(service.update_note(notebook, note_id, accepted(NotePatch)))


@bp.delete("/notes/<note_id>")
def delete_note(note_id: str) -> Response:
    """Delete one of my notes."""
    service.delete_note(current_notebook(), note_id)
    return Response(status=204)
