"""Shares as JSON."""

from __future__ import annotations

from typing import Any

from flask import json

from ..clock import isoformat
from ..notes.presenters import present_note
from ..notes.service import NoteSlice, NoteView
from ..paging import RESPONSE_BUDGET, cut_to_budget, encode_cursor
from ..web import json_size
from .models import Share
from .replies import ReplyPage, ReplyView, SharedReplies
from .schemas import MAX_REPLIES_PER_NOTE
from .service import TOTAL_LIMIT, ShareDetails, SharePage, state_of


def present_share(share: Share, details: ShareDetails, note_ids: list[str] | None = None) -> dict[str, Any]:
    """A share as its owner sees it: counters, state, label and replies, never the token or passcode."""
    if note_ids is None:
        note_ids = [note.id for note in share.notes]
    return {
        "id": share.id,
        "trial_id": share.trial_id,
        "note_ids": note_ids,
        "note_count": len(note_ids),
        "state": state_of(share),
        "views": share.views,
        "max_views": share.max_views,
        "last_viewed_at": isoformat(share.last_viewed_at),
        "failed_attempts": share.failed_total,
        "failed_attempts_limit": TOTAL_LIMIT,
        "locked_until": isoformat(share.locked_until),
        "expires_at": isoformat(share.expires_at),
        "created_at": isoformat(share.created_at),
        "revoked_at": isoformat(share.revoked_at),
        "label": details.label,
        "sender_name": details.sender_name,
        "replies_allowed": share.replies_allowed,
        "language": share.language,
        "reply_count": details.reply_count,
        "unread_replies": details.unread_replies,
    }


def present_shares_page(found: SharePage) -> dict[str, Any]:
    """A page of shares and the cursor of the next (null on the last), within the byte budget."""
    # A share lists up to 5,000 note ids (about 175 KB), so the budget, not only the limit, may cut.
    presented = (
        (share, present_share(share, found.details[share.id], found.note_ids[share.id])) for share in found.shares
    )
    kept, more = cut_to_budget(presented, lambda pair: len(json.dumps(pair[1]).encode("utf-8")), found.more)
    last = kept[-1][0] if kept else None
    return {
        "shares": [body for _, body in kept],
        "next": encode_cursor((last.created_at, last.id)) if more and last else None,
    }


def present_reply(reply: ReplyView) -> dict[str, Any]:
    """A reply as a share's readers see it."""
    return {
        "id": reply.id,
        "note_id": reply.note_id,
        "name": reply.name,
        "body": reply.body,
        "created_at": isoformat(reply.created_at),
    }


def present_owner_reply(reply: ReplyView) -> dict[str, Any]:
    """A reply as the owner of its note sees it."""
    return {**present_reply(reply), "share_id": reply.share_id, "unread": reply.seen_at is None}


def present_replies_page(found: ReplyPage) -> dict[str, Any]:
    """A page of the owner's replies and the cursor of the next (null on the last)."""
    return {
        "replies": [present_owner_reply(reply) for reply in found.replies],
        "next": encode_cursor(found.last) if found.more and found.last else None,
    }


def present_shared_notes(
    found: NoteSlice | None, replies: SharedReplies, open_for_replies: bool, budget: int = RESPONSE_BUDGET
) -> dict[str, Any]:
    """A page of a share's notes as family sees them, with their replies, and the cursor of the next.

    The page stays within `budget` bytes. An unreadable note is left out (it costs nothing
    and has nothing to show) but the cursor still passes it, so a page of them never stops
    the walk. `found` is None when the share's notebook is gone: no notes.
    """
    if found is None:
        return {"notes": [], "next": None}

    def shared(note: NoteView) -> dict[str, Any]:
        of_note = [present_reply(reply) for reply in replies.of(note.id)]
        takes_more = open_for_replies and len(of_note) < MAX_REPLIES_PER_NOTE
        return {**present_note(note), "replies": of_note, "replies_allowed": takes_more}

    presented = ((note, shared(note) if note.readable else None) for note in found.notes)
    kept, more = cut_to_budget(presented, lambda pair: json_size(pair[1]) if pair[1] else 0, found.more, budget)
    # A page whose notes were all deleted while it was read goes on from its position.
    last = (kept[-1][0].created_at, kept[-1][0].id) if kept else found.last
    return {
        "notes": [body for _, body in kept if body is not None],
        "next": encode_cursor(last) if more and last is not None else None,
    }
