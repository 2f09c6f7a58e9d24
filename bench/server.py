"""The service under test: the front `make serve` starts (nginx and both gunicorn pools), its databases, its memory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    """Whether something listens on the PostgreSQL port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _pg_admin(statement: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def create_pg_database() -> tuple[str, str]:
    """A fresh PostgreSQL database for one run: (name, URL)."""
    name = f"tn_bench_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(name: str) -> None:
    """Drop a database made by create_pg_database."""
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_vacuum_analyze(url: str, tables: str = "notes, notebooks") -> None:
    """What autovacuum does after a bulk load (statistics, visibility map, hint bits), done now
    so that it does not run in the middle of a measurement and the table is in its steady state."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f"VACUUM (ANALYZE) {tables}"))
    finally:
        engine.dispose()


NOTES_QUERY = "SELECT * FROM notes WHERE notebook_id = :nb AND trial_id = :trial ORDER BY created_at, id"


def query_plan(url: str, notebook_id: str, trial_id: str) -> list[str]:
    """The database's plan for "my notes on this trial" (the read the benchmark drives)."""
    engine = create_engine(url)
    explain = "EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN "
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(explain + NOTES_QUERY), {"nb": notebook_id, "trial": trial_id})
            return [str(row[-1]) for row in rows]
    finally:
        engine.dispose()


def pg_version() -> str:
    """The server's version string."""
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def flask_cli(env: Mapping[str, str], *args: str) -> None:
    """Run one `flask` command of the service; raise with its output if it fails."""
    result = subprocess.run(
        [str(BIN / "flask"), *args],
        cwd=REPO,
        env={**env, "FLASK_APP": "notes_service"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


class Gunicorn:
    """`gunicorn -w 2 -b 127.0.0.1:PORT wsgi:app`, started and stopped by us."""

    def __init__(
        self, env: Mapping[str, str], log_path: Path, workers: int = 2, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.env = dict(env)
        self.port = free_port()
        self.log_path = log_path
        self.workers = workers
        self.command = [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            *extra_args,
            "wsgi:app",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    label = "gunicorn"  # what start()'s errors call it
    start_timeout = 60.0  # seconds start() waits for ready() by default

    def start(self, timeout: float | None = None) -> None:
        """Start in a process group of its own and wait until ready(); raise if it exits or times out."""
        timeout = self.start_timeout if timeout is None else timeout
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.process.returncode}; see {self.log_path}")
            if self.ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.label} did not become ready in {timeout:.0f} s; see {self.log_path}")

    def ready(self) -> bool:
        """Whether /healthz answers and every worker is up (the master and `workers` children)."""
        return self.healthy() and len(self.pids()) >= self.workers + 1

    def healthy(self, timeout: float = 1.0) -> bool:
        """Whether /healthz answers 200 within `timeout`."""
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=timeout) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def settle(self, timeout: float = 120.0) -> float:
        """Wait until /healthz answers quickly again (queued work drained); seconds waited."""
        started = time.monotonic()
        quick = 0
        while time.monotonic() - started < timeout and quick < 3:
            begin = time.monotonic()
            quick = quick + 1 if self.healthy(timeout=5) and time.monotonic() - begin < 0.05 else 0
            time.sleep(0.1)
        return time.monotonic() - started

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.process is None:
            return []
        master = self.process.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            return [master]
        return [master, *(int(pid) for pid in children)]

    def measured_pids(self) -> list[int]:
        """The processes whose memory `rss_mib` sums: the master and its workers."""
        return self.pids()

    def rss_mib(self) -> float:
        """Resident memory of `measured_pids` together, MiB."""
        total_kib = 0
        for pid in self.measured_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total_kib += int(line.split()[1])
                        break
            except OSError:
                continue  # a worker that just exited
        return total_kib / 1024

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the master), then SIGKILL to the group if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class Front(Gunicorn):
    """`deploy/front.py`, as `make serve` runs it: nginx on `port`, the main pool and the passcode pool
    behind it, each on a free port; every figure measured through it goes through nginx."""

    def __init__(
        self, env: Mapping[str, str], log_path: Path, workers: int = 2, extra_args: tuple[str, ...] = ()
    ) -> None:
        super().__init__(env, log_path, workers, extra_args)
        self.run_dir = log_path.with_suffix(".run")
        self.env.update(
            {
                "BIND": f"127.0.0.1:{self.port}",
                "FRONT_APP_BIND": f"127.0.0.1:{free_port()}",
                "PASSCODE_BIND": f"127.0.0.1:{free_port()}",
                "FRONT_RUN_DIR": str(self.run_dir),
                # Access logs to files, as a deployment keeps them, not to the bench's terminal.
                "FRONT_LOG_DIR": str(log_path.with_suffix(".logs")),
                "WEB_CONCURRENCY": str(workers),
            }
        )
        if extra_args:
            self.env["GUNICORN_CMD_ARGS"] = " ".join(extra_args)  # both pools read it
        self.command = [sys.executable, str(REPO / "deploy" / "front.py")]

    label = "the front"
    start_timeout = 90.0  # nginx and two pools

    def ready(self) -> bool:
        """Whether the front has written pids.json (nginx and both pools answer) and /healthz answers."""
        return (self.run_dir / "pids.json").exists() and self.healthy()

    def pool_pids(self) -> dict[str, int]:
        """nginx's, the main pool's and the passcode pool's master."""
        return json.loads((self.run_dir / "pids.json").read_text())

    def pids(self) -> list[int]:
        """The launcher, then every process under it (nginx, both gunicorn masters and their workers)."""
        if self.process is None:
            return []
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop(0)
            found.append(pid)
            try:
                queue += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except OSError:
                continue
        return found

    def measured_pids(self) -> list[int]:
        """nginx and both pools with their workers (not the launcher)."""
        return self.pids()[1:]

    def stop(self) -> None:
        """SIGTERM to the launcher (it stops nginx, then the pools), then SIGKILL what lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            for pid in self.pool_pids().values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class RssSampler:
    """Peak of Gunicorn.rss_mib(), read from /proc every `interval` seconds in a thread."""

    def __init__(self, server: Gunicorn, interval: float = 0.05) -> None:
        self.server = server
        self.interval = interval
        self.peak = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_mib())
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
