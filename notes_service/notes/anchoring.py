"""Anchor W3C Web Annotation selectors in a trial's canonical text.

Pure functions over plain strings. Positions are Unicode code points (Python
indices) into the original text, end exclusive, as the W3C model says.

Exact anchoring (:func:`locate_exact`)
    White space is folded on both sides: every run of Unicode white space in
    the text becomes one space (the *folded* text) and the quote is folded and
    stripped the same way. A map from each folded index to its original index
    turns a folded match back into a range of the original text, so a quote
    that spans a line break or a double space covers that white space.
    Every occurrence is a candidate, scored like the reference client
    (hypothesis/client ``match-quote.ts``): quote 50, prefix 20, suffix 20,
    position 2, divided by 92 so the score is 0..1. Prefix and suffix
    similarity compare the text just before/after the candidate with the
    expected context (Levenshtein, normalised); position closeness is
    ``1 - |start - hint| / len(text)``. Missing context scores 1, as there.

Approximate re-anchoring (:func:`locate_approximate`)
    Used when a trial's text changed. An exact occurrence wins outright (the
    quoted words are still there, verbatim). Otherwise candidate regions are
    seeded, each seed being an implied start of the quote in the folded text:

    * the position hint;
    * exact occurrences of the prefix (quote starts right after) and of the
      suffix (quote ends right before);
    * exact occurrences of up to eight short chunks spread over the quote
      (seed and extend: an edit breaks only the chunks it touches);
    * rapidfuzz's best fuzzy alignment of the quote's head and tail (short
      pieces, at most 64 characters) over the whole text.

    Nearby seeds are merged and the best supported kept (at most
    ``MAX_WINDOWS``). Around each, ``rapidfuzz.fuzz.partial_ratio_alignment``
    places the head and the tail within a margin that allows for text
    inserted into or cut from the quote, giving a few candidate spans; the one
    most similar to the quote (normalised Levenshtein similarity) is kept.
    Its ends are then refined: the first and last pieces of the quote found
    intact near them are fixed points, and the edited stretch between a fixed
    point and the end is placed by minimum Levenshtein distance over a few
    dozen positions. Candidates are scored with the same 50/20/20/2 weights
    and the best is returned if its score reaches the floor, else None: the
    note is orphaned rather than moved somewhere wrong.

    Cost is bounded: seeds per source, windows, piece lengths and refinement
    ranges are capped; rapidfuzz only ever searches the whole text with
    needles of at most 64 characters (its bit-parallel path, linear in the
    text), because a long needle costs needle-squared per window when nothing
    matches well; full-quote comparisons are single Levenshtein distances. A
    150 KB text and a 2,000-character quote take a few tens of milliseconds.

Selectors
    :func:`selectors_to_quote` validates a ``target.selector`` list
    (TextQuoteSelector required, TextPositionSelector optional, other types
    ignored) and :func:`quote_to_selectors` writes one back.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

MAX_EXACT = 2000
MAX_CONTEXT = 64

QUOTE_WEIGHT = 50
PREFIX_WEIGHT = 20
SUFFIX_WEIGHT = 20
POSITION_WEIGHT = 2
TOTAL_WEIGHT = QUOTE_WEIGHT + PREFIX_WEIGHT + SUFFIX_WEIGHT + POSITION_WEIGHT

# Bounds that keep pathological input (a quote repeated thousands of times, a
# text of one letter) linear: beyond them, extra occurrences are ignored.
MAX_EXACT_CANDIDATES = 5000
MAX_SEEDS_PER_SOURCE = 16
MAX_WINDOWS = 24
SEED_GAP = 8
CHUNK_COUNT = 8
MAX_CHUNK = 32
MIN_CHUNK = 4
MAX_PIECE = 64
MIN_MARGIN = 16
MAX_MARGIN = 512
MIN_CONTEXT_SEED = 3
INTACT_PIECE = 12
MAX_REFINE = 256
REFINE_SLACK = 32

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Quote:
    """A TextQuoteSelector with an optional TextPositionSelector hint."""

    exact: str
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Anchor:
    """A located range of the original text (code points, end exclusive)."""

    start: int
    end: int
    score: float


class SelectorError(ValueError):
    """A selector list is invalid; ``field`` names the offending member."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        """Render as ``field: message``."""
        return f"{self.field}: {self.message}"


# -- White space folding ---------------------------------------------------------


def fold_whitespace(s: str) -> str:
    """Collapse runs of Unicode white space to one space and strip the ends."""
    return _collapse(s).strip(" ")


def _collapse(s: str) -> str:
    """Collapse runs of white space to one space, keeping edge spaces."""
    return _WHITESPACE.sub(" ", s)


@dataclass(frozen=True)
class _Folded:
    """A text with white space collapsed, and where each character came from."""

    original: str
    text: str
    # starts[i] is the original index of folded character i; one extra entry
    # (len(original)) lets a folded end index map to an original end index.
    starts: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a folded range (not starting or ending in a space) to the original."""
        return self.starts[start], self.starts[end]

    def to_folded(self, position: int) -> int:
        """Map an original index to the nearest folded index at or after it."""
        return bisect.bisect_left(self.starts, position, 0, len(self.text))


