"""Cross-cutting HTTP behaviour: request input checked before any view, CORS, security headers, the widget."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, abort, current_app, g, request, send_file
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from . import registry
from .config import Settings
from .errors import N_, BadRequest, problem
from .i18n import gettext
from .schemas import RequestModel

M = TypeVar("M", bound=RequestModel)
V = TypeVar("V", bound=Callable[..., Any])

bp = Blueprint("web", __name__)

WIDGET_FILE = Path(__file__).parent / "static" / "widget.js"
# The widget's ES modules, which the loader (widget.js) imports: Flask's static route serves them
# under content-hashed names (widget/build.mjs), listed in parts.json.
WIDGET_PARTS_PATH = "/static/widget/"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
CORS_METHODS = "GET, POST, PATCH, DELETE"
# Authorization must be listed by name: the `*` wildcard does not cover it.
CORS_HEADERS = "Authorization, Content-Type"
CORS_MAX_AGE = "600"


# No request of ours nests deeper than 5 (a note's target.selector[i].field); 32 leaves room and
# keeps every walk over the data shallow. Python's json raises RecursionError (a 500) past ~1,000.
MAX_JSON_DEPTH = 32
# Text must be Unicode scalar values: a lone surrogate ("\ud800" is legal JSON) cannot be encoded
# to UTF-8 for the database or Argon2. A NUL in JSON text is left to the fields' own rules (the
# sanitizer drops it from a body, no quote or id holds one): the XSS corpus sends such bodies.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Query strings and form fields reach SQL and Argon2 as they are, and PostgreSQL refuses a NUL
# in text with an error: refused on every route. (werkzeug already decodes them with
# replacement, so no surrogate survives, but the check costs nothing.)
_NUL_OR_SURROGATE = re.compile(r"[\x00\ud800-\udfff]")
# In JSON text a surrogate can only be written as an escape: UTF-8 cannot encode one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(raw: bytes) -> Any:
    """Decode a JSON body that every view can trust: UTF-8, finite numbers, bounded depth, clean text.

    Raises BadRequest naming the first bad place (never echoing its value, which may be a secret).
    """
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise BadRequest(gettext("The request body is not valid UTF-8.")) from None
    except RecursionError:
        raise BadRequest(gettext("The JSON nests deeper than %(depth)s levels.", depth=MAX_JSON_DEPTH)) from None
    except ValueError:
        raise BadRequest(gettext("The request body is not valid JSON.")) from None
    # Two scans of the text rule out most bodies at once: fewer brackets than the bound cannot nest
    # past it, and without a surrogate escape there is no surrogate.
    if text.count("[") + text.count("{") < MAX_JSON_DEPTH and not _SURROGATE_ESCAPE.search(text):
        return data
    problem_at = first_bad_place(data)
    if problem_at is not None:
        where, why = problem_at
        raise BadRequest(_BAD_PLACE_DETAIL[why](where), errors={where: _BAD_PLACE_FIELD[why]()})
    return data


# What is wrong at a place in a JSON body: the field's message (a predicate, as every field
# message is) and the problem's detail, each a whole sentence of its own for the translators.
_BAD_PLACE_FIELD: dict[str, Callable[[], str]] = {
    "deep": lambda: gettext("nests deeper than %(depth)s levels", depth=MAX_JSON_DEPTH),
    "surrogate key": lambda: gettext("has a key holding a lone surrogate"),
    "surrogate": lambda: gettext("holds a lone surrogate, which is not text"),
}
_BAD_PLACE_DETAIL: dict[str, Callable[[str], str]] = {
    "deep": lambda where: gettext(
        "The JSON at %(place)s nests deeper than %(depth)s levels.", place=where, depth=MAX_JSON_DEPTH
    ),
    "surrogate key": lambda where: gettext("The JSON at %(place)s has a key holding a lone surrogate.", place=where),
    "surrogate": lambda where: gettext("The JSON at %(place)s holds a lone surrogate, which is not text.", place=where),
}


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number too large for a float")
    return value


def first_bad_place(data: Any) -> tuple[str, str] | None:
    """(path, "deep" | "surrogate key" | "surrogate") of the first value we cannot take, else None."""
    if isinstance(data, str):
        return ("(body)", "surrogate") if _SURROGATE.search(data) else None
    if not isinstance(data, dict | list):
        return None
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:  # a loop, not recursion: the walk itself must not be the thing that overflows
        value, where, depth = stack.pop()
        if depth >= MAX_JSON_DEPTH:
            return where or "(body)", "deep"
        pairs = enumerate(value) if isinstance(value, list) else value.items()
        for key, item in pairs:
            if isinstance(key, str) and _SURROGATE.search(key):
                return where or "(body)", "surrogate key"
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    return _place(where, key), "surrogate"
            elif isinstance(item, dict | list):
                stack.append((item, _place(where, key), depth + 1))
    return None


def _place(where: str, key: int | str) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def first_bad_field(fields: Iterable[tuple[str, str]]) -> str | None:
    """The name of the first query or form field whose name or value holds a NUL or a lone surrogate."""
    for name, value in fields:
        if _NUL_OR_SURROGATE.search(name) or _NUL_OR_SURROGATE.search(value):
            return "(a field name)" if _NUL_OR_SURROGATE.search(name) else name
    return None


def _json_body() -> Any:
    """The request's JSON as checked before the view ran, or a 400 problem that says what is wrong."""
    if not request.is_json:
        raise BadRequest(gettext("Send the request body as JSON with Content-Type: application/json."))
    if "json_body" not in g:
        g.json_body = parse_json(request.get_data(cache=True))
    return g.json_body


