"""Lists are paged by cursor; searches use the database's full-text index and rank the matches."""

from __future__ import annotations

import json
import re

import pytest

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


@pytest.mark.parametrize(("query", "expected"), [
    ("q=zebra", ["NCT90000002", "NCT90000003", "NCT90000001"]),  # words match as prefixes
    ("q=drug%20x%20zebrafish", ["NCT90000003"]),  # interventions are searched; every word must match
    ("q=nct90000003", ["NCT90000003"]),
    ("condition=zebrafish", ["NCT90000002", "NCT90000003"]),  # the sponsor's "Zebrafish" is not a condition
    ("q=zebrafish&condition=asthma", ["NCT90000001"]),
])
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


@pytest.mark.parametrize("query", ["cursor=abc", "cursor=%FF%FE", "limit=0", "limit=101", "limit=x", "limit=%D9%A1",
                                   "q=zebrafish&cursor=eyJrIjoidGl0bGUiLCJkIjoibiIsInYiOlsiYSIsImIiXX0"])
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
