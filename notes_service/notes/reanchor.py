"""Re-anchoring: when a trial's text changes, place every note on it again, or orphan it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from ..extensions import db
from ..trials import service as trials
from ..trials.signals import trials_changed
from .anchoring import (
    SelectorError,
    locate_approximate,
    quote_for_range,
    quote_to_selectors,
    selectors_to_quote,
)
from .models import Note, Notebook
from .schemas import ANCHORED, ORPHANED
from .service import open_note, reseal, safe_data_key


@dataclass
class ReanchorResult:
    """Counts of one re-anchoring run."""

    anchored: int = 0
    orphaned: int = 0
    unreadable: int = 0


def subscribe(app: Flask) -> None:
    """Re-anchor notes whenever a load of this app changes a trial's text."""
    trials_changed.connect(reanchor_changed_trials, sender=app, weak=False)


def reanchor_changed_trials(_app: Flask, nct_ids: tuple[str, ...]) -> list[str]:
    """The trials_changed receiver: re-anchor each trial's notes; one line per trial for the loader."""
    lines = []
    for nct_id in nct_ids:
        result = reanchor_trial_notes(nct_id)
        lines.append(f"{nct_id}: content changed; {result.anchored} notes re-anchored, "
                     f"{result.orphaned} orphaned, {result.unreadable} unreadable")
    return lines


def reanchor_trial_notes(trial_id: str, batch_size: int = 200) -> ReanchorResult:
    """Re-anchor every note on a trial whose selectors predate its current text."""
    trial = trials.get_trial(trial_id)
    text = trial.canonical_text
    result = ReanchorResult()
    stale = select(Note).where(Note.trial_id == trial.nct_id, Note.anchored_version != trial.version)
    while True:
        notes = db.session.scalars(stale.order_by(Note.notebook_id, Note.id).limit(batch_size)).all()
        if not notes:
            break
        deks: dict[str, bytes | None] = {}
        for note in notes:
            _reanchor_one(note, text, trial.version, deks, result)
        db.session.commit()
    return result


def _reanchor_one(note: Note, text: str, version: str, deks: dict[str, bytes | None],
                  result: ReanchorResult) -> None:
    notebook = db.session.get(Notebook, note.notebook_id)
    if note.notebook_id not in deks:
        deks[note.notebook_id] = safe_data_key(notebook) if notebook else None
    dek = deks[note.notebook_id]
    view = open_note(dek, note)
    if dek is None or not view.readable or notebook is None:
        # Kept as it is (never lost); marked as seen so the loop moves on.
        note.anchored_version = version
        result.unreadable += 1
        return
    try:
        quote = selectors_to_quote(view.selectors)
    except SelectorError:
        # Stored selectors outgrew the request limits (a longer re-anchored range): keep them, orphaned.
        reseal(notebook, note, view, selectors=view.selectors, anchor=ORPHANED, version=version, dek=dek)
        result.orphaned += 1
        return
    anchor = locate_approximate(text, quote)
    if anchor is None:
        reseal(notebook, note, view, selectors=view.selectors, anchor=ORPHANED, version=version, dek=dek)
        result.orphaned += 1
        return
    selectors = quote_to_selectors(quote_for_range(text, anchor.start, anchor.end))
    reseal(notebook, note, view, selectors=selectors, anchor=ANCHORED, version=version, dek=dek)
    result.anchored += 1
