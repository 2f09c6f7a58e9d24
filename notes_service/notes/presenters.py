"""Notes as JSON: the API's shape and the W3C Web Annotation (JSON-LD) export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from ..clock import isoformat, utc
from ..paging import cut_to_budget, encode_cursor
from ..web import json_size
from .schemas import PALETTE, NoteChange
from .service import NoteSlice, NoteView, TrialNotes

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# The trial text is ClinicalTrials.gov's, in English (shown unmodified): so are a changed passage's words.
TRIAL_LANGUAGE = "en"


def present_note(note: NoteView) -> dict[str, Any]:
    """A note as the API returns it; an unreadable note says so and carries no content."""
    return _note_fields(note, isoformat(note.created_at), isoformat(note.updated_at))


# orjson writes a UTC datetime under this option as clock.isoformat writes it (RFC 3339 with a
# Z, microseconds only when there are some), without building the string in Python: two
# timestamps a note took 31,500 instructions as strings, 6,200 so (callgrind).
_ORJSON_TIMES = orjson.OPT_UTC_Z


def _note_fields(note: NoteView, created_at: Any, updated_at: Any) -> dict[str, Any]:
    # One literal per case, in the response's key order: a page presents 20 notes, and building
    # a base dict then spreading it into the whole cost 10,100 instructions a note against 6,200.
    if not note.readable:
        return {
            "id": note.id,
            "trial_id": note.trial_id,
            "readable": False,
            "created_at": created_at,
            "updated_at": updated_at,
            "target": None,
            "body": None,
            "color": None,
            "color_label": None,
            "anchor": None,
            "change": None,
        }
    return {
        "id": note.id,
        "trial_id": note.trial_id,
        "readable": True,
        "created_at": created_at,
        "updated_at": updated_at,
        "target": {"source": note.trial_id, "selector": note.selectors},
        "body": note.body,
        "color": note.color,
        "color_label": PALETTE.get(note.color, note.color),
        "anchor": note.anchor,
        "change": note.change.model_dump() if note.change is not None else None,
    }


def present_annotation(note: NoteView, source_base: str) -> dict[str, Any]:
    """One note as a W3C Web Annotation; a changed passage's words before and after are further bodies."""
    comment = {"type": "TextualBody", "value": note.body, "format": "text/html", "purpose": "commenting"}
    return {
        "id": f"urn:uuid:{note.id}",
        "type": "Annotation",
        "motivation": "commenting",
        "created": isoformat(note.created_at),
        "modified": isoformat(note.updated_at),
        "body": [comment, *_change_bodies(note.change)] if note.change is not None else comment,
        "target": {
            "type": "SpecificResource",
            "source": f"{source_base}/trials/{note.trial_id}",
            "styleClass": f"highlight-{note.color}",
            "selector": note.selectors,
        },
        "schema:keywords": [note.anchor],
    }


def _change_bodies(change: NoteChange) -> list[dict[str, Any]]:
    """The passage's words before and after it changed, as describing bodies (the target holds the new words).

    Each is a plain-text body in the trial's language, named ``before`` or ``after`` (schema.org's
    name); ``since``, the data date of the version the words changed in, ends the old words' validity
    and starts the new ones'. A passage gone from the trial has no ``after``.
    """
    since = change.since
    bodies = [_passage_body("before", change.before, {"schema:validThrough": since} if since else {})]
    if change.after is not None:
        bodies.append(_passage_body("after", change.after, {"schema:validFrom": since} if since else {}))
    return bodies


def _passage_body(name: str, words: str, dates: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "TextualBody",
        "purpose": "describing",
        "format": "text/plain",
        "language": TRIAL_LANGUAGE,
        "value": words,
        "schema:name": name,
        **dates,
    }


def _note_key(note: NoteView) -> tuple[Any, ...]:
    return (note.created_at, note.id)


def export_key(note: NoteView) -> tuple[Any, ...]:
    return (note.trial_id, note.created_at, note.id)


def present_trials_page(found: list[TrialNotes], more: bool) -> dict[str, Any]:
    """A page of the trials holding my notes and the cursor of the next (null on the last)."""
    last = found[-1] if found and more else None
    return {
        "trials": [
            {
                "id": t.trial_id,
                "title": t.title,
                "note_count": t.note_count,
                "last_edited": isoformat(t.last_edited),
            }
            for t in found
        ],
        "next": encode_cursor((last.last_edited, last.trial_id)) if last else None,
    }


def present_notes_page(found: NoteSlice, key: Callable[[NoteView], tuple[Any, ...]] = _note_key) -> bytes:
    """The JSON body of a page of notes and the cursor of the next (null on the last), within the budget.

    Each note is encoded once, compact, by orjson (the standard library's encoder, the app's,
    was a third of a read of 20 notes): the bytes measured against the budget are the bytes
    sent. Non-ASCII text goes out as UTF-8, not as escapes, so a note never takes more bytes
    here than in the app's other responses. A page whose notes were all deleted while it was
    read is empty and still has its `next`, from the page's position (`NoteSlice.last`).
    """
    encoded = (
        (note, orjson.dumps(_note_fields(note, utc(note.created_at), utc(note.updated_at)), option=_ORJSON_TIMES))
        for note in found.notes
    )
    kept, more = cut_to_budget(encoded, lambda pair: len(pair[1]), found.more)
    last = key(kept[-1][0]) if kept else found.last
    cursor = encode_cursor(last) if more and last is not None else None
    return b'{"notes":[' + b",".join(body for _, body in kept) + b'],"next":' + orjson.dumps(cursor) + b"}"


def present_export(
    found: NoteSlice, source_base: str, export_url: str, start_index: int, first: bool
) -> dict[str, Any]:
    """One AnnotationPage of the export; the first comes inside its AnnotationCollection.

    An unreadable note is left out of its page and counted in the page's ``unreadable``.
    ``next`` is the address of the next page (W3C Web Annotation paging), absent on the last.
    """
    presented = ((note, present_annotation(note, source_base) if note.readable else None) for note in found.notes)
    kept, more = cut_to_budget(presented, lambda pair: json_size(pair[1]) if pair[1] else 0, found.more)
    items = [body for _, body in kept if body is not None]
    annotation_page: dict[str, Any] = {
        "type": "AnnotationPage",
        "startIndex": start_index,
        "items": items,
        "unreadable": len(kept) - len(items),
    }
    last = export_key(kept[-1][0]) if kept else found.last
    if more and last is not None:
        # The cursor also carries where the next page starts in the collection (its startIndex).
        cursor = encode_cursor((*last, start_index + len(kept)))
        annotation_page["next"] = f"{export_url}?cursor={cursor}"
    collection = {"type": "AnnotationCollection", "label": "Trial Notes export", "total": found.total}
    context = [ANNO_CONTEXT, {"schema": "http://schema.org/"}]
    if first:
        return {"@context": context, "id": export_url, **collection, "first": annotation_page}
    return {"@context": context, **annotation_page, "partOf": {"id": export_url, **collection}}