def _fold_text(text: str) -> _Folded:
    """Collapse white space in ``text`` and remember original positions."""
    parts: list[str] = []
    starts: list[int] = []
    cursor = 0
    for run in _WHITESPACE.finditer(text):
        parts.append(text[cursor : run.start()])
        starts.extend(range(cursor, run.start()))
        parts.append(" ")
        # The space stands for the whole run; the next folded character
        # starts at the run's end, which is how a range covers the run.
        starts.append(run.start())
        cursor = run.end()
    parts.append(text[cursor:])
    starts.extend(range(cursor, len(text)))
    starts.append(len(text))
    return _Folded(original=text, text="".join(parts), starts=tuple(starts))


def _context(quote: Quote) -> tuple[str, str]:
    """Folded prefix and suffix, counting white space at the quote's own edges."""
    exact = quote.exact
    leading = exact[: len(exact) - len(exact.lstrip())]
    trailing = exact[len(exact.rstrip()) :]
    return _collapse(quote.prefix + leading), _collapse(trailing + quote.suffix)


# -- Scoring -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """What is searched for, folded once."""

    quote: str
    prefix: str
    suffix: str
    hint: int | None


def _target(quote: Quote) -> _Target:
    """Fold a Quote into the form the search works on."""
    prefix, suffix = _context(quote)
    return _Target(quote=fold_whitespace(quote.exact), prefix=prefix, suffix=suffix, hint=quote.start)


def _similarity(actual: str, expected: str) -> float:
    """Normalised Levenshtein similarity, 0..1."""
    return Levenshtein.normalized_similarity(actual, expected)


def _score(folded: _Folded, target: _Target, start: int, end: int, quote_score: float) -> float:
    """Combine quote, prefix, suffix and position scores with 50/20/20/2 weights."""
    text = folded.text
    prefix_score = 1.0
    if target.prefix:
        before = text[max(0, start - len(target.prefix)) : start]
        prefix_score = _similarity(before, target.prefix)
    suffix_score = 1.0
    if target.suffix:
        suffix_score = _similarity(text[end : end + len(target.suffix)], target.suffix)
    position_score = 1.0
    if target.hint is not None and folded.original:
        offset = abs(folded.starts[start] - target.hint)
        position_score = max(0.0, 1.0 - offset / len(folded.original))
    raw = (
        QUOTE_WEIGHT * quote_score
        + PREFIX_WEIGHT * prefix_score
        + SUFFIX_WEIGHT * suffix_score
        + POSITION_WEIGHT * position_score
    )
    return raw / TOTAL_WEIGHT


def _anchor(folded: _Folded, start: int, end: int, score: float) -> Anchor:
    """Build an Anchor in original coordinates from a folded range."""
    original_start, original_end = folded.to_original(start, end)
    return Anchor(start=original_start, end=original_end, score=score)