def accepts(model: type[RequestModel]) -> Callable[[V], V]:
    """Declare the JSON body a view takes: `accepted(model)` validates it, openapi.py documents it."""

    def declare(view: V) -> V:
        view.request_model = model  # type: ignore[attr-defined]
        return view

    return declare


def accepted(model: type[M]) -> M:
    """The request's JSON body validated by `model` (the one its view declared), or a 400/422 problem.

    Called by the view where it wants the check, so a bad token's 401 still comes first.
    """
    declared = getattr(current_app.view_functions.get(request.endpoint or ""), "request_model", None)
    if declared is not model:
        # The document describes the declared model: validating with another would let them drift.
        raise TypeError(f"{request.endpoint} declares {declared!r} but validates with {model.__name__}")
    return model.parse(_json_body())


def created(body: dict[str, Any], location: str | None) -> Response:
    """201, with a Location header when what was made has an address of its own."""
    response = Response(current_app.json.dumps(body), status=201, mimetype="application/json")
    if location is not None:
        response.headers["Location"] = location
    return response


def json_size(value: Any) -> int:
    """Bytes ``value`` takes in a JSON response (the app's encoder, compact)."""
    return len(current_app.json.dumps(value).encode("utf-8"))


def check_request_input() -> None:
    """Refuse, before any view or routing error, input no view could store: one rule for every route."""
    bad = first_bad_field(request.args.items(multi=True))
    if bad is not None:
        raise BadRequest(
            gettext("A query parameter holds a NUL or a lone surrogate, which is not text."),
            errors={bad: gettext("is not text")},
        )
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        bad = first_bad_field(request.form.items(multi=True))
        if bad is not None:
            raise BadRequest(
                gettext("A form field holds a NUL, which is not text."), errors={bad: gettext("is not text")}
            )
    if request.is_json and request.get_data(cache=True):
        g.json_body = parse_json(request.get_data(cache=True))


def widget_digest() -> str | None:
    """A short content hash of the built widget, for its versioned, long-cached URL."""
    try:
        stat = WIDGET_FILE.stat()
    except FileNotFoundError:
        return None
    cache = registry.current().widget_digests
    key = (stat.st_mtime_ns, stat.st_size)
    if key not in cache:
        cache.clear()
        cache[key] = hashlib.sha256(WIDGET_FILE.read_bytes()).hexdigest()[:16]
    return cache[key]


