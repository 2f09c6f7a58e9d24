"""Note lists and the export are paged and bounded; the body limit holds for what is stored."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from conftest import BACKEND
from hypothesis import given
from hypothesis import strategies as st
from support import CIRRHOSIS, SEED, delete_before_payloads_are_read, walk_pages

from notes_service.notes import service
from notes_service.notes.presenters import present_export, present_note, present_notes_page
from notes_service.notes.service import NoteSlice, NoteView
from notes_service.paging import RESPONSE_LIMIT, encode_cursor

EMOJI = "\U0001f600"  # the costliest stored character: 4 bytes of UTF-8, 12 as a JSON surrogate pair


def add_utf8_note(client, owner, body: str) -> dict:
    """A note sent as UTF-8 JSON (10,000 emoji as \\u escapes would pass the 64 KiB request limit)."""
    target = {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}
    response = client.post(
        f"/api/v1/trials/{SEED}/notes",
        headers=owner.headers,
        content_type="application/json",
        data=json.dumps({"target": target, "body": body}, ensure_ascii=False).encode(),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_notes_come_in_pages_that_together_hold_every_note_once(client, owner):
    made = [owner.add_note(body=f"note {i}")["id"] for i in range(7)]
    pages = walk_pages(client, owner, f"/api/v1/trials/{SEED}/notes", "notes", limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [note["id"] for page in pages for note in page] == made  # oldest first, none twice


def test_a_note_added_during_the_walk_comes_on_a_later_page(client, owner):
    first = [owner.add_note(body=f"note {i}")["id"] for i in range(2)]
    page = client.get(f"/api/v1/trials/{SEED}/notes?limit=2", headers=owner.headers).get_json()
    assert [n["id"] for n in page["notes"]] == first and page["next"] is None
    # The last note's key still works as a cursor: a client polling for new notes gets only them.
    late = owner.add_note(body="late")
    last = page["notes"][-1]
    cursor = encode_cursor((datetime.fromisoformat(last["created_at"]), last["id"]))
    rest = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers, query_string={"cursor": cursor})
    assert [n["id"] for n in rest.get_json()["notes"]] == [late["id"]]


@pytest.mark.parametrize(
    "query", [{"cursor": "nope"}, {"cursor": "W10"}, {"limit": "0"}, {"limit": "101"}, {"limit": "ten"}]
)
def test_a_bad_cursor_or_limit_is_a_400_problem(client, owner, query):
    owner.add_note()
    for path in (f"/api/v1/trials/{SEED}/notes", "/api/v1/notebooks/me/export", "/api/v1/shares"):
        response = client.get(path, headers=owner.headers, query_string=query)
        assert response.status_code == 400, path
        assert response.mimetype == "application/problem+json"
        assert "Does this exclude me" not in response.get_data(as_text=True)


def test_the_costliest_notes_come_as_utf8_and_the_export_is_cut_before_4_mib(client, owner):
    # 35 notes of the costliest stored body (10,000 emoji): 40,000 bytes each on the trial's
    # page (orjson writes UTF-8), 120,000 each in the export (the app's encoder escapes them as
    # surrogate pairs), 4.2 MB: within the count limit (50), so only the byte budget cuts it.
    made = [add_utf8_note(client, owner, EMOJI * 10_000)["id"] for _ in range(35)]
    first = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    page = first.get_json()
    assert len(first.get_data()) <= RESPONSE_LIMIT and EMOJI.encode() * 10_000 in first.get_data()
    assert [note["id"] for note in page["notes"]] == made and page["next"] is None
    export = client.get("/api/v1/notebooks/me/export", headers=owner.headers)
    items = export.get_json()["first"]["items"]
    assert len(export.get_data()) <= RESPONSE_LIMIT and 0 < len(items) < 35
    assert export.get_json()["first"]["next"]


def _view(index: int, body: str) -> NoteView:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=index)
    selector = [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]
    return NoteView(id=f"{index:032x}", trial_id=SEED, created_at=at, updated_at=at, selectors=selector, body=body)


def test_the_byte_budget_cuts_a_page_of_notes_before_4_mib():
    # No stored note is this large (the page's limits keep it near 4 MB at most): the presenter
    # alone must still keep a page within the budget, measuring the bytes it sends.
    views = [_view(index, "\u2028" * 60_000) for index in range(100)]
    body = present_notes_page(NoteSlice(notes=iter(views), more=False))
    page = json.loads(body)
    assert len(body) <= RESPONSE_LIMIT and 0 < len(page["notes"]) < 100
    last = views[len(page["notes"]) - 1]
    assert page["next"] == encode_cursor((last.created_at, last.id))


def test_a_page_emptied_while_read_still_has_the_cursor_of_its_position():
    # Every note of the page deleted between the read of its ids and of their payloads: no note
    # gives the cursor, the page's position does (else the walk would end on an empty page).
    at = (datetime(2026, 1, 1, tzinfo=UTC), "a" * 32)
    page = json.loads(present_notes_page(NoteSlice(notes=iter([]), more=True, last=at)))
    assert page == {"notes": [], "next": encode_cursor(at)}
    emptied = NoteSlice(notes=iter([]), more=True, total=3, last=(SEED, *at))
    annotations = present_export(emptied, "http://localhost", "http://localhost/x", start_index=2, first=False)
    assert annotations["items"] == [] and annotations["unreadable"] == 0
    assert annotations["next"] == f"http://localhost/x?cursor={encode_cursor((SEED, *at, 2))}"
    assert json.loads(present_notes_page(NoteSlice(notes=iter([]), more=False)))["next"] is None


_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))])
_TIMES = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES)


@given(_TIMES, _TIMES, st.booleans())
def test_a_page_writes_each_note_as_present_note_does(created_at, updated_at, readable):
    # The page writes its timestamps through orjson, every other response through clock.isoformat:
    # the two must give the same text, whatever the zone and with or without microseconds.
    view = replace(_view(0, "<p>Ask about it.</p>"), created_at=created_at, updated_at=updated_at, readable=readable)
    page = json.loads(present_notes_page(NoteSlice(notes=iter([view]), more=False)))
    assert page["notes"] == [json.loads(json.dumps(present_note(view)))]


def test_the_body_limit_counts_the_stored_sanitized_form(client, owner):
    # 10,000 "<" pass the input limit but are stored as 40,000 characters of "&lt;".
    target = {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}
    response = client.post(
        f"/api/v1/trials/{SEED}/notes", headers=owner.headers, json={"target": target, "body": "<" * 10_000}
    )
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    detail = response.get_json()["errors"]["body"]
    assert "as stored" in detail and "40000" in detail
    assert client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"] == []
    # Exactly at the limit as stored: 2,000 "&" are 10,000 characters of "&amp;".
    note = owner.add_note(body="&" * 2_000)
    assert note["body"] == "&amp;" * 2_000
    # An edit is held to the same bound and leaves the note as it was.
    patched = client.patch(f"/api/v1/notes/{note['id']}", headers=owner.headers, json={"body": "&" * 2_001})
    assert patched.status_code == 422 and "as stored" in patched.get_json()["errors"]["body"]
    assert client.get(f"/api/v1/notes/{note['id']}", headers=owner.headers).get_json()["body"] == note["body"]


def test_export_pages_are_w3c_annotation_pages_linked_by_next(client, owner):
    made = [owner.add_note(body=f"note {i}")["id"] for i in range(7)]
    first = client.get("/api/v1/notebooks/me/export?limit=3", headers=owner.headers)
    assert first.mimetype == "application/ld+json"
    collection = first.get_json()
    assert collection["type"] == "AnnotationCollection" and collection["total"] == 7
    page = collection["first"]
    seen, starts = [], []
    while True:
        assert page["type"] == "AnnotationPage"
        starts.append(page["startIndex"])
        seen += [item["id"] for item in page["items"]]
        if "next" not in page:
            break
        assert page["next"].startswith("http://localhost/api/v1/notebooks/me/export?cursor=")
        response = client.get(page["next"] + "&limit=3", headers=owner.headers)
        assert response.status_code == 200
        page = response.get_json()
        assert page["partOf"]["type"] == "AnnotationCollection" and page["partOf"]["total"] == 7
        assert "http://www.w3.org/ns/anno.jsonld" in page["@context"]
    assert starts == [0, 3, 6]
    assert seen == [f"urn:uuid:{note_id}" for note_id in made]


def test_list_answers_match_the_documented_shape(client, owner):
    owner.add_note()
    body = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()
    assert set(body) == {"notes", "next"} and body["next"] is None


def large_payloads_come_after_the_page(monkeypatch) -> None:
    """Make every payload too large to come with the first statement of 'my notes on a trial'."""
    monkeypatch.setattr(service, "FETCH_BYTES", 0)


def test_a_trial_page_whose_notes_are_deleted_while_read_still_leads_to_the_notes_after_it(
    app, client, owner, monkeypatch
):
    # Each statement of the read is its own snapshot (on SQLite too: the first is read alone):
    # the first finds the page's note, the payload read after it finds it deleted.
    first, second = (owner.add_note(body=f"note {i}")["id"] for i in range(2))
    large_payloads_come_after_the_page(monkeypatch)
    deleted = delete_before_payloads_are_read(monkeypatch, app, owner, [first])

    page = client.get(f"/api/v1/trials/{SEED}/notes?limit=1", headers=owner.headers).get_json()

    assert deleted == [204] and page["notes"] == [] and page["next"] is not None
    rest = client.get(f"/api/v1/trials/{SEED}/notes?limit=1&cursor={page['next']}", headers=owner.headers)
    assert [n["id"] for n in rest.get_json()["notes"]] == [second] and rest.get_json()["next"] is None


postgresql_only = pytest.mark.skipif(
    BACKEND != "postgresql", reason="SQLite reads a notebook's list in one snapshot: no note vanishes mid-page"
)


@postgresql_only
def test_every_note_of_mine_whose_page_is_deleted_while_read_still_leads_to_the_notes_after_it(
    app, client, owner, monkeypatch
):
    first, second = (owner.add_note(body=f"note {i}")["id"] for i in range(2))
    deleted = delete_before_payloads_are_read(monkeypatch, app, owner, [first])

    page = client.get("/api/v1/notebooks/me/notes?limit=1", headers=owner.headers).get_json()

    assert deleted == [204] and page["notes"] == [] and page["next"] is not None
    rest = client.get(f"/api/v1/notebooks/me/notes?limit=1&cursor={page['next']}", headers=owner.headers)
    assert [n["id"] for n in rest.get_json()["notes"]] == [second] and rest.get_json()["next"] is None


@postgresql_only
def test_an_export_page_deleted_while_read_still_links_to_the_notes_after_it(app, client, owner, monkeypatch):
    first, second = (owner.add_note(body=f"note {i}")["id"] for i in range(2))
    deleted = delete_before_payloads_are_read(monkeypatch, app, owner, [first])

    page = client.get("/api/v1/notebooks/me/export?limit=1", headers=owner.headers).get_json()["first"]

    assert deleted == [204] and page["items"] == [] and page["unreadable"] == 0 and "next" in page
    rest = client.get(page["next"] + "&limit=1", headers=owner.headers).get_json()
    assert rest["startIndex"] == 0 and "next" not in rest
    assert [item["id"] for item in rest["items"]] == [f"urn:uuid:{second}"]
