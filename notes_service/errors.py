"""Domain errors and the one place that turns them into responses.

Services raise these; API routes get application/problem+json (RFC 9457), pages get
a friendly HTML page. Messages never carry note text, quotes, passcodes or tokens.

Words are in the request's language (notes_service/i18n.py): a detail is translated where it
is raised (gettext, with its numbers as placeholders), a title here, when the response is
made. A problem's `type` is built from the English title, so it never changes with the language.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, json, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from .i18n import gettext

log = logging.getLogger(__name__)


def N_(text: str) -> str:
    """Mark a title for the catalogs (pybabel extracts N_ by default); it is translated when shown."""
    return text


PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base of the errors services raise; `status` and `title` shape the response."""

    status = 400
    title = N_("Bad request")
    slug = "bad-request"

    def __init__(self, detail: str, *, errors: dict[str, str] | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.retry_after = retry_after


class BadRequest(DomainError):
    """The request could not be parsed."""


class Unauthorized(DomainError):
    """Missing or bad credentials (notebook token or passcode)."""

    status, title, slug = 401, N_("Unauthorized"), "unauthorized"


class NotFound(DomainError):
    """Absent, or not the caller's: existence is never revealed."""

    status, title, slug = 404, N_("Not found"), "not-found"


class Gone(DomainError):
    """A share that expired, was revoked or was used up."""

    status, title, slug = 410, N_("Gone"), "gone"


class Invalid(DomainError):
    """Well-formed but invalid content; `errors` names each field."""

    status, title, slug = 422, N_("Invalid content"), "invalid"


class Locked(DomainError):
    """A share locked after wrong passcodes."""

    status, title, slug = 423, N_("Locked"), "locked"


class Closed(DomainError):
    """A share that takes no more replies now (turned off, or full), though it still reads."""

    status, title, slug = 409, N_("Not taking replies"), "closed"


class Busy(DomainError):
    """Too much expensive work in flight; try again shortly."""

    status, title, slug = 503, N_("Service busy"), "busy"


class Unavailable(DomainError):
    """Something the request needs does not answer (the rate limits' storage, for a passcode check)."""

    status, title, slug = 503, N_("Service unavailable"), "unavailable"


# Seconds a client is asked to wait when the rate-limit storage is unreachable: each request asks
# it again, so the next one after it is back goes through.
STORAGE_RETRY_AFTER = 5
# The same for the database: a request that could not reach it is refused, and the next one tries again.
DATABASE_RETRY_AFTER = 5


def database_refused(error: DBAPIError) -> bool:
    """Whether the database refused the work outright: no connection could be made, or it refused
    a COMMIT with the connection still valid (so the transaction was not applied).

    Such an error comes with no statement (it came from connecting or from COMMIT). A connection
    lost during COMMIT is not one of them: the database may have applied the transaction before
    the answer was lost. Whether the request committed something before the error is the
    caller's question (`nothing_committed`).
    """
    return isinstance(error, OperationalError) and error.statement is None and not error.connection_invalidated


def nothing_committed() -> bool:
    """Whether the request has committed nothing yet (the session's commits set `g._committed`).

    Some requests commit in steps (a share's view counted, then the share read again; a
    notebook's key slots erased, then its rows): a step refused after an earlier one committed
    is not to be tried again as if nothing had happened.
    """
    return not g.get("_committed", False)


def wants_problem_json() -> bool:
    """API paths and JSON clients get problem+json; everyone else gets a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_JSON])
    return best in {"application/json", PROBLEM_JSON}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: dict[str, str] | None = None,
    retry_after: int | None = None,
) -> Response:
    """Build an application/problem+json response; `title` in English (it names the type), shown translated."""
    body: dict[str, Any] = {
        "type": f"https://trial-notes.example/problems/{slug or _slug(title)}",
        "title": gettext(title),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _slug(title: str) -> str:
    return "-".join(title.lower().split())


def _page(status: int, title: str, detail: str, retry_after: int | None = None) -> Response:
    html = render_template("error.html", status=status, title=gettext(title), detail=detail)
    response = Response(html, status=status, mimetype="text/html")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def respond(status: int, title: str, detail: str, **extra: Any) -> Response:
    """Answer in the caller's format: problem+json for the API, a page otherwise."""
    if wants_problem_json():
        return problem(status, title, detail, **extra)
    return _page(status, title, detail, extra.get("retry_after"))


_FRIENDLY = {
    400: N_("The request could not be understood."),
    404: N_("There is nothing here. The address may be mistyped, or the page was removed."),
    405: N_("This address does not accept that kind of request."),
    413: N_("The request is too large. Notes and requests are limited to 64 KiB."),
    415: N_("Send the request body as JSON (Content-Type: application/json)."),
}
# werkzeug's names of the statuses it raises, as titles the catalogs hold (the type keeps the English).
_HTTP_TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    406: N_("Not Acceptable"),
    408: N_("Request Timeout"),
    413: N_("Request Entity Too Large"),
    414: N_("Request URI Too Large"),
    415: N_("Unsupported Media Type"),
    431: N_("Request Header Fields Too Large"),
    500: N_("Internal Server Error"),
    501: N_("Not Implemented"),
}


