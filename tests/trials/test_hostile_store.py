"""The trial store against odd input: cursors and versions it did not give out, records it cannot
show, files as other tools write them. Each case was a 500, a lost load or a wrong answer."""

from __future__ import annotations

import base64
import json
import tracemalloc

import pytest
from sqlalchemy import select
from support import SEED

from notes_service import paging
from notes_service.extensions import db
from notes_service.trials import ctgov, reader, service
from notes_service.trials.models import Trial, TrialVersion
from notes_service.trials.reader import shipped_data_dir


def cursor_of(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def seed_study(nct: str = SEED, title: str | None = None) -> dict:
    study = json.loads((shipped_data_dir() / f"{SEED}.json").read_text())
    identification = study["protocolSection"]["identificationModule"]
    identification["nctId"] = nct
    if title is not None:
        identification["briefTitle"] = title
    return study


def load(runner, path):
    return runner.invoke(args=["trials", "load", str(path)])


def load_studies(runner, tmp_path, studies, name="bulk.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"studies": studies}))
    return load(runner, path)


def listed_ids(client, query: str = "") -> list[str]:
    return [t["id"] for t in client.get(f"/api/v1/trials?limit=100{query}").get_json()["trials"]]


@pytest.mark.parametrize("version", ["%C2%B2", "%D9%A1"])  # "²" and an Arabic-Indic one: digits to isdigit()
def test_a_version_in_other_digits_is_refused(client, version):
    response = client.get(f"/api/v1/trials/{SEED}?version={version}")
    assert response.status_code == 422 and "version" in response.get_json()["errors"]


@pytest.mark.parametrize("revision", [10**30, 2**31, 0, -1, True, 1.5, "1"])
def test_a_versions_cursor_out_of_range_is_a_400(client, revision):
    cursor = cursor_of({"k": "versions", "d": "n", "t": SEED, "v": revision})
    response = client.get(f"/api/v1/trials/{SEED}/versions?cursor={cursor}")
    assert response.status_code == 400 and "cursor" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "key",
    [
        ["\ud800", "NCT00000000"],  # a lone surrogate: not text
        ["A\u0000", "NCT00000000"],  # a NUL: PostgreSQL refuses it in text
        ["A" * (ctgov.MAX_TITLE_CHARS + 1), "NCT00000000"],
        ["A", "NCT0000000\u0660"],  # not an NCT number
        ["A", "x" * 40],
    ],
)
def test_a_title_cursor_we_did_not_write_is_a_400_on_the_api_and_the_index(client, key):
    cursor = cursor_of({"k": "title", "d": "n", "v": key})
    assert client.get(f"/api/v1/trials?cursor={cursor}").status_code == 400
    page = client.get(f"/?cursor={cursor}")
    assert page.status_code == 400 and page.mimetype == "text/html"


@pytest.mark.parametrize("key", [[float("nan"), SEED], [1e999, SEED], [1.0, "\ud800"], [1.0, "NCT1"]])
def test_a_search_cursor_we_did_not_write_is_a_400(client, key):
    digest = service._query_digest(["study"], [])
    # json.dumps writes NaN and Infinity, which Python's decoder reads back: the cursor's own text.
    cursor = cursor_of({"k": "rank", "d": "n", "q": digest, "v": key})
    assert client.get(f"/api/v1/trials?q=study&cursor={cursor}").status_code == 400


def test_a_long_title_with_wide_characters_pages_on(client, runner, tmp_path):
    # 300 characters (ClinicalTrials.gov's own limit for a brief title), dashes and quotes among
    # them: its cursor was longer than any cursor was let be, and paging stopped at it.
    title = "A " + ("Efficacy \u2013 \u201csafety\u201d of drug \u2265 18 years " * 10)[:298]
    assert load_studies(runner, tmp_path, [seed_study("NCT09999999", title)]).exit_code == 0
    seen, cursor = [], None
    while True:
        response = client.get("/api/v1/trials?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200
        body = response.get_json()
        seen += [t["id"] for t in body["trials"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert "NCT09999999" in seen and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "nct",
    [
        SEED + "\n",  # stored beside the real one, it shared its row of the search index
        "NCT\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667",  # Arabic-Indic digits: search row 0
        "NCT0076341\uff12",  # a fullwidth digit
    ],
)
def test_an_nct_number_in_other_digits_or_with_a_newline_is_reported_and_skipped(client, runner, tmp_path, nct):
    result = load_studies(runner, tmp_path, [seed_study(nct, "Zzzquokka shadow")])
    assert result.exit_code == 1 and "nctId" in result.output and "1 failed" in result.output
    assert client.get("/api/v1/trials?q=zzzquokka").get_json()["trials"] == []
    assert all(t.isascii() and len(t) == 11 for t in listed_ids(client))


def test_a_title_longer_than_any_registry_title_is_reported_and_skipped(runner, tmp_path):
    result = load_studies(runner, tmp_path, [seed_study("NCT09999998", "T" * (ctgov.MAX_TITLE_CHARS + 1))])
    assert result.exit_code == 1 and "briefTitle" in result.output


def test_a_record_with_more_text_than_a_page_can_show_is_reported_and_skipped(client, runner, tmp_path):
    study = seed_study("NCT09999997")
    study["protocolSection"]["descriptionModule"]["detailedDescription"] = "A paragraph. " * 12_000
    result = load_studies(runner, tmp_path, [study])
    assert result.exit_code == 1 and "characters of text to show" in result.output
    assert client.get("/api/v1/trials/NCT09999997").status_code == 404


@pytest.mark.parametrize("kind", ["jsonl", "single", "bulk"])
def test_a_record_nested_too_deeply_is_reported_and_skipped(client, runner, tmp_path, kind):
    # 1,000 levels: past orjson's 255 and the standard library's recursion, which ended the load.
    # A bulk file is streamed: past reader.MAX_NESTING levels its reading stops there, the
    # records before it loaded (the parser's memory grows with the square of the depth).
    bad = json.dumps(seed_study("NCT09999996"))[:-1] + ', "extra": ' + "[" * 1000 + "]" * 1000 + "}"
    good = json.dumps(seed_study("NCT09999995"))
    path = tmp_path / ("x.jsonl" if kind == "jsonl" else "x.json")
    path.write_text(
        {"jsonl": f"{bad}\n{good}\n", "single": bad, "bulk": '{"studies": [' + good + "," + bad + "]}"}[kind]
    )
    result = load(runner, path)
    assert result.exit_code == 1 and "1 failed" in result.output
    assert ("NCT09999995" in listed_ids(client)) is (kind != "single")
    if kind == "bulk":
        assert f"nested deeper than {reader.MAX_NESTING} levels after record 0" in result.output


@pytest.mark.parametrize("kind", ["single", "bulk", "array"])
def test_a_file_beginning_with_a_byte_order_mark_loads(client, runner, tmp_path, kind):
    study = seed_study("NCT09999994", "Byte order mark study")
    document = {"single": study, "bulk": {"studies": [study]}, "array": [study]}[kind]
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode())
    result = load(runner, path)
    assert result.exit_code == 0, result.output
    assert "NCT09999994" in listed_ids(client)


@pytest.mark.parametrize("query", ["", "&q=study"])
def test_a_page_of_trials_stops_at_the_byte_budget_and_the_next_goes_on(client, monkeypatch, query):
    # A page's summaries are counted at their bound (12 bytes a character of title, conditions,
    # status and phase): a budget of one or two trials cuts each page short, and walking on and
    # back skips nothing.
    trials = client.get(f"/api/v1/trials?limit=100{query}").get_json()["trials"]
    every = [t["id"] for t in trials]
    assert len(every) >= 3
    bounds = [
        12 * (len(t["title"]) + len("\n".join(t["conditions"])) + len(t["status"]) + len(t["phase"])) + 512
        for t in trials
    ]
    monkeypatch.setattr(paging, "RESPONSE_BUDGET", max(bounds) + min(bounds) + 2)  # one or two a page

    def page(cursor=None):
        body = client.get(f"/api/v1/trials?limit=100{query}" + (f"&cursor={cursor}" if cursor else "")).get_json()
        assert 1 <= len(body["trials"]) < len(every)
        return body

    pages = [page()]
    while pages[-1]["next"]:
        pages.append(page(pages[-1]["next"]))
    assert [t["id"] for p in pages for t in p["trials"]] == every
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(page(back[-1]["previous"]))
    assert [t["id"] for p in reversed(back) for t in p["trials"]] == every


def _set(path: str, value):
    def mutate(study: dict) -> None:
        *parents, key = path.split(".")
        node = study
        for name in parents:
            node = node.setdefault(name, {})
        node[key] = value

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        # Each one was loaded, and its page or `GET /api/v1/trials/{nct}` was over 4 MiB: the bound
        # counted neither codes nor dates, nor what a list item is shown with beside its text.
        _set("protocolSection.sponsorCollaboratorsModule.collaborators", [{"name": ""}] * 60_000),
        _set("protocolSection.conditionsModule.keywords", [""] * 1_100_000),
        _set("protocolSection.designModule.phases", ["NA"] * 150_000),
        _set("protocolSection.statusModule.overallStatus", "\U0001f600" * 120_000),
        _set("protocolSection.eligibilityModule.sex", "S" * 2_200_000),
        _set("protocolSection.statusModule.startDateStruct", {"date": "Y" * 2_200_000}),
        # Within the bound counted once, but the API answers them beside the text that holds them.
        _set("protocolSection.conditionsModule.conditions", ["\U0001f600" * 1000] * 140),
        _set("protocolSection.sponsorCollaboratorsModule.leadSponsor", {"name": "\U0001f600" * 140_000}),
    ],
    ids=["empty-collaborators", "empty-keywords", "phases", "status", "sex", "start-date", "conditions", "sponsor"],
)
def test_a_record_showing_more_than_a_page_holds_through_any_field_is_reported_and_skipped(
    client, runner, tmp_path, mutate
):
    study = seed_study("NCT09999993")
    mutate(study)
    result = load_studies(runner, tmp_path, [study])
    assert result.exit_code == 1 and "characters of text to show" in result.output
    assert client.get("/api/v1/trials/NCT09999993").status_code == 404


