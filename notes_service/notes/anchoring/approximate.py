"""Approximate re-anchoring: where a quote went when a trial's text changed.

An exact occurrence wins outright (the quoted words are still there, verbatim). Otherwise
candidate regions are seeded, each seed being an implied start of the quote in the folded
text:

* the position hint;
* exact occurrences of the prefix (quote starts right after) and of the suffix (quote ends
  right before);
* exact occurrences of up to eight short chunks spread over the quote (seed and extend: an
  edit breaks only the chunks it touches);
* rapidfuzz's best fuzzy alignment of the quote's head and tail (short pieces, at most 64
  characters) over the whole text.

Nearby seeds are merged and the best supported kept (at most ``MAX_WINDOWS``). Around each,
``rapidfuzz.fuzz.partial_ratio_alignment`` places the head and the tail within a margin that
allows for text inserted into or cut from the quote, giving a few candidate spans; the one
most similar to the quote (normalised Levenshtein similarity) is kept. Its ends are then
refined: the first and last pieces of the quote found intact near them are fixed points,
and the edited stretch between a fixed point and the end is placed by minimum Levenshtein
distance over a few dozen positions. Candidates are scored with the same 50/20/20/2 weights
and the best is returned if its score reaches the floor, else None: the note is orphaned
rather than moved somewhere wrong.

Cost is bounded: seeds per source, windows, piece lengths and refinement ranges are capped;
rapidfuzz only ever searches the whole text with needles of at most 64 characters (its
bit-parallel path, linear in the text), because a long needle costs needle-squared per
window when nothing matches well; full-quote comparisons are single Levenshtein distances.
A 150 KB text and a 2,000-character quote take a few tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from .exact import locate_exact_folded, occurrences
from .folding import Folded, fold_text
from .scoring import Anchor, Target, anchor_at, best_anchor, score, similarity, target_of
from .selectors import Quote

# Bounds that keep pathological input (a quote repeated thousands of times, a text of one
# letter) linear: beyond them, extra seeds, windows and positions are ignored.
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


def _found(text: str, needle: str, hint: int | None) -> list[int]:
    """Exact occurrences of ``needle`` used as seeds, the ones nearest the hint."""
    return occurrences(text, needle, MAX_SEEDS_PER_SOURCE, hint)


def _context_seeds(folded: Folded, target: Target, hint: int | None) -> list[int]:
    """Implied quote starts from exact occurrences of the prefix and the suffix."""
    seeds: list[int] = []
    text, size = folded.text, len(target.quote)
    if len(target.prefix.strip()) >= MIN_CONTEXT_SEED:
        seeds += [p + len(target.prefix) for p in _found(text, target.prefix, hint)]
    if len(target.suffix.strip()) >= MIN_CONTEXT_SEED:
        seeds += [p - size for p in _found(text, target.suffix, hint)]
    return seeds


def _chunk_seeds(folded: Folded, target: Target, hint: int | None) -> list[int]:
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


def _fuzzy_seeds(folded: Folded, target: Target) -> list[int]:
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


def _spans_near(folded: Folded, target: Target, seed: int) -> set[tuple[int, int]]:
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


def _coarse_span_near(folded: Folded, target: Target, seed: int) -> _Span | None:
    """The span near ``seed`` most similar to the quote, with its similarity."""
    best: _Span | None = None
    for span in _spans_near(folded, target, seed):
        candidate = _measure(folded, target, *span)
        # Ends are chosen on the quote alone: letting the context pick them
        # would trade quote characters for a luckier prefix or suffix.
        if candidate is not None and (best is None or candidate.similarity > best.similarity):
            best = candidate
    return best


def _measure(folded: Folded, target: Target, start: int, end: int) -> _Span | None:
    """Trim a span and measure its similarity to the quote; None if empty."""
    start, end = _trim(folded.text, start, end)
    if start >= end:
        return None
    return _Span(start, end, similarity(folded.text[start:end], target.quote))


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


def _best_span_near(folded: Folded, target: Target, seed: int) -> _Span | None:
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


def _approximate_candidates(folded: Folded, target: Target) -> list[Anchor]:
    """Score the best span found around every seed."""
    hint = None if target.hint is None else folded.to_folded(target.hint)
    seeds = _context_seeds(folded, target, hint) + _chunk_seeds(folded, target, hint)
    seeds += _fuzzy_seeds(folded, target)
    starts = _cluster(seeds, gap=SEED_GAP, limit=MAX_WINDOWS)
    if hint is not None:
        starts.append(hint)
    spans = {_best_span_near(folded, target, seed) for seed in starts}
    return [
        anchor_at(folded, s.start, s.end, score(folded, target, s.start, s.end, s.similarity))
        for s in spans
        if s is not None
    ]


def locate_approximate(text: str, quote: Quote, *, floor: float = 0.75) -> Anchor | None:
    """Re-anchor a quote in changed text: exact first, else the best fuzzy match above floor."""
    target = target_of(quote)
    if not target.quote or not text:
        return None
    folded = fold_text(text)
    exact = locate_exact_folded(folded, target)
    if exact is not None:
        return exact
    best = best_anchor(_approximate_candidates(folded, target))
    if best is None or best.score < floor:
        return None
    return best
