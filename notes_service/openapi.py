"""The OpenAPI 3.1 description of the service, assembled from the models and the routes.

What is written here is only what the models cannot say: each operation's summary, its
parameters (query strings and path parts, their limits taken from the code that enforces
them) and the statuses it can answer. Every schema is generated from the pydantic models
(`*/schemas.py`): responses name their model here, and a request body is the model its view
declares with `@accepts` (web.py), so the document cannot describe another body than the one
the view validates. Tests check the document against the routes and the models.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .accounts.schemas import GrantExchanged, ImportDone
from .devices.schemas import DEVICES_PER_PAGE, DeviceCreated, DevicesPage, LinkCodeCreated
from .notes.schemas import AllNotesPage, AnnotationExport, Note, NotebookCreated, NotebookTrialsPage, NotesPage
from .paging import DEFAULT_LIMIT, MAX_CURSOR_CHARS, MAX_LIMIT
from .schemas import Problem
from .shares.pages import PAGE_NOTES
from .shares.schemas import (
    REPLIES_PER_PAGE,
    SHARES_PER_PAGE,
    RepliesPage,
    Reply,
    Share,
    ShareCreated,
    SharedNotesPage,
    SharedTrial,
    SharesPage,
)
from .trials.schemas import EmbedCheck, Trial, TrialsPage, VersionsPage
from .trials.service import MAX_CURSOR_CHARS as MAX_TRIAL_CURSOR_CHARS
from .trials.service import MAX_PAGE_SIZE, PAGE_SIZE

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref(Problem)}}}


def _json(model: type[BaseModel], description: str = "OK", media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": _ref(model)}}}


def _any_json(description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _negotiated(description: str) -> dict[str, Any]:
    """An error outside /api: a page for browsers, problem+json when the client accepts JSON."""
    return {
        "description": description,
        "content": {"text/html": {"schema": {"type": "string"}}, "application/problem+json": {"schema": _ref(Problem)}},
    }


def _path(name: str, max_length: int, description: str | None = None) -> dict[str, Any]:
    parameter = {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": max_length}}
    return {**parameter, "description": description} if description else parameter


def _limit(maximum: int, default: int, description: str) -> dict[str, Any]:
    return {
        "name": "limit",
        "in": "query",
        "description": description,
        "schema": {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
    }


def _cursor(description: str, longest: int = MAX_CURSOR_CHARS) -> dict[str, Any]:
    return {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string", "maxLength": longest},
        "description": description,
    }


# Path parts are bounded only so the fuzzer's inputs stay small: longer ones are simply not found.
NCT = _path("nct", 64, "NCT number")
NOTE_ID = _path("note_id", 64)
REPLY_ID = _path("reply_id", 64)
SHARE_ID = _path("share_id", 64)
DEVICE_ID = _path("device_id", 64)
TOKEN = _path("token", 200)
TRIAL_CURSOR = _cursor("Opaque cursor from a previous page's `next` or `previous`", MAX_TRIAL_CURSOR_CHARS)
TRIAL_LIMIT = _limit(MAX_PAGE_SIZE, PAGE_SIZE, f"Page size (default {PAGE_SIZE})")
# Every list is paged (paging.py): `next` is the cursor of the next page, null on the last.
CURSOR = _cursor("Opaque: the `next` of the previous page. A cursor this service did not give is a 400.")
LIMIT = _limit(
    MAX_LIMIT, DEFAULT_LIMIT, "Most items in the page; a page also stops before 4 MiB, so it may hold fewer."
)
BEARER: list[dict[str, list[str]]] = [{"notebookToken": []}]
NUL = {"400": _problem("A NUL in a query parameter")}
BAD_PAGE = {"400": _problem("Bad cursor or limit")}
AUTH = {"401": _problem("Missing or bad notebook token")}
WRITE = {
    "400": _problem("Malformed JSON"),
    "413": _problem("Body over 64 KiB"),
    "422": _problem("Invalid content; `errors` names each field"),
}
MINE = {"404": _problem("Not found or not yours")}
NO_CONTENT = {"description": "Done"}
JAVASCRIPT = {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}

BAD_TRIAL_PAGE = _problem("A bad cursor or limit, or a NUL in a query parameter")

PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/healthz": {"get": {"summary": "Liveness", "operationId": "healthz", "responses": {"200": _any_json()}}},
    "/readyz": {
        "get": {
            "summary": "Readiness: database reachable, keys loaded",
            "operationId": "readyz",
            "responses": {"200": _any_json(), "503": _problem("Not ready")},
        }
    },
    "/api/v1/openapi.json": {
        "get": {"summary": "This document", "operationId": "openapi", "responses": {"200": _any_json()}}
    },
    "/api/v1/trials": {
        "get": {
            "summary": "A page of trials: by title, or ranked by full-text search",
            "operationId": "listTrials",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "Words searched (as prefixes, all required) in the NCT number, title, conditions, "
                    "interventions and sponsor; results ranked",
                },
                {
                    "name": "condition",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "Words searched in the conditions only",
                },
                TRIAL_CURSOR,
                TRIAL_LIMIT,
            ],
            "responses": {"200": _json(TrialsPage), "400": BAD_TRIAL_PAGE},
        }
    },
    "/api/v1/trials/{nct}": {
        "get": {
            "summary": "One trial: fields, sections, canonical text and content version",
            "operationId": "readTrial",
            "parameters": [
                NCT,
                {
                    "name": "version",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": 64},
                    "description": "A stored version: its revision number or content version (default: the current)",
                },
            ],
            "responses": {
                "200": _json(Trial),
                **NUL,
                "404": _problem("No such trial or version"),
                "422": _problem("Invalid version"),
            },
        }
    },
    "/api/v1/trials/{nct}/embedding": {
        "get": {
            "summary": "Whether the widget can work for this trial on the calling page (readable from any origin)",
            "description": "The widget asks at start: an unknown trial or a page origin the service refuses gets a "
            "console message naming the fix instead of failing at the reader's first save.",
            "operationId": "checkEmbedding",
            "parameters": [NCT],
            "responses": {"200": _json(EmbedCheck)},
        }
    },
    "/api/v1/trials/{nct}/versions": {
        "get": {
            "summary": "The trial's stored versions, newest first",
            "operationId": "listTrialVersions",
            "parameters": [NCT, TRIAL_CURSOR, TRIAL_LIMIT],
            "responses": {"200": _json(VersionsPage), "400": BAD_TRIAL_PAGE, "404": _problem("No such trial")},
        }
    },
    "/": {
        "get": {
            "summary": "Trial index page",
            "operationId": "indexPage",
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, TRIAL_CURSOR],
            "responses": {"200": _html("The trial index"), "400": _html("A bad cursor, or a NUL in a query parameter")},
        }
    },
    "/trials/{nct}": {
        "get": {
            "summary": "Trial page embedding the widget",
            "operationId": "trialPage",
            "parameters": [NCT],
            "responses": {"200": _html("The trial page"), "404": _html("Unknown trial")},
        }
    },
    "/widget.js": {
        "get": {
            "summary": "The widget script",
            "operationId": "widget",
            "responses": {"200": JAVASCRIPT, "503": _problem("Widget not built")},
        }
    },
    "/widget.{digest}.js": {
        "get": {
            "summary": "The widget under a content-hashed, long-cached URL",
            "operationId": "widgetVersioned",
            "parameters": [{"name": "digest", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": JAVASCRIPT, "404": _negotiated("Stale or unknown version")},
        }
    },
    "/api/v1/notebooks": {
        "post": {
            "summary": "Create an anonymous notebook; the token is shown this once",
            "operationId": "createNotebook",
            "responses": {"201": _json(NotebookCreated, "Created"), "429": _problem("Rate limited")},
        }
    },
    "/api/v1/notebooks/me": {
        "delete": {
            "summary": "Delete my notebook, its notes and shares (crypto-shredded)",
            "operationId": "deleteNotebook",
            "security": BEARER,
            "responses": {"204": NO_CONTENT, **AUTH, "503": _problem("Deleted, but the SQLite log is not erased yet")},
        }
    },
    "/api/v1/notebooks/me/devices": {
        "get": {
            "summary": "My notebook's devices (browsers), oldest first; `current` marks the caller's",
            "operationId": "listDevices",
            "security": BEARER,
            "parameters": [CURSOR, _limit(DEVICES_PER_PAGE, DEVICES_PER_PAGE, "Most devices in the page")],
            "responses": {
                "200": _json(DevicesPage),
                **AUTH,
                **BAD_PAGE,
                "429": _problem("Rate limited (Retry-After)"),
            },
        }
    },
    "/api/v1/notebooks/me/devices/{device_id}": {
        "delete": {
            "summary": "Remove a device: its token stops at once and its key slot is erased",
            "description": "Removing the last device of a notebook no host site vouches for deletes the "
            "notebook, its notes and shares (nothing could open them again), as DELETE /api/v1/notebooks/me.",
            "operationId": "removeDevice",
            "security": BEARER,
            "parameters": [DEVICE_ID],
            "responses": {
                "204": NO_CONTENT,
                **AUTH,
                **MINE,
                "429": _problem("Rate limited (Retry-After)"),
                "503": _problem("The notebook is deleted, but the SQLite log is not erased yet"),
            },
        }
    },
    "/api/v1/notebooks/me/link-codes": {
        "post": {
            "summary": "A one-time link code (10 minutes) for another browser of my notebook",
            "operationId": "createLinkCode",
            "security": BEARER,
            "responses": {"201": _json(LinkCodeCreated, "Created"), **AUTH, "429": _problem("Rate limited")},
        }
    },
    "/api/v1/link-codes/redeem": {
        "post": {
            "summary": "Redeem a link code: this browser becomes a device of the code's notebook",
            "operationId": "redeemLinkCode",
            "responses": {
                "201": _json(DeviceCreated, "Created"),
                **WRITE,
                "404": _problem("A used, expired or unknown code (one answer for all three)"),
                "429": _problem("Rate limited (Retry-After)"),
            },
        }
    },
    "/api/v1/grants": {
        "post": {
            "summary": "Exchange a host site's grant for a device token of its user's notebook (made on first use)",
            "description": "Every grant that is not accepted (signature, algorithm, key, issuer, audience, time, "
            "replay, missing claims, size, or an nks that does not open the account's notebook) is a 401 problem "
            "whose detail says which check failed.",
            "operationId": "exchangeGrant",
            "responses": {
                "201": _json(GrantExchanged, "Created"),
                "400": _problem("Malformed JSON"),
                "401": _problem("A grant that is not accepted"),
                "413": _problem("Body over 64 KiB"),
                "422": _problem("Invalid content, or the notebook has the most devices it may have"),
                "429": _problem("Rate limited (Retry-After)"),
                "503": _problem("The account's notebook was being made at the same time: send it again"),
            },
        }
    },
    "/api/v1/notebooks/me/imports": {
        "post": {
            "summary": "Move the notes of this browser's anonymous notebook into mine, then delete it",
            "description": "In one transaction: every note re-sealed under this notebook's key, or none. "
            "The anonymous notebook's shares do not move; their links end with it.",
            "operationId": "importNotebook",
            "security": BEARER,
            "responses": {
                "200": _json(ImportDone),
                **AUTH,
                **WRITE,
                "429": _problem("Rate limited (Retry-After)"),
                "503": _problem("Moved, but the SQLite log is not erased yet"),
            },
        }
    },
    "/link": {
        "get": {
            "summary": "The page a link code's QR code opens; its widget redeems the code in the URL's fragment",
            "operationId": "linkPage",
            "responses": {"200": _html("The page")},
        }
    },
    "/api/v1/notebooks/me/export": {
        "get": {
            "summary": "Every note as a W3C Web Annotation collection, one AnnotationPage at a time",
            "description": "Without a cursor: the AnnotationCollection (`total` = notes in the notebook) with its "
            "`first` AnnotationPage. Each page's `next` is the URL of the next page (an AnnotationPage "
            "with `partOf`), absent on the last; `unreadable` counts the notes the page left out.",
            "operationId": "exportNotebook",
            "security": BEARER,
            "parameters": [CURSOR, LIMIT],
            "responses": {"200": _json(AnnotationExport, "JSON-LD", "application/ld+json"), **AUTH, **BAD_PAGE},
        }
    },
    "/api/v1/notebooks/me/trials": {
        "get": {
            "summary": "The trials holding my notes: title, note count, last edited; the last edited first",
            "description": "Counted from the notes' rows: no note is opened. Rate limited "
            "(NOTES_NOTEBOOK_READ_RATE_LIMIT).",
            "operationId": "listMyTrials",
            "security": BEARER,
            "parameters": [CURSOR, LIMIT],
            "responses": {
                "200": _json(NotebookTrialsPage),
                **AUTH,
                **BAD_PAGE,
                "429": _problem("Rate limited (Retry-After)"),
            },
        }
    },
    "/api/v1/notebooks/me/notes": {
        "get": {
            "summary": "Every note of mine, by trial then age",
            "description": "Each note carries its `trial_id`; searching them is the client's (the service "
            "never indexes what notes say). Rate limited (NOTES_NOTEBOOK_READ_RATE_LIMIT).",
            "operationId": "listAllMyNotes",
            "security": BEARER,
            "parameters": [CURSOR, LIMIT],
            "responses": {
                "200": _json(AllNotesPage),
                **AUTH,
                **BAD_PAGE,
                "429": _problem("Rate limited (Retry-After)"),
            },
        }
    },
    "/api/v1/trials/{nct}/notes": {
        "get": {
            "summary": "My notes on a trial",
            "operationId": "listNotes",
            "security": BEARER,
            "parameters": [NCT, CURSOR, LIMIT],
            "responses": {"200": _json(NotesPage), **AUTH, **BAD_PAGE, "404": _problem("No such trial")},
        },
        "post": {
            "summary": "Add a note",
            "operationId": "createNote",
            "security": BEARER,
            "parameters": [NCT],
            "responses": {
                "200": _json(Note, "The note this idempotency_key made in my notebook (a save sent again): as stored"),
                "201": _json(Note, "Created"),
                **AUTH,
                **WRITE,
                "404": _problem("No such trial"),
                "429": _problem("Rate limited (Retry-After)"),
            },
        },
    },
    "/api/v1/notes/{note_id}": {
        "get": {
            "summary": "One of my notes",
            "operationId": "readNote",
            "security": BEARER,
            "parameters": [NOTE_ID],
            "responses": {"200": _json(Note), **AUTH, **MINE},
        },
        "patch": {
            "summary": "Change one of my notes, or keep a changed passage's note on the new text",
            "operationId": "updateNote",
            "security": BEARER,
            "parameters": [NOTE_ID],
            "responses": {"200": _json(Note), **AUTH, **WRITE, **MINE},
        },
        "delete": {
            "summary": "Delete one of my notes",
            "operationId": "deleteNote",
            "security": BEARER,
            "parameters": [NOTE_ID],
            "responses": {"204": NO_CONTENT, **AUTH, **MINE},
        },
    },
    "/api/v1/shares": {
        "get": {
            "summary": "My shares with views, failed attempts and state",
            "operationId": "listShares",
            "security": BEARER,
            "parameters": [
                {"name": "trial_id", "in": "query", "schema": {"type": "string"}},
                CURSOR,
                _limit(SHARES_PER_PAGE, SHARES_PER_PAGE, "Most shares in the page"),
            ],
            "responses": {"200": _json(SharesPage), **AUTH, **BAD_PAGE},
        },
        "post": {
            "summary": "Share chosen notes behind a passcode",
            "description": "A notebook holds at most 200 shares by default (NOTES_MAX_SHARES), revoked and "
            "expired ones included: past it, a 422 naming `(notebook)`; deleting a share for good "
            "(DELETE /api/v1/shares/{share_id}/record) makes room.",
            "operationId": "createShare",
            "security": BEARER,
            "responses": {
                "201": _json(ShareCreated, "Created"),
                **AUTH,
                **WRITE,
                "422": _problem(
                    "Invalid content (`errors` names each field), or the notebook holds as many shares as it may"
                ),
                "404": _problem("No such trial"),
                "429": _problem("Rate limited (Retry-After)"),
                "503": _problem("Too many passcode hashes at once (Retry-After)"),
            },
        },
    },
    "/api/v1/shares/{share_id}": {
        "get": {
            "summary": "One of my shares",
            "operationId": "readShare",
            "security": BEARER,
            "parameters": [SHARE_ID],
            "responses": {"200": _json(Share), **AUTH, **MINE},
        },
        "patch": {
            "summary": "Turn replies on or off for one of my shares, or change its label",
            "operationId": "updateShare",
            "security": BEARER,
            "parameters": [SHARE_ID],
            "responses": {
                "200": _json(Share),
                **AUTH,
                **WRITE,
                **MINE,
                "429": _problem("Rate limited (Retry-After)"),
            },
        },
        "delete": {
            "summary": "Revoke one of my shares",
            "operationId": "revokeShare",
            "security": BEARER,
            "parameters": [SHARE_ID],
            "responses": {"204": NO_CONTENT, **AUTH, **MINE},
        },
    },
    "/api/v1/shares/{share_id}/record": {
        "delete": {
            "summary": "Delete one of my shares for good, revoked or not, with its replies",
            "description": "Its link answers 404 from then on; its replies, key slot and the keys of its notes "
            "go with it. A deleted share no longer counts against the notebook's bound on shares.",
            "operationId": "deleteShare",
            "security": BEARER,
            "parameters": [SHARE_ID],
            "responses": {"204": NO_CONTENT, **AUTH, **MINE, "429": _problem("Rate limited (Retry-After)")},
        }
    },
    "/api/v1/shares/{share_id}/unlock": {
        "post": {
            "summary": "Lift a lock after wrong passcodes",
            "operationId": "unlockShare",
            "security": BEARER,
            "parameters": [SHARE_ID],
            "responses": {"200": _json(Share), **AUTH, **MINE},
        }
    },
    "/api/v1/shared/{token}": {
        "post": {
            "summary": "Open a share with its passcode",
            "operationId": "openShare",
            "parameters": [TOKEN],
            "responses": {
                "200": _json(SharedTrial),
                "400": _problem("Malformed JSON"),
                "401": _problem("Wrong passcode"),
                "404": _problem("Unknown share"),
                "410": _problem("Expired, revoked or used up"),
                "423": _problem("Locked after wrong passcodes (Retry-After)"),
                "429": _problem("Rate limited (Retry-After)"),
                "503": _problem(
                    "Too many passcode checks at once, or the rate-limit storage is unreachable (Retry-After)"
                ),
            },
        }
    },
    "/api/v1/shared/{token}/notes": {
        "post": {
            "summary": "A next page of an opened share's notes",
            "operationId": "sharedNotesPage",
            "description": "For the `session` that opening the share returned: spends no view and checks no passcode. "
            "Readable notes, the response within 4 MiB, and the cursor of the next page.",
            "parameters": [TOKEN],
            "responses": {
                "200": _json(SharedNotesPage),
                "400": _problem("Malformed JSON or a bad cursor"),
                "401": _problem("Session forged, for another share or expired: open the share again"),
                "404": _problem("Unknown share"),
                "410": _problem("Expired or revoked since it was opened"),
                "422": _problem("Not a next-page request (fields named in `errors`)"),
                "429": _problem("Rate limited (Retry-After)"),
            },
        }
    },
    "/api/v1/shared/{token}/notes/{note_id}/replies": {
        "post": {
            "summary": "Reply to a note of an opened share",
            "operationId": "addReply",
            "description": "For the `session` that opening the share returned. The reply shows on the note "
            "(its `replies`) for the share's readers and to the notes' owner.",
            "parameters": [TOKEN, NOTE_ID],
            "responses": {
                "201": _json(Reply, "Created"),
                "400": _problem("Malformed JSON"),
                "401": _problem("Session forged, for another share or expired: open the share again"),
                "404": _problem("Unknown share, or a note it does not show"),
                "409": _problem("Replies turned off, or the note or share holds as many as it can"),
                "410": _problem("Expired, revoked or used up"),
                "413": _problem("Body over 64 KiB"),
                "422": _problem("Invalid reply; `errors` names each field"),
                "429": _problem("Rate limited, per address or per share (Retry-After)"),
            },
        }
    },
    "/api/v1/trials/{nct}/replies": {
        "get": {
            "summary": "Replies to my shared notes on a trial, newest first",
            "operationId": "listReplies",
            "security": BEARER,
            "parameters": [NCT, CURSOR, _limit(REPLIES_PER_PAGE, REPLIES_PER_PAGE, "Most replies in the page")],
            "responses": {
                "200": _json(RepliesPage),
                **AUTH,
                **BAD_PAGE,
                "404": _problem("No such trial"),
                "429": _problem("Rate limited (Retry-After)"),
            },
        }
    },
    "/api/v1/trials/{nct}/replies/seen": {
        "post": {
            "summary": "Mark replies to my notes on a trial as seen",
            "operationId": "markRepliesSeen",
            "description": "Ids that are not replies to my notes on this trial change nothing.",
            "security": BEARER,
            "parameters": [NCT],
            "responses": {
                "204": NO_CONTENT,
                **AUTH,
                **WRITE,
                "404": _problem("No such trial"),
                "429": _problem("Rate limited (Retry-After)"),
            },
        }
    },
    "/api/v1/replies/{reply_id}": {
        "delete": {
            "summary": "Delete a reply to one of my notes",
            "operationId": "deleteReply",
            "security": BEARER,
            "parameters": [REPLY_ID],
            "responses": {"204": NO_CONTENT, **AUTH, **MINE, "429": _problem("Rate limited (Retry-After)")},
        }
    },
    "/s/{token}": {
        "get": {
            "summary": f"Share page: passcode form, or a page of {PAGE_NOTES} notes while the share cookie is valid",
            "description": "Further pages through the page's own 'Next notes' link (`cursor`); no script.",
            "operationId": "sharePage",
            "parameters": [
                TOKEN,
                _cursor("From 'Next notes'."),
                _limit(PAGE_NOTES, PAGE_NOTES, "Most notes in the page"),
            ],
            "responses": {
                "200": _html("Form or notes"),
                "400": _html("Bad page cursor"),
                "404": _html("Unknown"),
                "410": _html("Gone"),
                "423": _html("Locked"),
                "429": _html("Rate limited (Retry-After)"),
            },
        },
        "post": {
            "summary": "Share page: submit the passcode form",
            "operationId": "sharePageUnlock",
            "parameters": [TOKEN],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"passcode": {"type": "string"}}}
                    }
                },
            },
            "responses": {
                "303": {"description": "Opened: redirect to the notes"},
                "400": _html("A NUL in a form field"),
                "401": _html("Wrong passcode"),
                "404": _html("Unknown"),
                "410": _html("Gone"),
                "423": _html("Locked"),
                "429": _html("Rate limited"),
                "503": _html("Busy, or the rate-limit storage is unreachable (Retry-After)"),
            },
        },
    },
    "/s/{token}/notes/{note_id}/replies": {
        "get": {
            "summary": "Share page: the reply form's address asked for as a page",
            "description": "A refused reply is shown at this address; reloaded, it leads to the share's page.",
            "operationId": "sharePageReplyAddress",
            "parameters": [TOKEN, NOTE_ID],
            "responses": {"303": {"description": "Redirect to the share's page"}, "404": _html("Unknown")},
        },
        "post": {
            "summary": "Share page: send the reply form of a note",
            "description": "With the share-page cookie (SameSite=Strict, so not from another site). On success, "
            "a redirect back to the note; a reply the page cannot take shows the form again with the reason.",
            "operationId": "sharePageReply",
            "parameters": [TOKEN, NOTE_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "body": {"type": "string"},
                                "name": {"type": "string"},
                                "number": {"type": "string"},
                                "cursor": {"type": "string"},
                                "reply_id": {"type": "string"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "303": {"description": "Sent: redirect back to the note"},
                "400": _html("A NUL in a form field"),
                "401": _html("No valid share-page cookie: the passcode form"),
                "404": _html("Unknown share; or a note it does not show: the page, with the reply typed"),
                "409": _html("Replies turned off, or the note or share full: the form again, with the reply typed"),
                "410": _html("Gone"),
                "422": _html("Empty or too long: the form again, with the reply typed"),
                "429": _html("Rate limited"),
            },
        },
    },
}


def openapi_path(rule: str) -> str:
    """A Flask rule (`/notes/<note_id>`) as an OpenAPI path (`/notes/{note_id}`)."""
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def request_models(app: Flask) -> dict[tuple[str, str], type[BaseModel]]:
    """(OpenAPI path, method) -> the model the route's view declared for its JSON body."""
    found = {}
    for rule in app.url_map.iter_rules():
        model = getattr(app.view_functions.get(rule.endpoint), "request_model", None)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if model is not None:
                found[(openapi_path(rule.rule), method.lower())] = model
    return found


