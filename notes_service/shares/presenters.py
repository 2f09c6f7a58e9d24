"""Shares as JSON."""

from __future__ import annotations

from typing import Any

from ..clock import isoformat
from .models import Share
from .service import TOTAL_LIMIT, state_of


def present_share(share: Share) -> dict[str, Any]:
    """A share as its owner sees it: counters and state, never the token or passcode."""
    return {
        "id": share.id,
        "trial_id": share.trial_id,
        "note_ids": [note.id for note in share.notes],
        "note_count": len(share.notes),
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
