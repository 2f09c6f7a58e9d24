"""Keyset paging for every list: opaque cursors, a bounded `limit`, and a byte budget.

Every list answer holds at most `limit` items and at most `RESPONSE_BUDGET` bytes of
them, whatever a notebook holds, and says where the next page starts with an opaque
cursor (`next`), or `null` on the last page. A cursor is base64url of the last item's
sort key as JSON: it carries nothing secret (ids and timestamps the caller has just been
shown), and a cursor that does not decode to the expected key is a 400 problem, never
a 500. Keyset (not offset) paging keeps every page one index range scan, and a note
added or deleted while a client walks the pages shifts nothing it has not seen yet.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from .clock import isoformat
from .errors import BadRequest
from .i18n import gettext

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# No response over 4 MiB: the items of a page stop before this many bytes of JSON, leaving
# 64 KiB for the envelope (collection headers, the cursor).
RESPONSE_LIMIT = 4 * 1024 * 1024
RESPONSE_BUDGET = RESPONSE_LIMIT - 64 * 1024
MAX_CURSOR_CHARS = 512


def bad_cursor_detail() -> str:
    """What a cursor this service did not give out is told, in the reader's language."""
    return gettext("The cursor is not one this service gave out.")


@dataclass(frozen=True)
class PageRequest:
    """Where a page starts (the previous page's last sort key, or None) and how many items."""

    after: tuple[Any, ...] | None
    limit: int


def encode_cursor(key: Sequence[Any]) -> str:
    """An opaque cursor for a sort key (datetimes as ISO 8601)."""
    values = [isoformat(v) if isinstance(v, datetime) else v for v in key]
    raw = json.dumps(values, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class CursorError(ValueError):
    """A cursor that does not decode to the expected sort key."""


def decode_cursor(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """The sort key in a cursor, checked against `kinds`; a bad cursor is a 400 problem."""
    try:
        return _decode(cursor, kinds)
    except (CursorError, binascii.Error, ValueError, OverflowError):
        raise BadRequest(bad_cursor_detail()) from None


def _decode(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    if len(cursor) > MAX_CURSOR_CHARS:
        raise CursorError("too long")
    values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
    if not isinstance(values, list) or len(values) != len(kinds):
        raise CursorError("not a sort key")
    return tuple(_decode_value(value, kind) for value, kind in zip(values, kinds, strict=True))


def _decode_value(value: Any, kind: type) -> Any:
    if kind is datetime and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            # In UTC now: a far-off offset on year 1 or 9999 overflows, and is no cursor of ours.
            return parsed.astimezone(UTC)
    # Ids are 32 hex characters or NCT numbers: anything else (a NUL, a huge string) is refused.
    if kind is str and isinstance(value, str) and 0 < len(value) <= 64 and value.isalnum() and value.isascii():
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return value
    raise CursorError("not the expected kind")


def parse_page_request(
    args: Any, kinds: Sequence[type], default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT
) -> PageRequest:
    """`cursor` and `limit` from a query string; a bad value is a 400 problem naming it."""
    raw_limit = args.get("limit")
    limit = default_limit
    if raw_limit is not None:
        digits = raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 6
        if not digits or not 1 <= int(raw_limit) <= max_limit:
            raise BadRequest(gettext("limit must be a whole number from 1 to %(most)s.", most=max_limit))
        limit = int(raw_limit)
    cursor = args.get("cursor")
    after = decode_cursor(cursor, kinds) if cursor else None
    return PageRequest(after=after, limit=limit)


def cut_to_budget(
    items: Iterable[T], size: Callable[[T], int], more: bool, budget: int | None = None
) -> tuple[list[T], bool]:
    """The items that fit `budget` bytes (RESPONSE_BUDGET by default; always at least one), and whether any follow.

    `more` says whether items exist beyond `items`. A page cut short by the budget says
    more follow too, so nothing is ever dropped: it comes on the next page. `items` may be
    lazy (notes decrypted as they are read): nothing past the cut is computed. `items` may
    also come out empty while more follow (a page's notes all deleted between the read of
    its ids and of their payloads): then no item can give the next cursor and the caller's
    comes from the page's own position (`NoteSlice.last`), or the walk would end there.
    """
    budget = RESPONSE_BUDGET if budget is None else budget
    kept: list[T] = []
    used = 0
    for item in items:
        cost = size(item) + 1  # the comma between items
        if kept and used + cost > budget:
            return kept, True
        kept.append(item)
        used += cost
    return kept, more
