"""Tests for notes_service.notes.anchoring.scoring: the 50/20/20/2 score of a candidate."""

import pytest
from notes.anchoring.samples import ELIGIBILITY

from notes_service.notes.anchoring import Anchor, Quote, locate_exact
from notes_service.notes.anchoring.folding import Folded, fold_text
from notes_service.notes.anchoring.scoring import (
    POSITION_WEIGHT,
    PREFIX_WEIGHT,
    QUOTE_WEIGHT,
    SUFFIX_WEIGHT,
    TOTAL_WEIGHT,
    Target,
    best_anchor,
    score,
    target_of,
)


def test_scores_are_normalised():
    perfect = locate_exact(ELIGIBILITY, Quote("cirrhosis", prefix="Class B or C ", suffix="."))
    weaker = locate_exact(ELIGIBILITY, Quote("cirrhosis", prefix="nothing like it"))
    assert perfect.score == pytest.approx(1.0)
    assert 0.5 < weaker.score < 1.0


def folded_target(text: str, quote: Quote) -> tuple[Folded, Target]:
    return fold_text(text), target_of(quote)


def test_missing_context_and_position_score_in_full():
    folded, target = folded_target("one two three", Quote("two"))
    assert score(folded, target, 4, 7, 1.0) == pytest.approx(1.0)
    assert score(folded, target, 4, 7, 0.0) == pytest.approx(1 - QUOTE_WEIGHT / TOTAL_WEIGHT)


def test_each_part_weighs_as_in_the_reference_client():
    text = "two three four"
    folded, target = folded_target(text, Quote("two", prefix="xxxx", suffix="yyyyyy", start=len(text)))
    # Nothing of the context matches, and the hint is the whole text away: only the quote counts.
    assert score(folded, target, 0, 3, 1.0) == pytest.approx(QUOTE_WEIGHT / TOTAL_WEIGHT)
    folded, target = folded_target(text, Quote("two", prefix="xxxx", suffix=" three", start=0))
    assert score(folded, target, 0, 3, 1.0) == pytest.approx(
        (QUOTE_WEIGHT + SUFFIX_WEIGHT + POSITION_WEIGHT) / TOTAL_WEIGHT
    )
    assert (QUOTE_WEIGHT, PREFIX_WEIGHT, SUFFIX_WEIGHT, POSITION_WEIGHT, TOTAL_WEIGHT) == (50, 20, 20, 2, 92)


def test_the_quote_own_edge_white_space_counts_as_context():
    target = target_of(Quote("  two\n", prefix="one", suffix="three"))
    assert (target.quote, target.prefix, target.suffix) == ("two", "one ", " three")


def test_ties_go_to_the_earliest_start():
    assert best_anchor([Anchor(9, 12, 0.5), Anchor(3, 6, 0.5), Anchor(1, 2, 0.4)]) == Anchor(3, 6, 0.5)
    assert best_anchor([]) is None


@pytest.mark.parametrize("hint", [4 + 13, 2**31 - 1, 10**400])
def test_a_hint_a_text_length_or_more_away_scores_no_position_and_never_overflows(hint):
    # The API bounds a position (schemas.MAX_POSITION); the score holds for any int a caller passes.
    folded, target = folded_target("one two three", Quote("two", start=hint))
    assert score(folded, target, 4, 7, 1.0) == pytest.approx(1 - POSITION_WEIGHT / TOTAL_WEIGHT)
    assert locate_exact(ELIGIBILITY, Quote("cirrhosis", start=hint)) is not None
