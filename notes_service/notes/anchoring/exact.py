"""Exact anchoring: every occurrence of the folded quote in the folded text, scored.

White space is folded on both sides (the text and the quote, the quote also stripped);
every occurrence is a candidate, scored with the 50/20/20/2 weights, and the best wins.
"""

from __future__ import annotations

from .folding import Folded, fold_text
from .scoring import Anchor, Target, anchor_at, best_anchor, score, target_of
from .selectors import Quote

# Keeps pathological input (a quote repeated thousands of times, a text of one letter)
# linear: beyond it, extra occurrences are ignored.
MAX_EXACT_CANDIDATES = 5000


def _forward(haystack: str, needle: str, start: int, limit: int) -> list[int]:
    """Start indexes of ``needle`` at or after ``start`` (overlapping), at most ``limit``."""
    found: list[int] = []
    index = haystack.find(needle, start)
    while index != -1 and len(found) < limit:
        found.append(index)
        index = haystack.find(needle, index + 1)
    return found


def _backward(haystack: str, needle: str, before: int, limit: int) -> list[int]:
    """Start indexes of ``needle`` before ``before``, nearest first, at most ``limit``."""
    found: list[int] = []
    index = haystack.rfind(needle, 0, before + len(needle) - 1)
    while index != -1 and len(found) < limit:
        found.append(index)
        index = haystack.rfind(needle, 0, index + len(needle) - 1)
    return found


def occurrences(haystack: str, needle: str, limit: int, center: int | None = None) -> list[int]:
    """Up to ``limit`` start indexes of ``needle``, the ones nearest ``center`` first."""
    if center is None:
        return _forward(haystack, needle, 0, limit)
    # Searching outwards from the hint keeps the right occurrence even when a
    # degenerate quote (one letter, say) occurs more often than the cap.
    found = _forward(haystack, needle, center, limit) + _backward(haystack, needle, center, limit)
    return sorted(found, key=lambda p: (abs(p - center), p))[:limit]


def locate_exact_folded(folded: Folded, target: Target) -> Anchor | None:
    """Best exact occurrence of the folded quote, scored."""
    if not target.quote:
        return None
    size = len(target.quote)
    center = None if target.hint is None else folded.to_folded(target.hint)
    anchors = [
        anchor_at(folded, start, start + size, score(folded, target, start, start + size, 1.0))
        for start in occurrences(folded.text, target.quote, MAX_EXACT_CANDIDATES, center)
    ]
    return best_anchor(anchors)


def locate_exact(text: str, quote: Quote) -> Anchor | None:
    """Find the best occurrence of ``quote.exact`` in ``text``, white space folded."""
    target = target_of(quote)
    if not target.quote or not text:
        return None
    return locate_exact_folded(fold_text(text), target)
