"""Tests for notes_service.notes.anchoring: pure functions over strings."""

import random
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from notes_service.notes.anchoring import (
    MAX_CONTEXT,
    MAX_EXACT,
    Anchor,
    Quote,
    SelectorError,
    fold_whitespace,
    locate_approximate,
    locate_exact,
    quote_for_range,
    quote_to_selectors,
    selectors_to_quote,
)

ELIGIBILITY = (
    "Inclusion Criteria:\n"
    "1. Adults aged 18 years or older.\n"
    "2. Compensated cirrhosis (Child-Pugh Class A) is allowed.\n"
    "\n"
    "Exclusion Criteria:\n"
    "6. Child-Pugh Class B or C cirrhosis.\n"
    "7. Symptomatic airway disease.\n"
    "8. History of decompensated cirrhosis within 6 months.\n"
)


def _slice(text: str, anchor: Anchor | None) -> str | None:
    return None if anchor is None else text[anchor.start : anchor.end]


def _nth(text: str, needle: str, n: int) -> int:
    index = -1
    for _ in range(n + 1):
        index = text.index(needle, index + 1)
    return index


# -- fold_whitespace -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("a  b", "a b"),
        ("  a\n\tb  ", "a b"),
        ("a\u00a0\u2003b", "a b"),  # no-break and em space are white space too
        ("a\r\n\r\nb", "a b"),
        ("", ""),
        (" \n ", ""),
        ("\U0001f600 x", "\U0001f600 x"),
    ],
)
def test_fold_whitespace(raw, folded):
    assert fold_whitespace(raw) == folded


# -- locate_exact ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quote", "expected"),
    [
        pytest.param(ELIGIBILITY, Quote("Symptomatic airway disease"), "Symptomatic airway disease", id="plain"),
        pytest.param(
            "Class B\nor C  cirrhosis.",
            Quote("Class B or C cirrhosis"),
            "Class B\nor C  cirrhosis",
            id="text-has-newline-and-double-space",
        ),
        pytest.param(
            "Class B or C cirrhosis.",
            Quote("Class B\n  or C\tcirrhosis"),
            "Class B or C cirrhosis",
            id="quote-has-newline",
        ),
        pytest.param(ELIGIBILITY, Quote("  airway disease.\n"), "airway disease.", id="quote-edge-whitespace-trimmed"),
        pytest.param(ELIGIBILITY, Quote("Criteria: 1. Adults"), "Criteria:\n1. Adults", id="across-lines"),
        pytest.param(ELIGIBILITY, Quote("Criteria: 6. Child"), "Criteria:\n6. Child", id="across-blank-line"),
    ],
)
def test_locate_exact_folds_whitespace(text, quote, expected):
    anchor = locate_exact(text, quote)
    assert _slice(text, anchor) == expected
    assert anchor.score == 1.0


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        (ELIGIBILITY, Quote("Child-Pugh Class D")),
        (ELIGIBILITY, Quote("")),
        (ELIGIBILITY, Quote(" \n\t ")),
        ("", Quote("x")),
        ("cirrhosis", Quote("cirrhosis!")),
    ],
)
def test_locate_exact_not_found(text, quote):
    assert locate_exact(text, quote) is None


@pytest.mark.parametrize(
    ("quote", "occurrence"),
    [
        pytest.param(Quote("cirrhosis", prefix="2. Compensated "), 0, id="prefix-first"),
        pytest.param(Quote("cirrhosis", prefix="Class B or C "), 1, id="prefix-second"),
        pytest.param(Quote("cirrhosis", suffix=" within 6 months"), 2, id="suffix-third"),
        pytest.param(Quote("cirrhosis", prefix="of decompensated "), 2, id="prefix-decompensated-not-compensated"),
        pytest.param(Quote("cirrhosis", prefix="2. Compensated ", suffix=" (Child-Pugh"), 0, id="both-first"),
        pytest.param(
            Quote("cirrhosis", prefix="6. Child-Pugh Class B or C ", suffix=".\n7."),
            1,
            id="both-second-with-newline-suffix",
        ),
        # Position only breaks ties: no context, the hint decides.
        pytest.param(Quote("cirrhosis", start=_nth(ELIGIBILITY, "cirrhosis", 2)), 2, id="hint-third"),
        pytest.param(Quote("cirrhosis", start=_nth(ELIGIBILITY, "cirrhosis", 1) + 5), 1, id="hint-near-second"),
        # Context outweighs a misleading position.
        pytest.param(Quote("cirrhosis", prefix="Class B or C ", start=0), 1, id="context-beats-hint"),
        pytest.param(Quote("cirrhosis"), 0, id="no-context-first"),
    ],
)
def test_repeated_quote_picks_the_right_occurrence(quote, occurrence):
    anchor = locate_exact(ELIGIBILITY, quote)
    assert anchor is not None
    assert anchor.start == _nth(ELIGIBILITY, "cirrhosis", occurrence)
    assert anchor.end == anchor.start + len("cirrhosis")


