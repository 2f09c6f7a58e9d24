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


def _negotiated(description: str) -> dict[str, Any]:
    """An error outside /api: a page for browsers, problem+json when the client accepts JSON."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}},
                                                    "application/problem+json": {"schema": PROBLEM}}}


JAVASCRIPT = {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}
NCT_PARAM = {"name": "nct", "in": "path", "required": True,
             "schema": {"type": "string", "maxLength": 64}, "description": "NCT number"}

CURSOR_PARAM = {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": 512},
                "description": "Opaque cursor from a previous page's `next` or `previous`"}
LIMIT_PARAM = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100},
               "description": "Page size (default 20)"}

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
    "TrialVersion": {
        "type": "object",
        "required": ["revision", "version", "data_date", "loaded_at", "current", "url"],
        "properties": {
            "revision": {"type": "integer", "minimum": 1},
            "version": {"type": "string", "description": "SHA-256 of the record (content version)"},
            "data_date": {"type": ["string", "null"]},
            "loaded_at": {"type": ["string", "null"]},
            "current": {"type": "boolean"},
            "url": {"type": "string"},
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
                    "current": {"type": "boolean", "description": "Whether this is the trial's current version"},
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
            "summary": "A page of trials: by title, or ranked by full-text search",
            "operationId": "listTrials",
            "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"},
                 "description": "Words searched (as prefixes, all required) in the NCT number, title, conditions, "
                                "interventions and sponsor; results ranked"},
                {"name": "condition", "in": "query", "schema": {"type": "string"},
                 "description": "Words searched in the conditions only"},
                CURSOR_PARAM,
                LIMIT_PARAM,
            ],
            "responses": {
                "200": _json({"type": "object", "required": ["trials", "next", "previous"], "properties": {
                    "trials": {"type": "array", "items": _ref("TrialSummary")},
                    "next": {"type": ["string", "null"], "description": "Cursor of the next page"},
                    "previous": {"type": ["string", "null"], "description": "Cursor of the previous page"},
                    "matches": {"type": "integer", "description": "Searches: how many matches were ranked"},
                    "matches_capped": {"type": "boolean",
                                       "description": "Searches: more matched than are ranked (1,000)"}}}),
                "400": _problem("A bad cursor or limit, or a NUL in a query parameter"),
            },
        }
    },
    "/api/v1/trials/{nct}": {
        "get": {
            "summary": "One trial: fields, sections, canonical text and content version",
            "operationId": "readTrial",
            "parameters": [NCT_PARAM, {
                "name": "version", "in": "query", "schema": {"type": "string", "maxLength": 64},
                "description": "A stored version: its revision number or content version (default: the current)"}],
            "responses": {"200": _json(_ref("Trial")), "400": _problem("A NUL in a query parameter"),
                          "404": _problem("No such trial or version"), "422": _problem("Invalid version")},
        }
    },
    "/api/v1/trials/{nct}/versions": {
        "get": {
            "summary": "The trial's stored versions, newest first",
            "operationId": "listTrialVersions",
            "parameters": [NCT_PARAM, CURSOR_PARAM, LIMIT_PARAM],
            "responses": {
                "200": _json({"type": "object", "required": ["versions", "next"], "properties": {
                    "versions": {"type": "array", "items": _ref("TrialVersion")},
                    "next": {"type": ["string", "null"]}}}),
                "400": _problem("A bad cursor or limit, or a NUL in a query parameter"),
                "404": _problem("No such trial"),
            },
        }
    },
    "/": {"get": {"summary": "Trial index page", "operationId": "indexPage",
                  "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, CURSOR_PARAM],
                  "responses": {"200": _html("The trial index"),
                                "400": _html("A bad cursor, or a NUL in a query parameter")}}},
    "/trials/{nct}": {"get": {"summary": "Trial page embedding the widget", "operationId": "trialPage",
                              "parameters": [NCT_PARAM],
                              "responses": {"200": _html("The trial page"), "404": _html("Unknown trial")}}},
    "/widget.js": {"get": {"summary": "The widget script", "operationId": "widget",
                           "responses": {"200": JAVASCRIPT, "503": _problem("Widget not built")}}},
    "/widget.{digest}.js": {"get": {"summary": "The widget under a content-hashed, long-cached URL",
                                    "operationId": "widgetVersioned",
                                    "parameters": [{"name": "digest", "in": "path", "required": True,
                                                    "schema": {"type": "string"}}],
                                    "responses": {"200": JAVASCRIPT, "404": _negotiated("Stale or unknown version")}}},
}


SELECTOR = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["TextQuoteSelector", "TextPositionSelector"]},
        "exact": {"type": "string", "minLength": 1, "maxLength": 2000},
        "prefix": {"type": "string", "maxLength": 64},
        "suffix": {"type": "string", "maxLength": 64},
        "start": {"type": "integer", "minimum": 0},
        "end": {"type": "integer", "minimum": 0},
    },
}
COLOR = {"type": "string", "enum": ["yellow", "green", "blue", "pink", "purple"]}
NOTE_ID = {"name": "note_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
SHARE_ID = {"name": "share_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}
BEARER = [{"notebookToken": []}]
# Every list is paged (notes_service/paging.py): `next` is the cursor of the next page, null on the last.
CURSOR = {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": 512},
          "description": "Opaque: the `next` of the previous page. A cursor this service did not give is a 400."}
LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
         "description": "Most items in the page; a page also stops before 4 MiB, so it may hold fewer."}
NEXT = {"type": ["string", "null"], "description": "Cursor of the next page; null on the last page."}
BAD_PAGE = {"400": _problem("Bad cursor or limit")}
AUTH_ERRORS = {"401": _problem("Missing or bad notebook token")}
WRITE_ERRORS = {"400": _problem("Malformed JSON"), "413": _problem("Body over 64 KiB"),
                "422": _problem("Invalid content; `errors` names each field")}

ANNOTATION_PAGE = {
    "type": "object",
    "required": ["type", "startIndex", "items", "unreadable"],
    "properties": {
        "type": {"const": "AnnotationPage"},
        "startIndex": {"type": "integer", "minimum": 0},
        "items": {"type": "array", "maxItems": 100, "items": {"type": "object"}},
        "unreadable": {"type": "integer", "minimum": 0},
        "next": {"type": "string", "format": "uri", "description": "The next page; absent on the last."},
    },
}
COLLECTION = {"type": "object", "required": ["type", "total"],
              "properties": {"type": {"const": "AnnotationCollection"}, "total": {"type": "integer", "minimum": 0},
                             "label": {"type": "string"}, "id": {"type": "string"}}}

SCHEMAS.update({
    "AnnotationExport": {"oneOf": [
        {**COLLECTION, "required": ["@context", "type", "total", "first"],
         "properties": {**COLLECTION["properties"], "@context": {}, "first": ANNOTATION_PAGE}},
        {**ANNOTATION_PAGE, "required": [*ANNOTATION_PAGE["required"], "@context", "partOf"],
         "properties": {**ANNOTATION_PAGE["properties"], "@context": {}, "partOf": COLLECTION}},
    ]},
    "Target": {
        "type": "object",
        "required": ["selector"],
        "properties": {"source": {"type": "string"},
                       "selector": {"type": "array", "minItems": 1, "items": SELECTOR}},
    },
    "NoteInput": {
        "type": "object",
        "required": ["target"],
        "additionalProperties": False,
        "properties": {"target": _ref("Target"), "body": {"type": "string", "maxLength": 10000}, "color": COLOR},
    },
    "NotePatch": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {"target": _ref("Target"), "body": {"type": "string", "maxLength": 10000}, "color": COLOR},
    },
    "Note": {
        "type": "object",
        "required": ["id", "trial_id", "readable", "target", "body", "color", "anchor", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string"},
            "trial_id": {"type": "string"},
            "readable": {"type": "boolean", "description": "false when the note cannot be decrypted"},
            "target": {"oneOf": [_ref("Target"), {"type": "null"}]},
            "body": {"type": ["string", "null"], "description": "Sanitized HTML"},
            "color": {"type": ["string", "null"]},
            "color_label": {"type": ["string", "null"]},
            "anchor": {"type": ["string", "null"], "enum": ["anchored", "orphaned", None]},
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
        },
    },
    "Notebook": {
        "type": "object",
        "required": ["notebook_id", "token"],
        "properties": {"notebook_id": {"type": "string"},
                       "token": {"type": "string", "description": "Shown this once"}},
    },
    "ShareInput": {
        "type": "object",
        "required": ["trial_id"],
        "additionalProperties": False,
        "properties": {
            "trial_id": {"type": "string"},
            "note_ids": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "passcode": {"type": "string", "minLength": 6, "maxLength": 128},
            "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 90},
            "max_views": {"type": "integer", "minimum": 1, "maximum": 100000},
        },
    },
    "Share": {
        "type": "object",
        "required": ["id", "trial_id", "note_ids", "state", "views", "failed_attempts", "expires_at"],
        "properties": {
            "id": {"type": "string"},
            "trial_id": {"type": "string"},
            "note_ids": {"type": "array", "items": {"type": "string"}},
            "note_count": {"type": "integer"},
            "state": {"type": "string", "enum": ["active", "expired", "revoked", "used_up", "locked"]},
            "views": {"type": "integer"},
            "max_views": {"type": ["integer", "null"]},
            "last_viewed_at": {"type": ["string", "null"]},
            "failed_attempts": {"type": "integer"},
            "failed_attempts_limit": {"type": "integer"},
            "locked_until": {"type": ["string", "null"]},
            "expires_at": {"type": "string"},
            "created_at": {"type": "string"},
            "revoked_at": {"type": ["string", "null"]},
            "url": {"type": "string", "description": "Only in the creation response"},
            "passcode": {"type": "string", "description": "Only when generated, only in the creation response"},
        },
    },
    "SharedTrial": {
        "type": "object",
        "required": ["trial", "notes", "next", "session", "session_expires_in", "expires_at"],
        "properties": {
            "trial": {"type": "object"},
            "notes": {"type": "array", "items": _ref("Note"), "maxItems": 50,
                      "description": "The first page: up to 50 readable notes, the response within 4 MiB."},
            "next": {"type": ["string", "null"],
                     "description": "Cursor of the next page (POST /api/v1/shared/{token}/notes); null if none."},
            "session": {"type": "string", "maxLength": 512,
                        "description": "Signed, bound to this share, valid 30 minutes from the passcode check: "
                                       "send it in the body of each next-page request, never in a URL."},
            "session_expires_in": {"type": "integer", "description": "Seconds the session stays valid."},
            "expires_at": {"type": "string"},
        },
    },
    "SharedNotesRequest": {
        "type": "object", "additionalProperties": False, "required": ["session"],
        "properties": {"session": {"type": "string", "maxLength": 512, "description": "From opening the share."},
                       "cursor": {"type": ["string", "null"], "maxLength": 512,
                                  "description": "The `next` of the previous page; null or absent: the first page."}},
    },
})


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


NO_CONTENT = {"description": "Done"}

PATHS.update({
    "/api/v1/notebooks": {"post": {
        "summary": "Create an anonymous notebook; the token is shown this once", "operationId": "createNotebook",
        "responses": {"201": _json(_ref("Notebook"), "Created"), "429": _problem("Rate limited")}}},
    "/api/v1/notebooks/me": {"delete": {
        "summary": "Delete my notebook, its notes and shares (crypto-shredded)", "operationId": "deleteNotebook",
        "security": BEARER, "responses": {"204": NO_CONTENT, **AUTH_ERRORS,
                                          "503": _problem("Deleted, but the SQLite log is not erased yet")}}},
    "/api/v1/notebooks/me/export": {"get": {
        "summary": "Every note as a W3C Web Annotation collection, one AnnotationPage at a time",
        "description": "Without a cursor: the AnnotationCollection (`total` = notes in the notebook) with its "
                       "`first` AnnotationPage. Each page's `next` is the URL of the next page (an AnnotationPage "
                       "with `partOf`), absent on the last; `unreadable` counts the notes the page left out.",
        "operationId": "exportNotebook", "security": BEARER, "parameters": [CURSOR, LIMIT],
        "responses": {"200": {"description": "JSON-LD",
                              "content": {"application/ld+json": {"schema": _ref("AnnotationExport")}}},
                      **AUTH_ERRORS, **BAD_PAGE}}},
    "/api/v1/trials/{nct}/notes": {
        "get": {"summary": "My notes on a trial", "operationId": "listNotes", "security": BEARER,
                "parameters": [NCT_PARAM, CURSOR, LIMIT],
                "responses": {"200": _json({"type": "object", "required": ["notes", "next"], "properties": {
                    "notes": {"type": "array", "items": _ref("Note"), "maxItems": 100}, "next": NEXT}}),
                    **AUTH_ERRORS, **BAD_PAGE,
                    "404": _problem("No such trial")}},
        "post": {"summary": "Add a note", "operationId": "createNote", "security": BEARER,
                 "parameters": [NCT_PARAM], "requestBody": _body("NoteInput"),
                 "responses": {"201": _json(_ref("Note"), "Created"), **AUTH_ERRORS, **WRITE_ERRORS,
                               "404": _problem("No such trial"), "429": _problem("Rate limited (Retry-After)")}},
    },
    "/api/v1/notes/{note_id}": {
        "get": {"summary": "One of my notes", "operationId": "readNote", "security": BEARER,
                "parameters": [NOTE_ID],
                "responses": {"200": _json(_ref("Note")), **AUTH_ERRORS, "404": _problem("Not found or not yours")}},
        "patch": {"summary": "Change one of my notes", "operationId": "updateNote", "security": BEARER,
                  "parameters": [NOTE_ID], "requestBody": _body("NotePatch"),
                  "responses": {"200": _json(_ref("Note")), **AUTH_ERRORS, **WRITE_ERRORS,
                                "404": _problem("Not found or not yours")}},
        "delete": {"summary": "Delete one of my notes", "operationId": "deleteNote", "security": BEARER,
                   "parameters": [NOTE_ID],
                   "responses": {"204": NO_CONTENT, **AUTH_ERRORS, "404": _problem("Not found or not yours")}},
    },
    "/api/v1/shares": {
        "get": {"summary": "My shares with views, failed attempts and state", "operationId": "listShares",
                "security": BEARER,
                "parameters": [{"name": "trial_id", "in": "query", "schema": {"type": "string"}}, CURSOR,
                               {**LIMIT, "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 20}}],
                "responses": {"200": _json({"type": "object", "required": ["shares", "next"], "properties": {
                    "shares": {"type": "array", "items": _ref("Share"), "maxItems": 20}, "next": NEXT}}),
                    **AUTH_ERRORS, **BAD_PAGE}},
        "post": {"summary": "Share chosen notes behind a passcode", "operationId": "createShare", "security": BEARER,
                 "requestBody": _body("ShareInput"),
                 "responses": {"201": _json(_ref("Share"), "Created"), **AUTH_ERRORS, **WRITE_ERRORS,
                               "404": _problem("No such trial"), "429": _problem("Rate limited (Retry-After)"),
                               "503": _problem("Too many passcode hashes at once (Retry-After)")}},
    },
    "/api/v1/shares/{share_id}": {
        "get": {"summary": "One of my shares", "operationId": "readShare", "security": BEARER,
                "parameters": [SHARE_ID],
                "responses": {"200": _json(_ref("Share")), **AUTH_ERRORS, "404": _problem("Not found or not yours")}},
        "delete": {"summary": "Revoke one of my shares", "operationId": "revokeShare", "security": BEARER,
                   "parameters": [SHARE_ID],
                   "responses": {"204": NO_CONTENT, **AUTH_ERRORS, "404": _problem("Not found or not yours")}},
    },
    "/api/v1/shares/{share_id}/unlock": {"post": {
        "summary": "Lift a lock after wrong passcodes", "operationId": "unlockShare", "security": BEARER,
        "parameters": [SHARE_ID],
        "responses": {"200": _json(_ref("Share")), **AUTH_ERRORS, "404": _problem("Not found or not yours")}}},
    "/api/v1/shared/{token}": {"post": {
        "summary": "Open a share with its passcode", "operationId": "openShare", "parameters": [TOKEN],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["passcode"], "properties": {"passcode": {"type": "string"}}}}}},
        "responses": {"200": _json(_ref("SharedTrial")), "400": _problem("Malformed JSON"),
                      "401": _problem("Wrong passcode"), "404": _problem("Unknown share"),
                      "410": _problem("Expired, revoked or used up"),
                      "423": _problem("Locked after wrong passcodes (Retry-After)"),
                      "429": _problem("Rate limited (Retry-After)"),
                      "503": _problem("Too many passcode checks at once (Retry-After)")}}},
    "/api/v1/shared/{token}/notes": {"post": {
        "summary": "A next page of an opened share's notes", "operationId": "sharedNotesPage",
        "description": "For the `session` that opening the share returned: spends no view and checks no passcode. "
                       "Up to 50 readable notes, the response within 4 MiB, and the cursor of the next page.",
        "parameters": [TOKEN], "requestBody": _body("SharedNotesRequest"),
        "responses": {"200": _json({"type": "object", "required": ["notes", "next"], "properties": {
            "notes": {"type": "array", "items": _ref("Note"), "maxItems": 50}, "next": NEXT}}),
            "400": _problem("Malformed JSON or a bad cursor"),
            "401": _problem("Session forged, for another share or expired: open the share again"),
            "404": _problem("Unknown share"), "410": _problem("Expired or revoked since it was opened"),
            "422": _problem("Not a next-page request (fields named in `errors`)"),
            "429": _problem("Rate limited (Retry-After)")}}},
    "/s/{token}": {
        "get": {"summary": "Share page: passcode form, or a page of 25 notes while the share cookie is valid",
                "description": "Further pages through the page's own 'Next notes' link (`cursor`); no script.",
                "operationId": "sharePage", "parameters": [TOKEN, {**CURSOR, "description": "From 'Next notes'."},
                                                           {**LIMIT, "schema": {"type": "integer", "minimum": 1,
                                                                                "maximum": 25, "default": 25}}],
                "responses": {"200": _html("Form or notes"), "400": _html("Bad page cursor"),
                              "404": _html("Unknown"), "410": _html("Gone"),
                              "423": _html("Locked"), "429": _html("Rate limited (Retry-After)")}},
        "post": {"summary": "Share page: submit the passcode form", "operationId": "sharePageUnlock",
                 "parameters": [TOKEN],
                 "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                     "type": "object", "properties": {"passcode": {"type": "string"}}}}}},
                 "responses": {"303": {"description": "Opened: redirect to the notes"},
                               "400": _html("A NUL in a form field"), "401": _html("Wrong passcode"),
                               "404": _html("Unknown"), "410": _html("Gone"),
                               "423": _html("Locked"), "429": _html("Rate limited"),
                               "503": _html("Busy")}},
    },
})


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
