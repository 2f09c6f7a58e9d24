"""Shares as JSON."""

from __future__ import annotations

from typing import Any

from flask import json

from ..clock import isoformat
from ..paging import cut_to_budget, encode_cursor
from .models import Share
from .service import TOTAL_LIMIT, SharePage, state_of


def present_share(share: Share, note_ids: list[str] | None = None) -> dict[str, Any]:
    """A share as its owner sees it: counters and state, never the token or passcode."""
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
    }


def present_shares_page(found: SharePage) -> dict[str, Any]:
    """A page of shares and the cursor of the next (null on the last), within the byte budget."""
    # A share lists up to 5,000 note ids (about 175 KB), so the budget, not only the limit, may cut.
    presented = ((share, present_share(share, found.note_ids[share.id])) for share in found.shares)
    kept, more = cut_to_budget(presented, lambda pair: len(json.dumps(pair[1]).encode("utf-8")), found.more)
    last = kept[-1][0] if kept else None
    return {"shares": [body for _, body in kept],
            "next": encode_cursor((last.created_at, last.id)) if more and last else None}
