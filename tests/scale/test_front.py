"""The production front (`make serve`): nginx before the main pool and the passcode pool, for real.

deploy/front.py is started as `make serve` starts it (nginx in the foreground with every path in
a temporary run directory, both gunicorn pools) on free ports. Nothing here measures speed:
each test proves who answers, or that an answer comes at all while the thing that used to
block it is held on purpose (slow clients kept open, the passcode pool frozen with SIGSTOP).
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from path_variants import share_path_variants
from servers import REPO, free_port, run_flask
from support import SEED, Owner, http_owner, request, request_json

from notes_service.crypto import Keyring

pytestmark = [
    pytest.mark.skipif(
        not (Path("/usr/sbin/nginx").exists() or os.environ.get("FRONT_NGINX")),
        reason="nginx is missing: `make test` installs it",
    ),
    # The front is the same whatever the database; the PostgreSQL pass would only repeat it.
    pytest.mark.skipif(os.environ.get("NOTES_TEST_BACKEND") == "postgresql", reason="runs once, in the SQLite pass"),
]

LAUNCHER = REPO / "deploy" / "front.py"
APP_RATE_LIMIT = 3  # passcode attempts per client a minute, counted by the app behind nginx
NGINX_BURST = 5  # attempts per client nginx lets through at once before its own 429
WRONG = {"passcode": "not-the-passcode"}


@dataclass
class Front:
    """A running deploy/front.py: its process, ports, logs and children."""

    process: subprocess.Popen
    port: int
    app_port: int
    passcode_port: int
    run_dir: Path
    log_dir: Path
    output: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> dict[str, int]:
        return json.loads((self.run_dir / "pids.json").read_text())

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}-access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, name: str, needle: str, count: int = 1, timeout: float = 10.0) -> str:
        """The access log once it holds `needle` `count` times (nginx flushes its buffer every second)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log(name)
            if text.count(needle) >= count:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} never reached the {name} access log:\n{self.log(name)[-2000:]}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        return self.process.returncode


def start_front(root: Path, data_env: dict[str, str], timeout: float = 90.0) -> Front:
    """deploy/front.py on free ports; returns once it says it serves (or raises with its output)."""
    ports = [free_port() for _ in range(3)]
    run_dir, log_dir, output = root / "run", root / "logs", root / "front-output.log"
    env = {
        "PATH": os.environ.get("PATH", ""),
        **data_env,
        "BIND": f"127.0.0.1:{ports[0]}",
        "FRONT_APP_BIND": f"127.0.0.1:{ports[1]}",
        "PASSCODE_BIND": f"127.0.0.1:{ports[2]}",
        "FRONT_RUN_DIR": str(run_dir),
        "FRONT_LOG_DIR": str(log_dir),
        "FRONT_UNLOCK_BURST": str(NGINX_BURST),
        "NOTES_SHARE_RATE_LIMIT": f"{APP_RATE_LIMIT} per minute",
        "WEB_CONCURRENCY": "1",  # GUNICORN_THREADS: the front's default, as `make serve` runs
    }
    with open(output, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(LAUNCHER)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    front = Front(process, *ports, run_dir, log_dir, output)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"front exited with {process.returncode}:\n{output.read_text()[-4000:]}")
        if "front: Trial Notes on" in output.read_text(errors="replace"):
            return front
        time.sleep(0.1)
    front.stop()
    raise RuntimeError(f"front did not start within {timeout:.0f} s:\n{output.read_text()[-4000:]}")


def data_env(root: Path) -> dict[str, str]:
    """A migrated SQLite data folder with the trials loaded."""
    env = {
        "NOTES_DATA_DIR": str(root / "data"),
        "NOTES_KEYS": Keyring.generate_spec("front1"),
        "NOTES_SECRET_KEY": "front-secret-" + uuid.uuid4().hex,
    }
    (root / "data").mkdir(parents=True)
    run_flask(env, "db", "upgrade")
    run_flask(env, "trials", "load")
    return env


