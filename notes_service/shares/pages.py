"""The family's share page: a passcode form, then the trial with the shared notes.

Rendered on the server with no script at all, so it works with JavaScript off. After a
right passcode, a signed cookie scoped to this share's path keeps it open for 30 minutes.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, redirect, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..clock import utcnow
from ..errors import DomainError, Unauthorized
from ..extensions import rate_limited
from ..trials import service as trials
from ..trials.presenter import Mark, render_sections
from ..trials.render import format_date
from . import service
from .api import share_rate_limit

bp = Blueprint("share_pages", __name__)

SESSION_SECONDS = 30 * 60
COOKIE_NAME = "trial_notes_share"
SHARE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="share-page-session")


def _harden(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Content-Security-Policy"] = SHARE_CSP
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _page(template: str, status: int = 200, **context: object) -> Response:
    response = make_response(render_template(template, **context), status)
    return _harden(response)


def _session_share_id(token: str) -> str | None:
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=SESSION_SECONDS)
    except BadSignature:
        return None
    return data.get("s") if isinstance(data, dict) else None


def _state_page(error: DomainError) -> Response:
    response = _page("share_state.html", error.status, title=error.title, detail=error.detail,
                     code=error.status)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _content(opened: service.OpenedShare) -> Response:
    row = trials.get_trial_row(opened.share.trial_id)
    trial = trials.get_trial(row.id)
    placed, orphans, marks = [], [], []
    for index, note in enumerate(opened.notes, start=1):
        position = note.position if note.anchor == "anchored" else None
        if position is None:
            orphans.append((index, note))
            continue
        placed.append((index, note, position))
        marks.append(Mark(position[0], position[1], f"note-{index}", note.color))
    return _page("share.html", trial=trial, row=row, placed=placed, orphans=orphans,
                 body=render_sections(trial.sections, marks, links=True, heading_offset=1), share=opened.share,
                 data_date=format_date(trial.data_date))


@bp.get("/s/<token>")
def share_page(token: str) -> Response:
    """The passcode form, or the shared notes while the share-page cookie is valid."""
    try:
        share = service.find_share(token)
        session_id = _session_share_id(token)
        if session_id == share.id:
            return _content(service.session_view(share.id))
        service.refuse_unless_open(share, utcnow())
    except DomainError as error:
        return _state_page(error)
    return _page("share_form.html", token=token, error=None)


@bp.post("/s/<token>")
@rate_limited(share_rate_limit)
def share_page_unlock(token: str) -> Response:
    """Check the passcode from the form; on success set the cookie and show the notes."""
    try:
        opened = service.open_share(token, request.form.get("passcode", ""))
    except Unauthorized as error:
        return _page("share_form.html", 401, token=token, error=error.detail)
    except DomainError as error:
        return _state_page(error)
    response = redirect(f"/s/{token}", code=303)
    response.set_cookie(
        COOKIE_NAME,
        _serializer().dumps({"s": opened.share.id}),
        max_age=SESSION_SECONDS,
        path=f"/s/{token}",
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return _harden(response)
