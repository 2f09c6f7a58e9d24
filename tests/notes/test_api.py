from __future__ import annotations

import pytest
from support import CIRRHOSIS, SEED, meanwhile, new_owner, postgresql_only

from notes_service.notes import service
from notes_service.notes.schemas import MAX_POSITION
from notes_service.trials import service as trials


def positioned(start: int, end: int) -> dict:
    """A target on the cirrhosis criterion with a position hint."""
    quote = {"type": "TextQuoteSelector", "exact": CIRRHOSIS}
    return {"selector": [quote, {"type": "TextPositionSelector", "start": start, "end": end}]}


def test_notebook_token_shown_once_and_required(client, owner):
    assert len(owner.token) >= 43
    response = client.get(f"/api/v1/trials/{SEED}/notes")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.get(f"/api/v1/trials/{SEED}/notes", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_create_list_read_update_delete(client, owner):
    note = owner.add_note(body="<p>Ask <strong>Dr. Lee</strong></p>", color="green")
    assert note["anchor"] == "anchored" and note["readable"] is True
    assert note["color"] == "green" and note["color_label"] == "Green"
    selectors = {s["type"]: s for s in note["target"]["selector"]}
    quote = selectors["TextQuoteSelector"]
    assert quote["exact"] == CIRRHOSIS and quote["prefix"].endswith("6. ")
    text = client.get(f"/api/v1/trials/{SEED}").get_json()["text"]
    position = selectors["TextPositionSelector"]
    assert text[position["start"] : position["end"]] == CIRRHOSIS

    listed = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"]
    assert [n["id"] for n in listed] == [note["id"]]
    assert client.get(f"/api/v1/notes/{note['id']}", headers=owner.headers).get_json() == listed[0]

    patched = client.patch(
        f"/api/v1/notes/{note['id']}", headers=owner.headers, json={"body": "Asked: yes, excluded", "color": "blue"}
    )
    assert patched.status_code == 200
    assert patched.get_json()["body"] == "Asked: yes, excluded"
    assert patched.get_json()["color"] == "blue"

    assert client.delete(f"/api/v1/notes/{note['id']}", headers=owner.headers).status_code == 204
    assert client.get(f"/api/v1/notes/{note['id']}", headers=owner.headers).status_code == 404


def test_a_note_sent_again_with_its_key_is_stored_once_and_another_note_on_the_passage_stays(client, owner, other):
    # A save whose answer was lost is sent again with the key the client chose: the note as stored
    # (200, unchanged), never a second one, and another note on the same words is left as it is.
    older = owner.add_note(body="From the phone", color="green")
    key = "0123456789abcdef0123456789abcdef"
    first = owner.add_note(body="Ask Dr. Lee", idempotency_key=key)
    status, again = owner.post_note(body="Ask Dr. Lee at the visit", color="blue", idempotency_key=key)
    assert status == 200 and again == first
    assert [(n["id"], n["body"], n["color"]) for n in owner.notes()] == [
        (older["id"], "From the phone", "green"),
        (first["id"], "Ask Dr. Lee", "yellow"),
    ]
    # The same key in another notebook makes a note of its own there: it tells nothing of mine.
    status, theirs = other.post_note(body="Theirs", idempotency_key=key)
    assert status == 201 and theirs["id"] != first["id"]
    assert client.get(f"/api/v1/notes/{first['id']}", headers=other.headers).status_code == 404
    status, problem = owner.post_note(idempotency_key="0123456789ABCDEF0123456789ABCDEF")
    assert status == 422 and set(problem["errors"]) == {"idempotency_key"}


def test_another_notebooks_note_is_404_on_every_route(client, owner, other):
    note = owner.add_note()
    path = f"/api/v1/notes/{note['id']}"
    for response in (
        client.get(path, headers=other.headers),
        client.patch(path, headers=other.headers, json={"body": "mine now"}),
        client.delete(path, headers=other.headers),
    ):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert "Does this exclude me" not in response.get_data(as_text=True)
    assert client.get(f"/api/v1/trials/{SEED}/notes", headers=other.headers).get_json() == {"notes": [], "next": None}
    assert client.get(path, headers=owner.headers).get_json()["body"] == "Does this exclude me?"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"target": {"selector": [{"type": "TextQuoteSelector", "exact": "not in this trial at all"}]}},
            "target.selector[0].exact",
        ),
        ({"body": "no target"}, "target"),
        ({"target": {"selector": []}}, "target.selector"),
        ({"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}, "color": "red"}, "color"),
        ({"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}, "body": 5}, "body"),
        ({"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}, "body": "x" * 10_001}, "body"),
        ({"target": {"selector": [{"type": "TextQuoteSelector", "exact": "x" * 2001}]}}, "target.selector[0].exact"),
        (
            {"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS, "prefix": "p" * 65}]}},
            "target.selector[0].prefix",
        ),
        ({"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}, "owner": "me"}, "owner"),
        ({"target": positioned(-1, 5)}, "target.selector[1].start"),
        ({"target": positioned(5, 4)}, "target.selector[1].end"),
        ({"target": positioned(0, MAX_POSITION + 1)}, "target.selector[1].end"),
        ({"target": positioned(10**400, 10**400)}, "target.selector[1].start"),
    ],
)
def test_invalid_notes_are_422_naming_the_field(client, owner, body, field):
    response = client.post(f"/api/v1/trials/{SEED}/notes", headers=owner.headers, json=body)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("position", [MAX_POSITION + 1, 2**64, 10**400])
def test_a_position_past_any_text_is_a_422_on_create_and_on_change(client, owner, position):
    # The hint was scored as a float fraction of the text: 10**400 overflowed there, a 500.
    note = owner.add_note()
    target = positioned(position, position)
    for response in (
        client.post(f"/api/v1/trials/{SEED}/notes", headers=owner.headers, json={"target": target}),
        client.patch(f"/api/v1/notes/{note['id']}", headers=owner.headers, json={"target": target}),
    ):
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        assert set(response.get_json()["errors"]) == {"target.selector[1].start", "target.selector[1].end"}
    assert client.get(f"/api/v1/notes/{note['id']}", headers=owner.headers).get_json() == note


def test_a_position_hint_at_the_bound_still_places_the_note_by_its_quote(client, owner):
    note = owner.add_note(body="far hint")
    response = client.post(
        f"/api/v1/trials/{SEED}/notes",
        headers=owner.headers,
        json={"target": positioned(MAX_POSITION, MAX_POSITION), "body": "x"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["target"]["selector"] == note["target"]["selector"]


def test_malformed_json_is_400(client, owner):
    response = client.post(
        f"/api/v1/trials/{SEED}/notes", headers=owner.headers, data="{nope", content_type="application/json"
    )
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_request_over_64_kib_is_413(client, owner):
    body = {"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}, "body": "x" * 70_000}
    response = client.post(f"/api/v1/trials/{SEED}/notes", headers=owner.headers, json=body)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_unknown_trial_is_404(client, owner):
    response = client.post(
        "/api/v1/trials/NCT99999999/notes",
        headers=owner.headers,
        json={"target": {"selector": [{"type": "TextQuoteSelector", "exact": "x"}]}},
    )
    assert response.status_code == 404


def test_whitespace_folded_quote_is_found(client, owner):
    note = owner.add_note(exact="Inclusion   Criteria \n 1. Adults")
    assert note["anchor"] == "anchored"


def test_repeated_quote_picks_occurrence_by_prefix_and_suffix(client, owner):
    text = client.get(f"/api/v1/trials/{SEED}").get_json()["text"]
    word = "ALLO-329"
    occurrences = [i for i in range(len(text)) if text.startswith(word, i)]
    assert len(occurrences) >= 3
    target = occurrences[2]
    note = owner.add_note(
        exact=word,
        quote={"prefix": text[target - 20 : target], "suffix": text[target + len(word) : target + len(word) + 20]},
    )
    position = next(s for s in note["target"]["selector"] if s["type"] == "TextPositionSelector")
    assert position["start"] == target


def test_note_limit_per_notebook(make_app):
    app = make_app(NOTES_MAX_NOTES="2")
    client = app.test_client()
    owner = new_owner(client)
    owner.add_note()
    owner.add_note()
    response = client.post(
        f"/api/v1/trials/{SEED}/notes",
        headers=owner.headers,
        json={"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}},
    )
    assert response.status_code == 422
    assert "(notebook)" in response.get_json()["errors"]


def test_export_is_w3c_annotation_collection(client, owner):
    owner.add_note(body="<em>ask</em>")
    response = client.get("/api/v1/notebooks/me/export", headers=owner.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    body = response.get_json()
    assert "http://www.w3.org/ns/anno.jsonld" in body["@context"]
    assert body["type"] == "AnnotationCollection" and body["total"] == 1
    annotation = body["first"]["items"][0]
    assert annotation["type"] == "Annotation"
    assert annotation["body"]["value"] == "<em>ask</em>"
    assert annotation["target"]["source"].endswith(f"/trials/{SEED}")
    assert any(s["type"] == "TextQuoteSelector" for s in annotation["target"]["selector"])


def test_delete_notebook(client, owner, other):
    owner.add_note()
    other_note = other.add_note()
    assert client.delete("/api/v1/notebooks/me", headers=owner.headers).status_code == 204
    assert client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).status_code == 401
    assert client.get(f"/api/v1/notes/{other_note['id']}", headers=other.headers).status_code == 200


def _hold(monkeypatch, module, name, other):
    """Run the request `other` meanwhile the first time `module.name` is called (see support.meanwhile)."""
    real = getattr(module, name)
    finishes = []

    def held(*args, **kwargs):
        if not finishes:
            finishes.append(meanwhile(other))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return lambda: finishes[0]()


@postgresql_only
def test_a_body_and_a_colour_changed_at_once_both_stay(app, owner, monkeypatch):
    note = owner.add_note(body="old")
    path = f"/api/v1/notes/{note['id']}"
    # The colour's edit starts while the body's is being written, after it read the note.
    colour = _hold(
        monkeypatch,
        service,
        "stored_body",
        lambda: app.test_client().patch(path, headers=owner.headers, json={"color": "green"}),
    )
    body = owner.client.patch(path, headers=owner.headers, json={"body": "new"})
    assert body.status_code == 200, body.get_json()
    assert colour().status_code == 200
    final = owner.client.get(path, headers=owner.headers).get_json()
    assert (final["body"], final["color"]) == ("new", "green")


@postgresql_only
def test_a_note_deleted_while_it_is_edited_is_deleted_after_the_edit(app, owner, monkeypatch):
    note = owner.add_note(body="old")
    path = f"/api/v1/notes/{note['id']}"
    # The deletion comes while the edit is being written: it waits for the edit, then deletes the note.
    deletion = _hold(monkeypatch, service, "stored_body", lambda: app.test_client().delete(path, headers=owner.headers))
    edit = owner.client.patch(path, headers=owner.headers, json={"body": "new"})
    assert edit.status_code == 200, edit.get_json()
    assert deletion().status_code == 204
    assert owner.client.get(path, headers=owner.headers).status_code == 404


@postgresql_only
def test_an_edit_of_a_note_deleted_after_the_edit_began_is_404_and_writes_nothing(app, owner, monkeypatch):
    note = owner.add_note(body="old")
    path = f"/api/v1/notes/{note['id']}"
    # The note is deleted after the edit read it (to see whether its trial's text changed), before it is written.
    deletion = _hold(
        monkeypatch, trials, "get_trial_row", lambda: app.test_client().delete(path, headers=owner.headers)
    )
    edit = owner.client.patch(path, headers=owner.headers, json={"body": "new"})
    assert deletion().status_code == 204
    assert edit.status_code == 404, edit.get_json()
    assert edit.mimetype == "application/problem+json"
    assert owner.client.get(path, headers=owner.headers).status_code == 404
    assert owner.notes() == []
