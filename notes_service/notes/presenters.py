"""Notes as JSON: the API's shape and the W3C Web Annotation (JSON-LD) export."""

from __future__ import annotations

from typing import Any

from ..clock import isoformat
from .schemas import PALETTE
from .service import NoteView

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"


def present_note(note: NoteView) -> dict[str, Any]:
    """A note as the API returns it; an unreadable note says so and carries no content."""
    base: dict[str, Any] = {
        "id": note.id,
        "trial_id": note.trial_id,
        "readable": note.readable,
        "created_at": isoformat(note.created_at),
        "updated_at": isoformat(note.updated_at),
    }
    if not note.readable:
        return {**base, "target": None, "body": None, "color": None, "color_label": None, "anchor": None}
    return {
        **base,
        "target": {"source": note.trial_id, "selector": note.selectors},
        "body": note.body,
        "color": note.color,
        "color_label": PALETTE.get(note.color, note.color),
        "anchor": note.anchor,
    }


def present_annotation(note: NoteView, source_base: str) -> dict[str, Any]:
    """One note as a W3C Web Annotation."""
    return {
        "id": f"urn:uuid:{note.id}",
        "type": "Annotation",
        "motivation": "commenting",
        "created": isoformat(note.created_at),
        "modified": isoformat(note.updated_at),
        "body": {"type": "TextualBody", "value": note.body, "format": "text/html", "purpose": "commenting"},
        "target": {
            "type": "SpecificResource",
            "source": f"{source_base}/trials/{note.trial_id}",
            "styleClass": f"highlight-{note.color}",
            "selector": note.selectors,
        },
        "schema:keywords": [note.anchor],
    }


def present_export(notes: list[NoteView], source_base: str) -> dict[str, Any]:
    """Every readable note as an AnnotationCollection with one page."""
    readable = [n for n in notes if n.readable]
    return {
        "@context": [ANNO_CONTEXT, {"schema": "http://schema.org/"}],
        "type": "AnnotationCollection",
        "label": "Trial Notes export",
        "total": len(readable),
        "unreadable": len(notes) - len(readable),
        "first": {
            "type": "AnnotationPage",
            "startIndex": 0,
            "items": [present_annotation(n, source_base) for n in readable],
        },
    }
