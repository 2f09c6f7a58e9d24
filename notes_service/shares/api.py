"""Share routes: the owner's management API and the passcode-protected read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, request

from .. import crypto
from ..clock import isoformat
from ..errors import Invalid
from ..extensions import client_address, rate_limited
from ..notes.auth import current_notebook
from ..notes.models import Notebook
from ..paging import RESPONSE_BUDGET, PageRequest, parse_page_request
from ..trials import service as trials
from ..trials.presenter import present_summary, present_text
from ..web import accepted, accepts, created, json_size
from . import replies, service
from .models import Share
from .presenters import (
    present_replies_page,
    present_reply,
    present_share,
    present_shared_notes,
    present_shares_page,
)
from .schemas import (
    REPLIES_PER_PAGE,
    SHARES_PER_PAGE,
    OpenShare,
    RepliesSeen,
    ReplyInput,
    SharedNotesRequest,
    ShareInput,
    SharePatch,
)
from .sessions import SESSION_SECONDS, issue_session

bp = Blueprint("shares_api", __name__, url_prefix="/api/v1")


def share_url(token: str) -> str:
    """The link given to family: the only URL we make that carries a secret (the share token)."""
    return f"{request.host_url.rstrip('/')}/s/{token}"


def _presented(notebook: Notebook, share: Share) -> dict[str, Any]:
    return present_share(share, service.share_details(notebook, [share])[share.id])


@bp.post("/shares")
@accepts(ShareInput)
@rate_limited("shares")
def create_share() -> Response:
    """Share chosen notes on a trial behind a passcode."""
    notebook = current_notebook()
    share, token, generated = service.create_share(notebook, accepted(ShareInput), client=client_address())
    body = {**_presented(notebook, share), "url": share_url(token)}
    if generated:
        body["passcode"] = generated
    return created(body, f"/api/v1/shares/{share.id}")


# The share list's cursor carries the last share's (created_at, id).
SHARE_KEY = (datetime, str)


@bp.get("/shares")
def list_shares() -> dict[str, Any]:
    """A page of my shares with views, failed attempts and state, and the cursor of the next."""
    trial_id = request.args.get("trial_id", "").strip()[:20] or None
    page = parse_page_request(request.args, SHARE_KEY, default_limit=SHARES_PER_PAGE, max_limit=SHARES_PER_PAGE)
    return present_shares_page(service.list_shares(current_notebook(), page, trial_id))


@bp.get("/shares/<share_id>")
def read_share(share_id: str) -> dict[str, Any]:
    """One of my shares."""
    notebook = current_notebook()
    return _presented(notebook, service.get_share(notebook, share_id))


@bp.patch("/shares/<share_id>")
@accepts(SharePatch)
@rate_limited("owner_changes")
def update_share(share_id: str) -> dict[str, Any]:
    """Turn replies on or off for one of my shares, or change its label."""
    notebook = current_notebook()
    return _presented(notebook, service.update_share(notebook, share_id, accepted(SharePatch)))


@bp.delete("/shares/<share_id>")
def revoke_share(share_id: str) -> Response:
    """Revoke one of my shares."""
    service.revoke_share(current_notebook(), share_id)
    return Response(status=204)


@bp.delete("/shares/<share_id>/record")
@rate_limited("owner_changes")
def delete_share(share_id: str) -> Response:
    """Delete one of my shares for good (revoked or not), with its replies: its place is free again."""
    service.delete_share(current_notebook(), share_id)
    return Response(status=204)


@bp.post("/shares/<share_id>/unlock")
def unlock_share(share_id: str) -> dict[str, Any]:
    """Lift a lock after wrong passcodes."""
    notebook = current_notebook()
    return _presented(notebook, service.unlock_share(notebook, share_id))


@bp.post("/shared/<token>")
@accepts(OpenShare)
@rate_limited("passcode")
def open_share(token: str) -> dict[str, Any]:
    """The trial and the first page of the shared notes, for the right passcode, with a session for the next."""
    try:
        passcode: str | None = accepted(OpenShare).passcode
    except Invalid:
        passcode = None  # no passcode at all: the service answers 401 (after 404 and 410), counting nothing
    share = service.open_share(token, passcode, client=client_address()).share
    row = trials.get_trial_row(share.trial_id)
    trial = {**present_summary(row), **present_text(trials.get_trial(row.id))}
    found = service.shared_notes_page(share, PageRequest(after=None, limit=service.SHARED_PAGE_NOTES))
    # The trial's text shares the first response with the notes: the notes get what it leaves.
    notes = present_shared_notes(
        found, replies.SharedReplies(share), replies.replies_open(share), RESPONSE_BUDGET - json_size(trial)
    )
    return {
        "trial": trial,
        **notes,
        "session": issue_session(share.id),
        "session_expires_in": SESSION_SECONDS,
        "expires_at": isoformat(share.expires_at),
    }


@bp.post("/shared/<token>/notes")
@accepts(SharedNotesRequest)
@rate_limited("share_page")
def shared_notes(token: str) -> dict[str, Any]:
    """A next page of an opened share's notes, for the session its opening gave: no view, no Argon2."""
    wanted = service.resume_request(accepted(SharedNotesRequest))
    share = service.resumed_share(token, wanted.session)
    found = service.shared_notes_page(share, wanted.page)
    return present_shared_notes(found, replies.SharedReplies(share), replies.replies_open(share))


