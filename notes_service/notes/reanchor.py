"""Re-anchoring: when a trial's text changes, place a note on it again, tell its owner how the
passage changed, or orphan it.

A note placed on a passage whose words are not the ones highlighted is `changed`: it keeps
the wording it was highlighted on (`NoteChange.before`, sealed with the note) beside the
new one (`after`, or None when the passage is gone) and the data date of the version it
changed in, until its owner accepts the new text (`accepted`). Until then the change is
measured against that first wording: a passage edited twice is one change, from the words
the owner saw to the words there now, and one edited back is no change at all.

Nothing here runs without a key: a note is re-anchored on the next read that opens its
notebook's key (the owner's, or a share opening for that share's notes), in
`notes.service.reanchor_notes`. A load that changes a trial only counts the notes waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from ..trials.signals import trials_changed
from .anchoring import (
    SelectorError,
    fold_whitespace,
    locate_approximate,
    quote_for_range,
    quote_to_selectors,
    selectors_to_quote,
)
from .schemas import ANCHORED, CHANGED, MAX_CHANGED_PASSAGE, ORPHANED, AnchorState, NoteChange, NotePayload


@dataclass(frozen=True)
class Placement:
    """Where a note sits on a trial's text: its selectors, its anchor state, and how its passage changed."""

    selectors: list[dict[str, Any]]
    anchor: AnchorState
    change: NoteChange | None = None


def same_words(a: str, b: str | None) -> bool:
    """Whether two passages read the same (white space aside: the canonical text folds it when matching)."""
    return b is not None and fold_whitespace(a) == fold_whitespace(b)


def reanchored(payload: NotePayload, text: str, since: str | None) -> Placement:
    """A note placed on a trial's newer `text` (whose data date is `since`): anchored, changed or orphaned."""
    try:
        quote = selectors_to_quote(payload.selector)
    except SelectorError:
        # Stored selectors outgrew the request limits (from before changes were told): keep them, orphaned.
        return Placement(payload.selector, ORPHANED)
    earlier = payload.change
    before = earlier.before if earlier is not None else quote.exact
    anchor = locate_approximate(text, quote)
    passage = quote_for_range(text, anchor.start, anchor.end) if anchor is not None else None
    if passage is not None and len(passage.exact) > MAX_CHANGED_PASSAGE:
        passage = None  # longer than any passage a note may hold: taken as gone
    if passage is None:
        if payload.anchor == ORPHANED and earlier is None:
            return Placement(payload.selector, ORPHANED)  # lost before, and accepted as lost: nothing new to say
        gone_since = earlier.since if earlier is not None and earlier.after is None else since
        return Placement(payload.selector, CHANGED, NoteChange(before=before, after=None, since=gone_since))
    selectors = quote_to_selectors(passage)
    if same_words(passage.exact, before):
        return Placement(selectors, ANCHORED)
    # Still the words it changed to earlier: it changed then, not in this version.
    changed_since = earlier.since if earlier is not None and same_words(passage.exact, earlier.after) else since
    return Placement(selectors, CHANGED, NoteChange(before=before, after=passage.exact, since=changed_since))


def accepted(payload: NotePayload) -> Placement:
    """A changed note kept on the new text ("Keep on the new text"): anchored there, or orphaned if it is gone."""
    if payload.anchor != CHANGED or payload.change is None:
        return Placement(payload.selector, payload.anchor, payload.change)  # nothing to accept
    return Placement(payload.selector, ANCHORED if payload.change.after is not None else ORPHANED)


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