def _best(anchors: list[Anchor]) -> Anchor | None:
    """Highest score, earliest start on ties."""
    if not anchors:
        return None
    return max(anchors, key=lambda a: (a.score, -a.start))


# -- Exact matching ----------------------------------------------------------------


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


def _occurrences(haystack: str, needle: str, limit: int, center: int | None = None) -> list[int]:
    """Up to ``limit`` start indexes of ``needle``, the ones nearest ``center`` first."""
    if center is None:
        return _forward(haystack, needle, 0, limit)
    # Searching outwards from the hint keeps the right occurrence even when a
    # degenerate quote (one letter, say) occurs more often than the cap.
    found = _forward(haystack, needle, center, limit) + _backward(haystack, needle, center, limit)
    return sorted(found, key=lambda p: (abs(p - center), p))[:limit]


def _locate_exact_folded(folded: _Folded, target: _Target) -> Anchor | None:
    """Best exact occurrence of the folded quote, scored."""
    if not target.quote:
        return None
    size = len(target.quote)
    center = None if target.hint is None else folded.to_folded(target.hint)
    anchors = [
        _anchor(folded, start, start + size, _score(folded, target, start, start + size, 1.0))
        for start in _occurrences(folded.text, target.quote, MAX_EXACT_CANDIDATES, center)
    ]
    return _best(anchors)


def locate_exact(text: str, quote: Quote) -> Anchor | None:
    """Find the best occurrence of ``quote.exact`` in ``text``, white space folded."""
    target = _target(quote)
    if not target.quote or not text:
        return None
    return _locate_exact_folded(_fold_text(text), target)


# -- Approximate matching ----------------------------------------------------------


def _found(text: str, needle: str, hint: int | None) -> list[int]:
    """Exact occurrences of ``needle`` used as seeds, the ones nearest the hint."""
    return _occurrences(text, needle, MAX_SEEDS_PER_SOURCE, hint)


def _context_seeds(folded: _Folded, target: _Target, hint: int | None) -> list[int]:
    """Implied quote starts from exact occurrences of the prefix and the suffix."""
    seeds: list[int] = []
    text, size = folded.text, len(target.quote)
    if len(target.prefix.strip()) >= MIN_CONTEXT_SEED:
        seeds += [p + len(target.prefix) for p in _found(text, target.prefix, hint)]
    if len(target.suffix.strip()) >= MIN_CONTEXT_SEED:
        seeds += [p - size for p in _found(text, target.suffix, hint)]
    return seeds