def _response_models(paths: dict[str, Any]) -> Iterable[str]:
    for operations in paths.values():
        for operation in operations.values():
            for response in operation["responses"].values():
                for media in response.get("content", {}).values():
                    ref = media["schema"].get("$ref", "")
                    if ref:
                        yield ref.rsplit("/", 1)[1]


RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        Problem,
        TrialsPage,
        Trial,
        VersionsPage,
        EmbedCheck,
        NotebookCreated,
        DevicesPage,
        LinkCodeCreated,
        DeviceCreated,
        GrantExchanged,
        ImportDone,
        AnnotationExport,
        NotebookTrialsPage,
        AllNotesPage,
        NotesPage,
        Note,
        SharesPage,
        Share,
        RepliesPage,
        Reply,
        ShareCreated,
        SharedTrial,
        SharedNotesPage,
    )
}


def component_schemas(requests: Iterable[type[BaseModel]]) -> dict[str, Any]:
    """The JSON Schema of every model the document names, with the models they use, by name."""
    responses = [RESPONSE_MODELS[name] for name in sorted(set(_response_models(PATHS)))]
    pairs: list[tuple[type[BaseModel], Any]] = [(model, "serialization") for model in responses]
    pairs += [(model, "validation") for model in sorted(set(requests), key=lambda model: model.__name__)]
    _, top = models_json_schema(pairs, ref_template=REF)
    definitions: dict[str, Any] = top.get("$defs", {})
    return definitions