def register_error_handlers(app: Flask) -> None:
    """Install the handlers that turn every error into problem+json or a page."""

    @app.errorhandler(DomainError)
    def handle_domain(error: DomainError) -> Response:
        response = respond(
            error.status, error.title, error.detail, slug=error.slug, errors=error.errors, retry_after=error.retry_after
        )
        if isinstance(error, Unauthorized) and request.headers.get("Authorization") is not None:
            response.headers["WWW-Authenticate"] = 'Bearer realm="trial-notes", error="invalid_token"'
        elif isinstance(error, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="trial-notes"'
        return response

    @app.errorhandler(RateLimitExceeded)
    def handle_rate_limit(error: RateLimitExceeded) -> Response:
        retry_after = _retry_after_seconds(error)
        response = respond(
            429,
            N_("Too many requests"),
            gettext("Too many requests from this client. Wait and try again."),
            slug="rate-limited",
            retry_after=retry_after,
        )
        return response

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> Response:
        status = error.code or 500
        detail = gettext(_FRIENDLY[status]) if status in _FRIENDLY else error.description or ""
        # The title's English names the type (its slug); `problem` and the page show it translated.
        response = respond(status, _HTTP_TITLES.get(status, error.name), detail, slug=_slug(error.name))
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError) -> ResponseReturnValue:
        # The pool does not ping a connection before handing it out (a round trip on every
        # request): one the database dropped (a restart, a failover) fails on its first use.
        # SQLAlchemy then discards it and every pooled connection older than it; a read is
        # answered by running its view once more on a new connection. A write is not retried
        # (its COMMIT may have been lost after the database applied it): it answers 500.
        # A database that cannot be reached (or refused to commit) answers 503 with Retry-After.
        if database_refused(error) and nothing_committed():
            return unreachable()
        if error.connection_invalidated and request.method in {"GET", "HEAD"} and not g.get("_read_retried"):
            g._read_retried = True
            from .extensions import db

            db.session.remove()
            log.warning("database connection lost; %s %s retried once", request.method, _route())
            view = current_app.view_functions[request.endpoint or ""]
            try:
                return current_app.ensure_sync(view)(**(request.view_args or {}))  # type: ignore[no-any-return]
            except DBAPIError as again:  # the new connection could not be made either
                if database_refused(again) and nothing_committed():
                    return unreachable()
                raise
        return handle_unexpected(error)

    def unreachable() -> Response:
        log.warning("database unreachable or refused the transaction; %s %s answered 503", request.method, _route())
        detail = gettext("The notes cannot be reached for a moment. Try again in a few seconds.")
        return handle_domain(Unavailable(detail, retry_after=DATABASE_RETRY_AFTER))

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        # Log the type and where, never the request body: it may hold a patient's note.
        log.error(
            "unhandled %s on %s %s",
            type(error).__name__,
            request.method,
            _route(),
            exc_info=error,
        )
        return respond(
            500,
            N_("Internal server error"),
            gettext("Something went wrong on our side. Nothing you sent was lost or shown."),
        )


def _route() -> str:
    return request.url_rule.rule if request.url_rule else "(no route)"


def _retry_after_seconds(error: RateLimitExceeded) -> int:
    limit = getattr(error, "limit", None)
    seconds = 60
    if limit is not None and getattr(limit, "limit", None) is not None:
        seconds = int(limit.limit.get_expiry())
    return max(1, seconds)