def _chunk_seeds(folded: _Folded, target: _Target, hint: int | None) -> list[int]:
    """Implied quote starts from exact occurrences of chunks spread over the quote."""
    quote = target.quote
    length = min(MAX_CHUNK, len(quote) // 3)
    if length < MIN_CHUNK:
        return []
    last = len(quote) - length
    offsets = sorted({round(i * last / (CHUNK_COUNT - 1)) for i in range(CHUNK_COUNT)})
    seeds: list[int] = []
    for offset in offsets:
        chunk = quote[offset : offset + length]
        seeds += [p - offset for p in _found(folded.text, chunk, hint)]
    return seeds


def _piece_length(size: int) -> int:
    """Length of the quote's head and tail pieces used to place its ends."""
    # Short against the quote, so an edit elsewhere in it does not pull the
    # ends; at most MAX_PIECE so rapidfuzz's bit-parallel path (<= 64) is used.
    return min(size, MAX_PIECE, max(MIN_CHUNK, size // 4))


def _align(needle: str, text: str, low: int, high: int) -> tuple[int, int] | None:
    """Best equal-length alignment of ``needle`` in ``text[low:high]``, as the
    range the whole needle would cover; None if nothing aligns."""
    low, high = max(0, low), min(len(text), high)
    if high - low < len(needle):
        return None
    alignment = fuzz.partial_ratio_alignment(needle, text[low:high])
    if alignment is None or alignment.score == 0:
        return None
    # Extend over needle characters left out at the window's edges.
    start = low + alignment.dest_start - alignment.src_start
    end = low + alignment.dest_end + (len(needle) - alignment.src_end)
    return start, end


def _fuzzy_seeds(folded: _Folded, target: _Target) -> list[int]:
    """Implied quote starts from the best fuzzy alignment of its head and tail."""
    quote, text = target.quote, folded.text
    # Only short needles over the whole text: partial_ratio with a long
    # needle costs needle-squared per window when nothing matches well.
    piece = _piece_length(len(quote))
    needles = [(quote[:piece], 0), (quote[-piece:], len(quote) - piece)]
    if len(quote) <= MAX_PIECE:
        needles.append((quote, 0))
    seeds = []
    for needle, offset in needles:
        found = _align(needle, text, 0, len(text))
        if found is not None:
            seeds.append(found[0] - offset)
    return seeds


@dataclass(frozen=True)
class _Span:
    """A folded range and its similarity to the quote."""

    start: int
    end: int
    similarity: float


def _cluster(seeds: list[int], gap: int, limit: int) -> list[int]:
    """Merge seeds closer than ``gap``; keep the ``limit`` best supported."""
    clusters: list[list[int]] = []
    for seed in sorted(seeds):
        if clusters and seed - clusters[-1][-1] <= gap:
            clusters[-1].append(seed)
        else:
            clusters.append([seed])
    # More agreeing seeds means stronger evidence that the quote is there.
    clusters.sort(key=len, reverse=True)
    return [members[len(members) // 2] for members in clusters[:limit]]


def _margin(size: int) -> int:
    """Slack around an implied end: room for text inserted into or cut from the quote."""
    return min(MAX_MARGIN, max(MIN_MARGIN, size // 2))


def _spans_near(folded: _Folded, target: _Target, seed: int) -> set[tuple[int, int]]:
    """Candidate folded spans for a quote implied to start at ``seed``."""
    text, size = folded.text, len(target.quote)
    piece = _piece_length(size)
    margin = _margin(size)
    spans = {(seed, seed + size)}
    head = _align(target.quote[:piece], text, seed - margin, seed + piece + margin)
    tail = _align(target.quote[-piece:], text, seed + size - piece - margin, seed + size + margin)
    if head is not None:
        spans.add((head[0], head[0] + size))
    if tail is not None:
        spans.add((tail[1] - size, tail[1]))
    if head is not None and tail is not None and head[0] < tail[1]:
        spans.add((head[0], tail[1]))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Clamp a span to the text and drop folded spaces at its ends."""
    start, end = max(0, start), min(len(text), end)
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return start, end


def _coarse_span_near(folded: _Folded, target: _Target, seed: int) -> _Span | None:
    """The span near ``seed`` most similar to the quote, with its similarity."""
    best: _Span | None = None
    for span in _spans_near(folded, target, seed):
        candidate = _measure(folded, target, *span)
        # Ends are chosen on the quote alone: letting the context pick them
        # would trade quote characters for a luckier prefix or suffix.
        if candidate is not None and (best is None or candidate.similarity > best.similarity):
            best = candidate
    return best


def _measure(folded: _Folded, target: _Target, start: int, end: int) -> _Span | None:
    """Trim a span and measure its similarity to the quote; None if empty."""
    start, end = _trim(folded.text, start, end)
    if start >= end:
        return None
    return _Span(start, end, _similarity(folded.text[start:end], target.quote))


def _intact_piece_length(size: int) -> int:
    """Length of an unedited stretch of the quote trusted as a fixed point."""
    return max(1, min(INTACT_PIECE, size // 3))


def _first_intact(text: str, quote: str, start: int) -> tuple[int, int] | None:
    """(offset in quote, index in text) of the first piece of the quote found in place."""
    piece = _intact_piece_length(len(quote))
    for offset in range(min(MAX_REFINE, len(quote) - piece + 1)):
        expected = start + offset
        low = max(0, expected - REFINE_SLACK)
        found = text.find(quote[offset : offset + piece], low, expected + piece + REFINE_SLACK)
        if found != -1:
            return offset, found
    return None


def _last_intact(text: str, quote: str, end: int) -> tuple[int, int] | None:
    """(offset in quote, index in text) just past the last piece of the quote found in place."""
    piece = _intact_piece_length(len(quote))
    for offset in range(len(quote), max(piece, len(quote) - MAX_REFINE) - 1, -1):
        expected = end - (len(quote) - offset)
        low = max(0, expected - piece - REFINE_SLACK)
        # Bounds clamped at 0: str.rfind reads a negative bound from the end.
        found = text.rfind(quote[offset - piece : offset], low, max(0, expected + REFINE_SLACK))
        if found != -1:
            return offset, found + piece
    return None


def _refine_start(text: str, quote: str, start: int) -> int:
    """Place the start so the quote's edited beginning aligns best before an intact piece."""
    intact = _first_intact(text, quote, start)
    if intact is None:
        return start
    offset, fixed = intact
    head = quote[:offset]
    # Bounded brute force over at most 2 * REFINE_SLACK + 1 starts, each a
    # distance between strings of at most MAX_REFINE + REFINE_SLACK characters.
    low = max(0, fixed - offset - REFINE_SLACK)
    high = min(fixed, max(low, fixed - offset + REFINE_SLACK))
    return min(
        range(low, high + 1),
        key=lambda s: (Levenshtein.distance(head, text[s:fixed]), abs(fixed - s - offset), s),
    )


def _refine_end(text: str, quote: str, end: int) -> int:
    """Place the end so the quote's edited ending aligns best after an intact piece."""
    intact = _last_intact(text, quote, end)
    if intact is None:
        return end
    offset, fixed = intact
    tail = quote[offset:]
    high = max(fixed, min(len(text), fixed + len(tail) + REFINE_SLACK))
    low = min(high, max(fixed, fixed + len(tail) - REFINE_SLACK))
    return min(
        range(low, high + 1),
        key=lambda e: (Levenshtein.distance(tail, text[fixed:e]), abs(e - fixed - len(tail)), -e),
    )


def _best_span_near(folded: _Folded, target: _Target, seed: int) -> _Span | None:
    """The best span near ``seed``: coarse ends, then refined where that helps."""
    coarse = _coarse_span_near(folded, target, seed)
    if coarse is None:
        return None
    start = _refine_start(folded.text, target.quote, coarse.start)
    end = _refine_end(folded.text, target.quote, coarse.end)
    refined = _measure(folded, target, start, end) if start < end else None
    if refined is not None and refined.similarity >= coarse.similarity:
        return refined
    return coarse


def _approximate_candidates(folded: _Folded, target: _Target) -> list[Anchor]:
    """Score the best span found around every seed."""
    hint = None if target.hint is None else folded.to_folded(target.hint)
    seeds = _context_seeds(folded, target, hint) + _chunk_seeds(folded, target, hint)
    seeds += _fuzzy_seeds(folded, target)
    starts = _cluster(seeds, gap=SEED_GAP, limit=MAX_WINDOWS)
    if hint is not None:
        starts.append(hint)
    spans = {_best_span_near(folded, target, seed) for seed in starts}
    return [
        _anchor(folded, s.start, s.end, _score(folded, target, s.start, s.end, s.similarity))
        for s in spans
        if s is not None
    ]


def locate_approximate(text: str, quote: Quote, *, floor: float = 0.75) -> Anchor | None:
    """Re-anchor a quote in changed text: exact first, else the best fuzzy match above floor."""
    target = _target(quote)
    if not target.quote or not text:
        return None
    folded = _fold_text(text)
    exact = _locate_exact_folded(folded, target)
    if exact is not None:
        return exact
    best = _best(_approximate_candidates(folded, target))
    if best is None or best.score < floor:
        return None
    return best


# -- Building and reading selectors ------------------------------------------------


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
