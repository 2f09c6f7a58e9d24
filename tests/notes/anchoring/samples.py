"""Texts and strategies the anchoring tests share."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

from notes_service.notes.anchoring import Anchor, fold_whitespace

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


def sliced(text: str, anchor: Anchor | None) -> str | None:
    """The text an anchor covers, or None."""
    return None if anchor is None else text[anchor.start : anchor.end]


def nth(text: str, needle: str, n: int) -> int:
    """Where the n-th (from 0) occurrence of needle starts."""
    index = -1
    for _ in range(n + 1):
        index = text.index(needle, index + 1)
    return index


WHITESPACE_HEAVY = st.text(
    alphabet=st.one_of(st.sampled_from(" \n\t\u00a0\u2028ab\U0001f600"), st.characters()),
    max_size=300,
)


@st.composite
def text_and_range(draw):
    text = draw(WHITESPACE_HEAVY.filter(lambda t: fold_whitespace(t) != ""))
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    assume(fold_whitespace(text[start:end]))
    return text, start, end
