"""What one "my notes on a trial" read costs next to a bare /healthz, in process, without a server.

    .venv/bin/python bench/read_cost.py setup DIR [--backend postgresql]   # database, trials, 100 readers of 20 notes
    .venv/bin/python bench/read_cost.py cpu DIR [--requests 500] [--rounds 3] [--profile]  # + the server's CPU
    .venv/bin/python bench/read_cost.py instructions DIR [--requests 100]  # callgrind: instructions per request
    .venv/bin/python bench/read_cost.py clean DIR                 # drop the PostgreSQL database
    BENCH_SECONDS=4 BENCH_GROWTH_SMALL=2000 .venv/bin/python bench/read_cost.py front DIR [--backend ...]
                      # bench/run.py's measure_reads alone, through the front (health_rps, read_rps, read_ratio)

DIR is a scratch folder: it holds the bench database, its keys and the seeded readers'
tokens (bench data, as `make bench` keeps them in memory), nothing of a real user.

The read is bench's (`bench/run.py read_requests`): `GET /api/v1/trials/{seed}/notes` with
a reader's bearer token, rotating over the readers, through Flask's test client. CPU time
moves with the machine's other load; instructions (callgrind, counted from the first measured
request on, read with callgrind_control) do not, so decisions on a busy machine use them.
Neither counts the database server's own work on PostgreSQL (nor its round trips' waits):
`bench/run.py`'s `read_ratio` through the front does.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import seed  # noqa: E402
import server  # noqa: E402

READERS = 100
# Every reader once before counting, on a clock stopped at the start: a reader's first read in
# five minutes also writes its device's last_used_at (notes.auth.touch_device), which the
# measured loop must not count however long it runs (callgrind on a busy machine: many minutes).
WARM_UP = READERS


def setup(workdir: Path, backend: str) -> None:
    """A migrated database with the trials and READERS seeded readers; DIR/state.json says how to reach it."""
    import run  # bench/run.py: the same preparation as `make bench`

    prepared = run.prepare(backend, workdir)
    rng = random.Random(7)
    pool = seed.quote_pool(prepared.app, 400, rng)
    readers = seed.seed_notebooks(prepared.app, READERS, 20, pool, rng)
    state = {"env": prepared.env, "pg_database": prepared.pg_database, "tokens": [r.token for r in readers]}
    (workdir / "state.json").write_text(json.dumps(state))


def _state(workdir: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((workdir / "state.json").read_text())
    return state


def _client(workdir: Path) -> tuple[Any, list[tuple[str, dict[str, str]]]]:
    from notes_service import create_app, registry
    from notes_service.clock import utcnow

    state = _state(workdir)
    app = create_app(state["env"])
    started = utcnow()
    registry.of(app).clock = lambda: started
    path = f"/api/v1/trials/{seed.SEED_TRIAL}/notes"
    reads = [(path, {"Authorization": f"Bearer {token}"}) for token in state["tokens"]]
    return app.test_client(), reads


def _loop(client: Any, requests: list[tuple[str, dict[str, str]]], count: int) -> None:
    for index in range(count):
        path, headers = requests[index % len(requests)]
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")


def _requests(kind: str, reads: list[tuple[str, dict[str, str]]]) -> list[tuple[str, dict[str, str]]]:
    return reads if kind == "read" else [("/healthz", {})]


def _postgres_cpu_seconds() -> float:
    """User and system CPU of every `postgres` process on this machine so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:  # the process ended meanwhile
            continue
        if "(postgres)" in stat:
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def cpu(workdir: Path, count: int, rounds: int, profile: bool) -> None:
    """CPU microseconds per read and per /healthz, rounds alternating; optionally a cProfile of the reads.

    On PostgreSQL also the database server's CPU per request (every `postgres` process of the
    machine, so run it with nothing else using the server).
    """
    client, reads = _client(workdir)
    postgresql = bool(_state(workdir).get("pg_database"))
    for kind in ("health", "read"):
        _loop(client, _requests(kind, reads), WARM_UP)
    for _ in range(rounds):
        spent, served = {}, {}
        for kind in ("health", "read"):
            server_started = _postgres_cpu_seconds() if postgresql else 0.0
            started = time.process_time()
            _loop(client, _requests(kind, reads), count)
            spent[kind] = (time.process_time() - started) / count * 1e6
            if postgresql:
                served[kind] = (_postgres_cpu_seconds() - server_started) / count * 1e6
        server = (
            f"; PostgreSQL's CPU: read {served['read']:.0f} us, /healthz {served['health']:.0f} us" if served else ""
        )
        print(
            f"read {spent['read']:.0f} us, /healthz {spent['health']:.0f} us, "
            f"ratio {spent['health'] / spent['read']:.3f}{server}"
        )
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(_loop, client, reads, count)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


