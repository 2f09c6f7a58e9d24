"""Cross-cutting HTTP behaviour: CORS for the API, security headers, the widget file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, request, send_file
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings
from .errors import problem

bp = Blueprint("web", __name__)

WIDGET_FILE = Path(__file__).parent / "static" / "widget.js"
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


def widget_digest() -> str | None:
    """A short content hash of the built widget, for its versioned, long-cached URL."""
    try:
        stat = WIDGET_FILE.stat()
    except FileNotFoundError:
        return None
    cache = current_app.extensions.setdefault("widget_digest", {})
    key = (stat.st_mtime_ns, stat.st_size)
    if key not in cache:
        cache.clear()
        cache[key] = hashlib.sha256(WIDGET_FILE.read_bytes()).hexdigest()[:16]
    return cache[key]


def _widget_response(max_age: int, immutable: bool) -> Response:
    if widget_digest() is None:
        return problem(503, "Widget not built",
                       "The widget has not been built on this server: run `make widget`.")
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


def register_web_hooks(app: Flask, settings: Settings) -> None:
    """CORS preflight and headers, security headers, proxy trust, the widget routes."""
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

    @app.before_request
    def cors_preflight() -> Response | None:
        if request.method != "OPTIONS" or not request.path.startswith("/api/"):
            return None
        if not request.headers.get("Access-Control-Request-Method"):
            return None
        origin = allowed_origin(settings)
        if origin is None:
            return problem(403, "Origin not allowed",
                           "This site is not allowed to call the Trial Notes API.",
                           slug="origin-not-allowed")
        response = Response(status=204)
        response.headers.update({
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Allow-Headers": CORS_HEADERS,
            "Access-Control-Max-Age": CORS_MAX_AGE,
            "Vary": "Origin",
        })
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
        return response
