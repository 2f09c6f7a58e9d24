from __future__ import annotations

import json

from support import SEED, new_owner

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
    criteria = criteria.replace("cardiac or vascular disease requiring medical",
                                "cardiac or vascular illness requiring medical")
    criteria = criteria.replace(f"10. {DELETED}\n", "")
    module["eligibilityCriteria"] = criteria
    return study


def test_changed_trial_reanchors_moved_edited_and_orphans_deleted(client, runner, tmp_path):
    owner = new_owner(client)
    moved = owner.add_note(exact=MOVED, body="moved")
    edited = owner.add_note(exact=EDITED, body="edited")
    deleted = owner.add_note(exact=DELETED, body="deleted")
    unchanged = owner.add_note(body="unchanged")
    path = tmp_path / "seed-v2.json"
    path.write_text(json.dumps(changed_seed()))
    result = runner.invoke(args=["trials", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 notes re-anchored" not in result.output
    assert "3 notes re-anchored, 1 orphaned" in result.output
    text = client.get(f"/api/v1/trials/{SEED}").get_json()["text"]
    notes = {n["body"]: n for n in client.get(f"/api/v1/trials/{SEED}/notes",
                                               headers=owner.headers).get_json()["notes"]}
    assert len(notes) == 4, "no note is ever lost"

    def placed(note: dict) -> str:
        position = next(s for s in note["target"]["selector"] if s["type"] == "TextPositionSelector")
        return text[position["start"]:position["end"]]

    assert notes["moved"]["anchor"] == "anchored" and placed(notes["moved"]) == MOVED
    assert text.index(MOVED) < text.index("Participants with active systemic")
    assert notes["edited"]["anchor"] == "anchored"
    assert placed(notes["edited"]).startswith("Symptomatic cardiac or vascular illness")
    assert notes["unchanged"]["anchor"] == "anchored"
    assert notes["deleted"]["anchor"] == "orphaned"
    assert notes["deleted"]["target"]["selector"][0]["exact"] == DELETED
    assert {moved["id"], edited["id"], deleted["id"], unchanged["id"]} == {n["id"] for n in notes.values()}


def test_reloading_same_record_leaves_notes_alone(client, runner):
    owner = new_owner(client)
    note = owner.add_note()
    result = runner.invoke(args=["trials", "load"])
    assert "re-anchored" not in result.output
    again = client.get(f"/api/v1/notes/{note['id']}", headers=owner.headers).get_json()
    assert again["updated_at"] == note["updated_at"]
