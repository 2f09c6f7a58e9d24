from __future__ import annotations

from pathlib import Path

import pytest

from notes_service.trials.reader import shipped_data_dir

SHIPPED = sorted(p.stem for p in shipped_data_dir().glob("NCT*.json"))


def test_lists_every_shipped_record(client):
    response = client.get("/api/v1/trials")
    assert response.status_code == 200
    ids = sorted(t["id"] for t in response.get_json()["trials"])
    assert ids == SHIPPED
    assert "NCT07085104" in ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("condition=lupus", {"NCT07085104"}),
        ("q=NCT0708", {"NCT07085104"}),
        ("q=cystic%20fibrosis", {"NCT00763412"}),
        ("q=no-such-words-anywhere", set()),
        ("q=lupus%2A%22%28", {"NCT07085104"}),  # query syntax is not passed through
    ],
)
def test_filters(client, query, expected):
    body = client.get(f"/api/v1/trials?{query}").get_json()
    assert {t["id"] for t in body["trials"]} == expected
    assert body["matches"] == len(expected)


def test_one_trial_has_sections_and_version(client):
    body = client.get("/api/v1/trials/NCT07085104").get_json()
    assert body["id"] == "NCT07085104"
    assert len(body["version"]) == 64
    ids = [s["id"] for s in body["sections"]]
    assert ids[:3] == ["title", "facts", "overview"]
    assert ids.index("inclusion") < ids.index("exclusion") < ids.index("conditions")
    exclusion = next(s for s in body["sections"] if s["id"] == "exclusion")
    assert "6. Child-Pugh Class B or C cirrhosis." in exclusion["text"]
    assert "Child-Pugh Class B or C cirrhosis" in body["text"]


@pytest.mark.parametrize("path", ["/api/v1/trials/NCT99999999", "/api/v1/trials/not-an-id", "/api/v1/nothing-here"])
def test_unknown_is_problem_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and body["title"] and body["detail"] and body["type"]


def test_wrong_method_is_problem_405(client):
    response = client.delete("/api/v1/trials")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_too_large_is_problem_413(client):
    response = client.post("/api/v1/trials", data=b"x" * (65 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_server_error_is_problem_without_internals(make_app, caplog):
    app = make_app()

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert "RuntimeError" in caplog.text


def test_health_and_ready(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"


def test_readyz_reports_unreachable_database(make_app, data_dir: Path):
    app = make_app(DATABASE_URL=f"sqlite:///{data_dir}/missing-dir/x.sqlite3")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
