"""Streaming loads: memory does not follow the file's size, and an interrupted load resumes cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

from bulk_trials import clone_id, make, make_trials
from sqlalchemy import create_engine, func, select, text

from notes_service.extensions import db
from notes_service.trials import ctgov, reader, render, service
from notes_service.trials.models import Trial, TrialVersion

# Runs a load in a fresh interpreter and reports its peak RSS before and after the load.
MEASURE = """
import json, resource, sys
from notes_service import create_app
app = create_app()
runner = app.test_cli_runner()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = runner.invoke(args=["trials", "load", sys.argv[1]])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kib": before, "after_kib": after, "exit": result.exit_code, "output": result.output}))
"""


# The same load under an address-space limit: what the process had when it started, plus HEADROOM.
LIMITED = """
import json, resource, sys
from notes_service import create_app
app = create_app()
runner = app.test_cli_runner()
with open("/proc/self/status") as status:
    size_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
limit = size_kib * 1024 + int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
result = runner.invoke(args=["trials", "load", sys.argv[1]])
print(json.dumps({"exit": result.exit_code, "output": result.output, "exception": repr(result.exception)}))
"""
HEADROOM = 64 * 1024 * 1024


def write_large_records(path, count: int, text_bytes: int) -> None:
    """JSON Lines of clones, each carrying `text_bytes` of results text (real records with results run to MiBs)."""
    sentence = "Participants were followed for adverse events; limitations are described in the protocol. "
    text = (sentence * (text_bytes // len(sentence) + 1))[:text_bytes]
    with path.open("w", encoding="utf-8") as handle:
        for index, line in enumerate(make_trials.clones(count)):
            results = {"moreInfoModule": {"limitationsAndCaveats": {"description": f"{index} {text}"}}}
            handle.write(line[:-1] + ',"resultsSection":' + json.dumps(results) + "}\n")  # line is one object


def test_a_file_larger_than_the_memory_allowed_loads_whole(app_env, tmp_path):
    path = tmp_path / "large-records.jsonl"
    write_large_records(path, 140, 1024 * 1024)  # 150 MB: over twice what the load may add to the process
    assert path.stat().st_size > 2 * HEADROOM
    child = subprocess.run(
        [sys.executable, "-c", LIMITED, str(path), str(HEADROOM)],
        env={**app_env, "PYTHONPATH": os.getcwd()},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0, (report["output"], report["exception"])
    assert "140 added, 0 changed, 0 unchanged, 0 failed" in report["output"]


def run_flask(app_env: dict[str, str], *args: str, **popen) -> subprocess.Popen:
    env = {**app_env, "FLASK_APP": "notes_service", "PYTHONPATH": os.getcwd()}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def test_memory_of_a_load_does_not_grow_with_the_file(app_env, tmp_path):
    path = make(tmp_path / "bulk.json", 1500)  # about 40 MB, one JSON document
    size_kib = path.stat().st_size // 1024
    child = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        env={**app_env, "PYTHONPATH": os.getcwd()},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0, report["output"]
    assert "1500 added" in report["output"]
    grown = report["after_kib"] - report["before_kib"]
    # Reading the file whole costs several times its size; a streamed load holds one batch.
    print(f"peak RSS grew {grown} KiB for a {size_kib} KiB file")
    assert grown < size_kib // 2, f"peak RSS grew {grown} KiB for a {size_kib} KiB file"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def count_outside(url: str, model) -> int:
    """Count without the app: its sessions take SQLite's write lock up front, which the load holds."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model))
    finally:
        engine.dispose()


def test_an_interrupted_load_run_again_loads_everything_once(app, app_env, tmp_path):
    path = make(tmp_path / "bulk.jsonl", 1000)
    before_trials, before_versions = count(app, Trial), count(app, TrialVersion)
    child = run_flask(app_env, "trials", "load", "--batch-size", "50", str(path))
    deadline = time.monotonic() + 120
    while count_outside(app_env["DATABASE_URL"], TrialVersion) - before_versions < 100:  # some batches committed
        assert child.poll() is None, child.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    loaded = count(app, Trial) - before_trials
    assert 100 <= loaded < 1000  # killed midway
    result = app.test_cli_runner().invoke(args=["trials", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{1000 - loaded} added, 0 changed, {loaded} unchanged, 0 failed" in result.output
    assert count(app, Trial) - before_trials == 1000
    with app.app_context():
        per_trial = db.session.execute(
            select(TrialVersion.trial_id, func.count())
            .where(TrialVersion.trial_id.like("NCT9%"))
            .group_by(TrialVersion.trial_id)
            .having(func.count() > 1)
        ).all()
        assert per_trial == []
        assert db.session.scalar(select(func.count()).select_from(TrialVersion)) - before_versions == 1000
        missing = db.session.scalar(select(func.count()).select_from(Trial).where(Trial.version_id.is_(None)))
        assert missing == 0
        if db.engine.dialect.name == "sqlite":  # the search index holds each trial once
            indexed = db.session.scalar(text("SELECT count(*) FROM trials_fts"))
            assert indexed == db.session.scalar(select(func.count()).select_from(Trial))
    client = app.test_client()
    found = client.get(f"/api/v1/trials?q={clone_id(999)}").get_json()
    assert [t["id"] for t in found["trials"]] == [clone_id(999)]


def test_stored_versions_are_compressed_with_lz4_on_postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return  # SQLite has no such setting
        available = db.session.scalar(
            text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        )
        methods = dict(
            db.session.execute(
                text(
                    "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = 'trial_versions'::regclass "
                    "AND attname IN ('record', 'sections', 'canonical_text')"
                )
            ).all()
        )
    assert methods == dict.fromkeys(("record", "sections", "canonical_text"), "l" if available else "")


def test_a_load_with_worker_processes_stores_what_one_without_would(app, runner, tmp_path):
    path = make(tmp_path / "bulk.jsonl", 60)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:30], "{not json", '{"protocolSection": 1}', *lines[30:]]) + "\n")
    result = runner.invoke(args=["trials", "load", "--workers", "2", "--batch-size", "7", str(path)])
    assert result.exit_code == 1, result.output  # two bad records, reported in the file's order
    assert "60 added, 0 changed, 0 unchanged, 2 failed" in result.output
    problems = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert [p.split(":")[2] for p in problems] == ["31", "32"]
    assert "not readable JSON (JSONDecodeError)" in problems[0]
    with app.app_context():
        for index in (0, 29, 59):  # stored as this process renders them
            study = ctgov.parse_study(json.loads(lines[index]))
            trial = render.render_trial(study)
            stored = db.session.execute(
                select(TrialVersion).where(TrialVersion.trial_id == clone_id(index))
            ).scalar_one()
            assert (stored.version, stored.record, stored.canonical_text) == (
                study.version,
                ctgov.canonical_json(study.record),
                trial.canonical_text,
            )
            assert stored.sections == render.dump_sections(trial.sections)
            listed = db.session.get(Trial, clone_id(index))
            assert (listed.version_id, listed.title, listed.interventions) == (
                stored.id,
                trial.title,
                "\n".join(study.interventions),
            )
        db.session.remove()
    again = runner.invoke(args=["trials", "load", "--workers", "0", str(path)])
    assert "0 added, 0 changed, 60 unchanged, 2 failed" in again.output


