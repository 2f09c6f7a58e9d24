"""Lists are paged by cursor; searches use the database's full-text index and rank the matches."""

from __future__ import annotations

import json
import os
import re

import pytest
from sqlalchemy import text

from notes_service.extensions import db
from notes_service.trials import service
from notes_service.trials.reader import shipped_data_dir

SHIPPED = sorted(p.stem for p in shipped_data_dir().glob("NCT*.json"))


def study(nct: str, title: str, conditions: list[str], sponsor: str = "Acme", interventions=()) -> dict:
    record = json.loads((shipped_data_dir() / "NCT07085104.json").read_text())
    protocol = record["protocolSection"]
    protocol["identificationModule"] = {"nctId": nct, "briefTitle": title}
    protocol["conditionsModule"] = {"conditions": conditions}
    protocol["sponsorCollaboratorsModule"] = {"leadSponsor": {"name": sponsor}}
    protocol["armsInterventionsModule"] = {"interventions": [{"name": n} for n in interventions]}
    return record


@pytest.fixture
def ranked(runner, tmp_path):
    """Three trials that all match "zebrafish", in a known order of relevance."""
    records = [
        study("NCT90000001", "A trial of sponsor choice", ["Asthma"], sponsor="Zebrafish Institute"),
        study("NCT90000002", "Zebrafish zebrafish model of zebrafish disease", ["Zebrafish syndrome"]),
        study("NCT90000003", "Heart failure outcomes", ["Zebrafish syndrome"], interventions=["Drug X"]),
    ]
    (tmp_path / "ranked.json").write_text(json.dumps({"studies": records}))
    result = runner.invoke(args=["trials", "load", str(tmp_path / "ranked.json")])
    assert result.exit_code == 0, result.output


def ids(body: dict) -> list[str]:
    return [t["id"] for t in body["trials"]]


def test_title_matches_rank_above_condition_matches_above_sponsor_matches(client, ranked):
    body = client.get("/api/v1/trials?q=zebrafish").get_json()
    assert ids(body) == ["NCT90000002", "NCT90000003", "NCT90000001"]
    assert body["matches"] == 3 and body["matches_capped"] is False


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=zebra", ["NCT90000002", "NCT90000003", "NCT90000001"]),  # words match as prefixes
        ("q=drug%20x%20zebrafish", ["NCT90000003"]),  # interventions are searched; every word must match
        ("q=nct90000003", ["NCT90000003"]),
        ("condition=zebrafish", ["NCT90000002", "NCT90000003"]),  # the sponsor's "Zebrafish" is not a condition
        ("q=zebrafish&condition=asthma", ["NCT90000001"]),
    ],
)
def test_search_fields(client, ranked, query, expected):
    assert sorted(ids(client.get(f"/api/v1/trials?{query}").get_json())) == sorted(expected)


def test_a_search_is_paged_forward_and_back(client, ranked):
    first = client.get("/api/v1/trials?q=zebrafish&limit=1").get_json()
    assert first["previous"] is None
    second = client.get(f"/api/v1/trials?q=zebrafish&limit=1&cursor={first['next']}").get_json()
    third = client.get(f"/api/v1/trials?q=zebrafish&limit=1&cursor={second['next']}").get_json()
    assert ids(first) + ids(second) + ids(third) == ["NCT90000002", "NCT90000003", "NCT90000001"]
    assert third["next"] is None
    back = client.get(f"/api/v1/trials?q=zebrafish&limit=1&cursor={third['previous']}").get_json()
    assert ids(back) == ids(second)


