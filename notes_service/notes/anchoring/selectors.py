"""W3C Web Annotation selectors: a Quote read from a ``target.selector`` list and written back.

:func:`selectors_to_quote` validates a selector list (TextQuoteSelector required,
TextPositionSelector optional, other types ignored), :func:`quote_to_selectors` writes one
back, and :func:`quote_for_range` builds the Quote of a range of a text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .folding import fold_whitespace

MAX_EXACT = 2000
MAX_CONTEXT = 64


@dataclass(frozen=True)
class Quote:
    """A TextQuoteSelector with an optional TextPositionSelector hint."""

    exact: str
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None


class SelectorError(ValueError):
    """A selector list is invalid; ``field`` names the offending member."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        """Render as ``field: message``."""
        return f"{self.field}: {self.message}"


def quote_for_range(text: str, start: int, end: int, context: int = 32) -> Quote:
    """Build exact/prefix/suffix/position selectors for ``text[start:end]``."""
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"range {start}..{end} is outside a text of length {len(text)}")
    if not 0 <= context <= MAX_CONTEXT:
        raise ValueError(f"context must be between 0 and {MAX_CONTEXT}")
    return Quote(
        exact=text[start:end],
        prefix=text[max(0, start - context) : start],
        suffix=text[end : end + context],
        start=start,
        end=end,
    )


def quote_to_selectors(q: Quote) -> list[dict[str, Any]]:
    """Write a Quote as W3C TextQuoteSelector (+ TextPositionSelector) dicts."""
    selectors: list[dict[str, Any]] = [
        {"type": "TextQuoteSelector", "exact": q.exact, "prefix": q.prefix, "suffix": q.suffix}
    ]
    if q.start is not None and q.end is not None:
        selectors.append({"type": "TextPositionSelector", "start": q.start, "end": q.end})
    return selectors


def selectors_to_quote(selectors: Any, path: str = "target.selector") -> Quote:
    """Validate a W3C selector list and read it into a Quote."""
    if not isinstance(selectors, list):
        raise SelectorError(path, "must be a list of selectors")
    quote_selector: tuple[int, dict[str, Any]] | None = None
    position_selector: tuple[int, dict[str, Any]] | None = None
    for index, selector in enumerate(selectors):
        if not isinstance(selector, dict):
            raise SelectorError(f"{path}[{index}]", "must be an object")
        kind = selector.get("type")
        # The first selector of each type is used; others describe the same
        # segment by the W3C model, and unknown types are ignored.
        if kind == "TextQuoteSelector" and quote_selector is None:
            quote_selector = (index, selector)
        elif kind == "TextPositionSelector" and position_selector is None:
            position_selector = (index, selector)
    if quote_selector is None:
        raise SelectorError(path, "a TextQuoteSelector is required")
    exact, prefix, suffix = _read_quote_selector(path, *quote_selector)
    start, end = _read_position_selector(path, position_selector)
    return Quote(exact=exact, prefix=prefix, suffix=suffix, start=start, end=end)


def _read_quote_selector(path: str, index: int, selector: dict[str, Any]) -> tuple[str, str, str]:
    """Validate exact/prefix/suffix of a TextQuoteSelector."""
    where = f"{path}[{index}]"
    exact = selector.get("exact")
    if not isinstance(exact, str):
        raise SelectorError(f"{where}.exact", "is required and must be a string")
    if not fold_whitespace(exact):
        raise SelectorError(f"{where}.exact", "must contain text")
    if len(exact) > MAX_EXACT:
        raise SelectorError(f"{where}.exact", f"must be at most {MAX_EXACT} characters")
    context = [_read_context(where, name, selector.get(name, "")) for name in ("prefix", "suffix")]
    return exact, context[0], context[1]


def _read_context(where: str, name: str, value: Any) -> str:
    """Validate a prefix or suffix: an optional string of bounded length."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SelectorError(f"{where}.{name}", "must be a string")
    if len(value) > MAX_CONTEXT:
        raise SelectorError(f"{where}.{name}", f"must be at most {MAX_CONTEXT} characters")
    return value


def _read_position_selector(path: str, found: tuple[int, dict[str, Any]] | None) -> tuple[int | None, int | None]:
    """Validate a TextPositionSelector's start and end, if there is one."""
    if found is None:
        return None, None
    index, selector = found
    where = f"{path}[{index}]"
    values = []
    for name in ("start", "end"):
        value = selector.get(name)
        # bool is an int subclass; true/false are not positions.
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SelectorError(f"{where}.{name}", "must be a non-negative integer")
        values.append(value)
    start, end = values
    if start > end:
        raise SelectorError(f"{where}.end", "must not be less than start")
    return start, end
