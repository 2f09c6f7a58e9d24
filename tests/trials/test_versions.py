"""A changed record becomes a new stored version; the old one stays and can be read."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from notes_service import paging
from notes_service.extensions import db
from notes_service.trials import ctgov
from notes_service.trials.models import TrialVersion
from notes_service.trials.reader import shipped_data_dir

NCT = "NCT07085104"


def seed() -> dict:
    return json.loads((shipped_data_dir() / f"{NCT}.json").read_text())


def load_changed(runner, tmp_path, status: str, name: str = "changed.json") -> None:
    study = seed()
    study["protocolSection"]["statusModule"]["overallStatus"] = status
    (tmp_path / name).write_text(json.dumps(study))
    result = runner.invoke(args=["trials", "load", str(tmp_path / name)])
    assert result.exit_code == 0, result.output


def test_a_changed_record_keeps_the_old_version_readable(client, runner, tmp_path):
    first = client.get(f"/api/v1/trials/{NCT}").get_json()
    load_changed(runner, tmp_path, "COMPLETED")
    now = client.get(f"/api/v1/trials/{NCT}").get_json()
    assert now["revision"] == first["revision"] + 1 and now["status"] == "Completed" and now["current"]
    old = client.get(f"/api/v1/trials/{NCT}?version={first['revision']}").get_json()
    assert (old["version"], old["text"], old["status"]) == (first["version"], first["text"], first["status"])
    assert old["current"] is False
    by_hash = client.get(f"/api/v1/trials/{NCT}?version={first['version']}").get_json()
    assert by_hash["revision"] == first["revision"]


def test_versions_are_listed_newest_first_a_page_at_a_time(client, runner, tmp_path):
    load_changed(runner, tmp_path, "COMPLETED", "a.json")
    load_changed(runner, tmp_path, "TERMINATED", "b.json")
    body = client.get(f"/api/v1/trials/{NCT}/versions?limit=2").get_json()
    assert [v["revision"] for v in body["versions"]] == [3, 2]
    assert body["versions"][0]["current"] and not body["versions"][1]["current"]
    rest = client.get(f"/api/v1/trials/{NCT}/versions?limit=2&cursor={body['next']}").get_json()
    assert [v["revision"] for v in rest["versions"]] == [1] and rest["next"] is None
    assert len({v["version"] for v in body["versions"] + rest["versions"]}) == 3
    listed = client.get(rest["versions"][0]["url"]).get_json()
    assert listed["revision"] == 1


def test_loading_the_same_record_again_adds_no_version(client, runner, tmp_path):
    load_changed(runner, tmp_path, "COMPLETED")
    load_changed(runner, tmp_path, "COMPLETED")
    body = client.get(f"/api/v1/trials/{NCT}/versions").get_json()
    assert [v["revision"] for v in body["versions"]] == [2, 1]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("version=abc", 422, "version"),
        ("version=" + "0" * 64, 404, None),
        ("version=99", 404, None),
    ],
)
def test_a_bad_or_unknown_version_is_a_clear_problem(client, query, status, field):
    response = client.get(f"/api/v1/trials/{NCT}?{query}")
    assert response.status_code == status and response.mimetype == "application/problem+json"
    if field:
        assert field in response.get_json()["errors"]


# A NUL is refused by the request layer before the cursor rules see it: a 400 either way.
@pytest.mark.parametrize(
    "cursor,status", [("nonsense", 400), ("eyJrIjoidGl0bGUiLCJkIjoibiIsInYiOlsiYSIsImIiXX0", 400), ("%00", 400)]
)
def test_a_bad_versions_cursor_is_a_problem_naming_it(client, cursor, status):
    response = client.get(f"/api/v1/trials/{NCT}/versions?cursor={cursor}")
    assert response.status_code == status and "cursor" in response.get_json()["errors"]


def test_pages_and_notes_read_the_stored_rendering_not_the_record(app, client, owner, monkeypatch):
    def no_parsing(_study):
        raise AssertionError("the record was parsed on a request")

    monkeypatch.setattr(ctgov, "parse_study", no_parsing)
    with app.app_context():  # the stored record cannot even be read: nothing on a request needs it
        db.session.execute(update(TrialVersion).where(TrialVersion.trial_id == NCT).values(record="{"))
        db.session.commit()
    page = client.get(f"/trials/{NCT}")
    assert page.status_code == 200
    note = owner.add_note(trial=NCT)
    assert note["anchor"] == "anchored"


def test_a_page_of_versions_with_long_data_dates_stays_within_the_response_budget(client, runner, tmp_path):
    # A data date within the shown-text bound is up to 1.4 MB of escaped JSON: three versions of
    # one made a page of 4.3 MB. The page stops at the budget and its next goes on.
    for index in range(3):
        study = seed()
        study["derivedSection"] = {"miscInfoModule": {"versionHolder": f"{index}" + "\U0001f600" * 120_000}}
        (tmp_path / f"v{index}.json").write_text(json.dumps(study))
        result = runner.invoke(args=["trials", "load", str(tmp_path / f"v{index}.json")])
        assert result.exit_code == 0, result.output
    revisions, cursor = [], None
    while True:
        response = client.get(f"/api/v1/trials/{NCT}/versions?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200 and len(response.data) < paging.RESPONSE_BUDGET
        body = response.get_json()
        revisions += [v["revision"] for v in body["versions"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert revisions == [4, 3, 2, 1]
