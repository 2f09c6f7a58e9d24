"""Cursors and page budgets (notes_service/paging.py): pure functions, no app."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from notes_service.errors import BadRequest
from notes_service.paging import (
    MAX_LIMIT,
    RESPONSE_LIMIT,
    cut_to_budget,
    decode_cursor,
    encode_cursor,
    parse_page_request,
)

KEY = (datetime, str)
WHEN = datetime(2026, 12, 1, 19, 30, 5, 123456, tzinfo=UTC)


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_round_trips_its_sort_key():
    cursor = encode_cursor((WHEN, "a" * 32))
    assert decode_cursor(cursor, KEY) == (WHEN, "a" * 32)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "x",
        b64({"a": 1}),
        b64([]),
        b64(["2026-12-01T00:00:00Z"]),
        b64(["2026-12-01T00:00:00Z", "a", "b"]),
        b64(["2026-12-01T00:00:00", "a"]),  # naive time
        b64(["not a time", "a"]),
        b64([5, "a"]),
        b64(["0001-01-01T00:00:00+05:00", "a"]),  # overflows when put in UTC
        b64(["2026-12-01T00:00:00Z", "a\x00b"]),  # PostgreSQL refuses a NUL in text
        b64(["2026-12-01T00:00:00Z", "x" * 65]),
        b64(["2026-12-01T00:00:00Z", 7]),
        b64(["2026-12-01T00:00:00Z", ""]),
        "A" * 600,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_this_service_did_not_give_is_a_bad_request(cursor):
    with pytest.raises(BadRequest):
        decode_cursor(cursor, KEY)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "²", "1" * 5000, ""])
def test_a_bad_limit_is_a_bad_request(limit):
    with pytest.raises(BadRequest):
        parse_page_request(MultiDict({"limit": limit}), KEY)


def test_limit_defaults_and_bounds():
    assert parse_page_request(MultiDict(), KEY).limit == 50
    assert parse_page_request(MultiDict({"limit": str(MAX_LIMIT)}), KEY).limit == MAX_LIMIT
    page = parse_page_request(MultiDict({"cursor": encode_cursor((WHEN, "b"))}), KEY)
    assert page.after == (WHEN, "b")


def test_the_budget_cuts_a_page_and_says_more_follow():
    items = [b"x" * 1000] * 10
    kept, more = cut_to_budget(iter(items), len, more=False, budget=3500)
    assert len(kept) == 3 and more is True
    kept, more = cut_to_budget(iter(items), len, more=False, budget=10**6)
    assert len(kept) == 10 and more is False
    assert cut_to_budget(iter(items), len, more=True, budget=10**6) == (items, True)


def test_a_page_emptied_while_read_still_says_more_follow():
    # A page's notes all deleted between the read of its ids and of their payloads: the walk goes on.
    assert cut_to_budget(iter([]), len, more=True) == ([], True)
    assert cut_to_budget(iter([]), len, more=False) == ([], False)


def test_one_item_over_the_budget_still_makes_a_page():
    kept, more = cut_to_budget(iter([b"x" * 100, b"y"]), len, more=False, budget=10)
    assert kept == [b"x" * 100] and more is True


def test_nothing_past_the_cut_is_computed():
    computed = []

    def items():
        for i in range(100):
            computed.append(i)
            yield i

    kept, _ = cut_to_budget(items(), lambda _: RESPONSE_LIMIT // 3, more=False)
    assert len(kept) == 2 and len(computed) == 3