def _callgrind(*options: str) -> str:
    command = ["callgrind_control", *options, str(os.getpid())]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _instructions_so_far() -> int:
    # "Totals: Ir" then a line per thread ("Th 1  1,294,811"): the loop runs in thread 1.
    found = re.search(r"Th 1 +([\d,]+)", _callgrind("-e", "Ir"))
    if found is None:
        raise RuntimeError("callgrind_control gave no instruction count")
    return int(found.group(1).replace(",", ""))


def counted(workdir: Path, count: int) -> None:
    """Under callgrind (started with instrumentation off): instructions of `count` requests of each kind."""
    client, reads = _client(workdir)
    for kind in ("health", "read"):
        _loop(client, _requests(kind, reads), WARM_UP)
    _callgrind("-i", "on")
    per = {}
    for kind in ("health", "read"):
        before = _instructions_so_far()
        _loop(client, _requests(kind, reads), count)
        per[kind] = (_instructions_so_far() - before) / count
    print(
        f"read {per['read'] / 1e6:.3f} M instructions, /healthz {per['health'] / 1e6:.3f} M, "
        f"ratio {per['health'] / per['read']:.3f}"
    )


def instructions(workdir: Path, count: int) -> None:
    """Run `counted` under callgrind, collecting only from the first measured request on."""
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null"]
    script = [sys.executable, str(Path(__file__).resolve()), "counted", str(workdir), "--requests", str(count)]
    subprocess.run([*command, *script], check=True)


def front(workdir: Path, backends: list[str]) -> None:
    """`make bench`'s read figures alone: its own preparation, seeding, front and measure_reads (JSON out)."""
    import run

    settings = run.Settings.from_env(False, False, None)
    figures: dict[str, Any] = {}
    for name in backends:
        backend = run.prepare(name, workdir / name)
        try:
            pool = seed.quote_pool(backend.app, 400, random.Random(7))
            run.seed_users(backend, settings, random.Random(7), pool)
            backend.server = server.Front(backend.env, workdir / f"front-{name}.log")
            backend.server.start()
            run.measure_reads(backend, settings)
            figures[name] = {k: backend.figures[k] for k in ("health_rps", "read_rps", "read_ratio", "read_p99_ms")}
        finally:
            run.release(backend)
    print(json.dumps(figures))


def clean(workdir: Path) -> None:
    """Drop the PostgreSQL database setup made (SQLite's is a file in DIR)."""
    name = _state(workdir).get("pg_database")
    if name:
        server.drop_pg_database(name)


def main() -> None:
    """Parse the command line and run one step."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("setup", "cpu", "instructions", "counted", "front", "clean"))
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--backend", default="sqlite", help="sqlite or postgresql (front: a comma-separated list)")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    if args.step == "setup":
        setup(workdir, args.backend)
    elif args.step == "cpu":
        cpu(workdir, args.requests, args.rounds, args.profile)
    elif args.step == "instructions":
        instructions(workdir, args.requests)
    elif args.step == "counted":
        counted(workdir, args.requests)
    elif args.step == "front":
        front(workdir, args.backend.split(","))
    else:
        clean(workdir)


if __name__ == "__main__":
    main()