def test_the_list_is_paged_by_title_and_each_trial_comes_once(client):
    seen, pages, cursor = [], [], None
    while True:
        body = client.get("/api/v1/trials?limit=4" + (f"&cursor={cursor}" if cursor else "")).get_json()
        pages.append(ids(body))
        seen.extend(body["trials"])
        cursor = body["next"]
        if cursor is None:
            break
    assert sorted(t["id"] for t in seen) == SHIPPED and len(pages) == -(-len(SHIPPED) // 4)
    assert [t["title"] for t in seen] == sorted(t["title"] for t in seen)
    back = client.get(f"/api/v1/trials?limit=4&cursor={body['previous']}").get_json()
    assert ids(back) == pages[-2]


@pytest.mark.parametrize(
    "query",
    [
        "cursor=abc",
        "cursor=%FF%FE",
        "limit=0",
        "limit=101",
        "limit=x",
        "limit=%D9%A1",
        "q=zebrafish&cursor=eyJrIjoidGl0bGUiLCJkIjoibiIsInYiOlsiYSIsImIiXX0",
    ],
)
def test_bad_paging_is_a_400_problem_as_on_every_list(client, query):
    response = client.get(f"/api/v1/trials?{query}")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 400 and set(body["errors"]) == {"limit" if "limit" in query else "cursor"}


def test_a_cursor_of_one_search_is_refused_by_another(client, ranked):
    first = client.get("/api/v1/trials?q=zebrafish&limit=1").get_json()
    response = client.get(f"/api/v1/trials?q=asthma&limit=1&cursor={first['next']}")
    assert response.status_code == 400 and response.get_json()["errors"] == {"cursor": "belongs to another search"}


def test_a_trials_cursor_error_reads_as_the_notes_lists_does(client, owner):
    notes = client.get(f"/api/v1/trials/{SHIPPED[0]}/notes?cursor=abc", headers=owner.headers)
    trials = client.get("/api/v1/trials?cursor=abc")
    assert notes.status_code == trials.status_code == 400
    assert notes.get_json()["detail"] == trials.get_json()["detail"]


def test_query_syntax_is_never_passed_to_the_index(client, ranked):
    for query in ['"', "zebra*", "NEAR(", "a:*", "!&|", "title:zebrafish", "'; DROP TABLE trials; --"]:
        response = client.get("/api/v1/trials", query_string={"q": query})
        assert response.status_code == 200, query


def test_a_broad_search_ranks_a_bounded_number_of_matches(app, client, monkeypatch, ranked):
    monkeypatch.setattr(service, "MAX_RANKED", 2)
    body = client.get("/api/v1/trials?q=zebrafish").get_json()
    assert len(body["trials"]) == 2 and body["matches"] == 2 and body["matches_capped"] is True
    page = client.get("/?q=zebrafish").get_data(as_text=True)
    assert "More than 2 trials match" in page


def test_the_index_pages_without_javascript(client):
    html = client.get("/?q=").get_data(as_text=True)
    assert html.count('class="trial-card"') == min(len(SHIPPED), service.PAGE_SIZE)
    assert 'role="search"' in html


def test_the_index_has_next_and_previous_links(client, monkeypatch):
    monkeypatch.setattr(service, "PAGE_SIZE", 5)
    first = client.get("/").get_data(as_text=True)
    assert 'rel="prev"' not in first
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    assert 'rel="prev"' in second and second.count('class="trial-card"') == 5
    assert not set(re.findall(r"NCT\d{8}", first)) & set(re.findall(r"NCT\d{8}", second))


def test_a_bad_cursor_on_the_index_is_a_friendly_page(client):
    response = client.get("/?cursor=nonsense")
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_a_query_of_no_words_lists_every_trial(client):
    html = client.get("/?q=%25%25").get_data(as_text=True)
    assert "None" not in html and html.count('class="trial-card"') == min(len(SHIPPED), service.PAGE_SIZE)


def load_studies(runner, path, records) -> None:
    path.write_text(json.dumps({"studies": records}))
    result = runner.invoke(args=["trials", "load", str(path)])
    assert result.exit_code == 0, result.output


def test_equal_scores_page_by_nct_id_each_match_once_forward_and_back(client, runner, tmp_path):
    # Twelve trials the index cannot tell apart: every page boundary falls between equal scores.
    numbers = [f"NCT9100{n:04d}" for n in (7, 3, 11, 1, 12, 5, 9, 2, 10, 4, 8, 6)]
    load_studies(runner, tmp_path / "twins.json", [study(n, "Axolotl regeneration", ["Axolotl"]) for n in numbers])
    pages, cursor = [], None
    while True:
        body = client.get("/api/v1/trials?q=axolotl&limit=5" + (f"&cursor={cursor}" if cursor else "")).get_json()
        pages.append(ids(body))
        cursor = body["next"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [5, 5, 2]
    assert [n for page in pages for n in page] == sorted(numbers) and body["matches"] == 12
    back = [ids(body)]
    while body["previous"]:
        body = client.get(f"/api/v1/trials?q=axolotl&limit=5&cursor={body['previous']}").get_json()
        back.insert(0, ids(body))
    assert back == [pages[0], pages[1], pages[2]]


def test_the_search_follows_a_trials_newest_version(client, runner, tmp_path):
    load_studies(runner, tmp_path / "v1.json", [study("NCT91000001", "Quokka sleep study", ["Insomnia"])])
    assert ids(client.get("/api/v1/trials?q=quokka").get_json()) == ["NCT91000001"]
    load_studies(runner, tmp_path / "v2.json", [study("NCT91000001", "Wombat sleep study", ["Insomnia"])])
    assert ids(client.get("/api/v1/trials?q=quokka").get_json()) == []
    found = client.get("/api/v1/trials?q=wombat").get_json()
    assert ids(found) == ["NCT91000001"] and found["trials"][0]["title"] == "Wombat sleep study"
    versions = client.get("/api/v1/trials/NCT91000001/versions").get_json()["versions"]
    assert [v["revision"] for v in versions] == [2, 1]
    assert ids(client.get("/api/v1/trials?q=sleep").get_json()) == ["NCT91000001"]  # indexed once, not per version


def test_a_ranked_page_is_ordered_by_score_then_nct_id(client, runner, tmp_path):
    records = [
        study("NCT91000020", "Okapi", ["Okapi disease"]),
        study("NCT91000010", "Okapi", ["Okapi disease"]),
        study("NCT91000030", "Okapi okapi okapi trial", ["Okapi disease"]),
        study("NCT91000040", "Unrelated", ["Okapi disease"]),
    ]
    load_studies(runner, tmp_path / "okapi.json", records)
    assert ids(client.get("/api/v1/trials?q=okapi").get_json()) == [
        "NCT91000030",
        "NCT91000010",
        "NCT91000020",
        "NCT91000040",
    ]


def test_sqlite_index_is_keyed_by_nct_number_and_stays_whole_across_versions(app, client, runner, tmp_path):
    load_studies(runner, tmp_path / "v1.json", [study("NCT91000002", "Quokka sleep study", ["Insomnia"])])
    load_studies(runner, tmp_path / "v2.json", [study("NCT91000002", "Wombat sleep study", ["Insomnia"])])
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's FTS5 index (PostgreSQL's trial_search is tested below)")
        # The contentless index's entries were deleted with the values they were indexed with.
        db.session.execute(text("INSERT INTO trials_fts (trials_fts) VALUES ('integrity-check')"))
        found = db.session.execute(text("SELECT rowid FROM trials_fts WHERE trials_fts MATCH 'wombat'")).scalars()
        assert list(found) == [91000002]
        assert not db.session.execute(text("SELECT rowid FROM trials_fts WHERE trials_fts MATCH 'quokka'")).all()
        db.session.remove()


def test_whole_words_fill_the_ranking_before_prefixes_are_searched(client, runner, tmp_path, monkeypatch):
    records = [
        study("NCT91000101", "Zebra crossing study", ["Gait"]),
        study("NCT91000102", "Zebra stripes and sleep", ["Insomnia"]),
        study("NCT91000103", "Zebrafish model", ["Asthma"]),
    ]
    load_studies(runner, tmp_path / "zebras.json", records)
    monkeypatch.setattr(service, "MAX_RANKED", 2)
    # Two trials hold the word itself: the ranking is full, the prefix's "zebrafish" is left unranked.
    capped = client.get("/api/v1/trials?q=zebra").get_json()
    assert sorted(ids(capped)) == ["NCT91000101", "NCT91000102"] and capped["matches_capped"] is True
    monkeypatch.setattr(service, "MAX_RANKED", 3)
    # Fewer whole-word matches than the ranking holds: words match as prefixes too.
    assert sorted(ids(client.get("/api/v1/trials?q=zebra").get_json())) == [
        "NCT91000101",
        "NCT91000102",
        "NCT91000103",
    ]


@pytest.mark.skipif(
    os.environ.get("NOTES_TEST_BACKEND") != "postgresql", reason="PostgreSQL's search table (migration 0015)"
)
def test_postgresql_searches_trial_search_which_follows_each_trial(app, client, runner, tmp_path):
    load_studies(runner, tmp_path / "v1.json", [study("NCT91000003", "Quokka sleep study", ["Insomnia"])])
    assert ids(client.get("/api/v1/trials?q=quokka").get_json()) == ["NCT91000003"]
    load_studies(runner, tmp_path / "v2.json", [study("NCT91000003", "Wombat sleep study", ["Insomnia"])])
    assert ids(client.get("/api/v1/trials?q=wombat").get_json()) == ["NCT91000003"]
    assert ids(client.get("/api/v1/trials?q=quokka").get_json()) == []

    def indexed(word: str) -> list[str]:
        query = "SELECT id FROM trial_search WHERE search @@ to_tsquery('english', :word) ORDER BY id"
        return list(db.session.execute(text(query), {"word": word}).scalars())

    with app.app_context():
        # One row per trial, holding the current vector: the trigger replaced it, did not add one.
        assert indexed("wombat") == ["NCT91000003"] and indexed("quokka") == []
        assert db.session.scalar(text("SELECT count(*) FROM trial_search WHERE id = 'NCT91000003'")) == 1
        # A trial without a current version leaves the table, and a deleted trial takes its row with it.
        db.session.execute(text("UPDATE trials SET version_id = NULL WHERE id = 'NCT91000003'"))
        assert indexed("wombat") == []
        db.session.rollback()
        assert indexed("wombat") == ["NCT91000003"]
        db.session.execute(text("DELETE FROM trials WHERE id = 'NCT91000003'"))
        db.session.commit()
        assert db.session.scalar(text("SELECT count(*) FROM trial_search WHERE id = 'NCT91000003'")) == 0
        # Every trial with a current version has its row, and only those.
        missing = "SELECT count(*) FROM trials t LEFT JOIN trial_search s USING (id) WHERE s.id IS NULL"
        assert db.session.scalar(text(missing)) == 0
        assert db.session.scalar(text("SELECT count(*) FROM trial_search")) == db.session.scalar(
            text("SELECT count(*) FROM trials")
        )
        db.session.remove()
    assert ids(client.get("/api/v1/trials?q=wombat").get_json()) == []


def test_the_beginning_of_an_nct_number_finds_the_trials_numbered_so_in_number_order(client, runner, tmp_path):
    records = [
        study("NCT90000001", "A trial of sponsor choice", ["Asthma"]),
        study("NCT90000002", "Follow-up of NCT90000777 and NCT91000000", ["Asthma"]),  # quotes other numbers
        study("NCT90000003", "Heart failure outcomes", ["Asthma"]),
        study("NCT91000000", "Another series", ["Asthma"]),
    ]
    (tmp_path / "numbers.json").write_text(json.dumps({"studies": records}))
    assert runner.invoke(args=["trials", "load", str(tmp_path / "numbers.json")]).exit_code == 0
    first = client.get("/api/v1/trials?q=NCT900000&limit=2").get_json()
    assert ids(first) == ["NCT90000001", "NCT90000002"] and first["matches"] == 3 and first["previous"] is None
    second = client.get(f"/api/v1/trials?q=NCT900000&limit=2&cursor={first['next']}").get_json()
    assert ids(second) == ["NCT90000003"] and second["next"] is None
    assert ids(client.get(f"/api/v1/trials?q=NCT900000&limit=2&cursor={second['previous']}").get_json()) == ids(first)
    # Only the trials' own numbers: the title quoting NCT90000777 is not a trial numbered so.
    assert ids(client.get("/api/v1/trials?q=nct9000007").get_json()) == []
    assert ids(client.get("/api/v1/trials?q=nct9").get_json()) == [
        "NCT90000001",
        "NCT90000002",
        "NCT90000003",
        "NCT91000000",
    ]
    # A whole number, or a number with other words, is a search of the words as before.
    assert ids(client.get("/api/v1/trials?q=nct90000777").get_json()) == ["NCT90000002"]
    assert ids(client.get("/api/v1/trials?q=nct9000%20heart").get_json()) == ["NCT90000003"]