def test_a_page_of_trials_counts_each_status_and_phase_against_the_budget(client, runner, tmp_path, monkeypatch):
    # A status and a phase of wide characters take 1.5 KB of escaped JSON in a summary, but the
    # page's bound counted titles and conditions only ("the rest is under 512"): pages passed it.
    studies = []
    for index in range(4):
        study = seed_study(f"NCT0999998{index}", f"Zzzwide {index}")
        study["protocolSection"]["statusModule"]["overallStatus"] = "\U0001f600" * 64
        study["protocolSection"]["designModule"]["phases"] = ["\U0001f600" * 31, "\U0001f600" * 32]
        study["protocolSection"]["conditionsModule"]["conditions"] = ["X"]
        studies.append(study)
    assert load_studies(runner, tmp_path, studies).exit_code == 0
    budget = 2500
    monkeypatch.setattr(paging, "RESPONSE_BUDGET", budget)
    seen, cursor = [], None
    while True:
        body = client.get("/api/v1/trials?limit=100&q=zzzwide" + (f"&cursor={cursor}" if cursor else "")).get_json()
        assert len(body["trials"]) == 1 or len(json.dumps(body["trials"])) <= budget
        seen += [t["id"] for t in body["trials"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [f"NCT0999998{index}" for index in range(4)]


@pytest.mark.parametrize(
    "mutate",
    [
        _set("protocolSection.designModule.phases", ["PHASE1"] * 10),  # "Phase 1/Phase 1/...": 79 characters
        _set("protocolSection.statusModule.overallStatus", "RECRUITING_" * 7),
    ],
    ids=["phases", "status"],
)
@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_status_or_phase_longer_than_the_listing_holds_is_reported_and_the_rest_loads(
    client, runner, tmp_path, mutate, workers
):
    # The listing's status and phase columns hold 64 characters: on PostgreSQL a longer one
    # failed the whole batch (a DataError), and the load stopped with the records after it.
    bad, good = seed_study("NCT09999970"), seed_study("NCT09999971", "Zzzgood neighbour")
    mutate(bad)
    path = tmp_path / "bulk.json"
    path.write_text(json.dumps({"studies": [bad, good]}))
    result = runner.invoke(args=["trials", "load", "--workers", workers, str(path)])
    assert result.exit_code == 1 and "1 added" in result.output and "1 failed" in result.output, result.output
    assert "NCT09999971" in listed_ids(client) and client.get("/api/v1/trials/NCT09999970").status_code == 404


def test_the_trial_texts_a_process_keeps_are_bounded_by_their_size(app, client, runner, tmp_path):
    # A record of many one-word list items, within the shown-text bound: its rendering held in
    # memory is the largest per stored character (the cache was 256 of them whatever their size).
    study = seed_study("NCT09999990")
    items = "\n".join("* x" for _ in range(30_000))
    study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = f"Inclusion Criteria:\n\n{items}"
    assert "1 added" in load_studies(runner, tmp_path, [study]).output
    service._TEXTS.clear()
    with app.app_context():
        version_id, content_hash = db.session.execute(
            select(TrialVersion.id, TrialVersion.version)
            .join(Trial, Trial.version_id == TrialVersion.id)
            .where(Trial.id == "NCT09999990")
        ).one()
        tracemalloc.start()
        try:
            held = service._text(version_id, content_hash)
            in_memory = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    # The weight the cache counts is what the rendering holds, within the factor TEXT_CACHE_CHARS assumes.
    assert held.weight > 500_000 and in_memory <= 8 * held.weight
    assert service._TEXTS.currsize == held.weight
    assert client.get(f"/trials/{SEED}").status_code == 200
    kept = list(service._TEXTS.values())
    assert len(kept) == 2 and service._TEXTS.currsize == sum(text.weight for text in kept)
    assert service._TEXTS.maxsize == service.TEXT_CACHE_CHARS