def test_scores_are_normalised():
    perfect = locate_exact(ELIGIBILITY, Quote("cirrhosis", prefix="Class B or C ", suffix="."))
    weaker = locate_exact(ELIGIBILITY, Quote("cirrhosis", prefix="nothing like it"))
    assert perfect.score == pytest.approx(1.0)
    assert 0.5 < weaker.score < 1.0


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("Feeling \U0001f600 fine about cirrhosis \U0001f389 today", "cirrhosis \U0001f389"),
        ("\U0001f9ec\U0001f9ec gene \U0001f9ec therapy", "gene \U0001f9ec therapy"),
        ("caf\u00e9 \U00010348 ok \U00010348", "ok \U00010348"),
    ],
)
def test_positions_count_code_points_not_utf16_units(text, exact):
    anchor = locate_exact(text, Quote(exact))
    assert anchor.start == text.index(exact)
    assert anchor.end == anchor.start + len(exact)
    utf16_start = len(text[: anchor.start].encode("utf-16-le")) // 2
    assert utf16_start > anchor.start  # the emoji before it are two units each


# -- locate_approximate --------------------------------------------------------------

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
    assert _slice(new_text, anchor) == expected
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
    assert _slice(rewritten, lenient) == "Child-Pugh Class B or C fibrosis"
    assert locate_approximate(rewritten, OLD_QUOTE, floor=lenient.score + 0.01) is None


def test_reanchor_picks_the_repeat_next_to_the_hint():
    block = "Participants with Child-Pugh Class B or C cirrhosis are excluded. "
    text = block * 5
    quote = quote_for_range(text, _nth(text, "Child-Pugh", 3), _nth(text, " are excluded", 3))
    edited = text.replace("Class B or C", "Class B/C")
    anchor = locate_approximate(edited, quote)
    assert anchor.start == _nth(edited, "Child-Pugh", 3)
    assert _slice(edited, anchor) == "Child-Pugh Class B/C cirrhosis"


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
def test_large_text_is_fast(name, new_text, found):
    started = time.process_time()  # CPU time: a busy machine does not inflate it
    anchor = locate_approximate(new_text, BIG_QUOTE)
    elapsed = time.process_time() - started
    assert elapsed < 0.5, f"{name} took {elapsed:.3f}s"
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
def test_degenerate_large_input_stays_bounded(text, quote):
    started = time.process_time()  # CPU time: a busy machine does not inflate it
    locate_approximate(text, quote)
    locate_exact(text, quote)
    assert time.process_time() - started < 0.5


def test_degenerate_repeats_still_honour_the_hint():
    anchor = locate_exact("a" * 150_000, Quote("a", start=123_456))
    assert anchor.start == 123_456


# -- Property tests ------------------------------------------------------------------

WHITESPACE_HEAVY = st.text(
    alphabet=st.one_of(st.sampled_from(" \n\t\u00a0\u2028ab\U0001f600"), st.characters()),
    max_size=300,
)


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


@st.composite
def text_and_range(draw):
    text = draw(WHITESPACE_HEAVY.filter(lambda t: fold_whitespace(t) != ""))
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    assume(fold_whitespace(text[start:end]))
    return text, start, end


@settings(max_examples=200, deadline=1000, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=text_and_range(), context=st.integers(0, MAX_CONTEXT))
def test_substrings_are_always_found(case, context):
    text, start, end = case
    quote = quote_for_range(text, start, end, context=context)
    wanted = fold_whitespace(quote.exact)
    for anchor in (locate_exact(text, quote), locate_approximate(text, quote)):
        assert anchor is not None
        assert fold_whitespace(text[anchor.start : anchor.end]) == wanted


@settings(max_examples=100, deadline=1000)
@given(case=text_and_range())
def test_unique_trimmed_substrings_are_found_in_place(case):
    text, start, end = case
    exact = text[start:end]
    assume(exact == exact.strip() and fold_whitespace(text).count(fold_whitespace(exact)) == 1)
    anchor = locate_exact(text, quote_for_range(text, start, end))
    assert (anchor.start, anchor.end) == (start, end)


# -- quote_for_range -----------------------------------------------------------------


def test_quote_for_range():
    text = "0123456789abcdefghij"
    assert quote_for_range(text, 10, 12, context=3) == Quote("ab", "789", "cde", 10, 12)
    assert quote_for_range(text, 0, 2, context=3) == Quote("01", "", "234", 0, 2)
    assert quote_for_range(text, 18, 20) == Quote("ij", text[:18], "", 18, 20)


