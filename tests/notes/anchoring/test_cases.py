"""The shared anchoring table (tests/fixtures/anchoring_cases.json), run against the server.

The widget runs the same table (widget/test/anchoring-cases.test.js), so the two engines
cannot drift apart without one of the two suites failing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notes_service.notes.anchoring import fold_whitespace, locate_approximate, locate_exact, selectors_to_quote

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "anchoring_cases.json").read_text(encoding="utf-8")
)["cases"]


def _span(anchor: Any) -> dict[str, int] | None:
    return None if anchor is None else {"start": anchor.start, "end": anchor.end}


def _expected_span(case: dict[str, Any]) -> dict[str, int] | None:
    expected = case["expected"]
    return None if expected is None else {"start": expected["start"], "end": expected["end"]}


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_reanchoring_places_each_case_where_the_table_says(case: dict[str, Any]) -> None:
    anchor = locate_approximate(case["text"], selectors_to_quote(case["selectors"]))
    assert _span(anchor) == _expected_span(case)
    if anchor is not None:
        assert case["text"][anchor.start : anchor.end] == case["expected"]["text"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_exact_lookup_agrees_wherever_the_quote_is_still_there(case: dict[str, Any]) -> None:
    quote = selectors_to_quote(case["selectors"])
    anchor = locate_exact(case["text"], quote)
    expected = case["expected"]
    if expected is not None and fold_whitespace(expected["text"]) == fold_whitespace(quote.exact):
        assert _span(anchor) == _expected_span(case)
    else:
        assert anchor is None


def test_the_table_covers_each_kind_of_case() -> None:
    found = [case for case in CASES if case["expected"] is not None]
    orphaned = [case for case in CASES if case["expected"] is None]
    edited = [
        case
        for case in found
        if fold_whitespace(case["expected"]["text"]) != fold_whitespace(selectors_to_quote(case["selectors"]).exact)
    ]
    assert len(found) >= 8 and len(orphaned) >= 3 and len(edited) >= 2
    assert any(ord(ch) > 0xFFFF for case in CASES for ch in case["text"]), "an astral-plane case"
