"""Tests for notes_service.notes.anchoring.folding: white space folded, positions kept."""

import itertools

import pytest
from hypothesis import given, settings
from notes.anchoring.samples import WHITESPACE_HEAVY

from notes_service.notes.anchoring.folding import fold_text, fold_whitespace


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


@pytest.mark.parametrize(
    ("text", "folded", "starts"),
    [
        ("a  b", "a b", (0, 1, 3, 4)),
        ("\n a\tb \n", " a b ", (0, 2, 3, 4, 5, 7)),
        ("", "", (0,)),
    ],
)
def test_fold_text_remembers_where_each_character_came_from(text, folded, starts):
    result = fold_text(text)
    assert (result.text, result.starts) == (folded, starts)


@settings(max_examples=150, deadline=None)
@given(text=WHITESPACE_HEAVY)
def test_a_folded_range_maps_back_to_the_same_words(text):
    folded = fold_text(text)
    assert len(folded.starts) == len(folded.text) + 1
    for index, char in enumerate(folded.text):
        if char != " ":
            assert text[folded.starts[index]] == char
            assert folded.to_folded(folded.starts[index]) == index
    ends = [i for i, char in enumerate(folded.text) if char != " "]
    for start, last in itertools.islice(itertools.combinations_with_replacement(ends, 2), 200):
        end = last + 1
        original_start, original_end = folded.to_original(start, end)
        assert fold_whitespace(text[original_start:original_end]) == folded.text[start:end]