@pytest.mark.parametrize(("start", "end", "context"), [(-1, 2, 32), (3, 2, 32), (0, 99, 32), (0, 1, -1), (0, 1, 65)])
def test_quote_for_range_rejects_bad_ranges(start, end, context):
    with pytest.raises(ValueError):
        quote_for_range("0123456789", start, end, context=context)


# -- selectors -----------------------------------------------------------------------


def test_selectors_round_trip():
    quote = Quote("Child-Pugh Class B or C cirrhosis", "6. ", ".\n7. Symptomatic airway", 42, 75)
    selectors = quote_to_selectors(quote)
    assert selectors == [
        {"type": "TextQuoteSelector", "exact": quote.exact, "prefix": "6. ", "suffix": ".\n7. Symptomatic airway"},
        {"type": "TextPositionSelector", "start": 42, "end": 75},
    ]
    assert selectors_to_quote(selectors) == quote


def test_quote_without_position_writes_one_selector():
    assert quote_to_selectors(Quote("x")) == [{"type": "TextQuoteSelector", "exact": "x", "prefix": "", "suffix": ""}]


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        pytest.param([{"type": "TextQuoteSelector", "exact": "x"}], Quote("x"), id="minimal"),
        pytest.param(
            [
                {"type": "CssSelector", "value": "#x"},
                {"type": "TextPositionSelector", "start": 0, "end": 1},
                {"type": "TextQuoteSelector", "exact": "x", "prefix": None},
            ],
            Quote("x", start=0, end=1),
            id="unknown-type-ignored-any-order",
        ),
        pytest.param(
            [{"type": "TextQuoteSelector", "exact": "x"}, {"type": "TextQuoteSelector", "exact": "y"}],
            Quote("x"),
            id="first-of-a-type-wins",
        ),
        pytest.param(
            [{"type": "TextQuoteSelector", "exact": "x" * MAX_EXACT, "prefix": "p" * MAX_CONTEXT}],
            Quote("x" * MAX_EXACT, prefix="p" * MAX_CONTEXT),
            id="at-the-limits",
        ),
    ],
)
def test_selectors_to_quote_accepts(selectors, expected):
    assert selectors_to_quote(selectors) == expected


QUOTE_SELECTOR = {"type": "TextQuoteSelector", "exact": "x"}


@pytest.mark.parametrize(
    ("selectors", "field"),
    [
        ({"type": "TextQuoteSelector", "exact": "x"}, "target.selector"),
        (None, "target.selector"),
        ([], "target.selector"),
        ([{"type": "TextPositionSelector", "start": 0, "end": 1}], "target.selector"),
        (["TextQuoteSelector"], "target.selector[0]"),
        ([{"type": "TextQuoteSelector"}], "target.selector[0].exact"),
        ([{"type": "TextQuoteSelector", "exact": ""}], "target.selector[0].exact"),
        ([{"type": "TextQuoteSelector", "exact": " \n "}], "target.selector[0].exact"),
        ([{"type": "TextQuoteSelector", "exact": 42}], "target.selector[0].exact"),
        ([{"type": "TextQuoteSelector", "exact": "x" * (MAX_EXACT + 1)}], "target.selector[0].exact"),
        ([{"type": "Other"}, {"type": "TextQuoteSelector", "exact": "x", "prefix": 1}], "target.selector[1].prefix"),
        ([{"type": "TextQuoteSelector", "exact": "x", "suffix": "s" * (MAX_CONTEXT + 1)}], "target.selector[0].suffix"),
        ([QUOTE_SELECTOR, {"type": "TextPositionSelector", "start": -1, "end": 1}], "target.selector[1].start"),
        ([QUOTE_SELECTOR, {"type": "TextPositionSelector", "start": 0}], "target.selector[1].end"),
        ([QUOTE_SELECTOR, {"type": "TextPositionSelector", "start": "0", "end": 1}], "target.selector[1].start"),
        ([QUOTE_SELECTOR, {"type": "TextPositionSelector", "start": True, "end": 1}], "target.selector[1].start"),
        ([QUOTE_SELECTOR, {"type": "TextPositionSelector", "start": 0, "end": 1.5}], "target.selector[1].end"),
        ([QUOTE_SELECTOR, {"type": "TextPositionSelector", "start": 5, "end": 4}], "target.selector[1].end"),
    ],
)
def test_selectors_to_quote_rejects(selectors, field):
    with pytest.raises(SelectorError) as info:
        selectors_to_quote(selectors)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"{field}: ")


def test_selector_error_path_can_be_renamed():
    with pytest.raises(SelectorError) as info:
        selectors_to_quote([{"type": "TextQuoteSelector"}], path="selector")
    assert info.value.field == "selector[0].exact"
