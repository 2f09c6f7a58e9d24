"""Scoring a candidate range like the reference client (hypothesis/client ``match-quote.ts``).

Quote 50, prefix 20, suffix 20, position 2, divided by 92 so the score is 0..1. Prefix and
suffix similarity compare the text just before/after the candidate with the expected
context (Levenshtein, normalised); position closeness is ``1 - |start - hint| / len(text)``.
Missing context scores 1, as there.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from .folding import Folded, collapse, fold_whitespace
from .selectors import Quote

QUOTE_WEIGHT = 50
PREFIX_WEIGHT = 20
SUFFIX_WEIGHT = 20
POSITION_WEIGHT = 2
TOTAL_WEIGHT = QUOTE_WEIGHT + PREFIX_WEIGHT + SUFFIX_WEIGHT + POSITION_WEIGHT


@dataclass(frozen=True)
class Anchor:
    """A located range of the original text (code points, end exclusive)."""

    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Target:
    """What is searched for, folded once."""

    quote: str
    prefix: str
    suffix: str
    hint: int | None


def _context(quote: Quote) -> tuple[str, str]:
    """Folded prefix and suffix, counting white space at the quote's own edges."""
    exact = quote.exact
    leading = exact[: len(exact) - len(exact.lstrip())]
    trailing = exact[len(exact.rstrip()) :]
    return collapse(quote.prefix + leading), collapse(trailing + quote.suffix)


def target_of(quote: Quote) -> Target:
    """Fold a Quote into the form the search works on."""
    prefix, suffix = _context(quote)
    return Target(quote=fold_whitespace(quote.exact), prefix=prefix, suffix=suffix, hint=quote.start)


def similarity(actual: str, expected: str) -> float:
    """Normalised Levenshtein similarity, 0..1."""
    return Levenshtein.normalized_similarity(actual, expected)


def score(folded: Folded, target: Target, start: int, end: int, quote_score: float) -> float:
    """Combine quote, prefix, suffix and position scores with 50/20/20/2 weights."""
    text = folded.text
    prefix_score = 1.0
    if target.prefix:
        before = text[max(0, start - len(target.prefix)) : start]
        prefix_score = similarity(before, target.prefix)
    suffix_score = 1.0
    if target.suffix:
        suffix_score = similarity(text[end : end + len(target.suffix)], target.suffix)
    position_score = 1.0
    if target.hint is not None and folded.original:
        # At most the text's length away (a score of 0): a hint of any size never makes a float
        # too large (10**400 / len overflows; the API refuses such a position, a caller may not).
        offset = min(abs(folded.starts[start] - target.hint), len(folded.original))
        position_score = 1.0 - offset / len(folded.original)
    raw = (
        QUOTE_WEIGHT * quote_score
        + PREFIX_WEIGHT * prefix_score
        + SUFFIX_WEIGHT * suffix_score
        + POSITION_WEIGHT * position_score
    )
    return raw / TOTAL_WEIGHT


def anchor_at(folded: Folded, start: int, end: int, score: float) -> Anchor:
    """Build an Anchor in original coordinates from a folded range."""
    original_start, original_end = folded.to_original(start, end)
    return Anchor(start=original_start, end=original_end, score=score)


def best_anchor(anchors: list[Anchor]) -> Anchor | None:
    """Highest score, earliest start on ties."""
    if not anchors:
        return None
    return max(anchors, key=lambda a: (a.score, -a.start))
