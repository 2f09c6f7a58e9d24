"""The notebook-wide lists: the trials holding my notes, and every note of mine across trials."""

from __future__ import annotations

import pytest
from support import CIRRHOSIS, SEED, new_owner, walk_pages

OTHER = "NCT04360941"
OTHER_QUOTE = "Palbociclib"
TRIALS = "/api/v1/notebooks/me/trials"
ALL = "/api/v1/notebooks/me/notes"


def title_of(client, nct: str) -> str:
    return client.get(f"/api/v1/trials/{nct}").get_json()["title"]


def test_my_trials_give_title_count_and_last_edit_the_last_edited_first(client, owner):
    seed_notes = [owner.add_note(body=f"seed {i}") for i in range(3)]
    other = owner.add_note(trial=OTHER, exact=OTHER_QUOTE, body="other")
    [trials] = walk_pages(client, owner, TRIALS, "trials")
    assert [(t["id"], t["note_count"]) for t in trials] == [(OTHER, 1), (SEED, 3)]
    assert trials[0]["title"] == title_of(client, OTHER) and trials[1]["title"] == title_of(client, SEED)
    assert trials[0]["last_edited"] == other["updated_at"]
    assert trials[1]["last_edited"] == seed_notes[-1]["updated_at"]
    # Editing a note on the seed trial makes it the last edited.
    edited = client.patch(f"/api/v1/notes/{seed_notes[0]['id']}", headers=owner.headers, json={"body": "again"})
    assert edited.status_code == 200
    [trials] = walk_pages(client, owner, TRIALS, "trials")
    assert [t["id"] for t in trials] == [SEED, OTHER]
    assert trials[0]["last_edited"] == edited.get_json()["updated_at"]


def test_my_trials_come_in_pages_each_trial_once(client, owner):
    owner.add_note(body="seed")
    owner.add_note(trial=OTHER, exact=OTHER_QUOTE, body="other")
    pages = walk_pages(client, owner, TRIALS, "trials", limit=1)
    assert [[t["id"] for t in page] for page in pages] == [[OTHER], [SEED]]


def test_a_trial_whose_notes_are_all_deleted_leaves_the_list(client, owner):
    note = owner.add_note(body="seed")
    assert client.delete(f"/api/v1/notes/{note['id']}", headers=owner.headers).status_code == 204
    assert walk_pages(client, owner, TRIALS, "trials") == [[]]
    assert walk_pages(client, owner, ALL, "notes") == [[]]


def test_every_note_of_mine_by_trial_then_age_in_pages(client, owner):
    first = owner.add_note(body="seed one")
    other = owner.add_note(trial=OTHER, exact=OTHER_QUOTE, body="other")
    second = owner.add_note(body="seed two")
    pages = walk_pages(client, owner, ALL, "notes", limit=2)
    assert [len(page) for page in pages] == [2, 1]
    notes = [n for page in pages for n in page]
    # By NCT number (NCT04360941 before NCT07085104), then oldest first.
    assert [n["id"] for n in notes] == [other["id"], first["id"], second["id"]]
    assert [n["trial_id"] for n in notes] == [OTHER, SEED, SEED]
    assert notes[1]["body"] == first["body"] and notes[1]["target"]["selector"][0]["exact"] == CIRRHOSIS


def test_another_notebooks_notes_and_trials_never_show(client, owner):
    mine = owner.add_note(body="mine")
    theirs = new_owner(client)
    theirs.add_note(trial=OTHER, exact=OTHER_QUOTE, body="theirs")
    [trials] = walk_pages(client, owner, TRIALS, "trials")
    assert [t["id"] for t in trials] == [SEED]
    [notes] = walk_pages(client, owner, ALL, "notes")
    assert [n["id"] for n in notes] == [mine["id"]]
    [their_trials] = walk_pages(client, theirs, TRIALS, "trials")
    assert [t["id"] for t in their_trials] == [OTHER]
    assert walk_pages(client, new_owner(client), TRIALS, "trials") == [[]]


@pytest.mark.parametrize("path", [TRIALS, ALL])
def test_no_or_a_bad_token_is_a_401_problem(client, owner, path):
    owner.add_note()
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert "not-a-token" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [TRIALS, ALL])
@pytest.mark.parametrize("query", ["cursor=nonsense", "cursor=WyJhIl0", "limit=0", "limit=101"])
def test_a_bad_cursor_or_limit_is_a_400_problem(client, owner, path, query):
    owner.add_note()
    response = client.get(f"{path}?{query}", headers=owner.headers)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_a_bad_token_is_a_401_before_a_bad_cursor(client):
    response = client.get(f"{TRIALS}?cursor=nonsense", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
