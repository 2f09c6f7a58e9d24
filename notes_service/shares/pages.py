"""The family's share page: a passcode form, then the trial with the shared notes.

Rendered on the server with no script at all, so it works with JavaScript off. After a
right passcode, a signed cookie scoped to this share's path keeps it open for 30 minutes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from flask import Blueprint, Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from .. import registry
from ..errors import DomainError, Unauthorized
from ..extensions import client_address, rate_limited
from ..paging import PageRequest, encode_cursor, parse_page_request
from ..trials import service as trials
from ..trials.presenter import Mark, render_sections
from ..trials.render import format_date
from . import service
from .models import Share
from .sessions import SESSION_SECONDS, issue_session, session_share_id

# Flask's own responses, or werkzeug's (what flask.redirect is typed as returning).
AnyResponse = TypeVar("AnyResponse", bound=BaseResponse)

bp = Blueprint("share_pages", __name__)

# Notes per share page. A stored note is at most 10,000 characters of body and 2,000 of
# quote, about 60 KB of HTML at worst, so a page of them stays near 1.5 MB besides the trial
# text, whatever the share holds; more come through a plain "Next notes" link (no script).
PAGE_NOTES = 25
# The page cursor carries the last note's (created_at, id) and the next page's first number.
PAGE_KEY = (datetime, str, int)
COOKIE_NAME = "trial_notes_share"
SHARE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The passcode form shows no note and no user's text, and runs one script of ours: the
# "Show passcode" switch (static/share-form.js). The pages with the notes run none at all.
SHARE_FORM_CSP = SHARE_CSP + "; script-src 'self'"


def _harden(response: AnyResponse, csp: str = SHARE_CSP) -> AnyResponse:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _page(template: str, status: int = 200, **context: object) -> Response:
    response = make_response(render_template(template, **context), status)
    return _harden(response)


def _passcode_form(status: int = 200, **context: object) -> Response:
    """The passcode form: the one share page that runs a script (static/share-form.js)."""
    return _harden(make_response(render_template("share_form.html", **context), status), SHARE_FORM_CSP)


def _session_share_id() -> str | None:
    return session_share_id(request.cookies.get(COOKIE_NAME))


def _state_page(error: DomainError) -> Response:
    response = _page("share_state.html", error.status, title=error.title, detail=error.detail, code=error.status)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _content(share: Share, token: str) -> Response:
    page = parse_page_request(request.args, PAGE_KEY, default_limit=PAGE_NOTES, max_limit=PAGE_NOTES)
    start = page.after[2] if page.after else 0
    found = service.shared_notes_page(share, PageRequest(page.after[:2] if page.after else None, page.limit))
    views = list(found.notes) if found else []
    row = trials.get_trial_row(share.trial_id)
    trial = trials.get_trial(row.id)
    placed, orphans, marks = [], [], []
    # Numbered across pages, so "note 27" is the same note whichever page shows it.
    for index, note in enumerate(views, start=start + 1):
        if not note.readable:
            continue
        # A changed passage is marked where it reads now (unless it is gone), in a style of its own.
        on_text = note.anchor == "anchored" or (note.change is not None and note.change.after is not None)
        position = note.position if on_text else None
        if position is None:
            orphans.append((index, note))
            continue
        placed.append((index, note, position))
        marks.append(Mark(position[0], position[1], f"note-{index}", note.color, changed=note.change is not None))
    next_url = None
    if found and found.more:
        last = views[-1]
        next_url = f"/s/{token}?cursor={encode_cursor((last.created_at, last.id, start + len(views)))}"
    return _page(
        "share.html",
        trial=trial,
        row=row,
        placed=placed,
        orphans=orphans,
        body=render_sections(trial.sections, marks, links=True, heading_offset=1),
        share=share,
        data_date=format_date(trial.data_date),
        total=found.total if found else 0,
        first_index=start + 1,
        last_index=start + len(views),
        next_url=next_url,
        first_url=f"/s/{token}" if start else None,
        format_date=format_date,
    )


@bp.get("/s/<token>")
@rate_limited("share_page")
def share_page(token: str) -> Response:
    """The passcode form, or a page of the shared notes while the share-page cookie is valid."""
    try:
        share = service.find_share(token)
        session_id = _session_share_id()
        if session_id == share.id:
            return _content(service.session_share(share), token)
        service.refuse_unless_open(share, registry.now())
    except DomainError as error:
        return _state_page(error)
    return _passcode_form(token=token, error=None)


@bp.post("/s/<token>")
@rate_limited("passcode")
def share_page_unlock(token: str) -> BaseResponse:
    """Check the passcode from the form; on success set the cookie and redirect to the notes' first page."""
    try:
        # Opening checks the passcode and counts the view without loading a note: the page
        # the redirect leads to reads only its own 25.
        opened = service.open_share(token, request.form.get("passcode", ""), client=client_address())
    except Unauthorized as error:
        return _passcode_form(401, token=token, error=error.detail)
    except DomainError as error:
        return _state_page(error)
    response = redirect(f"/s/{token}", code=303)
    response.set_cookie(
        COOKIE_NAME,
        issue_session(opened.share.id),
        max_age=SESSION_SECONDS,
        path=f"/s/{token}",
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return _harden(response)
