"""Tests for notes_service.notes.anchoring.approximate: re-anchoring in changed text, or orphaning."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notes.anchoring.samples import WHITESPACE_HEAVY, nth, sliced, text_and_range

from notes_service.notes.anchoring import (
    MAX_CONTEXT,
    Quote,
    fold_whitespace,
    locate_approximate,
    locate_exact,
    quote_for_range,
)

PARAGRAPHS = [
    "Brief Summary: This study tests whether drug X slows liver scarring in adults "
    "with compensated cirrhosis caused by fatty liver disease.",
    "Participants take one tablet a day for 48 weeks and have a liver biopsy at the start and at the end of the study.",
    "Key Exclusion Criteria: Child-Pugh Class B or C cirrhosis, history of variceal "
    "bleeding, or hepatocellular carcinoma within the last five years.",
    "Contact the study team by phone for more information about the visit schedule.",
]
OLD_TEXT = "\n\n".join(PARAGRAPHS)
OLD_QUOTE = quote_for_range(OLD_TEXT, OLD_TEXT.index("Child-Pugh"), OLD_TEXT.index(", history of variceal"))


def _moved_earlier(paragraphs: list[str]) -> str:
    return "\n\n".join([paragraphs[2], paragraphs[0], paragraphs[1], paragraphs[3]])


def test_reanchor_unchanged_text_is_exact():
    anchor = locate_approximate(OLD_TEXT, OLD_QUOTE)
    assert (anchor.start, anchor.end) == (OLD_QUOTE.start, OLD_QUOTE.end)
    assert anchor.score == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("new_text", "expected"),
    [
        pytest.param(_moved_earlier(PARAGRAPHS), "Child-Pugh Class B or C cirrhosis", id="moved"),
        pytest.param(
            OLD_TEXT.replace("Class B or C", "Class B, C or D"),
            "Child-Pugh Class B, C or D cirrhosis",
            id="word-changed-inside",
        ),
        pytest.param(
            OLD_TEXT.replace("B or C cirrhosis", "B or C liver cirrhosis"),
            "Child-Pugh Class B or C liver cirrhosis",
            id="word-inserted-inside",
        ),
        pytest.param(
            OLD_TEXT.replace("Class B or C", "Class B/C"),
            "Child-Pugh Class B/C cirrhosis",
            id="words-deleted-inside",
        ),
        pytest.param(
            _moved_earlier([p.replace("Class B or C", "class B or C") for p in PARAGRAPHS]),
            "Child-Pugh class B or C cirrhosis",
            id="moved-and-edited",
        ),
        pytest.param(
            OLD_TEXT.replace("Key Exclusion", "Key Exclusion (updated 2025)").replace("Class B or C", "Class B or C)"),
            "Child-Pugh Class B or C) cirrhosis",
            id="edited-around-and-inside",
        ),
        pytest.param(
            OLD_TEXT.replace("Child-Pugh Class B or C cirrhosis", "Child-Pugh\nClass B or C\ncirrhosis"),
            "Child-Pugh\nClass B or C\ncirrhosis",
            id="rewrapped",
        ),
    ],
)
def test_reanchor_changed_text(new_text, expected):
    anchor = locate_approximate(new_text, OLD_QUOTE)
    assert sliced(new_text, anchor) == expected
    assert anchor.score >= 0.75


@pytest.mark.parametrize(
    "new_text",
    [
        pytest.param("\n\n".join([PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[3]]), id="deleted"),
        pytest.param(
            OLD_TEXT.replace("Child-Pugh Class B or C cirrhosis", "any severe hepatic impairment"),
            id="rewritten",
        ),
        pytest.param("", id="empty-text"),
    ],
)
def test_reanchor_lost_text_is_orphaned(new_text):
    assert locate_approximate(new_text, OLD_QUOTE) is None


def test_reanchor_floor_is_respected():
    rewritten = OLD_TEXT.replace("Class B or C cirrhosis", "Class B or C fibrosis")
    lenient = locate_approximate(rewritten, OLD_QUOTE, floor=0.5)
    assert sliced(rewritten, lenient) == "Child-Pugh Class B or C fibrosis"
    assert locate_approximate(rewritten, OLD_QUOTE, floor=lenient.score + 0.01) is None


def test_reanchor_picks_the_repeat_next_to_the_hint():
    block = "Participants with Child-Pugh Class B or C cirrhosis are excluded. "
    text = block * 5
    quote = quote_for_range(text, nth(text, "Child-Pugh", 3), nth(text, " are excluded", 3))
    edited = text.replace("Class B or C", "Class B/C")
    anchor = locate_approximate(edited, quote)
    assert anchor.start == nth(edited, "Child-Pugh", 3)
    assert sliced(edited, anchor) == "Child-Pugh Class B/C cirrhosis"


def _words_text(size: int, seed: int) -> str:
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10))) for _ in range(2000)]
    words, length = [], 0
    while length < size:
        word = rng.choice(vocabulary)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size]


BIG = _words_text(150_000, seed=7)
BIG_QUOTE = quote_for_range(BIG, 80_000, 82_000)


@pytest.mark.parametrize(
    ("name", "new_text", "found"),
    [
        ("same", BIG, True),
        ("edited", BIG[:81_000] + "EDITED" + BIG[81_010:], True),
        ("moved", BIG[79_000:83_000] + BIG[:79_000] + BIG[83_000:], True),
        ("deleted", BIG[:79_990] + BIG[82_010:], False),
        ("unrelated", _words_text(150_000, seed=8), False),
    ],
)
def test_large_text_is_anchored_or_orphaned(name, new_text, found):
    # How long it takes is a bench figure (bench/micro/test_bounds.py), not an assertion here.
    anchor = locate_approximate(new_text, BIG_QUOTE)
    assert (anchor is not None) == found


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("a" * 150_000, Quote("a" * 1999 + "b", prefix="a" * 64, suffix="a" * 64, start=70_000)),
        ("a" * 150_000, Quote("a", prefix="a" * 64, start=70_000)),
        ("ab" * 75_000, Quote("ab" * 999 + "ba", prefix="ab" * 32, start=1)),
        (" \n" * 75_000, Quote("x y")),
    ],
)
def test_degenerate_large_input_gives_an_anchor_inside_the_text_or_none(text, quote):
    # Their time is a bench figure (bench/micro/test_bounds.py).
    for anchor in (locate_approximate(text, quote), locate_exact(text, quote)):
        assert anchor is None or 0 <= anchor.start < anchor.end <= len(text)


@settings(max_examples=150, deadline=1000)
@given(
    text=WHITESPACE_HEAVY,
    exact=WHITESPACE_HEAVY,
    prefix=st.text(max_size=70),
    suffix=st.text(max_size=70),
    hint=st.none() | st.integers(-5, 400),
)
def test_arbitrary_input_never_crashes(text, exact, prefix, suffix, hint):
    quote = Quote(exact, prefix=prefix, suffix=suffix, start=hint)
    for anchor in (locate_exact(text, quote), locate_approximate(text, quote, floor=0.0)):
        if anchor is not None:
            assert 0 <= anchor.start < anchor.end <= len(text)
            assert 0.0 <= anchor.score <= 1.0 + 1e-9


@settings(max_examples=200, deadline=1000, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=text_and_range(), context=st.integers(0, MAX_CONTEXT))
def test_substrings_are_always_found(case, context):
    text, start, end = case
    quote = quote_for_range(text, start, end, context=context)
    wanted = fold_whitespace(quote.exact)
    for anchor in (locate_exact(text, quote), locate_approximate(text, quote)):
        assert anchor is not None
        assert fold_whitespace(text[anchor.start : anchor.end]) == wanted
