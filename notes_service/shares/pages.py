"""The family's share page: a passcode form, then the trial with the shared notes.

Rendered on the server with no script at all, so it works with JavaScript off. After a
right passcode, a signed cookie scoped to this share's path keeps it open for 30 minutes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from .. import registry
from ..errors import BadRequest, Closed, DomainError, Invalid, NotFound, Unauthorized
from ..extensions import client_address, rate_limited
from ..i18n import format_moment, gettext, record_date, use_page_language
from ..notes.auth import is_row_id
from ..paging import PageRequest, decode_cursor, encode_cursor, parse_page_request
from ..trials import service as trials
from ..trials.presenter import Mark, render_sections
from . import replies, service
from .api import count_reply, reply_stored, share_of_link
from .models import Share
from .schemas import MAX_REPLIES_PER_NOTE, MAX_REPLY_CHARS, MAX_REPLY_NAME_CHARS, MAX_SHARED_NOTES
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
# "Show passcode" switch, and the form sent once for a double tap (static/share-form.js).
# The pages with the notes run none at all.
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


@bp.before_request
def _share_language() -> None:
    """Every page of a link in its share's language (unless the reader chose one), its switch leading to the share.

    Set before the view, for what answers before it finds the share: a rate limit, a body too large.
    """
    token = str((request.view_args or {}).get("token", ""))
    use_page_language(service.share_language(token), f"/s/{token}")


def _session_share_id() -> str | None:
    return session_share_id(request.cookies.get(COOKIE_NAME))


def _state_page(error: DomainError) -> Response:
    response = _page(
        "share_state.html", error.status, title=gettext(error.title), detail=error.detail, code=error.status
    )
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@dataclass(frozen=True)
class ReplyDraft:
    """A reply the page could not take, shown again in its note's form with the reason."""

    note_id: str
    error: str
    body: str
    name: str
    reply_id: str  # the form's, sent again with it


def new_reply_id() -> str:
    """The id a reply form gives its reply, so the same form sent twice stores one reply."""
    return uuid.uuid4().hex


