"""read_payload checks an opened ciphertext exactly as validating a NotePayload does."""

from __future__ import annotations

import json
from typing import get_type_hints

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from notes_service.notes.schemas import NotePayload, OpenedPayload, read_payload

GOOD = {
    "selector": [{"type": "TextQuoteSelector", "exact": "cirrhosis", "prefix": "", "suffix": ""}],
    "body": "<p>Ask about <strong>this</strong> 😀</p>",
    "color": "green",
    "anchor": "orphaned",
}
PAYLOADS = [
    json.dumps(GOOD).encode(),
    NotePayload(**GOOD).plaintext(),
    json.dumps({**GOOD, "extra": 1}).encode(),  # other keys are ignored, as by the model
    json.dumps({**GOOD, "selector": []}).encode(),
    b"",
    b"not json",
    b"[]",
    b"null",
    json.dumps([GOOD]).encode(),
    *(json.dumps({k: v for k, v in GOOD.items() if k != field}).encode() for field in GOOD),
    json.dumps({**GOOD, "selector": {"type": "TextQuoteSelector"}}).encode(),
    json.dumps({**GOOD, "selector": ["TextQuoteSelector"]}).encode(),
    json.dumps({**GOOD, "selector": [[]]}).encode(),
    json.dumps({**GOOD, "body": 5}).encode(),
    json.dumps({**GOOD, "body": None}).encode(),
    json.dumps({**GOOD, "body": ["a"]}).encode(),
    json.dumps({**GOOD, "color": 1.5}).encode(),
    json.dumps({**GOOD, "anchor": "lost"}).encode(),
    json.dumps({**GOOD, "anchor": None}).encode(),
    json.dumps({**GOOD, "anchor": ["anchored"]}).encode(),
    json.dumps({**GOOD, "anchor": "Anchored"}).encode(),
    json.dumps(GOOD).encode()[:-1],  # cut short, as a tampered payload would be (if it opened)
    b'{"selector":[],"body":"a","color":"b","anchor":"anchored"} x',
]


def model_reading(plaintext: bytes) -> tuple[object, ...] | None:
    """What validating a NotePayload gives: its fields, or None when it refuses."""
    try:
        payload = NotePayload.model_validate_json(plaintext)
    except ValidationError:
        return None
    return (payload.selector, payload.body, payload.color, payload.anchor)


def fast_reading(plaintext: bytes) -> tuple[object, ...] | None:
    """What read_payload gives: the same fields, or None when it refuses (a ValueError)."""
    try:
        return tuple(read_payload(plaintext))
    except ValueError:
        return None


def test_the_opened_payload_has_the_models_fields_and_types():
    assert OpenedPayload._fields == tuple(NotePayload.model_fields)
    assert get_type_hints(OpenedPayload) == get_type_hints(NotePayload)


@pytest.mark.parametrize("plaintext", PAYLOADS)
def test_read_payload_accepts_and_refuses_what_the_model_does(plaintext):
    assert fast_reading(plaintext) == model_reading(plaintext)


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELD_VALUE = JSON_VALUE | st.sampled_from(["anchored", "orphaned", "green"]) | st.just([{"type": "x"}])


@given(st.dictionaries(st.sampled_from([*GOOD, "other"]), FIELD_VALUE, max_size=5))
def test_read_payload_agrees_with_the_model_on_any_object(fields):
    plaintext = json.dumps(fields).encode()
    assert fast_reading(plaintext) == model_reading(plaintext)
