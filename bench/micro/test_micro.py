"""Micro-benchmarks of the pure cores (pytest-benchmark); `make bench` runs them.

Not part of `make test` (pytest's testpaths is `tests`). Run alone with
`.venv/bin/python -m pytest bench/micro`. Each benchmark also checks its result, so a
fast wrong answer cannot pass for a fast right one.
"""

from __future__ import annotations

import json

import pytest

from notes_service import crypto
from notes_service.notes.anchoring import Quote, locate_approximate, locate_exact, quote_for_range
from notes_service.notes.sanitize import sanitize_body
from notes_service.trials.ctgov import parse_study
from notes_service.trials.reader import shipped_data_dir
from notes_service.trials.render import render_trial

SEED = "NCT07085104"
CIRRHOSIS = "Child-Pugh Class B or C cirrhosis"
MARKUP_BODY = (
    "<p>Ask Dr. Okafor whether <strong>Child-Pugh B</strong> rules me out.</p>"
    "<ul><li>last scan: March</li><li>bring the <em>liver panel</em></li></ul>"
    '<p>See <a href="https://clinicaltrials.gov/study/NCT07085104">the record</a>.'
    "<script>alert(1)</script></p>"
)
PLAIN_BODY = "Ask the study team whether this applies to me; my last scan was in March."


@pytest.fixture(scope="module")
def seed_text() -> str:
    path = shipped_data_dir() / f"{SEED}.json"
    return render_trial(parse_study(json.loads(path.read_text(encoding="utf-8")))).canonical_text


@pytest.fixture(scope="module")
def cirrhosis(seed_text: str) -> Quote:
    start = seed_text.index(CIRRHOSIS)
    return quote_for_range(seed_text, start, start + len(CIRRHOSIS))


def note_payload(quote: Quote) -> bytes:
    """One note's plaintext as the service seals it."""
    payload = {
        "selector": [
            {"type": "TextQuoteSelector", "exact": quote.exact, "prefix": quote.prefix, "suffix": quote.suffix},
            {"type": "TextPositionSelector", "start": quote.start, "end": quote.end},
        ],
        "body": sanitize_body(MARKUP_BODY),
        "color": "yellow",
        "anchor": "anchored",
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_seal_and_open_one_note(benchmark, cirrhosis: Quote) -> None:
    dek = crypto.new_data_key()
    plaintext = note_payload(cirrhosis)
    aad = crypto.note_aad("a" * 32, "b" * 32)

    result = benchmark(lambda: crypto.open_sealed(dek, crypto.seal(dek, plaintext, aad), aad))

    assert result == plaintext


def test_unwrap_data_key(benchmark) -> None:
    ring = crypto.Keyring.parse(crypto.Keyring.generate_spec("micro"))
    dek = crypto.new_data_key()
    kek_id, wrapped = crypto.wrap_data_key(ring, dek, b"notebook:" + b"a" * 32)

    result = benchmark(crypto.unwrap_data_key, ring, kek_id, wrapped, b"notebook:" + b"a" * 32)

    assert result == dek


def test_open_key_slot(benchmark) -> None:
    """The key work a read does since key slots: both layers of the owner's slot (HKDF + 2 AES-GCM)."""
    ring = crypto.Keyring.parse(crypto.Keyring.generate_spec("k1"))
    dek, token, context = crypto.new_data_key(), crypto.new_token(32), b"notebook:" + b"a" * 32
    slot = crypto.seal_slot(ring, dek, token, context)
    assert benchmark(crypto.open_slot, ring, slot, token, context) == dek


def test_note_key(benchmark) -> None:
    """A note's own key (HKDF of the DEK): once per note read."""
    dek = crypto.new_data_key()
    key = benchmark(crypto.note_key, dek, "a" * 32, "b" * 32)
    assert len(key) == 32 and key != dek


def test_sanitize_markup_body(benchmark) -> None:
    result = benchmark(sanitize_body, MARKUP_BODY)

    assert "<strong>Child-Pugh B</strong>" in result
    assert "script" not in result and "alert" not in result


def test_sanitize_plain_body(benchmark) -> None:
    result = benchmark(sanitize_body, PLAIN_BODY)

    assert result == PLAIN_BODY


def test_locate_exact(benchmark, seed_text: str, cirrhosis: Quote) -> None:
    anchor = benchmark(locate_exact, seed_text, cirrhosis)

    assert anchor is not None and seed_text[anchor.start : anchor.end] == CIRRHOSIS


def test_locate_approximate_after_an_edit(benchmark, seed_text: str, cirrhosis: Quote) -> None:
    # The registry reworded the criterion: the exact quote is gone, its context stays.
    edited = seed_text.replace(CIRRHOSIS, "Child-Pugh class B or class C cirrhosis")

    anchor = benchmark(locate_approximate, edited, cirrhosis)

    assert anchor is not None
    assert edited[anchor.start : anchor.end] == "Child-Pugh class B or class C cirrhosis"
