"""Validation of note requests: plain dicts in, typed values out, field-named errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Invalid
from .anchoring import Quote, SelectorError, selectors_to_quote

# Small named palette; each colour is always shown with its label, never colour alone.
PALETTE: dict[str, str] = {
    "yellow": "Yellow",
    "green": "Green",
    "blue": "Blue",
    "pink": "Pink",
    "purple": "Purple",
}
DEFAULT_COLOR = "yellow"
MAX_BODY_CHARS = 10_000


@dataclass(frozen=True)
class NoteInput:
    """A validated create/update request; None means "not given" (on update)."""

    quote: Quote | None
    body: str | None
    color: str | None


def parse_note(data: Any, *, partial: bool = False) -> NoteInput:
    """Check a note request body; raise Invalid naming every bad field."""
    if not isinstance(data, dict):
        raise Invalid("The request body must be a JSON object.", errors={"(body)": "must be an object"})
    errors: dict[str, str] = {}
    quote = _target(data, errors, required=not partial)
    body = _body(data, errors, required=False)
    color = _color(data, errors)
    unknown = set(data) - {"target", "body", "color"}
    for name in sorted(unknown):
        errors[name] = "is not a field of a note"
    if partial and not errors and quote is None and body is None and color is None:
        errors["(body)"] = "give at least one of target, body, color"
    if errors:
        raise Invalid("The note is not valid.", errors=errors)
    if not partial:
        body = body or ""
        color = color or DEFAULT_COLOR
    return NoteInput(quote=quote, body=body, color=color)


def _target(data: dict[str, Any], errors: dict[str, str], *, required: bool) -> Quote | None:
    if "target" not in data:
        if required:
            errors["target"] = "is required"
        return None
    target = data["target"]
    if not isinstance(target, dict):
        errors["target"] = "must be an object with a selector list"
        return None
    try:
        return selectors_to_quote(target.get("selector"), "target.selector")
    except SelectorError as exc:
        errors[exc.field] = exc.message
        return None


def _body(data: dict[str, Any], errors: dict[str, str], *, required: bool) -> str | None:
    if "body" not in data:
        if required:
            errors["body"] = "is required"
        return None
    body = data["body"]
    if not isinstance(body, str):
        errors["body"] = "must be a string"
        return None
    if len(body) > MAX_BODY_CHARS:
        errors["body"] = f"must be at most {MAX_BODY_CHARS} characters"
        return None
    return body


def _color(data: dict[str, Any], errors: dict[str, str]) -> str | None:
    if "color" not in data:
        return None
    color = data["color"]
    if not isinstance(color, str) or color not in PALETTE:
        errors["color"] = "must be one of " + ", ".join(PALETTE)
        return None
    return color
