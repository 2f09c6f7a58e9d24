"""Real server processes for tests: gunicorn on a free port, bounded waits, clean stops; test databases.

Every wait has a timeout, and every process is started in its own process group so that
stopping it (or SIGKILL-ing it mid-load) takes the master and all its workers at once.
Use `ServerPool` as a context manager, or from a fixture, so processes die even when a
test fails:

    with ServerPool(tmp_path / "servers") as pool:
        server = pool.start(env, workers=4)
        status, body = request_json("GET", server.url + "/healthz")   # from support

Requests to a server, and notebooks driven over HTTP (`http_owner`), are in tests/support.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support import request_json

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN_CONF = REPO / "gunicorn.conf.py"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One gunicorn master (and its workers) in its own process group."""

    process: subprocess.Popen
    port: int
    log_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.log_dir / "access.log"

    @property
    def error_log(self) -> Path:
        return self.log_dir / "error.log"

    def error_text(self) -> str:
        """The error log (and captured output) so far, for assertions and failure messages."""
        texts = []
        for path in (self.error_log, self.log_dir / "output.log"):
            if path.exists():
                texts.append(path.read_text(errors="replace"))
        return "\n".join(texts)

    def running(self) -> bool:
        return self.process.poll() is None

    def request_stop(self) -> None:
        """Ask for gunicorn's quick shutdown (SIGQUIT: workers exit at once) without waiting."""
        self._signal_group(signal.SIGQUIT)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Quick shutdown, then SIGKILL whatever is left of the group after `timeout` seconds."""
        self.request_stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (a crash, as far as they can tell)."""
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


@dataclass
class ServerPool:
    """Starts servers and stops every one of them on exit, whatever happened."""

    log_root: Path
    servers: list[Server] = field(default_factory=list)

    def __enter__(self) -> ServerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        for server in self.servers:
            server.request_stop()  # all shut down side by side, then each is waited for
        while self.servers:
            self.servers.pop().stop()

    def start(
        self,
        env: Mapping[str, str],
        *,
        workers: int = 2,
        timeout: float = START_TIMEOUT,
        extra_args: Sequence[str] = (),
    ) -> Server:
        """Start `gunicorn -c gunicorn.conf.py wsgi:app` with `env` and wait until /healthz answers."""
        return self.start_many([env], workers=workers, timeout=timeout, extra_args=extra_args)[0]

    def start_many(
        self,
        envs: Sequence[Mapping[str, str]],
        *,
        workers: int = 2,
        timeout: float = START_TIMEOUT,
        extra_args: Sequence[str] = (),
    ) -> list[Server]:
        """Start one server per env, booting side by side; return them once every one is healthy."""
        spawned = [self._spawn(env, workers, extra_args) for env in envs]
        self.servers.extend(spawned)
        started = []
        for env, server in zip(envs, spawned, strict=True):
            try:
                wait_healthy(server, timeout)
                started.append(server)
            except RuntimeError as error:
                server.stop()
                self.servers.remove(server)
                if "Address already in use" not in str(error):
                    raise
                started.append(self._start_retrying(env, workers, timeout, extra_args))
        return started

    def _start_retrying(
        self, env: Mapping[str, str], workers: int, timeout: float, extra_args: Sequence[str]
    ) -> Server:
        last_error = ""
        for _ in range(3):  # a free port can be taken between choosing and binding it
            server = self._spawn(env, workers, extra_args)
            self.servers.append(server)
            try:
                wait_healthy(server, timeout)
                return server
            except RuntimeError as error:
                last_error = str(error)
                server.stop()
                self.servers.remove(server)
                if "Address already in use" not in last_error:
                    break
        raise RuntimeError(last_error)

    def _spawn(self, env: Mapping[str, str], workers: int, extra_args: Sequence[str]) -> Server:
        port = free_port()
        log_dir = self.log_root / f"gunicorn-{port}-{uuid.uuid4().hex[:6]}"
        log_dir.mkdir(parents=True)
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            **env,
            "WEB_CONCURRENCY": str(workers),
            "BIND": f"127.0.0.1:{port}",
        }
        command = [
            str(BIN / "gunicorn"),
            "-c",
            str(GUNICORN_CONF),
            "--access-logfile",
            str(log_dir / "access.log"),
            "--error-logfile",
            str(log_dir / "error.log"),
            *extra_args,
            "wsgi:app",
        ]
        with open(log_dir / "output.log", "wb") as output:
            process = subprocess.Popen(
                command, cwd=REPO, env=full_env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        return Server(process, port, log_dir)


def wait_healthy(server: Server, timeout: float = START_TIMEOUT) -> None:
    """Poll /healthz until it answers 200; raise with the server's log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.running():
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.error_text()[-4000:]}")
        try:
            status, _ = request_json("GET", server.url + "/healthz", timeout=2)
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout}s:\n{server.error_text()[-4000:]}")


def run_flask(env: Mapping[str, str], *args: str, timeout: float = 120.0) -> str:
    """Run `flask --app notes_service ARGS` in a subprocess with `env`; return its output or raise."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "notes_service", *args],
        cwd=REPO,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def redis_namespace(redis_url: str, label: str) -> Iterator[str]:
    """A key prefix of our own on the test Redis; every key under it is deleted afterwards."""
    import redis

    prefix = f"tn-{label}-{uuid.uuid4().hex[:12]}"
    yield prefix
    connection = redis.Redis.from_url(redis_url)
    try:
        keys = list(connection.scan_iter(match=f"*{prefix}*"))
        if keys:
            connection.delete(*keys)
    finally:
        connection.close()


def pg_admin(admin_url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) on the admin database."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@contextlib.contextmanager
def pg_database(admin_url: str, prefix: str = "tn_srv") -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the server `admin_url` names; dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
