"""The OpenAPI 3.1 description of the service; a test checks it against the routes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("openapi", __name__)

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


JAVASCRIPT = {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}
NCT_PARAM = {"name": "nct", "in": "path", "required": True,
             "schema": {"type": "string", "maxLength": 64}, "description": "NCT number"}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "TrialSummary": {
        "type": "object",
        "required": ["id", "title", "status", "phase", "conditions", "version", "url"],
        "properties": {
            "id": {"type": "string", "pattern": "^NCT[0-9]{8}$"},
            "title": {"type": "string"},
            "status": {"type": "string"},
            "phase": {"type": "string"},
            "conditions": {"type": "array", "items": {"type": "string"}},
            "version": {"type": "string"},
            "url": {"type": "string"},
        },
    },
    "Section": {
        "type": "object",
        "required": ["id", "heading", "level", "text"],
        "properties": {
            "id": {"type": "string"},
            "heading": {"type": "string"},
            "level": {"type": "integer"},
            "text": {"type": "string"},
        },
    },
    "Trial": {
        "allOf": [
            _ref("TrialSummary"),
            {
                "type": "object",
                "required": ["sections", "text", "revision", "source"],
                "properties": {
                    "sponsor": {"type": "string"},
                    "data_date": {"type": ["string", "null"]},
                    "first_posted": {"type": ["string", "null"]},
                    "revision": {"type": "integer"},
                    "updated_at": {"type": ["string", "null"]},
                    "sections": {"type": "array", "items": _ref("Section")},
                    "text": {"type": "string", "description": "The canonical text notes anchor to."},
                    "source": {"type": "string"},
                },
            },
        ]
    },
}

PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Liveness", "operationId": "healthz",
                         "responses": {"200": _json({"type": "object"})}}},
    "/readyz": {"get": {"summary": "Readiness: database reachable, keys loaded", "operationId": "readyz",
                        "responses": {"200": _json({"type": "object"}), "503": _problem("Not ready")}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                     "responses": {"200": _json({"type": "object"})}}},
    "/api/v1/trials": {
        "get": {
            "summary": "Trials in the store",
            "operationId": "listTrials",
            "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"},
                 "description": "Keyword in the title, NCT number or conditions"},
                {"name": "condition", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {"200": _json({"type": "object", "required": ["trials", "count"], "properties": {
                "trials": {"type": "array", "items": _ref("TrialSummary")},
                "count": {"type": "integer"}}})},
        }
    },
    "/api/v1/trials/{nct}": {
        "get": {
            "summary": "One trial: fields, sections, canonical text and content version",
            "operationId": "readTrial",
            "parameters": [NCT_PARAM],
            "responses": {"200": _json(_ref("Trial")), "404": _problem("No such trial")},
        }
    },
    "/": {"get": {"summary": "Trial index page", "operationId": "indexPage",
                  "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
                  "responses": {"200": _html("The trial index")}}},
    "/trials/{nct}": {"get": {"summary": "Trial page embedding the widget", "operationId": "trialPage",
                              "parameters": [NCT_PARAM],
                              "responses": {"200": _html("The trial page"), "404": _html("Unknown trial")}}},
    "/widget.js": {"get": {"summary": "The widget script", "operationId": "widget",
                           "responses": {"200": JAVASCRIPT, "503": _problem("Widget not built")}}},
    "/widget.{digest}.js": {"get": {"summary": "The widget under a content-hashed, long-cached URL",
                                    "operationId": "widgetVersioned",
                                    "parameters": [{"name": "digest", "in": "path", "required": True,
                                                    "schema": {"type": "string"}}],
                                    "responses": {"200": JAVASCRIPT, "404": _problem("Stale or unknown version")}}},
}


def register_paths(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add an area's operations (and schemas) to the document."""
    for path, operations in paths.items():
        PATHS.setdefault(path, {}).update(operations)
    SCHEMAS.update(schemas or {})


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Trial Notes",
            "version": "1.0.0",
            "description": "Private, encrypted notes on clinical-trial pages, shared by "
                           "passcode-protected links. Errors are application/problem+json (RFC 9457).",
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"notebookToken": {"type": "http", "scheme": "bearer",
                                                  "description": "The notebook token"}},
        },
    }


@bp.get("/api/v1/openapi.json")
def openapi_json() -> dict[str, Any]:
    """Serve the document."""
    return document()
