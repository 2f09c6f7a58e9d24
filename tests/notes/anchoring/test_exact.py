"""Tests for notes_service.notes.anchoring.exact: every occurrence of the folded quote, scored."""

import pytest
from hypothesis import assume, given, settings
from notes.anchoring.samples import ELIGIBILITY, nth, sliced, text_and_range

from notes_service.notes.anchoring import Quote, fold_whitespace, locate_exact, quote_for_range


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
    assert sliced(text, anchor) == expected
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
        pytest.param(Quote("cirrhosis", start=nth(ELIGIBILITY, "cirrhosis", 2)), 2, id="hint-third"),
        pytest.param(Quote("cirrhosis", start=nth(ELIGIBILITY, "cirrhosis", 1) + 5), 1, id="hint-near-second"),
        # Context outweighs a misleading position.
        pytest.param(Quote("cirrhosis", prefix="Class B or C ", start=0), 1, id="context-beats-hint"),
        pytest.param(Quote("cirrhosis"), 0, id="no-context-first"),
    ],
)
def test_repeated_quote_picks_the_right_occurrence(quote, occurrence):
    anchor = locate_exact(ELIGIBILITY, quote)
    assert anchor is not None
    assert anchor.start == nth(ELIGIBILITY, "cirrhosis", occurrence)
    assert anchor.end == anchor.start + len("cirrhosis")


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


def test_degenerate_repeats_still_honour_the_hint():
    anchor = locate_exact("a" * 150_000, Quote("a", start=123_456))
    assert anchor.start == 123_456


@settings(max_examples=100, deadline=1000)
@given(case=text_and_range())
def test_unique_trimmed_substrings_are_found_in_place(case):
    text, start, end = case
    exact = text[start:end]
    assume(exact == exact.strip() and fold_whitespace(text).count(fold_whitespace(exact)) == 1)
    anchor = locate_exact(text, quote_for_range(text, start, end))
    assert (anchor.start, anchor.end) == (start, end)