def _every_route(path: str, documented: dict[str, Any]) -> dict[str, Any]:
    """What any route may answer before its view runs (web.check_request_input, the body limit)."""
    refusal = _problem if path.startswith("/api/") else _negotiated
    missing = {
        "400": refusal("A NUL in a query parameter, or a body that is not UTF-8 JSON"),
        "413": refusal("Body over 64 KiB"),
    }
    return {status: answer for status, answer in missing.items() if status not in documented}


def document(app: Flask | None = None) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, for `app`'s routes (the current app's by default)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    bodies = request_models(app)
    paths: dict[str, Any] = {
        path: {method: dict(operation) for method, operation in operations.items()}
        for path, operations in PATHS.items()
    }
    for (path, method), model in bodies.items():
        paths[path][method]["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(model)}},
        }
    for path, operations in paths.items():
        for operation in operations.values():
            operation["responses"] = {**operation["responses"], **_every_route(path, operation["responses"])}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Trial Notes",
            "version": "1.0.0",
            "description": "Private, encrypted notes on clinical-trial pages, shared by "
            "passcode-protected links. Errors are application/problem+json (RFC 9457).",
        },
        "paths": paths,
        "components": {
            "schemas": component_schemas(bodies.values()),
            "securitySchemes": {
                "notebookToken": {"type": "http", "scheme": "bearer", "description": "The notebook token"}
            },
        },
    }


@bp.get("/api/v1/openapi.json")
def openapi_json() -> dict[str, Any]:
    """Serve the document (built once per app: the routes and models do not change while it runs)."""
    cache: dict[str, dict[str, Any]] = current_app.extensions.setdefault("openapi_document", {})
    if "document" not in cache:
        cache["document"] = document()
    return cache["document"]
