"""Tests for notes_service.notes.anchoring.selectors: W3C selectors read, validated and written."""

import pytest

from notes_service.notes.anchoring import (
    MAX_CONTEXT,
    MAX_EXACT,
    Quote,
    SelectorError,
    quote_for_range,
    quote_to_selectors,
    selectors_to_quote,
)


def test_quote_for_range():
    text = "0123456789abcdefghij"
    assert quote_for_range(text, 10, 12, context=3) == Quote("ab", "789", "cde", 10, 12)
    assert quote_for_range(text, 0, 2, context=3) == Quote("01", "", "234", 0, 2)
    assert quote_for_range(text, 18, 20) == Quote("ij", text[:18], "", 18, 20)


@pytest.mark.parametrize(("start", "end", "context"), [(-1, 2, 32), (3, 2, 32), (0, 99, 32), (0, 1, -1), (0, 1, 65)])
def test_quote_for_range_rejects_bad_ranges(start, end, context):
    with pytest.raises(ValueError):
        quote_for_range("0123456789", start, end, context=context)


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
