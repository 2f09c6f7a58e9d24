"""gunicorn settings for `make serve`: workers and bind from the environment, logs without secrets.

    WEB_CONCURRENCY   worker processes (default 2; about 2 per core for this CPU-bound app)
    GUNICORN_THREADS  threads per worker (default 4): a request waiting on Argon2 or the
                      database must not hold up the others, as one-request sync workers do
    BIND              address to listen on (default 127.0.0.1:$PORT, PORT default 8000)

A share link's token is the whole secret of the link (the passcode guards it, but a leaked
token is half the way in), so no log line may carry one: the `/s/<token>` and
`/api/v1/shared/<token>` path segments are masked, and query strings are never logged.
"""

from __future__ import annotations

import logging
import os
import re

from gunicorn.glogging import Logger

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
# Threads: under a flood of passcode guesses, sync workers queued every read behind ~200
# Argon2 checks (p99 33 s measured); with threads, guesses past the Argon2 gate get 503 at
# once and reads go on.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = 30
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# The control socket's default path is per user, so several instances on one host would take
# each other's; opt in with a path of this instance's own.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or "gunicorn.ctl"
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")

# A share token as a path segment (masked up to the next slash) and inside free text (up to a delimiter).
_TOKEN_SEGMENT = re.compile(r"(/s/|/api/v1/shared/)[^/]+", re.IGNORECASE)
_TOKEN_IN_TEXT = re.compile(r"(/s/|/api/v1/shared/)[^/?#\s\"']+", re.IGNORECASE)
MASK = r"\1****"
# Atoms that hold credentials or the raw URI (query included): never logged, whatever the format asks.
_BLANKED = {"{authorization}i", "{cookie}i", "{set-cookie}o", "{location}o",
            "{http_authorization}e", "{http_cookie}e", "{query_string}e", "{raw_uri}e"}


def mask_path(path: str) -> str:
    """A URL path with share tokens masked: /s/abc123 -> /s/****."""
    return _TOKEN_SEGMENT.sub(MASK, path)


def mask_text(text: str) -> str:
    """Free text (an error message, a referrer) with share tokens masked."""
    return _TOKEN_IN_TEXT.sub(MASK, text)


class MaskSecrets(logging.Filter):
    """Masks share tokens in every record of a logger, whatever its format (a last line of defence)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class SecretMaskingLogger(Logger):
    """gunicorn's logger with the request path masked, no query string, no credentials."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, MaskSecrets) for f in log.filters):
                log.addFilter(MaskSecrets())

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        # PATH_INFO is percent-decoded, so /%73/<token> is masked like /s/<token>.
        path = mask_path(environ.get("PATH_INFO") or "")
        atoms.update({
            "U": path,
            "q": "-",
            "r": f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}",
            "f": mask_text((environ.get("HTTP_REFERER") or "-").split("?", 1)[0].split("#", 1)[0]),
        })
        for key, value in list(atoms.items()):
            if key in _BLANKED:
                atoms[key] = "-"
            elif key.startswith("{") and isinstance(value, str):
                atoms[key] = mask_text(value)
        return atoms


logger_class = SecretMaskingLogger
