"""gunicorn settings for the passcode pool: the routes that run Argon2, apart from the readers.

`deploy/front.py` (`make serve`) starts this pool beside the main one (gunicorn.conf.py) and
nginx sends it only `POST /s/<token>`, `POST /api/v1/shared/<token>` and `POST /api/v1/shares`.
Everything else of gunicorn.conf.py holds here too (gthread workers, the access log with share
tokens masked); what differs:

    PASSCODE_BIND     address to listen on (default 127.0.0.1:8011); only nginx should reach it
    PASSCODE_WORKERS  worker processes (default 1)
    PASSCODE_THREADS  threads per worker (default 2): requests handled at once; nginx admits no
                      more than the pool can take (deploy/front.py sizes its limits from these)
    PASSCODE_NICE     niceness added to the workers (default 10): readers get the CPU first
    PASSCODE_CPUS     CPUs the workers may run on, e.g. "1" or "2,3" (default: the last CPU this
                      process may use, when it may use two or more; "all" for no pinning), so
                      that Argon2 (p=4, four threads per check) cannot take every core
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

# gunicorn.conf.py is not an importable module name ("gunicorn" is the server's own package).
_base = runpy.run_path(str(Path(__file__).with_name("gunicorn.conf.py")))
globals().update({name: value for name, value in _base.items() if not name.startswith("_")})

bind = os.environ.get("PASSCODE_BIND") or "127.0.0.1:8011"
workers = int(os.environ.get("PASSCODE_WORKERS") or 1)
threads = int(os.environ.get("PASSCODE_THREADS") or 2)
# nginx keeps at most workers * threads requests in flight here; the backlog only absorbs a
# restart. A full backlog makes nginx answer 503 with Retry-After, not queue.
backlog = 16
proc_name = "trial-notes-passcodes"
nice_increment = int(os.environ.get("PASSCODE_NICE") or 10)


def passcode_cpus(spec: str | None, available: set[int]) -> set[int] | None:
    """The CPUs the pool is pinned to, or None for no pinning (one CPU, or "all")."""
    if spec and spec.strip().lower() == "all":
        return None
    if spec and spec.strip():
        chosen = {int(part) for part in spec.split(",") if part.strip()}
        return chosen & available or None
    return {max(available)} if len(available) >= 2 else None


def post_fork(server, worker) -> None:
    """Lower the worker's priority and pin it, before its threads (and Argon2's) are started."""
    # Linux applies both to the calling thread; every thread started afterwards inherits them.
    os.nice(nice_increment)
    cpus = passcode_cpus(os.environ.get("PASSCODE_CPUS"), os.sched_getaffinity(0))
    if cpus:
        os.sched_setaffinity(0, cpus)
