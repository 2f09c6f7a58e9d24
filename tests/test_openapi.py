from __future__ import annotations

import re

SKIP_ENDPOINTS = {"static"}


def flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_route_is_described(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        path = flask_to_openapi(rule.rule)
        described = document["paths"].get(path, {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in described:
                missing.append(f"{method} {path}")
    assert missing == []


def test_every_described_operation_exists(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    routes = {
        (flask_to_openapi(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set())
    }
    for path, operations in document["paths"].items():
        for method in operations:
            assert (path, method) in routes, f"{method.upper()} {path} is described but not routed"