def _content(
    share: Share, token: str, draft: ReplyDraft | None = None, status: int = 200, args: Any = None
) -> Response:
    args = request.args if args is None else args
    page = parse_page_request(args, PAGE_KEY, default_limit=PAGE_NOTES, max_limit=PAGE_NOTES)
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
        # A page whose notes were all deleted while it was read goes on from its position.
        last = (views[-1].created_at, views[-1].id) if views else found.last
        next_url = f"/s/{token}?cursor={encode_cursor((*last, start + len(views)))}" if last else None
    return _page(
        "share.html",
        status,
        token=token,
        cursor=args.get("cursor") if start else None,
        replies=replies.SharedReplies(share),
        replies_open=replies.replies_open(share),
        reply_limits={"body": MAX_REPLY_CHARS, "name": MAX_REPLY_NAME_CHARS, "per_note": MAX_REPLIES_PER_NOTE},
        draft=draft,
        # A reply to a note not on the page (deleted, or taken out of the share, meanwhile): said at the top.
        stray_draft=draft if draft and draft.note_id not in {note.id for note in views if note.readable} else None,
        new_reply_id=new_reply_id,
        format_moment=format_moment,
        highlight_names=highlight_names(),
        trial=trial,
        row=row,
        placed=placed,
        orphans=orphans,
        body=render_sections(trial.sections, marks, links=True, heading_offset=1),
        share=share,
        data_date=record_date(trial.data_date),
        total=found.total if found else 0,
        first_index=start + 1,
        last_index=start + len(views),
        next_url=next_url,
        first_url=f"/s/{token}" if start else None,
        record_date=record_date,
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
    return _passcode_form(token=token, error=None, sender=service.sender_name(share))


@bp.post("/s/<token>")
@rate_limited("passcode")
def share_page_unlock(token: str) -> BaseResponse:
    """Check the passcode from the form; on success set the cookie and redirect to the notes' first page."""
    try:
        # Opening checks the passcode and counts the view without loading a note: the page
        # the redirect leads to reads only its own 25.
        service.find_share(token)
        opened = service.open_share(token, request.form.get("passcode", ""), client=client_address())
    except Unauthorized as error:
        return _passcode_form(401, token=token, error=error.detail, sender=_sender_of(token))
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


def _sender_of(token: str) -> str | None:
    try:
        return service.sender_name(service.find_share(token))
    except DomainError:
        return None


def highlight_names() -> dict[str, str]:
    """What each colour of the palette is called beside a shared note, in the reader's language."""
    return {
        "yellow": gettext("Yellow highlight"),
        "green": gettext("Green highlight"),
        "blue": gettext("Blue highlight"),
        "pink": gettext("Pink highlight"),
        "purple": gettext("Purple highlight"),
    }


def _form_cursor() -> str | None:
    """The page cursor the reply form was sent from (a hidden field), if it is one of ours."""
    cursor = request.form.get("cursor", "")
    if not cursor:
        return None
    try:
        decode_cursor(cursor, PAGE_KEY)
    except BadRequest:
        return None
    return cursor


def _back_to_note(token: str, cursor: str | None) -> str:
    """The page and note the reply form was sent from, to return to."""
    number = request.form.get("number", "")
    query = f"?cursor={cursor}" if cursor else ""
    known = number.isascii() and number.isdigit() and len(number) <= 5 and 0 < int(number) <= MAX_SHARED_NOTES
    return f"/s/{token}{query}{'#note-' + number if known else ''}"


@bp.get("/s/<token>/notes/<note_id>/replies")
def share_page_reply_address(token: str, note_id: str) -> BaseResponse:
    """The reply form's address asked for as a page (a refused reply reloaded, a tab restored): the share's page."""
    try:
        service.find_share(token)  # only a link of ours goes into the Location header
    except DomainError as error:
        return _state_page(error)
    return _harden(redirect(f"/s/{token}", code=303))


@bp.post("/s/<token>/notes/<note_id>/replies")
@rate_limited("replies")
@rate_limited("share_replies", per=share_of_link, counts=reply_stored)
def share_page_reply(token: str, note_id: str) -> BaseResponse:
    """The reply form of a note: store the reply and go back to the note, or show the form again with why.

    The share-page cookie (SameSite=Strict, scoped to this share's path) is the proof of a
    right passcode; a form posted from another site comes without it and is refused.
    """
    try:
        share = service.find_share(token)
        if _session_share_id() != share.id:
            service.refuse_unless_open(share, registry.now())  # the passcode would not open it: say why
            raise Unauthorized(gettext("Your reading time ended, so the reply was not sent. Type the passcode again."))
        share = service.session_share(share)
    except Unauthorized as error:
        return _passcode_form(401, token=token, error=error.detail, sender=_sender_of(token))
    except DomainError as error:
        return _state_page(error)
    # A browser sends each line break of a textarea as CR LF, two characters where its maxlength
    # counted one: as the form counted them, so a reply the form let through is not too long here.
    body, name = request.form.get("body", "").replace("\r\n", "\n"), request.form.get("name", "")
    cursor = _form_cursor()
    try:
        if len(body) > MAX_REPLY_CHARS or len(name) > MAX_REPLY_NAME_CHARS:
            raise Invalid(
                gettext(
                    "A reply is at most %(body)s characters and a name at most %(name)s.",
                    body=MAX_REPLY_CHARS,
                    name=MAX_REPLY_NAME_CHARS,
                )
            )
        _reply, stored = replies.add_reply(share, note_id, body, name or None, reply_id=request.form.get("reply_id"))
        count_reply(stored)
    except (Invalid, Closed, NotFound) as error:
        if isinstance(error, NotFound):  # the note gone meanwhile (the page says so), or the share
            try:
                share = service.session_share(service.find_share(token))
            except DomainError as gone:
                return _state_page(gone)
        sent_as = request.form.get("reply_id", "")
        kept = body[:MAX_REPLY_CHARS], name[:MAX_REPLY_NAME_CHARS], sent_as if is_row_id(sent_as) else new_reply_id()
        draft = ReplyDraft(note_id, error.detail, *kept)
        return _content(share, token, draft, error.status, {"cursor": cursor} if cursor else {})
    except DomainError as error:  # a share revoked meanwhile
        return _state_page(error)
    return _harden(redirect(_back_to_note(token, cursor), code=303))
