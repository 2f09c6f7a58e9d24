"""Worst cases of the pure cores, timed by `make bench` against bounds (bench/run.py MICRO_BOUNDS).

They were CPU-time assertions in the tests (tests/notes/test_sanitize.py,
tests/notes/anchoring/test_approximate.py, tests/security/test_properties.py); the tests keep
the functional checks, the time is a bench figure. Each benchmark checks its result too.
"""

from __future__ import annotations

import html
import json
import random

import pytest

from notes_service.notes.anchoring import Quote, locate_approximate, locate_exact, quote_for_range
from notes_service.notes.sanitize import sanitize_body
from notes_service.trials.ctgov import parse_study
from notes_service.trials.reader import shipped_data_dir
from notes_service.trials.render import render_trial

# Unbounded, html5lib takes over 20 s on this (quadratic in nesting depth).
MARKUP_BOMB = ("<ul><li>" * 8192)[:65536]
LARGE_BODY = ('<p>Note <b>bold</b> <a href="https://x.example">l</a> & <script>x</script></p>\n' * 800)[:65536]


def words_text(size: int, seed: int) -> str:
    """`size` characters of random words (as tests/notes/anchoring/test_approximate.py makes them)."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10))) for _ in range(2000)]
    words, length = [], 0
    while length < size:
        word = rng.choice(vocabulary)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size]


BIG = words_text(150_000, seed=7)
BIG_QUOTE = quote_for_range(BIG, 80_000, 82_000)
LARGE_TEXTS = {
    "edited": (BIG[:81_000] + "EDITED" + BIG[81_010:], True),
    "moved": (BIG[79_000:83_000] + BIG[:79_000] + BIG[83_000:], True),
    "deleted": (BIG[:79_990] + BIG[82_010:], False),
    "unrelated": (words_text(150_000, seed=8), False),
}
DEGENERATE = {
    "repeated_a_long_quote": ("a" * 150_000, Quote("a" * 1999 + "b", prefix="a" * 64, suffix="a" * 64, start=70_000)),
    "repeated_a_short_quote": ("a" * 150_000, Quote("a", prefix="a" * 64, start=70_000)),
    "repeated_ab": ("ab" * 75_000, Quote("ab" * 999 + "ba", prefix="ab" * 32, start=1)),
    "whitespace": (" \n" * 75_000, Quote("x y")),
}

# What tests/security/test_properties.py anchors on (one unit repeated to 1,000,000 code points).
HUGE = {
    "a": ("a" * 1_000_000, Quote("a" * 1999 + "b", prefix="a" * 64, suffix="a" * 64, start=500_000)),
    "emoji": ("\U0001f600" * 1_000_000, Quote("\U0001f600" * 1000 + "x", prefix="\U0001f600" * 64)),
}


def test_bound_sanitize_markup_bomb(benchmark) -> None:
    out = benchmark.pedantic(sanitize_body, (MARKUP_BOMB,), rounds=3, iterations=1)
    assert "<" not in out and html.unescape(out) == MARKUP_BOMB


def test_bound_sanitize_large_body(benchmark) -> None:
    out = benchmark.pedantic(sanitize_body, (LARGE_BODY,), rounds=3, iterations=1)
    assert "<script>" not in out


@pytest.mark.parametrize("name", list(LARGE_TEXTS))
def test_bound_approximate_large_text(benchmark, name: str) -> None:
    text, found = LARGE_TEXTS[name]
    anchor = benchmark.pedantic(locate_approximate, (text, BIG_QUOTE), rounds=3, iterations=1)
    assert (anchor is not None) == found


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_bound_anchoring_degenerate_input(benchmark, name: str) -> None:
    text, quote = DEGENERATE[name]

    def both() -> None:
        locate_approximate(text, quote)
        locate_exact(text, quote)

    benchmark.pedantic(both, rounds=3, iterations=1)


def test_bound_import_largest_shipped_record(benchmark) -> None:
    path = max(shipped_data_dir().glob("NCT*.json"), key=lambda p: p.stat().st_size)
    record = json.loads(path.read_text(encoding="utf-8"))
    trial = benchmark.pedantic(lambda: render_trial(parse_study(record)), rounds=3, iterations=1)
    assert trial.canonical_text


@pytest.mark.parametrize("name", list(HUGE))
def test_bound_anchoring_huge_input(benchmark, name: str) -> None:
    text, quote = HUGE[name]

    def both() -> None:
        locate_exact(text, quote)
        locate_approximate(text, quote, floor=0.0)

    benchmark.pedantic(both, rounds=3, iterations=1)
