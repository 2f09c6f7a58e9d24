"""Trial-store figures for `make bench`: import rate and memory, search latency at 1,000 and
100,000 trials, the size of a list page.

    .venv/bin/python bench/trials.py                 # 100,000 trials, both databases
    .venv/bin/python bench/trials.py --count 5000    # a smaller run
    BENCH_BACKENDS=sqlite .venv/bin/python bench/trials.py

For each backend: a fresh database, migrated; bench/make_trials.py writes COUNT trials cloned
from the shipped records (JSON Lines, in a temporary folder, never kept) and 1,000 more for the
small store; `flask trials load` runs in a child process that reports its own peak RSS and
records/s. Then one process serves both stores through the Flask test client and runs the
same query mix against each, alternating small and large query by query (so that a change
in the machine's load falls on both alike): search p50 and p99, and their ratio large/small.
Writes bench/results/trials.json and prints a table.

    .venv/bin/python bench/trials.py --keep /var/tmp/trial-stores     # the search part only

`--keep DIR` measures the searches only, on stores kept in DIR: loaded there the first
time (SQLite files, PostgreSQL databases named in DIR/<backend>/stores.json, never
dropped), reused and migrated to head on later runs, so that searches before and after a
change can be measured back to back without loading 100,000 trials each time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import make_trials  # noqa: E402
import server  # noqa: E402

from notes_service import create_app  # noqa: E402
from notes_service.crypto import Keyring  # noqa: E402
from notes_service.extensions import db  # noqa: E402

RESULTS = HERE / "results"
SMALL = 1000
# Words of the shipped records' titles and conditions (broad and narrow), two-word queries,
# NCT numbers whole and as prefixes: what a site's search box gets.
QUERIES = [
    "cancer",
    "lupus",
    "cirrhosis",
    "diabetes",
    "breast cancer",
    "hepatocellular carcinoma",
    "heart",
    "vaccine",
    "children",
    "phase",
    "immunodeficiency",
    "cystic fibrosis",
    "pain",
    "obesity",
    "NCT9000",
    "NCT90000042",
    "NCT90000777",
    "placebo",
    "sclerosis",
    "kidney transplant",
]
LOAD = """
import json, resource, sys, time
from pathlib import Path
from notes_service import create_app
from notes_service.trials import reader, service
app = create_app()
files = [Path(sys.argv[1])]
workers = service.default_workers(reader.total_bytes(files))  # as `flask trials load` chooses
with app.app_context():
    started = time.perf_counter()
    cpu = time.process_time()
    report = service.load_records(files, workers=workers)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, ended with the load
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "added": report.added,
                  "failed": report.failed_count, "workers": workers,
                  "workers_cpu_seconds": children.ru_utime + children.ru_stime,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_rss_mib": children.ru_maxrss / 1024}))