@pytest.fixture(scope="module")
def front_data(tmp_path_factory) -> dict[str, str]:
    """One migrated data folder for every front of this module (they may run side by side: WAL)."""
    return data_env(tmp_path_factory.mktemp("front-data"))


@pytest.fixture(scope="module")
def front(tmp_path_factory, front_data) -> Iterator[Front]:
    running = start_front(tmp_path_factory.mktemp("front"), front_data)
    try:
        yield running
    finally:
        running.stop()


def make_share(front: Front) -> tuple[Owner, str]:
    """A notebook with one note and a share of it; the share's token."""
    owner = http_owner(front.url)
    status, _ = owner.post_note(body="Does this exclude me?")
    assert status == 201
    status, body = request_json(
        "POST",
        front.url + "/api/v1/shares",
        headers=owner.headers,
        body={"trial_id": SEED, "passcode": "right passcode 1"},
    )
    assert status == 201, body
    return owner, body["url"].rsplit("/s/", 1)[1]


def raw_request(
    port: int,
    method: str,
    target: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    source: str | None = None,
    timeout: float = 15.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request with the target sent exactly as given (no normalisation), from `source`."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None
    )
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {"Connection": "close", **(headers or {})}.items():
            connection.putheader(name, value)
        if body:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def guess(front: Front, token: str, source: str, timeout: float = 15.0) -> tuple[int, dict[str, str], bytes]:
    return raw_request(
        front.port,
        "POST",
        f"/api/v1/shared/{token}",
        body=json.dumps(WRONG).encode(),
        headers={"Content-Type": "application/json"},
        source=source,
        timeout=timeout,
    )


def accept_queue(port: int) -> int:
    """Connections waiting in the kernel's accept queue of 127.0.0.1:port (rx_queue of the listener)."""
    wanted = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
            return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def connections_to(port: int) -> int:
    """Established connections whose server end is 127.0.0.1:port, accepted or not."""
    wanted = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == wanted and line.split()[3] == "01")  # 01: ESTABLISHED