def share_of_link() -> str:
    """What the per-share reply limit counts by: the share of the link (its token's lookup hash, not the token)."""
    token = (request.view_args or {}).get("token", "")
    return "share:" + crypto.hash_token(str(token)[:128])


def reply_stored(response: Response) -> bool:
    """Whether a reply request stored a new reply (its view said so: `count_reply`).

    The per-share limit counts only these: anyone who has the link but no session (no passcode)
    is refused with 401, and counting those would let them spend the family's replies; the
    share page's form sent again (a second tap) stores nothing more, and counting it would
    spend two of them on one reply.
    """
    # Taken, not read: a test's app context may outlive one request and serve the next.
    return bool(g.pop("reply_stored", False))


def count_reply(stored: bool) -> None:
    """Tell `reply_stored` whether this request stored a new reply."""
    g.reply_stored = stored


@bp.post("/shared/<token>/notes/<note_id>/replies")
@accepts(ReplyInput)
@rate_limited("replies")
@rate_limited("share_replies", per=share_of_link, counts=reply_stored)
def add_reply(token: str, note_id: str) -> Response:
    """Reply to a note of an opened share, for the session its opening gave."""
    wanted = accepted(ReplyInput)
    share = service.resumed_share(token, wanted.session)
    reply, stored = replies.add_reply(share, note_id, wanted.body, wanted.name)
    count_reply(stored)
    # No Location: a reply has no address of its own, and the share's API paths carry the link
    # token, which no URL we make carries but the share link itself.
    return created(present_reply(reply), None)


# The owner's list of replies: its cursor carries the last reply's (created_at, id).
@bp.get("/trials/<nct>/replies")
@rate_limited("owner_changes")
def list_replies(nct: str) -> dict[str, Any]:
    """A page of the replies to my notes on a trial, newest first, with whether each is unread."""
    notebook = current_notebook()
    page = parse_page_request(
        request.args, replies.REPLY_KEY, default_limit=REPLIES_PER_PAGE, max_limit=REPLIES_PER_PAGE
    )
    return present_replies_page(replies.list_replies(notebook, nct, page))


@bp.post("/trials/<nct>/replies/seen")
@accepts(RepliesSeen)
@rate_limited("owner_changes")
def mark_replies_seen(nct: str) -> Response:
    """Mark replies to my notes on a trial as seen."""
    notebook = current_notebook()
    replies.mark_seen(notebook, nct, accepted(RepliesSeen).reply_ids)
    return Response(status=204)


@bp.delete("/replies/<reply_id>")
@rate_limited("owner_changes")
def delete_reply(reply_id: str) -> Response:
    """Delete a reply to one of my notes."""
    replies.delete_reply(current_notebook(), reply_id)
    return Response(status=204)
