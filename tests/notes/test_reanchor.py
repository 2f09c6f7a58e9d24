from __future__ import annotations

import json

from sqlalchemy import select
from support import SEED, new_owner

from notes_service.extensions import db
from notes_service.notes.models import Note
from notes_service.trials.reader import shipped_data_dir

MOVED = "Any form of primary, inherited immunodeficiency."
EDITED = "Symptomatic cardiac or vascular disease requiring medical intervention"
DELETED = "Unwilling to participate in an extended safety monitoring period."


def changed_seed() -> dict:
    study = json.loads((shipped_data_dir() / "NCT07085104.json").read_text())
    module = study["protocolSection"]["eligibilityModule"]
    criteria = module["eligibilityCriteria"]
    # Move item 9 to the top of the exclusions, edit a word in item 5, delete item 10.
    criteria = criteria.replace(f"9. {MOVED}\n", "")
    criteria = criteria.replace("Exclusion Criteria:\n\n", f"Exclusion Criteria:\n\n0. {MOVED}\n")
    criteria = criteria.replace(
        "cardiac or vascular disease requiring medical", "cardiac or vascular illness requiring medical"
    )
    criteria = criteria.replace(f"10. {DELETED}\n", "")
    module["eligibilityCriteria"] = criteria
    return study


def stored(app, note_ids: list[str]) -> dict[str, tuple[str, bytes]]:
    """Each note's anchored version and ciphertext as stored."""
    with app.app_context():
        rows = db.session.execute(
            select(Note.id, Note.anchored_version, Note.ciphertext).where(Note.id.in_(note_ids))
        ).all()
        db.session.remove()
    return {row.id: (row.anchored_version, bytes(row.ciphertext)) for row in rows}


def load_changed_seed(runner, tmp_path) -> str:
    path = tmp_path / "seed-v2.json"
    path.write_text(json.dumps(changed_seed()))
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
    assert text.index(MOVED) < text.index("Participants with active systemic")
    assert notes["edited"]["anchor"] == "anchored"
    assert placed(notes["edited"]).startswith("Symptomatic cardiac or vascular illness")
    assert notes["unchanged"]["anchor"] == "anchored"
    assert notes["deleted"]["anchor"] == "orphaned"
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
    # An edit of the body only keeps the target it is re-anchored to (here: orphaned, kept).
    edited = client.patch(f"/api/v1/notes/{deleted['id']}", headers=owner.headers, json={"body": "still here"})
    assert edited.status_code == 200
    assert edited.get_json()["anchor"] == "orphaned" and edited.get_json()["body"] == "still here"
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