@contextlib.contextmanager
def frozen(pid: int) -> Iterator[None]:
    """SIGSTOP a process group (a gunicorn master and its workers) for the block, then SIGCONT."""
    os.killpg(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(pid, signal.SIGCONT)


# -- (a) slow clients ------------------------------------------------------------------


class Slowloris:
    """`count` connections that send a request's headers one byte a second and never finish."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: front\r\nX-Slow: ")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(1.0):
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.send(b"a")

    def still_open(self) -> int:
        """How many of the connections the server has not closed."""
        open_count = 0
        for sock in self.sockets:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                open_count += 1
                continue
            with contextlib.suppress(OSError):
                if sock.recv(1, socket.MSG_PEEK):
                    open_count += 1  # answered something, but still connected
        return open_count

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


def test_sixty_slow_clients_do_not_stop_health_checks_or_reads(front):
    owner = http_owner(front.url)
    assert owner.post_note(body="slow clients")[0] == 201
    slow = Slowloris(front.port, 60)
    try:
        # Bare gunicorn (`make serve` before the front) gives each of these a worker thread while it
        # reads the headers, so 60 of them take all 8 threads and these requests are never answered.
        assert request_json("GET", front.url + "/healthz", timeout=10)[0] == 200
        assert [n["body"] for n in owner.notes(SEED)] == ["slow clients"]
        assert request_json("GET", f"{front.url}/api/v1/trials/{SEED}")[0] == 200
        assert slow.still_open() == 60  # they were all still held while the requests above were served
    finally:
        slow.close()


def settled_count(front: Front, name: str, needle: str) -> int:
    """Lines holding `needle` in an access log once the requests already answered are all in it."""
    time.sleep(1.5)  # gunicorn writes a line just after its response; nothing here is timed
    return front.log(name).count(needle)


# -- (b) the passcode pool -----------------------------------------------------------


def test_passcode_requests_wait_in_their_own_pool_while_readers_and_writers_are_served(front):
    owner, token = make_share(front)
    pool = front.pids()["passcodes"]
    # Other tests share this front: count this test's lines from here on.
    guesses_before = settled_count(front, "passcodes", '"POST /api/v1/shared/****')
    forms_before = front.log("passcodes").count('"POST /s/****')
    with ThreadPoolExecutor(max_workers=2) as executor, frozen(pool):
        # Two guesses from two addresses fill what nginx lets through to the pool (its 2 threads)
        # and wait there: the pool is stopped, so they are in its accept queue.
        held = [executor.submit(guess, front, token, f"127.0.3.{i}", 30) for i in (1, 2)]
        deadline = time.monotonic() + 10
        while accept_queue(front.passcode_port) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert accept_queue(front.passcode_port) == 2
        # A third is refused by nginx at once, with no Python and no database involved: the pool is stopped.
        status, headers, body = guess(front, token, "127.0.3.3")
        assert (status, headers.get("retry-after"), headers["content-type"]) == (503, "1", "application/problem+json")
        assert json.loads(body)["title"] == "Service busy"
        # Meanwhile the main pool serves readers, writers and the share page (its GET) as usual.
        assert [n["body"] for n in owner.notes(SEED)] == ["Does this exclude me?"]
        assert owner.post_note(body="written while guesses wait")[0] == 201
        page_status, _, page = request("GET", f"{front.url}/s/{token}")
        assert page_status == 200 and b'name="passcode"' in page
        assert all(not future.done() for future in held)
    answers = sorted(future.result()[0] for future in held)
    assert answers == [401, 401]  # once the pool runs again, the held guesses are checked for real
    # The form's route and a percent-encoded spelling of it go to the passcode pool as well.
    form = raw_request(
        front.port,
        "POST",
        f"/s/{token}",
        body=b"passcode=wrong-again",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        source="127.0.3.4",
    )
    encoded = raw_request(
        front.port,
        "POST",
        f"/%73/{token}",
        body=b"passcode=wrong-again",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        source="127.0.3.5",
    )
    assert (form[0], encoded[0]) == (401, 401)

    passcodes = front.wait_for_log("passcodes", '"POST /s/****', count=forms_before + 2)
    app = front.wait_for_log("app", "GET /s/****")
    assert passcodes.count('"POST /api/v1/shared/****') - guesses_before == 2
    assert '"POST /api/v1/shares ' in passcodes  # creating a share hashes a passcode: that pool too
    assert "POST /api/v1/shared" not in app and "POST /s/" not in app and "POST /api/v1/shares " not in app
    assert f"GET /api/v1/trials/{SEED}/notes" in app and f"POST /api/v1/trials/{SEED}/notes" in app


def test_the_passcode_pool_runs_at_a_lower_priority_than_the_readers(front):
    pids = front.pids()

    def workers(master: int) -> list[int]:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]

    def niceness(pid: int) -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])

    passcode_workers, app_workers = workers(pids["passcodes"]), workers(pids["app"])
    assert passcode_workers and app_workers
    assert {niceness(p) - niceness(pids["app"]) for p in passcode_workers} == {10}
    assert {niceness(p) - niceness(pids["app"]) for p in app_workers} == {0}
    if len(os.sched_getaffinity(0)) >= 2:  # a core the passcode pool cannot take
        assert all(len(os.sched_getaffinity(p)) == 1 for p in passcode_workers)
        assert all(os.sched_getaffinity(p) == os.sched_getaffinity(0) for p in app_workers)


def test_the_main_pool_serves_a_request_at_a_time_a_worker(front):
    # Behind nginx one thread a worker (deploy/front.py): more only took turns at the GIL.
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: request_json("GET", front.url + "/healthz")[0], range(32)))
    assert answers == [200] * 32
    (worker,) = [
        int(p) for p in Path(f"/proc/{front.pids()['app']}/task/{front.pids()['app']}/children").read_text().split()
    ]
    # gthread's own thread and its pool's: with GUNICORN_THREADS=4, 8 requests at once made 5.
    assert len(os.listdir(f"/proc/{worker}/task")) == 2


def test_only_the_main_pool_accepts_a_connection_a_thread(front):
    # The passcode pool keeps gunicorn's own queue per worker (nginx bounds what it sends there).
    def flag(master: int) -> set[bool]:
        workers = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return {b"GUNICORN_ACCEPT_WHEN_FREE=1" in Path(f"/proc/{w}/environ").read_bytes().split(b"\0") for w in workers}

    pids = front.pids()
    assert (flag(pids["app"]), flag(pids["passcodes"])) == ({True}, {False})


def wait_for_queue(port: int, count: int, failure: str) -> None:
    """Until a connection to 127.0.0.1:port is open and `count` connections wait in its listening queue."""
    deadline = time.monotonic() + 10
    while not (connections_to(port) and accept_queue(port) == count):
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


@contextlib.contextmanager
def a_write_holding_the_main_pool(front: Front, data_dir: str, pool: ThreadPoolExecutor) -> Iterator[Future]:
    """A note's creation through nginx, held in the main pool's one worker by SQLite's write lock
    (taken here, released when the block ends); its future, once the worker has taken it."""
    owner = http_owner(front.url)
    database = sqlite3.connect(Path(data_dir) / "notes.sqlite3", isolation_level=None)
    database.execute("BEGIN IMMEDIATE")
    try:
        write = pool.submit(owner.post_note, body="written after the wait", timeout=30)
        wait_for_queue(front.app_port, 0, "the write never reached the main pool")
        yield write
    finally:
        database.rollback()
        database.close()


def test_a_busy_main_pool_worker_leaves_the_next_connection_to_a_free_one(front, front_data):
    """A worker whose thread is taken accepts nothing more: the next request waits in the
    listening socket's queue, where any worker that frees first takes it, not behind the busy one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        with a_write_holding_the_main_pool(front, front_data["NOTES_DATA_DIR"], pool) as write:
            assert not write.done()
            waiting = socket.create_connection(("127.0.0.1", front.app_port), timeout=30)
            waiting.sendall(b"GET /healthz HTTP/1.0\r\nHost: front\r\n\r\n")
            # With gunicorn's default of 1,000 connections a worker, the busy worker took this one
            # at once and queued it behind the write; here it stays queued for a free worker.
            queued = []
            for _ in range(10):
                queued.append(accept_queue(front.app_port))
                time.sleep(0.05)
            assert queued == [1] * 10
        assert write.result()[0] == 201
    with waiting:
        assert waiting.recv(64).startswith(b"HTTP/1.0 200")


# -- (c) tokens in nginx's log ---------------------------------------------------------


def test_share_tokens_never_reach_nginxs_logs(front):
    token = "TokenSecret" + uuid.uuid4().hex
    targets = [
        f"/s/{token}",
        f"/s/{token}?passcode=1&t={token}",
        f"/%73/{token}",
        f"/%53/{token}",
        f"//s//{token}",
        f"/x/../s/{token}",
        f"/S/{token}",
        f"/s/{token}/extra",
        f"/s/a/s/{token}",
        f"/api/v1/shared/{token}",
        f"/api/v1/%73hared/{token}",
        f"/api%2Fv1%2Fshared%2F{token}",
        f"/API/V1/SHARED/{token}",
        f"/api/v1/shared/{token}#frag",
        f"/s/{token.replace('S', '%53')}",
    ]
    for index, target in enumerate(targets):
        raw_request(
            front.port, "GET", target, headers={"User-Agent": f"agent /s/{token}"}, source=f"127.0.4.{index + 1}"
        )
        raw_request(
            front.port,
            "POST",
            target,
            body=json.dumps(WRONG).encode(),
            headers={"Content-Type": "application/json", "Referer": f"http://x/s/{token}"},
            source=f"127.0.4.{index + 1}",
        )
    # An oversized body makes nginx write an error line with the request line in it.
    raw_request(front.port, "POST", f"/s/{token}", body=b"x" * 70_000, source="127.0.4.100")
    marker = f"/api/v1/trials/{SEED}/marker-{uuid.uuid4().hex}"
    raw_request(front.port, "GET", marker)
    logged = front.wait_for_log("nginx", marker)
    assert logged.count("/s/****") >= 10 and logged.count("/api/v1/shared/****") >= 4
    errors = front.output.read_text(errors="replace")  # nginx's error log, as the launcher relays it
    assert "client intended to send too large body" in errors  # the error line was written, masked
    # gunicorn's own access logs are gunicorn.conf.py's to mask (tests/test_gunicorn_conf.py).
    for text in (logged, errors):
        assert token.lower() not in text.lower()
        assert token[11:] not in text  # not even its random part


def test_every_spelling_the_router_accepts_is_masked_in_all_three_access_logs(front):
    # The table the development server's and gunicorn's own log tests use (tests/path_variants.py),
    # sent through nginx: whichever pool a spelling reaches, no log of the front holds the token.
    token = "TokenSecret" + uuid.uuid4().hex
    variants = share_path_variants(token, authority=f"127.0.0.1:{front.port}")
    for index, variant in enumerate(variants):
        body = json.dumps(WRONG).encode() if variant.method == "POST" else b""
        # One address each: nginx's per-address limit on the passcode routes would otherwise answer.
        raw_request(
            front.port,
            variant.method,
            variant.target,
            body=body,
            headers={"Content-Type": "application/json"} if body else None,
            source=f"127.0.{7 + index // 250}.{index % 250 + 1}",
        )
    marker = f"/api/v1/trials/{SEED}/marker-{uuid.uuid4().hex}"
    raw_request(front.port, "GET", marker)
    logs = {"nginx": front.wait_for_log("nginx", marker)}
    time.sleep(1.5)  # gunicorn writes each line as it answers; the marker above came last
    logs.update(app=front.log("app"), passcodes=front.log("passcodes"))
    assert logs["app"] and logs["passcodes"], "both pools answered some of the spellings"
    for name, text in logs.items():
        for start in range(0, len(token) - 8 + 1, 4):
            assert token[start : start + 8] not in text, f"{name} log holds part of the token"


@pytest.mark.parametrize(
    "path, fields",
    [
        ("/api/v1/shared/{token}/notes", {"cursor": None}),
        ("/api/v1/shared/{token}/notes/{note}/replies", {"body": "hello"}),
        ("/s/{token}/notes/{note}/replies", None),  # the share page's form
    ],
)
def test_an_opened_shares_next_pages_and_replies_are_served_by_the_main_pool(front, path, fields):
    # They carry a signed session, not a passcode: no Argon2, so they must not queue behind
    # guesses, nor count against the address's guesses (the family's replies were refused as
    # passcode attempts, 429, after a few).
    _, token = make_share(front)
    marker = uuid.uuid4().hex
    session = "forged-" + marker
    body, kind = (
        (f"session={session}&body=hello".encode(), "application/x-www-form-urlencoded")
        if fields is None
        else (json.dumps({"session": session, **fields}).encode(), "application/json")
    )
    status, _, _ = raw_request(
        front.port,
        "POST",
        path.format(token=token, note="0" * 32),
        body=body,
        headers={"Content-Type": kind, "User-Agent": marker},
        source="127.0.9.1",
    )
    assert status in (401, 404)  # the app's answer to a forged session (or no such note), from the main pool
    assert marker in front.wait_for_log("app", marker)
    assert marker not in front.log("passcodes")


# -- (d) the client's address ---------------------------------------------------------


def test_the_app_counts_passcode_attempts_by_the_address_nginx_saw(front):
    _, token = make_share(front)
    # One address spends the app's per-client limit; its next attempt is the app's own 429.
    first = [guess(front, token, "127.0.5.1")[0] for _ in range(APP_RATE_LIMIT + 1)]
    assert first == [401] * APP_RATE_LIMIT + [429]
    # Another address is not limited, even when it claims to be the first one: nginx replaces the header.
    status, _, _ = raw_request(
        front.port,
        "POST",
        f"/api/v1/shared/{token}",
        body=json.dumps(WRONG).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": "127.0.5.9"},
        source="127.0.5.2",
    )
    assert status == 401
    # Past nginx's own burst, nginx refuses before the app sees the request.
    before = settled_count(front, "passcodes", '"POST /api/v1/shared/****')
    answers = [guess(front, token, "127.0.5.1") for _ in range(NGINX_BURST + 6)]
    refused = [a for a in answers if a[0] == 429 and b"from this address" in a[2]]
    assert refused and all(a[1].get("retry-after") == "60" for a in refused)
    after = settled_count(front, "passcodes", '"POST /api/v1/shared/****')
    assert after - before == len(answers) - len(refused)


# -- (e) request size ------------------------------------------------------------------


def test_oversized_bodies_are_refused_by_nginx_in_the_callers_format(front):
    owner = http_owner(front.url)
    big = json.dumps({"target": {"selector": []}, "body": "x" * 70_000}).encode()
    status, headers, body = raw_request(
        front.port,
        "POST",
        f"/api/v1/trials/{SEED}/notes",
        body=big,
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert (status, headers["content-type"]) == (413, "application/problem+json")
    assert json.loads(body)["status"] == 413
    status, headers, body = raw_request(
        front.port,
        "POST",
        "/s/sometoken",
        body=b"passcode=" + b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (status, headers["content-type"]) == (413, "text/html") and b"too large" in body
    front.wait_for_log("nginx", f'"POST /api/v1/trials/{SEED}/notes HTTP/1.1" 413')
    assert '" 413 ' not in front.log("app") + front.log("passcodes")  # neither reached gunicorn


def test_over_long_headers_and_request_lines_are_refused_in_the_callers_format(front):
    """nginx refuses these before choosing a location: its own page was HTML even for the API."""
    for target, headers in [
        ("/api/v1/trials", {"X-Filler": "a" * 9000}),
        (f"/api/v1/trials/{SEED}/notes?q=" + "a" * 9000, None),
        (f"/trials/{SEED}", {"X-Filler": "a" * 9000}),
        ("/" + "a" * 9000, None),
    ]:
        status, answered, body = raw_request(front.port, "GET", target, headers=headers)
        if target.startswith("/api/"):
            assert (status, answered["content-type"]) == (400, "application/problem+json"), body
            assert json.loads(body)["status"] == 400
        else:
            assert (status, answered["content-type"]) == (400, "text/html"), body
            assert b"too long" in body
    status, _, _ = raw_request(front.port, "GET", "/.refused/api")
    assert status == 404  # the answers' own locations are internal


def raw_bytes(port: int, data: bytes) -> tuple[int, str, bytes]:
    """What nginx answers to these bytes sent as they are: status, content type, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    kind = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("content-type:")), "")
    return int(lines[0].split()[1]), kind, body


@pytest.mark.parametrize(
    "request_line, headers",
    [
        ("GET {path} HTTP/1.1x", ""),  # a bad version
        ("GET {path}%2 HTTP/1.1", ""),  # a bad percent-encoding
        ("GET {path}%00 HTTP/1.1", ""),  # an encoded NUL
        ("GET {path}\x01 HTTP/1.1", ""),  # a control character
        ("GET {path} HTTP/2.0", ""),  # an HTTP version nginx does not speak here
        ("GET {path} HTTP/1.1", "Host: b\r\n"),  # two Host headers
        ("GET {path} HTTP/1.1", "X: y\x00z\r\n"),  # a NUL in a header
        ("POST {path} HTTP/1.1", "Content-Length: 5\r\nContent-Length: 6\r\n"),
        ("POST {path} HTTP/1.1", "Transfer-Encoding: gzip\r\n"),  # 501 before
        ("POST {path} HTTP/1.1", "Transfer-Encoding: chunked\r\n\r\nzz\r\n"),  # a bad chunk, once routed
    ],
)
def test_requests_nginx_refuses_as_malformed_answer_in_the_callers_format(front, request_line, headers):
    """nginx's own refusals (a bad request line, header or body framing) were its bare HTML, also for the API."""
    for path, kind in [("/api/v1/notebooks", "application/problem+json"), (f"/trials/{SEED}", "text/html")]:
        head = request_line.format(path=path) + "\r\nHost: a\r\nConnection: close\r\n" + headers
        data = (head if head.endswith("\r\n\r\nzz\r\n") else head + "\r\n").encode("latin-1")
        status, answered, body = raw_bytes(front.port, data)
        assert (status, answered) == (400, kind), (path, body[:200])
        assert json.loads(body)["status"] == 400 if kind.endswith("json") else b"not valid" in body


def test_what_nginx_passes_is_not_refused_by_gunicorns_own_limits(front):
    """gunicorn's defaults (a 4094-byte request line, 100 headers) answered its own HTML page."""
    longest_line = "/api/v1/trials?q=" + "a" * (8190 - len("GET /api/v1/trials?q= HTTP/1.1"))
    for target, headers in [
        (longest_line, None),
        ("/api/v1/trials", {f"X-Filler-{index}": "a" for index in range(150)}),
        ("/api/v1/trials", {"X-Filler": "a" * (8190 - len("X-Filler: "))}),
        (f"/trials/{SEED}", {f"X-Filler-{index}": "a" for index in range(150)}),
    ]:
        status, answered, body = raw_request(front.port, "GET", target, headers=headers)
        assert status == 200, (target[:40], status, answered.get("content-type"), body[:200])
    status, answered, _ = raw_request(front.port, "GET", "/api/v1/trials", headers={"X-Filler": "a" * 8200})
    assert (status, answered["content-type"]) == (400, "application/problem+json")  # nginx's refusal


# -- the launcher ----------------------------------------------------------------------


def alive(pgid: int) -> bool:
    """Whether any process of the group still runs (a zombie left for init to reap does not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            return True
    return False


def test_ctrl_c_stops_nginx_and_both_pools(tmp_path, front_data):
    running = start_front(tmp_path, front_data)
    try:
        pids = running.pids()
        assert set(pids) == {"nginx", "app", "passcodes"} and all(alive(p) for p in pids.values())
        assert request_json("GET", running.url + "/healthz")[0] == 200
    finally:
        code = running.stop()  # SIGINT, as Ctrl-C sends
    assert code == 0
    assert [name for name, pid in pids.items() if alive(pid)] == []


def test_requests_waiting_for_a_busy_worker_are_answered_when_the_front_stops(tmp_path, front_data):
    """A request nginx passed on may wait in the main pool's listening socket (its one worker busy):
    stopping the pools with nginx closed that socket under it, and nginx answered 503."""
    running = start_front(tmp_path, front_data)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            with a_write_holding_the_main_pool(running, front_data["NOTES_DATA_DIR"], pool) as write:
                waiting = [pool.submit(request_json, "GET", running.url + "/healthz", timeout=30) for _ in range(2)]
                wait_for_queue(running.app_port, 2, "the reads never reached the main pool")
                running.process.send_signal(signal.SIGINT)  # Ctrl-C
                time.sleep(1.0)  # the launcher is stopping: nginx takes nothing new, the pools still serve
                assert running.process.poll() is None
            assert write.result()[0] == 201
            assert [answer.result()[0] for answer in waiting] == [200, 200]
        assert running.process.wait(timeout=40) == 0
    finally:
        running.stop()


def test_when_one_pool_dies_the_front_stops_the_rest(tmp_path, front_data):
    running = start_front(tmp_path, front_data)
    try:
        pids = running.pids()
        os.killpg(pids["passcodes"], signal.SIGKILL)
        running.process.wait(timeout=40)
    finally:
        running.stop()
    assert running.process.returncode == 1
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert "passcodes exited" in running.output.read_text()


# -- the configuration ---------------------------------------------------------------


def load_launcher():
    spec = importlib.util.spec_from_file_location("front_launcher", LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BIND", "localhost"),
        ("PASSCODE_BIND", "127.0.0.1:80; evil"),
        ("PASSCODE_THREADS", "0"),
        ("WEB_CONCURRENCY", "0"),
        ("WEB_CONCURRENCY", "two"),
        ("GUNICORN_THREADS", "0"),
        ("FRONT_UNLOCK_RATE", "30r/m; allow all"),
        ("FRONT_TRUSTED_PROXIES", "10.0.0.0/8;"),
        ("FRONT_FORWARDED_PROTO", "$http_x_forwarded_proto"),
        ("FRONT_UNLOCK_BURST", "-1"),
    ],
)
def test_a_bad_setting_stops_the_front_with_its_name(name, value):
    launcher = load_launcher()
    with pytest.raises(launcher.FrontError, match=name):
        launcher.FrontSettings.from_env({name: value})


def test_the_load_balancer_configuration_is_valid_nginx(tmp_path):
    """Several hosts behind a balancer (docs/deploy.md): realip from its addresses, https to the app."""
    launcher = load_launcher()
    settings = launcher.FrontSettings.from_env(
        {"FRONT_TRUSTED_PROXIES": "10.0.0.0/24, 10.0.1.5", "FRONT_FORWARDED_PROTO": "https", "BIND": "127.0.0.1:1"}
    )
    conf = launcher.render(settings, tmp_path)
    assert "{{" not in conf
    assert "set_real_ip_from 10.0.0.0/24;" in conf and "set_real_ip_from 10.0.1.5;" in conf
    assert "proxy_set_header X-Forwarded-Proto https;" in conf
    (tmp_path / "tmp").mkdir()
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run(
        [
            launcher.nginx_binary(os.environ),
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            "stderr",
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_nginx_error_lines_lose_their_request_fields():
    line = (
        "2026/12/01 19:34:16 [error] 1#1: *7 upstream timed out, client: 127.0.0.1, server: _, "
        'request: "POST /%73/SecretTok HTTP/1.1", upstream: "http://127.0.0.1:8011/%73/SecretTok", '
        'host: "x", referrer: "http://x/s/SecretTok"'
    )
    scrubbed = load_launcher().scrub_error_line(line)
    assert "SecretTok" not in scrubbed and "upstream timed out" in scrubbed and 'request: "(withheld)"' in scrubbed


def test_nginx_error_lines_cut_at_their_limit_lose_their_request_fields_too():
    """nginx cuts an error line at 2048 bytes: a long request's field then has no closing quote."""
    scrub = load_launcher().scrub_error_line
    head = (
        "2026/12/01 19:34:16 [error] 1#1: *7 upstream timed out (110: Connection timed out) while reading "
        'response header from upstream, client: 127.0.0.1, server: _, request: "'
    )
    for target in ("/s//SecretTok?", "/api/v1/trials?q=private+words&"):
        line = (head + "GET " + target + "a" * 3000)[:2048] + "\n"
        scrubbed = scrub(line)
        assert "SecretTok" not in scrubbed and "private" not in scrubbed, scrubbed
        assert 'request: "(withheld)"' in scrubbed and scrubbed.endswith("\n")
    assert "SecretTok" not in scrub('upstream timed out, referrer: "x", host: "x" //s//SecretTok here\n')
