from __future__ import annotations

import json

import orjson
import pytest
from sqlalchemy import select
from support import DELETED, EDITED, EDITED_NOW, MOVED, SEED, V2_DATE, changed_seed, new_owner

from notes_service.extensions import db
from notes_service.notes.models import Note
from notes_service.notes.reanchor import accepted, reanchored
from notes_service.notes.schemas import NoteChange, NotePayload
from notes_service.trials import service as trials_service


def stored(app, note_ids: list[str]) -> dict[str, tuple[str, bytes]]:
    """Each note's anchored version and ciphertext as stored."""
    with app.app_context():
        rows = db.session.execute(
            select(Note.id, Note.anchored_version, Note.ciphertext).where(Note.id.in_(note_ids))
        ).all()
        db.session.remove()
    return {row.id: (row.anchored_version, bytes(row.ciphertext)) for row in rows}


def load_changed_seed(runner, tmp_path, study: dict | None = None) -> str:
    path = tmp_path / "seed-v2.json"
    path.write_text(json.dumps(study or changed_seed()))
    result = runner.invoke(args=["trials", "load", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_changed_trial_reanchors_on_the_owners_next_read(app, client, runner, tmp_path):
    owner = new_owner(client)
    moved = owner.add_note(exact=MOVED, body="moved")
    edited = owner.add_note(exact=EDITED, body="edited")
    deleted = owner.add_note(exact=DELETED, body="deleted")
    unchanged = owner.add_note(body="unchanged")
    ids = [moved["id"], edited["id"], deleted["id"], unchanged["id"]]
    before = stored(app, ids)
    output = load_changed_seed(runner, tmp_path)
    # The load holds no token, so it opens no note: it counts the ones waiting, and changes none.
    assert "NCT07085104: content changed; 4 notes to re-anchor at their next read" in output
    assert stored(app, ids) == before
    text = client.get(f"/api/v1/trials/{SEED}").get_json()["text"]
    notes = {
        n["body"]: n for n in client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"]
    }
    assert len(notes) == 4, "no note is ever lost"

    def placed(note: dict) -> str:
        position = next(s for s in note["target"]["selector"] if s["type"] == "TextPositionSelector")
        return text[position["start"] : position["end"]]

    assert notes["moved"]["anchor"] == "anchored" and placed(notes["moved"]) == MOVED
    assert notes["moved"]["change"] is None  # moved, same words: nothing to tell
    assert text.index(MOVED) < text.index("Participants with active systemic")
    assert notes["edited"]["anchor"] == "changed"
    assert placed(notes["edited"]).startswith("Symptomatic cardiac or vascular illness")
    assert notes["edited"]["change"] == {"before": EDITED, "after": EDITED_NOW, "since": V2_DATE}
    assert notes["unchanged"]["anchor"] == "anchored" and notes["unchanged"]["change"] is None
    assert notes["deleted"]["anchor"] == "changed"
    assert notes["deleted"]["change"] == {"before": DELETED, "after": None, "since": V2_DATE}
    assert notes["deleted"]["target"]["selector"][0]["exact"] == DELETED
    assert set(ids) == {n["id"] for n in notes.values()}
    # The read stored what it placed, marked with the trial's new version: the next read has nothing to do.
    after = stored(app, ids)
    version = client.get(f"/api/v1/trials/{SEED}").get_json()["version"]
    assert {v for v, _ in after.values()} == {version} != {v for v, _ in before.values()}
    assert all(after[i][1] != before[i][1] for i in ids)
    again = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"]
    assert [n["target"] for n in again] == [notes[n["body"]]["target"] for n in again]
    assert stored(app, ids) == after
    assert [n["updated_at"] for n in again] == [n["updated_at"] for n in (moved, edited, deleted, unchanged)]


def test_one_note_read_or_edited_is_reanchored_first(app, client, runner, tmp_path):
    owner = new_owner(client)
    moved = owner.add_note(exact=MOVED, body="moved")
    deleted = owner.add_note(exact=DELETED, body="deleted")
    load_changed_seed(runner, tmp_path)
    text = client.get(f"/api/v1/trials/{SEED}").get_json()["text"]
    read = client.get(f"/api/v1/notes/{moved['id']}", headers=owner.headers).get_json()
    position = next(s for s in read["target"]["selector"] if s["type"] == "TextPositionSelector")
    assert text[position["start"] : position["end"]] == MOVED
    # An edit of the body only keeps the target it is re-anchored to (here: gone, told, kept).
    edited = client.patch(f"/api/v1/notes/{deleted['id']}", headers=owner.headers, json={"body": "still here"})
    assert edited.status_code == 200
    assert edited.get_json()["anchor"] == "changed" and edited.get_json()["body"] == "still here"
    assert edited.get_json()["change"] == {"before": DELETED, "after": None, "since": V2_DATE}
    version = client.get(f"/api/v1/trials/{SEED}").get_json()["version"]
    assert {v for v, _ in stored(app, [moved["id"], deleted["id"]]).values()} == {version}


def test_a_share_opening_reanchors_that_shares_notes_only(app, client, runner, tmp_path):
    owner = new_owner(client)
    shared = owner.add_note(exact=MOVED, body="shared")
    private = owner.add_note(exact=EDITED, body="private")
    share = owner.share(passcode="reanchor-me", note_ids=[shared["id"]])
    token = share["url"].rsplit("/s/", 1)[1]
    before = stored(app, [shared["id"], private["id"]])
    load_changed_seed(runner, tmp_path)
    opened = client.post(f"/api/v1/shared/{token}", json={"passcode": "reanchor-me"})
    assert opened.status_code == 200
    text = opened.get_json()["trial"]["text"]
    [note] = opened.get_json()["notes"]
    position = next(s for s in note["target"]["selector"] if s["type"] == "TextPositionSelector")
    assert text[position["start"] : position["end"]] == MOVED
    after = stored(app, [shared["id"], private["id"]])
    assert after[shared["id"]][0] != before[shared["id"]][0]
    assert after[private["id"]] == before[private["id"]]  # the link's key reaches the shared notes only
    client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert stored(app, [private["id"]])[private["id"]][0] == after[shared["id"]][0]


def test_reloading_same_record_leaves_notes_alone(client, runner):
    owner = new_owner(client)
    note = owner.add_note()
    result = runner.invoke(args=["trials", "load"])
    assert "re-anchored" not in result.output
    again = client.get(f"/api/v1/notes/{note['id']}", headers=owner.headers).get_json()
    assert again["updated_at"] == note["updated_at"]


def notes_by_body(client, owner) -> dict[str, dict]:
    return {n["body"]: n for n in client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers).get_json()["notes"]}


def test_accepting_a_change_keeps_the_note_on_the_new_text(app, client, runner, tmp_path):
    owner = new_owner(client)
    edited = owner.add_note(exact=EDITED, body="edited")
    deleted = owner.add_note(exact=DELETED, body="deleted")
    load_changed_seed(runner, tmp_path)
    assert notes_by_body(client, owner)["edited"]["anchor"] == "changed"
    kept = client.patch(f"/api/v1/notes/{edited['id']}", headers=owner.headers, json={"anchor": "accept"})
    assert kept.status_code == 200
    assert kept.get_json()["anchor"] == "anchored" and kept.get_json()["change"] is None
    assert kept.get_json()["target"]["selector"][0]["exact"] == EDITED_NOW
    # A passage that is gone, accepted, is a note without a passage: orphaned, its old words kept in its quote.
    gone = client.patch(f"/api/v1/notes/{deleted['id']}", headers=owner.headers, json={"anchor": "accept"})
    assert gone.get_json()["anchor"] == "orphaned" and gone.get_json()["change"] is None
    assert gone.get_json()["target"]["selector"][0]["exact"] == DELETED
    again = notes_by_body(client, owner)
    assert (again["edited"]["anchor"], again["deleted"]["anchor"]) == ("anchored", "orphaned")
    # Accepting twice (a second tab) changes nothing, not even the time of the last edit.
    before = stored(app, [edited["id"]])
    twice = client.patch(f"/api/v1/notes/{edited['id']}", headers=owner.headers, json={"anchor": "accept"})
    assert twice.status_code == 200 and twice.get_json() == kept.get_json()
    assert stored(app, [edited["id"]]) == before


def test_a_change_not_accepted_keeps_the_words_first_highlighted(app, client, runner, tmp_path):
    owner = new_owner(client)
    owner.add_note(exact=EDITED, body="edited")
    load_changed_seed(runner, tmp_path)
    [note] = notes_by_body(client, owner).values()
    client.patch(f"/api/v1/notes/{note['id']}", headers=owner.headers, json={"body": "pinned", "color": "blue"})
    # Version 3 edits the same passage again: still one change, from the words highlighted to these.
    v3 = changed_seed("2026-12-01")
    module = v3["protocolSection"]["eligibilityModule"]
    module["eligibilityCriteria"] = module["eligibilityCriteria"].replace("vascular illness", "vascular condition")
    load_changed_seed(runner, tmp_path, v3)
    pinned = notes_by_body(client, owner)["pinned"]
    assert pinned["anchor"] == "changed" and pinned["color"] == "blue"
    assert pinned["change"] == {
        "before": EDITED,
        "after": EDITED.replace("disease", "condition"),
        "since": "2026-12-01",
    }
    # Version 4 changes another criterion only: the change is still the one of 1 December.
    v4 = json.loads(json.dumps(v3))
    v4["derivedSection"]["miscInfoModule"]["versionHolder"] = "2026-12-02"
    module = v4["protocolSection"]["eligibilityModule"]
    module["eligibilityCriteria"] = module["eligibilityCriteria"].replace(MOVED, MOVED.replace("Any", "Every"))
    load_changed_seed(runner, tmp_path, v4)
    assert notes_by_body(client, owner)["pinned"]["change"]["since"] == "2026-12-01"
    # Version 5 puts the first words back: nothing changed any more from the owner's point of view.
    v5 = changed_seed("2026-12-03")
    module = v5["protocolSection"]["eligibilityModule"]
    module["eligibilityCriteria"] = module["eligibilityCriteria"].replace("vascular illness", "vascular disease")
    load_changed_seed(runner, tmp_path, v5)
    back = notes_by_body(client, owner)["pinned"]
    assert back["anchor"] == "anchored" and back["change"] is None
    assert back["target"]["selector"][0]["exact"] == EDITED


def test_a_change_read_versions_later_is_dated_by_the_version_its_words_changed_in(client, runner, tmp_path):
    # Version 2 (30 November) edits the passage, 3 (1 December) only the status, 4 (2 December)
    # another criterion; the owner reads only after version 4. The words changed in version 2.
    owner = new_owner(client)
    owner.add_note(exact=EDITED, body="edited")
    owner.add_note(exact=DELETED, body="deleted")
    load_changed_seed(runner, tmp_path)
    v3 = changed_seed("2026-12-01")
    v3["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    load_changed_seed(runner, tmp_path, v3)
    v4 = json.loads(json.dumps(v3))
    v4["derivedSection"]["miscInfoModule"]["versionHolder"] = "2026-12-02"
    module = v4["protocolSection"]["eligibilityModule"]
    module["eligibilityCriteria"] = module["eligibilityCriteria"].replace(MOVED, MOVED.replace("Any", "Every"))
    load_changed_seed(runner, tmp_path, v4)
    notes = notes_by_body(client, owner)
    assert notes["edited"]["change"] == {"before": EDITED, "after": EDITED_NOW, "since": V2_DATE}
    assert notes["deleted"]["change"] == {"before": DELETED, "after": None, "since": V2_DATE}


def test_past_the_versions_walked_a_change_is_dated_by_the_current_version(client, runner, tmp_path, monkeypatch):
    monkeypatch.setattr(trials_service, "MAX_VERSIONS_WALKED", 1)
    owner = new_owner(client)
    owner.add_note(exact=EDITED, body="edited")
    load_changed_seed(runner, tmp_path)
    v3 = changed_seed("2026-12-01")
    v3["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    load_changed_seed(runner, tmp_path, v3)
    note = notes_by_body(client, owner)["edited"]
    assert note["anchor"] == "changed" and note["change"]["since"] == "2026-12-01"


def test_highlighting_anew_settles_a_change(client, runner, tmp_path):
    owner = new_owner(client)
    note = owner.add_note(exact=EDITED, body="edited")
    load_changed_seed(runner, tmp_path)
    moved = client.patch(
        f"/api/v1/notes/{note['id']}",
        headers=owner.headers,
        json={"target": {"selector": [{"type": "TextQuoteSelector", "exact": MOVED}]}},
    )
    assert moved.status_code == 200
    assert moved.get_json()["anchor"] == "anchored" and moved.get_json()["change"] is None


def test_the_family_sees_the_change_on_the_share_page_and_in_the_api(client, runner, tmp_path):
    owner = new_owner(client)
    edited = owner.add_note(exact=EDITED, body="edited", color="green")
    deleted = owner.add_note(exact=DELETED, body="deleted")
    share = owner.share(passcode="changed-words", note_ids=[edited["id"], deleted["id"]])
    token = share["url"].rsplit("/s/", 1)[1]
    load_changed_seed(runner, tmp_path)
    opened = client.post(f"/api/v1/shared/{token}", json={"passcode": "changed-words"}).get_json()
    changes = {n["body"]: n["change"] for n in opened["notes"]}
    assert changes == {
        "edited": {"before": EDITED, "after": EDITED_NOW, "since": V2_DATE},
        "deleted": {"before": DELETED, "after": None, "since": V2_DATE},
    }
    path = f"/s/{token}"
    assert client.post(path, data={"passcode": "changed-words"}).status_code == 303
    page = client.get(path).get_data(as_text=True)
    assert page.count('class="note-change"') == 2
    assert "The trial\u2019s text changed here on November 30, 2026." in page
    assert f"“{EDITED}”" in page and f"“{EDITED_NOW}”" in page
    assert "Now: this passage is no longer in the trial text." in page
    # The passage as it reads now is marked in the text, dashed (hl-changed); the gone one is not marked.
    assert '<mark class="hl hl-green hl-changed" id="mark-note-1"' in page
    assert 'id="mark-note-2"' not in page


def test_the_export_gives_a_changed_passages_words_before_and_after(client, runner, tmp_path):
    owner = new_owner(client)
    owner.add_note(exact=EDITED, body="edited")
    owner.add_note(exact=DELETED, body="deleted")
    owner.add_note(body="unchanged")
    load_changed_seed(runner, tmp_path)
    export = client.get("/api/v1/notebooks/me/export", headers=owner.headers).get_json()
    items = {}
    for item in export["first"]["items"]:
        comment = item["body"][0] if isinstance(item["body"], list) else item["body"]
        items[comment["value"]] = item
    assert set(items) == {"edited", "deleted", "unchanged"}
    # Unchanged: one commenting body, as before.
    assert items["unchanged"]["body"]["purpose"] == "commenting"
    assert items["unchanged"]["schema:keywords"] == ["anchored"]
    # Changed: the comment, then the words before and after as describing plain-text bodies.
    edited = items["edited"]
    assert edited["schema:keywords"] == ["changed"]
    assert edited["body"][1:] == [
        {
            "type": "TextualBody",
            "purpose": "describing",
            "format": "text/plain",
            "language": "en",
            "value": EDITED,
            "schema:name": "before",
            "schema:validThrough": V2_DATE,
        },
        {
            "type": "TextualBody",
            "purpose": "describing",
            "format": "text/plain",
            "language": "en",
            "value": EDITED_NOW,
            "schema:name": "after",
            "schema:validFrom": V2_DATE,
        },
    ]
    quote = next(s for s in edited["target"]["selector"] if s["type"] == "TextQuoteSelector")
    assert quote["exact"] == EDITED_NOW  # the target is the passage as it reads now
    # Gone: the words before only; the target stays on them.
    deleted = items["deleted"]
    assert [(b["schema:name"], b["value"], b.get("schema:validThrough")) for b in deleted["body"][1:]] == [
        ("before", DELETED, V2_DATE)
    ]
    assert deleted["target"]["selector"][0]["exact"] == DELETED


def test_reanchored_compares_words_not_white_space():
    text = "Inclusion:\n\n1. Adults aged  18 or over.\n2. Others."
    payload = NotePayload(
        selector=[{"type": "TextQuoteSelector", "exact": "Adults aged 18 or over.", "prefix": "", "suffix": ""}],
        body="",
        color="yellow",
        anchor="anchored",
    )
    placed = reanchored(payload, text, "2026-11-30")
    assert (placed.anchor, placed.change) == ("anchored", None)
    assert placed.selectors[0]["exact"] == "Adults aged  18 or over."
    edited = reanchored(payload, text.replace("18", "21"), "2026-11-30")
    assert edited.anchor == "changed"
    assert edited.change == NoteChange(
        before="Adults aged 18 or over.", after="Adults aged  21 or over.", since="2026-11-30"
    )
    assert accepted(payload.model_copy(update={"anchor": "changed", "change": edited.change})).anchor == "anchored"


def test_the_sealed_payload_holds_a_change_only_when_there_is_one():
    plain = NotePayload(selector=[], body="b", color="yellow", anchor="anchored")
    assert b"change" not in plain.plaintext()  # byte for byte what notes sealed before changes were told
    told = plain.model_copy(update={"anchor": "changed", "change": NoteChange(before="x", after=None, since=None)})
    assert NotePayload.from_plaintext(told.plaintext()) == told


def test_a_read_takes_a_sealed_payloads_fields_as_the_model_has_them():
    # Reads skip validating what our own seal opened (NotePayload.opened_fields): the fields
    # must be the model's, with and without a change, and for a payload from before body_rules.
    plain = NotePayload(
        selector=[{"type": "TextPositionSelector", "start": 1, "end": 9}], body="b", color="red", anchor="anchored"
    )
    told = plain.model_copy(update={"anchor": "changed", "change": NoteChange(before="x", after="y", since=None)})
    for payload in (plain, told):
        assert NotePayload.opened_fields(payload.plaintext()) == dict(payload)
    older = b'{"selector":[],"body":"<li>b","color":"yellow","anchor":"orphaned"}'
    assert NotePayload.opened_fields(older) == dict(NotePayload.from_plaintext(older))
    for not_a_payload in (b"[]", b'{"body":"b"}', b"{"):
        with pytest.raises(ValueError):
            NotePayload.opened_fields(not_a_payload)
    # Fields of the wrong kind make an unreadable note too (open_note catches ValueError), not a failed page.
    for wrong in (
        {"body": None},
        {"color": ["a"]},
        {"selector": None},
        {"selector": ["x"]},
        {"anchor": "gone"},
        {"body_rules": "2"},
        {"body_rules": True},
    ):
        with pytest.raises(ValueError):
            NotePayload.opened_fields(orjson.dumps({**json.loads(older), **wrong}))


def test_accept_is_the_only_anchor_a_patch_takes(client):
    owner = new_owner(client)
    note = owner.add_note()
    for value in ("anchored", "changed", None, True):
        answer = client.patch(f"/api/v1/notes/{note['id']}", headers=owner.headers, json={"anchor": value})
        assert answer.status_code == 422, value
        assert list(answer.get_json()["errors"]) == ["anchor"]
