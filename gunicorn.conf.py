"""gunicorn settings for `make serve`: workers and bind from the environment, logs without secrets.

    WEB_CONCURRENCY   worker processes (default 2; about 2 per core for this CPU-bound app)
    GUNICORN_THREADS  threads per worker (default 4): a request waiting on Argon2 or the
                      database must not hold up the others, as one-request sync workers do.
                      Behind `make serve`'s front the main pool runs 1 (deploy/front.py).
    BIND              address to listen on (default 127.0.0.1:$PORT, PORT default 8000)

A share link's token is the whole secret of the link (the passcode guards it, but a leaked
token is half the way in), so no log line may carry one: every spelling of the
`/s/<token>` and `/api/v1/shared/<token>` paths is masked (notes_service/logmask.py, shared
with the development server's log), and query strings are never logged.
"""

from __future__ import annotations

import gc
import os
import runpy
from pathlib import Path

from gunicorn.glogging import Logger

# The masking rules, read from their file alone: `import notes_service.logmask` would first run the
# package's __init__ (Flask, SQLAlchemy, Alembic, Flask-Babel...), about 55 MiB in each pool's
# master, which never serves a request (its workers import the app themselves, after the fork).
_logmask = runpy.run_path(str(Path(__file__).with_name("notes_service") / "logmask.py"))
install, mask, quote_path = _logmask["install"], _logmask["mask"], _logmask["quote_path"]

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
# Threads: under a flood of passcode guesses, sync workers queued every read behind ~200
# Argon2 checks (p99 33 s measured); with threads, guesses wait at most 3 s at the host-wide
# Argon2 gate (at most 2 per slot wait there, one place per client) or get 503, and reads go
# on. Behind `make serve`'s front the passcode routes have a pool of their own anyway.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = 30
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
# nginx (deploy/nginx.conf.template) is the gate for a request's size: a request line or a header
# line of up to 8 KiB, the whole header within its buffers (34 KiB, so at most some 11,000 short
# lines), each refusal in the caller's format. gunicorn's own limits sit at or above those, so
# what nginx passes is never refused here by gunicorn's plain error page (its defaults refused
# a 4 KiB request line and 101 headers, which nginx had passed).
limit_request_line = 8190
limit_request_field_size = 8192  # a header line with its CRLF, as nginx counts it
limit_request_fields = 12288  # above 34 KiB of 3-byte lines ("a:" and LF), nginx added ones too
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# The control socket's default path is per user, so several instances on one host would take
# each other's; opt in with a path of this instance's own.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or "gunicorn.ctl"
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")


def on_starting(server) -> None:
    """Behind the front, a main-pool worker takes a connection only when a thread is free for it.

    deploy/front.py sets GUNICORN_ACCEPT_WHEN_FREE for the main pool. gunicorn's gthread worker
    otherwise accepts up to `worker_connections` (1,000) while its threads are busy and queues
    them behind its own requests, while another worker may sit idle: the CPU was 8-11% idle
    under load (docs/performance.md). So the next request waits in the listening socket's queue
    for whichever worker frees first. Set here, from the threads gunicorn finally runs with
    (GUNICORN_CMD_ARGS included, as `make bench` passes a configuration to measure). No
    connection is kept alive: nginx opens one a request (HTTP/1.0 to the pool), and a kept one
    would hold the place of a request.
    """
    if os.environ.get("GUNICORN_ACCEPT_WHEN_FREE"):
        server.cfg.set("worker_connections", server.cfg.threads)
        server.cfg.set("keepalive", 0)


on_reload = on_starting  # a reload (SIGHUP) reads the settings again, then starts new workers


def post_worker_init(worker) -> None:
    """Keep the loaded app out of the garbage collector's full passes (gc.freeze).

    A worker holds about 120,000 objects once the app is loaded (modules, the app, SQLAlchemy's
    metadata, the catalogs), which live as long as the worker. A full collection walked them all
    with the GIL held, every request of the worker waiting: measured in the front's workers under
    `bench/read_cost.py front`, 73-213 ms each, one or two a worker in a run of a few seconds;
    frozen, 0.1-0.6 ms. What requests allocate is collected as before.
    """
    gc.collect()
    gc.freeze()


# Atoms that hold credentials or the raw URI (query included): never logged, whatever the format asks.
_BLANKED = {
    "{authorization}i",
    "{cookie}i",
    "{set-cookie}o",
    "{location}o",
    "{http_authorization}e",
    "{http_cookie}e",
    "{query_string}e",
    "{raw_uri}e",
}


class SecretMaskingLogger(Logger):
    """gunicorn's logger with the request path masked, no query string, no credentials."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        install(self.error_log, self.access_log)

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        # PATH_INFO is decoded once by gunicorn (a %20 or %0A in it is a space or a line break):
        # encoded again it is one word, which mask() decodes and searches in any spelling.
        path = mask(quote_path(environ.get("PATH_INFO") or ""))
        atoms.update(
            {
                "U": path,
                "q": "-",
                "r": f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}",
                "f": mask(environ.get("HTTP_REFERER") or "-"),
            }
        )
        for key, value in list(atoms.items()):
            if key in _BLANKED:
                atoms[key] = "-"
            elif key.startswith("{") and isinstance(value, str):
                atoms[key] = mask(value)
        return atoms


logger_class = SecretMaskingLogger
