"""`make serve`: nginx in front of the two gunicorn pools, started and stopped as one.

    .venv/bin/python deploy/front.py          # what `make serve` runs after migrating

It renders deploy/nginx.conf.template into a run directory, starts the main pool
(gunicorn.conf.py: readers, writers, the share page), the passcode pool
(gunicorn_unlock.conf.py: the routes that run Argon2) and nginx in the foreground, waits
until all three answer, and stops all three on Ctrl-C or SIGTERM; if one of them dies, the
others are stopped too and the exit status is 1. Nothing needs root: every path nginx
writes is in the run directory. Settings (docs/deploy.md lists them all):

    BIND / PORT              where nginx listens (default 127.0.0.1:$PORT, PORT default 8000)
    FRONT_APP_BIND           the main pool (default 127.0.0.1:8010)
    PASSCODE_BIND            the passcode pool (default 127.0.0.1:8011)
    FRONT_RUN_DIR            nginx's config and temporary paths, pids.json (each child's pid)
                             (default: a fresh temporary directory, removed on exit)
    FRONT_LOG_DIR            when set, the access logs go to files there (nginx-access.log,
                             app-access.log, passcodes-access.log); otherwise to standard output
    FRONT_TRUSTED_PROXIES    comma-separated addresses/CIDRs of a load balancer in front: its
                             X-Forwarded-For then names the client (nginx's realip module)
    FRONT_FORWARDED_PROTO    X-Forwarded-Proto sent to the app (default: nginx's $scheme;
                             "https" behind a balancer that terminates TLS)
    FRONT_UNLOCK_RATE, FRONT_UNLOCK_BURST   passcode attempts per client address in nginx
                             (default 30r/m, burst 10); the app's NOTES_SHARE_RATE_LIMIT also holds
    FRONT_NGINX              the nginx binary (default: nginx on PATH, then /usr/sbin/nginx)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
BIN = Path(sys.executable).parent
PLACEHOLDER = re.compile(r"\{\{ (\w+) \}\}")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 25.0  # the pools' graceful stop (gunicorn's graceful_timeout is 20 s), after nginx's
NGINX_STOP_TIMEOUT = 10.0  # nginx's graceful stop; a launcher's caller waits 40 s in all (bench, tests)
MAX_BODY = "64k"  # notes_service.MAX_REQUEST_BYTES: nginx refuses larger bodies before the app


class FrontError(RuntimeError):
    """The front could not be configured or started; the message says what to fix."""


@dataclass(frozen=True)
class FrontSettings:
    """Where each piece listens and how much the passcode routes admit."""

    listen: str
    app_address: str
    passcode_address: str
    app_workers: int
    app_threads: int
    passcode_workers: int
    passcode_threads: int
    unlock_rate: str
    unlock_burst: int
    trusted_proxies: tuple[str, ...]
    forwarded_proto: str
    log_dir: Path | None

    @property
    def passcode_capacity(self) -> int:
        """Requests the passcode pool handles at once: what nginx lets through."""
        return self.passcode_workers * self.passcode_threads

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FrontSettings:
        """Read the settings; a bad value raises FrontError naming the variable."""

        def number(name: str, default: int, low: int = 1, high: int = 256) -> int:
            raw = (env.get(name) or "").strip() or str(default)
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise FrontError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
            return int(raw)

        rate = (env.get("FRONT_UNLOCK_RATE") or "30r/m").strip()
        if not re.fullmatch(r"\d{1,6}r/[sm]", rate):
            raise FrontError(f"FRONT_UNLOCK_RATE must look like 30r/m or 2r/s, not {rate!r}")
        proxies = tuple(p.strip() for p in (env.get("FRONT_TRUSTED_PROXIES") or "").split(",") if p.strip())
        for proxy in proxies:
            if not re.fullmatch(r"[0-9A-Fa-f:.]+(/\d{1,3})?", proxy):
                raise FrontError(f"FRONT_TRUSTED_PROXIES: {proxy!r} is not an address or CIDR")
        proto = (env.get("FRONT_FORWARDED_PROTO") or "$scheme").strip()
        if proto not in {"$scheme", "http", "https"}:
            raise FrontError(f"FRONT_FORWARDED_PROTO must be http or https, not {proto!r}")
        log_dir = (env.get("FRONT_LOG_DIR") or "").strip()
        return cls(
            listen=_address(env.get("BIND") or f"127.0.0.1:{env.get('PORT') or '8000'}", "BIND"),
            app_address=_address(env.get("FRONT_APP_BIND") or "127.0.0.1:8010", "FRONT_APP_BIND"),
            passcode_address=_address(env.get("PASSCODE_BIND") or "127.0.0.1:8011", "PASSCODE_BIND"),
            # Read by gunicorn.conf.py in the main pool: checked here, since a bad one was a traceback
            # there ("two") or a pool that never answered, reported 60 s later without its name (0).
            app_workers=number("WEB_CONCURRENCY", 2, high=256),
            # One thread a worker behind nginx (gunicorn.conf.py's own default, 4, is for gunicorn
            # alone): nginx holds slow clients and the passcode routes, the only long requests, have
            # their pool, so the main pool's requests are short and CPU-bound, and more threads only
            # took turns at the GIL. Measured through the front on PostgreSQL, three alternating
            # rounds: read_ratio 0.515 with 1 thread, 0.480 with 2, 0.478 with 4 (docs/performance.md).
            app_threads=number("GUNICORN_THREADS", 1, high=256),
            passcode_workers=number("PASSCODE_WORKERS", 1, high=16),
            passcode_threads=number("PASSCODE_THREADS", 2, high=64),
            unlock_rate=rate,
            unlock_burst=number("FRONT_UNLOCK_BURST", 10, low=0, high=1000),
            trusted_proxies=proxies,
            forwarded_proto=proto,
            log_dir=Path(log_dir).resolve() if log_dir else None,
        )


def _address(value: str, name: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"(\[[0-9A-Fa-f:]+\]|[\w.-]+):\d{1,5}", value):
        raise FrontError(f"{name} must be host:port, not {value!r}")
    return value


def render(settings: FrontSettings, run_dir: Path) -> str:
    """The nginx configuration for these settings, with every path inside `run_dir`."""
    capacity = settings.passcode_capacity
    real_ip = "".join(f"    set_real_ip_from {p};\n" for p in settings.trusted_proxies)
    if real_ip:
        real_ip += "    real_ip_header X-Forwarded-For;\n    real_ip_recursive on;"
    values = {
        "run_dir": str(run_dir),
        "nginx_workers": "1",
        # When nginx starts as root its workers drop to an unprivileged user; they only ever use
        # memory buffers and the inherited log descriptors, so no path needs to be theirs.
        "user_directive": "user nobody nogroup;" if os.geteuid() == 0 else "",
        "worker_connections": "4096",
        "max_body": MAX_BODY,
        "real_ip": real_ip or "    # (none: FRONT_TRUSTED_PROXIES is unset; nginx is the first hop)",
        "forwarded_proto": settings.forwarded_proto,
        "unlock_rate": settings.unlock_rate,
        "unlock_burst": str(settings.unlock_burst),
        "retry_after_429": "60" if settings.unlock_rate.endswith("/m") else "2",
        # Guesses and share creations each get part of the pool: a flood of guesses leaves room
        # for an owner's share, and the two together never exceed what the pool can hold at once
        # by more than one request per thread (that one waits, it is not dropped).
        "unlock_total": str(capacity),
        "create_total": str(capacity),
        "passcodes_per_address": "2",
        "connections_per_address": "256",
        "app_address": settings.app_address,
        "passcode_address": settings.passcode_address,
        "listen": settings.listen,
        "access_log": str(settings.log_dir / "nginx-access.log") if settings.log_dir else "/dev/stdout",
        "access_log_buffer": " buffer=64k flush=1s" if settings.log_dir else "",
    }
    template = TEMPLATE.read_text(encoding="utf-8")
    missing = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise FrontError(f"nginx.conf.template uses unknown placeholders: {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


# Fields of an nginx error line that repeat the request (and so may carry a share token). nginx
# cuts an error line at 2048 bytes, so a long request's field may end the line without its quote.
_REQUEST_FIELDS = re.compile(r'\b(request|upstream|referrer): "[^"\n]*(?:"|$)')
# Any run of slashes between the parts, as the router takes them (logmask.py does the same).
_TOKEN_IN_TEXT = re.compile(r"(/+s/+|/+api/+v1/+shared/+)[^/?#\s\"']+", re.IGNORECASE)


def scrub_error_line(line: str) -> str:
    """An nginx error line with its request fields withheld and any share token masked."""
    line = _REQUEST_FIELDS.sub(lambda m: f'{m.group(1)}: "(withheld)"', line)
    return _TOKEN_IN_TEXT.sub(r"\1****", unquote(line))


def nginx_binary(env: Mapping[str, str]) -> str:
    """The nginx to run: FRONT_NGINX, nginx on PATH, or Debian's /usr/sbin/nginx."""
    found = env.get("FRONT_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise FrontError(
            "nginx is not installed: `make serve` installs Debian's package "
            "(apt-get install nginx-light), or set FRONT_NGINX"
        )
    return found


