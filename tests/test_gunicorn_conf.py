"""gunicorn.conf.py: the access log never shows a share token, a query string or a credential.

Proven on a real gunicorn reading its real access log; the masking itself (notes_service/logmask.py)
is checked on every spelling of a share path in tests/security/test_log_masking.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from servers import GUNICORN_CONF, ServerPool
from support import SEED, http_owner, request, request_json


def load_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", GUNICORN_CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server_pool(tmp_path: Path):
    with ServerPool(tmp_path / "servers") as pool:
        yield pool


def test_bind_and_workers_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("BIND", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    conf = load_conf()
    assert (conf.bind, conf.workers) == ("127.0.0.1:8000", 2)
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    conf = load_conf()
    assert (conf.bind, conf.workers) == ("127.0.0.1:9123", 5)
    monkeypatch.setenv("BIND", "0.0.0.0:80")
    assert load_conf().bind == "0.0.0.0:80"


def test_behind_the_front_a_worker_accepts_as_many_connections_as_it_has_threads(monkeypatch):
    # From the threads gunicorn finally runs with, GUNICORN_CMD_ARGS (a configuration `make bench`
    # measures) included: given as command-line options by deploy/front.py, which beat that
    # variable, worker_connections held 1 while --threads 8 ran eight threads, seven of them idle.
    conf = load_conf()
    assert conf.on_reload is conf.on_starting  # a reload (SIGHUP) reads the settings again
    for threads in (1, 8):
        cfg = Config()
        cfg.set("threads", threads)
        monkeypatch.delenv("GUNICORN_ACCEPT_WHEN_FREE", raising=False)
        conf.on_starting(SimpleNamespace(cfg=cfg))
        assert (cfg.worker_connections, cfg.keepalive) == (1000, 2)  # gunicorn alone: its defaults
        monkeypatch.setenv("GUNICORN_ACCEPT_WHEN_FREE", "1")  # deploy/front.py, for the main pool only
        conf.on_starting(SimpleNamespace(cfg=cfg))
        assert (cfg.worker_connections, cfg.keepalive) == (threads, 0)


def test_the_masters_do_not_import_the_app():
    # A pool's master reads this file and never serves a request: importing the app there (Flask,
    # SQLAlchemy, Alembic, Babel...) cost each master about 55 MiB of the front's memory.
    script = (
        "import runpy, sys; conf = runpy.run_path(sys.argv[1]); "
        "print(conf['mask']('/s/abcdefghijklmnop'), sorted(m for m in ('flask', 'notes_service', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script, str(GUNICORN_CONF)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert found == ["/s/****", "[]"]


def wait_for_text(path: Path, needle: str, timeout: float = 10.0) -> str:
    """The access log once it holds `needle` (gunicorn writes each line after the response)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if needle in text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"the access log lacks {needle!r} after {timeout}s:\n{text}")


def test_access_log_masks_share_tokens_and_drops_query_strings(app_env, server_pool):
    server = server_pool.start(app_env, workers=1)
    owner = http_owner(server.url)
    status, note = owner.post_note(body="Ask about the liver panel.")
    assert status == 201
    status, share = request_json(
        "POST",
        server.url + "/api/v1/shares",
        headers=owner.headers,
        body={"trial_id": SEED, "note_ids": [note["id"]], "passcode": "family-code-1"},
    )
    assert status == 201
    token = share["url"].rsplit("/s/", 1)[1]

    calls = [
        ("GET", f"/s/{token}?passcode=query-secret", {}, None, None, 200),
        ("POST", f"/s/{token}", {}, None, {"passcode": "wrong-code"}, 401),
        ("POST", f"/api/v1/shared/{token}", {}, {"passcode": "wrong-code"}, None, 401),
        ("GET", f"/%73/{token}", {}, None, None, 200),  # percent-encoded "s" reaches the same page
        (
            "GET",
            f"/s/{token}",
            {"User-Agent": f"probe /s/{token}", "Referer": f"http://x.example/s/{token}?a=b"},
            None,
            None,
            200,
        ),
        ("GET", f"/api/v1/trials/{SEED}?q=query-secret", {}, None, None, 200),
    ]
    for method, path, headers, body, form, expected in calls:
        status, _, _ = request(method, server.url + path, body=body, form=form, headers=headers)
        assert status == expected, (method, path.replace(token, "<token>"), status)

    # Three requests before the loop (notebook, note, share) plus the loop's.
    # Health probes add lines too, so wait for the last request's own line, not a line count.
    log = wait_for_text(server.access_log, f'"GET /api/v1/trials/{SEED} HTTP/1.1"')
    everything = log + server.error_text()
    assert token not in everything
    assert owner.token not in everything
    assert "query-secret" not in everything and "?" not in log
    assert log.count('"GET /s/**** HTTP/1.1" 200') == 3
    assert '"POST /s/**** HTTP/1.1" 401' in log
    assert '"POST /api/v1/shared/**** HTTP/1.1" 401' in log
    assert '"probe /s/****"' in log  # the user agent is masked too (the logger's filter)
    # Ordinary paths stay readable: the log is still worth having.
    assert f'"GET /api/v1/trials/{SEED} HTTP/1.1" 200' in log
    assert '"POST /api/v1/notebooks HTTP/1.1" 201' in log


@pytest.mark.parametrize("conf_name", ["gunicorn.conf.py", "gunicorn_unlock.conf.py"])
def test_each_pools_worker_freezes_the_loaded_app_out_of_the_garbage_collector(app_env, conf_name):
    # A full collection walked every object of the loaded app, each time with the worker's
    # requests waiting: after the worker's start they are frozen, and a collection walks only
    # what came after. Run as gunicorn runs it: the pool's settings read, the app loaded, the hook.
    script = (
        "import gc, runpy, sys; conf = runpy.run_path(sys.argv[1]); import wsgi; "
        "before = len(gc.get_objects()); conf['post_worker_init'](None); "
        "print(before, gc.get_freeze_count(), len(gc.get_objects()))"
    )
    conf = GUNICORN_CONF.with_name(conf_name)
    found = subprocess.run(
        [sys.executable, "-c", script, str(conf)],
        capture_output=True,
        text=True,
        check=True,
        cwd=GUNICORN_CONF.parent,
        env={**app_env, "PATH": "/usr/bin:/bin"},
    ).stdout.split()
    before, frozen, walked = map(int, found)
    assert frozen >= before * 0.9, "the app's objects are frozen"
    assert walked < frozen / 20, "a full collection walks only what came after"