def test_worker_chunks_hold_few_bytes_and_a_parsed_record_alone():
    lines = [reader.Entry(f"f:{n}", raw=b"{}") for n in range(service.CHUNK_SIZE + 3)]
    parsed = [reader.Entry(f"g:{n}", study={"protocolSection": {}}) for n in range(3)]
    big = reader.Entry("h:1", raw=b" " * service.CHUNK_BYTES)
    chunks = list(service.worker_chunks([*lines, *parsed, big, *lines[:2]]))
    # Lines travel CHUNK_SIZE at a time; a record already parsed has no size to count, so it goes
    # alone (what is in flight stays a few records, whatever their size); CHUNK_BYTES closes a chunk.
    assert [len(chunk) for chunk in chunks] == [service.CHUNK_SIZE, 4, 1, 1, 1, 2]
    assert [entry for chunk in chunks for entry in chunk] == [*lines, *parsed, big, *lines[:2]]


def locks_waited_on(url: str) -> int:
    """Backends of this database waiting on a lock (a table's, a row's, an advisory one)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
    finally:
        engine.dispose()


def test_two_loads_at_once_store_each_trial_once_and_report_truly(app, app_env, tmp_path):
    # Two operators (or a cron job and a manual load) loading the same new and changed records.
    path = make(tmp_path / "bulk.jsonl", 120)
    study = json.loads((reader.shipped_data_dir() / "NCT07085104.json").read_text())
    study["protocolSection"]["statusModule"]["overallStatus"] = "ACTIVE_NOT_RECRUITING"
    with path.open("a") as handle:
        handle.write(json.dumps(study) + "\n")
    with app.app_context():
        before_revision = db.session.get(Trial, "NCT07085104").revision
        before_versions = db.session.scalar(select(func.count()).select_from(TrialVersion))
        db.session.remove()
    url = app_env["DATABASE_URL"]
    postgresql = url.startswith("postgresql")
    engine = create_engine(url)
    holder = engine.connect()
    try:
        if postgresql:
            # Both loads read the store and then wait to write their first batch: on PostgreSQL a
            # table lock no writer can pass holds them there until both are waiting; SQLite's
            # write lock is taken before a batch reads anything (BEGIN IMMEDIATE).
            holder.execute(text("LOCK TABLE trials IN SHARE MODE"))
        loads = [run_flask(app_env, "trials", "load", "--batch-size", "25", str(path)) for _ in range(2)]
        if postgresql:
            deadline = time.monotonic() + 60
            while locks_waited_on(url) < 2:
                assert all(load.poll() is None for load in loads), [load.stdout.read() for load in loads]
                assert time.monotonic() < deadline
                time.sleep(0.05)
            holder.rollback()
        outputs = [load.communicate(timeout=120)[0] for load in loads]
    finally:
        holder.close()
        engine.dispose()
        for load in loads:
            if load.poll() is None:
                load.kill()
    assert [load.returncode for load in loads] == [0, 0], outputs
    reports = [re.search(r"(\d+) added, (\d+) changed, (\d+) unchanged, (\d+) failed", out) for out in outputs]
    assert all(reports), outputs
    counts = [tuple(int(n) for n in found.groups()) for found in reports]
    # Each record is added (or changed) by one load and found unchanged by the other.
    assert sum(added for added, _, _, _ in counts) == 120, outputs
    assert sum(changed for _, changed, _, _ in counts) == 1, outputs
    assert all(added + changed + unchanged == 121 and failed == 0 for added, changed, unchanged, failed in counts)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TrialVersion)) - before_versions == 121
        assert db.session.get(Trial, "NCT07085104").revision == before_revision + 1
        stored = db.session.scalar(select(func.count()).select_from(Trial).where(Trial.id.like("NCT9%")))
        assert stored == 120
        current = db.session.scalar(
            select(func.count()).select_from(Trial).join(TrialVersion, TrialVersion.id == Trial.version_id)
        )
        assert current == db.session.scalar(select(func.count()).select_from(Trial))