def _widget_response(max_age: int, immutable: bool) -> Response:
    if widget_digest() is None:
        return problem(
            503, N_("Widget not built"), gettext("The widget has not been built on this server: run `make widget`.")
        )
    response = send_file(WIDGET_FILE, mimetype="text/javascript", max_age=max_age)
    response.headers["Cache-Control"] = f"public, max-age={max_age}" + (", immutable" if immutable else "")
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script, loadable anywhere
    return response


@bp.get("/widget.js")
def widget() -> Response:
    """The widget under its stable name; cached briefly so updates reach hosts soon."""
    return _widget_response(300, immutable=False)


@bp.get("/widget.<digest>.js")
def widget_versioned(digest: str) -> Response:
    """The widget under its content-hashed name; cached for a year."""
    if digest != widget_digest():
        abort(404)
    return _widget_response(31_536_000, immutable=True)


def allowed_origin(settings: Settings) -> str | None:
    """The request's Origin when it may call the API (our own or a listed one)."""
    origin = (request.headers.get("Origin") or "").lower()
    if not origin:
        return None
    own = request.host_url.rstrip("/").lower()
    if origin == own or origin in settings.allowed_origins:
        return origin
    return None


class NoCookieSession(SessionInterface):
    """Flask's cookie session, which nothing here uses: no request opens or signs one.

    The service keeps no state in Flask's `session` (a share page's session is a value of its
    own, `shares.sessions`), yet the default interface parsed the cookies and built a signing
    serializer on every request (130,000 instructions a request, 2.4% of a notes read:
    callgrind). Every request gets Flask's null session instead, which refuses a write: a
    later use of `session` fails loudly.
    """

    def open_session(self, app: Flask, request: Any) -> None:
        """None: Flask gives the request its null session."""
        return None

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Nothing to save (Flask does not call this for a null session)."""


def register_web_hooks(app: Flask, settings: Settings) -> None:
    """CORS preflight and headers, security headers, proxy trust, no cookie session, the widget routes."""
    app.session_interface = NoCookieSession()
    if settings.trust_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.register_blueprint(bp)
    app.jinja_env.globals["widget_digest"] = widget_digest

    @app.before_request
    def refuse_large_bodies() -> None:
        # Checked before routing so that every path, even a 405 one, answers 413 first.
        length = request.content_length
        if length is not None and length > (app.config["MAX_CONTENT_LENGTH"] or 0):
            abort(413)

    app.before_request(check_request_input)  # after the size check: nothing large is parsed

    @app.before_request
    def cors_preflight() -> Response | None:
        if request.method != "OPTIONS" or not request.path.startswith("/api/"):
            return None
        if not request.headers.get("Access-Control-Request-Method"):
            return None
        origin = allowed_origin(settings)
        if origin is None:
            return problem(
                403,
                N_("Origin not allowed"),
                gettext("This site is not allowed to call the Trial Notes API."),
                slug="origin-not-allowed",
            )
        response = Response(status=204)
        response.headers.update(
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": CORS_METHODS,
                "Access-Control-Allow-Headers": CORS_HEADERS,
                "Access-Control-Max-Age": CORS_MAX_AGE,
                "Vary": "Origin",
            }
        )
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Content-Security-Policy", API_CSP)
            response.headers.setdefault("Cache-Control", "no-store")
            origin = allowed_origin(settings)
            if origin is not None:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Expose-Headers"] = "Retry-After, Location"
            response.headers.add("Vary", "Origin")
        elif response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith(WIDGET_PARTS_PATH) and response.status_code in {200, 304}:
            # The loader imports these from any page that embeds it: a module script from another
            # origin needs CORS. A changed module gets a new name, so a copy never goes stale.
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        if request.path.startswith("/s/"):
            # Error pages under a share's URL too (429, 400): its stylesheet request must not carry
            # the token in a Referer, and no cache may keep it.
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
        return response