"""


def log(message: str) -> None:
    print(f"[trials bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def env_for(url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NOTES_DATA_DIR": str(data_dir),
        "DATABASE_URL": url,
        "NOTES_KEYS": KEYS,
        "NOTES_SECRET_KEY": "bench-" + "s" * 40,
    }


KEYS = Keyring.generate_spec("bench1")


def new_database(backend: str, root: Path, label: str) -> tuple[str, str | None]:
    """(URL, PostgreSQL database name to drop) of a fresh, migrated database."""
    data_dir = root / f"{backend}-{label}"
    data_dir.mkdir()
    if backend == "sqlite":
        url, name = f"sqlite:///{data_dir / 'notes.sqlite3'}", None
    else:
        name, url = server.create_pg_database()
    server.flask_cli(env_for(url, data_dir), "db", "upgrade")
    return url, name


def load(url: str, data_dir: Path, path: Path) -> dict[str, Any]:
    """`service.load_records` in a child process: its time, CPU time and peak RSS."""
    child = subprocess.run(
        [sys.executable, "-c", LOAD, str(path)],
        env=env_for(url, data_dir),
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(child.stderr[-4000:])
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    figures["records_per_s"] = round(figures["added"] / figures["seconds"], 1)
    # CPU of the loader and its workers (the database server's not counted), per 1,000 records.
    cpu = figures["cpu_seconds"] + figures["workers_cpu_seconds"]
    figures["records_per_cpu_s"] = round(figures["added"] / cpu, 1)
    figures["cpu_ms_per_1000"] = round(cpu * 1e6 / figures["added"], 1)
    # What the load's processes could hold at once: the loader's peak and each worker's (a forked
    # worker's RSS counts the pages it shares with the loader again: an upper bound).
    figures["peak_rss_mib_all"] = round(
        figures["peak_rss_mib"] + figures["workers"] * figures["worker_peak_rss_mib"], 1
    )
    return figures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def searches(small_url: str, large_url: str, root: Path, rounds: int) -> dict[str, Any]:
    apps = {
        size: create_app(env_for(url, root / f"serve-{size}"))
        for size, url in (("small", small_url), ("large", large_url))
    }
    clients = {size: app.test_client() for size, app in apps.items()}
    by_query: dict[tuple[str, str], list[float]] = {(size, query): [] for size in clients for query in QUERIES}
    for size in clients:  # warm both (caches, statistics)
        for query in QUERIES:
            clients[size].get("/api/v1/trials", query_string={"q": query})
    for _ in range(rounds):
        for query in QUERIES:
            for size in ("small", "large"):
                started = time.perf_counter()
                response = clients[size].get("/api/v1/trials", query_string={"q": query})
                by_query[size, query].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.get_data(as_text=True)
    figures: dict[str, Any] = {}
    for size in clients:
        values = [value for query in QUERIES for value in by_query[size, query]]
        figures[f"search_p50_ms_{size}"] = round(statistics.median(values), 2)
        figures[f"search_p99_ms_{size}"] = round(percentile(values, 0.99), 2)
    figures["search_p50_ratio"] = round(figures["search_p50_ms_large"] / figures["search_p50_ms_small"], 2)
    figures["search_p99_ratio"] = round(figures["search_p99_ms_large"] / figures["search_p99_ms_small"], 2)
    # What the p99s are made of: the slowest queries at 100,000 trials, their median at each size.
    medians = {key: statistics.median(values) for key, values in by_query.items()}
    slowest = sorted(QUERIES, key=lambda query: medians["large", query], reverse=True)[:3]
    figures["slowest_queries_median_ms"] = {
        query: {size: round(medians[size, query], 2) for size in ("small", "large")} for query in slowest
    }
    large = clients["large"]
    biggest = large.get("/api/v1/trials?limit=100")
    figures["list_page_bytes_limit_100"] = len(biggest.get_data())
    figures["list_page_bytes_default"] = len(large.get("/api/v1/trials").get_data())
    figures["index_page_bytes"] = len(large.get("/").get_data())
    figures["search_page_bytes_limit_100"] = len(large.get("/api/v1/trials?q=cancer&limit=100").get_data())
    started = time.perf_counter()
    cursor, pages = None, 0
    while pages < 50:  # 50 pages deep into the title order
        body = large.get("/api/v1/trials" + (f"?cursor={cursor}" if cursor else "")).get_json()
        cursor, pages = body["next"], pages + 1
    figures["list_page_ms_50_deep"] = round((time.perf_counter() - started) * 1000 / pages, 2)
    for app in apps.values():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return figures


def kept_stores(backend: str, keep: Path, count: int) -> tuple[str, str]:
    """(large URL, small URL) of the stores kept in `keep`, loaded the first time, migrated to head."""
    global KEYS  # a kept store opens only with the bench keys it was made with
    folder = keep / backend
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "stores.json"
    if manifest.exists():
        stored = json.loads(manifest.read_text())
        if stored["count"] != count:
            raise SystemExit(f"{manifest} holds {stored['count']} trials, not {count}: use another --keep folder")
        KEYS = stored["keys"]  # generated for the bench when the stores were made; they hold no notes
        for label in ("large", "small"):
            server.flask_cli(env_for(stored[label], folder / f"{backend}-{label}"), "db", "upgrade")
        return stored["large"], stored["small"]
    urls = {}
    for label, size in (("large", count), ("small", SMALL)):
        source = make_trials.make(folder / f"trials-{label}.jsonl", size)
        try:
            urls[label], _name = new_database(backend, folder, label)
            log(f"{backend}: loading {size} trials into the kept {label} store")
            load(urls[label], folder / f"{backend}-{label}", source)
        finally:
            source.unlink(missing_ok=True)
        if backend == "postgresql":
            server.pg_vacuum_analyze(urls[label], "trials, trial_versions, trial_search")
    manifest.write_text(json.dumps({"count": count, "keys": KEYS, **urls}) + "\n")
    return urls["large"], urls["small"]


def search_backend(backend: str, keep: Path, count: int, rounds: int) -> dict[str, Any]:
    """The search figures of the kept stores (loaded the first time)."""
    large_url, small_url = kept_stores(backend, keep, count)
    log(f"{backend}: searching the kept stores")
    with tempfile.TemporaryDirectory(prefix="trial-notes-search-") as tmp:
        return {"count": count, **searches(small_url, large_url, Path(tmp), rounds)}


def run_backend(backend: str, root: Path, count: int, rounds: int) -> dict[str, Any]:
    big_file = make_trials.make(root / "trials-large.jsonl", count)
    small_file = make_trials.make(root / "trials-small.jsonl", SMALL)
    figures: dict[str, Any] = {"count": count, "file_mb": round(big_file.stat().st_size / 1e6, 1)}
    made = []
    try:
        large_url, large_name = new_database(backend, root, "large")
        made.append(large_name)
        log(f"{backend}: loading {count} trials ({figures['file_mb']} MB)")
        figures["import"] = load(large_url, root / f"{backend}-large", big_file)
        log(f"{backend}: {figures['import']}")
        small_url, small_name = new_database(backend, root, "small")
        made.append(small_name)
        load(small_url, root / f"{backend}-small", small_file)
        if backend == "postgresql":
            for url in (large_url, small_url):
                server.pg_vacuum_analyze(url, "trials, trial_versions, trial_search")
        log(f"{backend}: searching")
        figures.update(searches(small_url, large_url, root, rounds))
    finally:
        for name in made:
            if name:
                server.drop_pg_database(name)
        big_file.unlink(missing_ok=True)
    return figures


def run(backends: list[str], count: int, rounds: int, root: Path | None = None) -> dict[str, Any]:
    """Every figure, per backend; the hook bench/run.py calls."""
    with tempfile.TemporaryDirectory(prefix="trial-notes-trials-", dir=root) as tmp:
        for backend in backends:
            (Path(tmp) / backend).mkdir()
        return {backend: run_backend(backend, Path(tmp) / backend, count, rounds) for backend in backends}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=int(os.environ.get("BENCH_TRIALS", "100000")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_SEARCH_ROUNDS", "15")))
    parser.add_argument("--out", type=Path, default=RESULTS / "trials.json")
    parser.add_argument("--keep", type=Path, help="searches only, on stores kept (and reused) in this folder")
    args = parser.parse_args()
    backends = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
    if "postgresql" in backends and not server.postgres_reachable():
        backends = [b for b in backends if b != "postgresql"]
    started = time.perf_counter()
    figures = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": f"bench/trials.py --count {args.count}" + (f" --keep {args.keep}" if args.keep else ""),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "backends": (
            {b: search_backend(b, args.keep, args.count, args.rounds) for b in backends}
            if args.keep
            else run(backends, args.count, args.rounds)
        ),
    }
    figures["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    figures["elapsed_s"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