class Front:
    """nginx and the two pools as child processes, each in its own process group."""

    def __init__(self, env: Mapping[str, str], run_dir: Path) -> None:
        self.env = dict(env)
        self.settings = FrontSettings.from_env(env)
        self.run_dir = run_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self._stopping = threading.Event()

    def start(self) -> None:
        """Render the config, start the pools, then nginx; return once all three answer."""
        (self.run_dir / "tmp").mkdir(parents=True, exist_ok=True)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(render(self.settings, self.run_dir), encoding="utf-8")
        if self.settings.log_dir:
            self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        nginx = nginx_binary(self.env)
        test = [nginx, "-t", "-q", "-p", str(self.run_dir), "-e", "stderr", "-c", str(conf)]
        checked = subprocess.run(test, capture_output=True, text=True, check=False)  # noqa: S603 - our own command
        if checked.returncode != 0:
            raise FrontError("nginx refused its configuration:\n" + scrub_error_line(checked.stderr))
        app_env = {**self.env, "NOTES_TRUST_PROXY": "true"}  # nginx is the one proxy the pools trust
        # The main pool's threads (gunicorn_unlock.conf.py sets the passcode pool's from PASSCODE_THREADS).
        app_env["GUNICORN_THREADS"] = str(self.settings.app_threads)
        # The main pool's workers accept a connection only when a thread is free for it
        # (gunicorn.conf.py's on_starting); the passcode pool keeps gunicorn's queue per worker.
        main_env = {**app_env, "GUNICORN_ACCEPT_WHEN_FREE": "1"}
        self._spawn(
            "app",
            [
                str(BIN / "gunicorn"),
                "-c",
                str(REPO / "gunicorn.conf.py"),
                "--bind",
                self.settings.app_address,
                *self._access_log("app"),
                "wsgi:app",
            ],
            main_env,
        )
        self._spawn(
            "passcodes",
            [
                str(BIN / "gunicorn"),
                "-c",
                str(REPO / "gunicorn_unlock.conf.py"),
                "--bind",
                self.settings.passcode_address,
                *self._access_log("passcodes"),
                "wsgi:app",
            ],
            app_env,
        )
        self._wait_healthy(self.settings.app_address, "app")
        self._wait_healthy(self.settings.passcode_address, "passcodes")
        process = self._spawn(
            "nginx", [nginx, "-p", str(self.run_dir), "-e", "stderr", "-c", str(conf)], self.env, stderr=subprocess.PIPE
        )
        threading.Thread(target=self._relay_errors, args=(process,), daemon=True).start()
        self._wait_healthy(self.settings.listen, "nginx")
        # For operators and tests: which process is which (each is its process group's leader).
        pids = {name: process.pid for name, process in self.processes.items()}
        (self.run_dir / "pids.json").write_text(json.dumps(pids), encoding="utf-8")

    def _access_log(self, name: str) -> list[str]:
        if not self.settings.log_dir:
            return []
        return ["--access-logfile", str(self.settings.log_dir / f"{name}-access.log")]

    def _spawn(self, name: str, command: list[str], env: Mapping[str, str], **options) -> subprocess.Popen:
        # The command is built here from our own settings, each checked by FrontSettings.
        process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True, **options)  # noqa: S603
        self.processes[name] = process
        return process

    def _relay_errors(self, process: subprocess.Popen) -> None:
        for raw in process.stderr:
            sys.stderr.write(scrub_error_line(raw.decode("utf-8", "replace")))
            sys.stderr.flush()

    def _wait_healthy(self, address: str, name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        url = f"http://{address.replace('0.0.0.0', '127.0.0.1')}/healthz"  # noqa: S104 - a URL, not a bind
        while time.monotonic() < deadline:
            dead = self.exited()
            if dead:
                raise FrontError(f"{dead} exited with status {self.processes[dead].returncode} while starting")
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
            time.sleep(0.1)
        raise FrontError(f"{name} did not answer {url} within {START_TIMEOUT:.0f} s")

    def exited(self) -> str | None:
        """The name of a child that is no longer running, if any."""
        return next((name for name, p in self.processes.items() if p.poll() is not None), None)

    def wait(self) -> int:
        """Run until stop() is called (0) or a child dies (1)."""
        while not self._stopping.wait(0.5):
            dead = self.exited()
            if dead:
                sys.stderr.write(
                    f"front: {dead} exited with status {self.processes[dead].returncode}; stopping the rest\n"
                )
                return 1
        return 0

    def stop(self) -> None:
        """nginx first, until it has answered what it took in (NGINX_STOP_TIMEOUT at most), then the pools.

        The pools serve until nginx is gone: a request nginx passed on may still wait in a
        pool's listening socket for a free worker (the main pool's workers accept only when
        free), and a pool stopped with it there would close that socket and reset it (nginx's
        503). Stopped after nginx, a pool has nothing left to take.
        """
        self._stopping.set()
        nginx = self.processes.get("nginx")
        if nginx is not None:
            self._signal(nginx, signal.SIGQUIT)  # graceful: no new connections, those in flight answered
            with contextlib.suppress(subprocess.TimeoutExpired):
                nginx.wait(timeout=NGINX_STOP_TIMEOUT)
        for name in ("app", "passcodes"):
            if name in self.processes:
                self._signal(self.processes[name], signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            self._signal(process, signal.SIGKILL)  # whatever of its group is left
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    @staticmethod
    def _signal(process: subprocess.Popen, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)


def main(argv: list[str] | None = None) -> int:
    """Start the front, print where it listens, run until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="nginx and the two gunicorn pools of Trial Notes")
    parser.add_argument("--print-config", action="store_true", help="print the rendered nginx.conf and exit")
    args = parser.parse_args(argv)
    configured = os.environ.get("FRONT_RUN_DIR", "").strip()
    run_dir = Path(configured).resolve() if configured else Path(tempfile.mkdtemp(prefix="trial-notes-front-"))
    try:
        if args.print_config:
            sys.stdout.write(render(FrontSettings.from_env(os.environ), run_dir))
            return 0
        front = Front(os.environ, run_dir)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: front._stopping.set())
        try:
            front.start()
            s = front.settings
            sys.stderr.write(
                f"front: Trial Notes on http://{s.listen} (nginx; app pool {s.app_address}, "
                f"passcode pool {s.passcode_address})\n"
            )
            sys.stderr.flush()
            return front.wait()
        finally:
            front.stop()
    except FrontError as error:
        sys.stderr.write(f"front: {error}\n")
        return 2
    finally:
        if not configured:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
