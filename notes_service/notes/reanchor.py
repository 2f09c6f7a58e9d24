"""Re-anchoring: when a trial's text changes, place a note on it again, or orphan it.

Nothing here runs without a key: a note is re-anchored on the next read that opens its
notebook's key (the owner's, or a share opening for that share's notes), in
`notes.service.reanchor_notes`. A load that changes a trial only counts the notes waiting.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..trials.signals import trials_changed
from .anchoring import (
    SelectorError,
    locate_approximate,
    quote_for_range,
    quote_to_selectors,
    selectors_to_quote,
)
from .schemas import ANCHORED, ORPHANED


def reanchored(selectors: list[dict[str, Any]], text: str) -> tuple[list[dict[str, Any]], str]:
    """A note's selectors placed on `text` and its anchor state: the old ones, orphaned, if it is not found."""
    try:
        quote = selectors_to_quote(selectors)
    except SelectorError:
        # Stored selectors outgrew the request limits (a longer re-anchored range): keep them, orphaned.
        return selectors, ORPHANED
    anchor = locate_approximate(text, quote)
    if anchor is None:
        return selectors, ORPHANED
    return quote_to_selectors(quote_for_range(text, anchor.start, anchor.end)), ANCHORED


def subscribe(app: Flask) -> None:
    """Tell whoever loaded changed trials how many notes wait for their owners' next read."""
    trials_changed.connect(count_waiting_notes, sender=app, weak=False)


def count_waiting_notes(_app: Flask, nct_ids: tuple[str, ...]) -> list[str]:
    """The trials_changed receiver: one line per trial for the loader; no note is opened."""
    from .service import stale_note_counts

    counts = stale_note_counts(nct_ids)
    return [
        f"{nct_id}: content changed; {counts.get(nct_id, 0)} notes to re-anchor at their next read "
        "(the server holds no key to do it now)"
        for nct_id in nct_ids
    ]
