"""No share token in any log: the development server's and gunicorn's, for every spelling the router takes.

Both servers run for real (`flask run` as `make run` starts it, and gunicorn with
gunicorn.conf.py); every variant of tests/path_variants.py is sent on the wire as written,
its status checked against the table, and the whole log read back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from path_variants import NEAR_MISS, ROUTED, send_raw, share_path_variants
from servers import BIN, REPO, ServerPool, free_port
from support import SEED, Owner, http_owner, request_json

from notes_service.logmask import MASK, MaskSecrets, mask, quote_path

PASSCODE = "family-code-1"
SERVER_ENV = {"NOTES_SHARE_RATE_LIMIT": "100000 per minute"}  # every variant opens the share


def token_fragments(token: str, size: int = 8) -> list[str]:
    """Every run of `size` characters of the token: a log holding any of them leaks part of it."""
    return [token[i : i + size] for i in range(len(token) - size + 1)]


def test_every_variant_is_masked_by_the_function():
    token = "AbC-123_xyzAbC-123_xyzAbC-123_xyzAbC-123_x"
    variants = share_path_variants(token, authority="127.0.0.1:8000")
    assert len(variants) > 100
    for variant in variants:
        line = f'127.0.0.1 - - "{variant.method} {variant.target} HTTP/1.1" 200 -'
        masked = mask(line)
        assert not any(piece in masked for piece in token_fragments(token)), (variant.label, masked)
        assert "query-secret" not in masked and MASK in masked, variant.label


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("/s/AbC-123_xyz", "/s/****"),
        ("/api/v1/shared/AbC-123_xyz", "/api/v1/shared/****"),
        ("/s/AbC/extra", "/s/****"),  # everything after the prefix: no piece of a token survives
        ("//s/AbC", "//s/****"),
        ("/S/AbC", "/S/****"),
        ("/api//v1//shared//AbC", "/api//v1//shared//****"),
        ("/%73/AbC", "/s/****"),
        ("/s%252FAbC", "/s/****"),  # doubly encoded: not routed, masked all the same
        ("GET http://x.example/s/AbC?a=b HTTP/1.1", "GET http://x.example/s/**** HTTP/1.1"),
        ("\x1b[32mGET /s/AbC HTTP/1.1\x1b[0m", "\x1b[32mGET /s/**** HTTP/1.1\x1b[0m"),  # werkzeug's colours
        ("/api/v1/trials?q=private", "/api/v1/trials"),  # no query string is logged
        ("/api/v1/shares/0123abcd", "/api/v1/shares/0123abcd"),  # a share's id is not its secret
        ("/api/v1/trials/NCT07085104/notes", "/api/v1/trials/NCT07085104/notes"),
        ("/static/site.css 12/2026 a/b", "/static/site.css 12/2026 a/b"),
    ],
)
def test_masking_keeps_what_is_not_a_token(text, logged):
    assert mask(text) == logged


def test_a_decoded_path_cannot_split_or_forge_a_line():
    # gunicorn gives PATH_INFO decoded: a %20 before the token or a %0A would split the word.
    assert mask(quote_path("/s/ AbC")) == "/s/****"
    assert mask(quote_path("/x\n/s/AbC")) == "/x%0A/s/****"


def test_the_filter_masks_messages_arguments_and_tracebacks(caplog):
    logger = logging.getLogger("tests.log_masking")
    logger.addFilter(MaskSecrets())
    with caplog.at_level(logging.INFO, logger="tests.log_masking"):
        logger.info('"%s" %s', "GET /s/Secret-Token HTTP/1.1", 200)
        try:
            raise ValueError("bad /api/v1/shared/Secret-Token")
        except ValueError:
            logger.exception("failed")
    assert "Secret-Token" not in caplog.text
    assert '"GET /s/**** HTTP/1.1" 200' in caplog.text and "/api/v1/shared/****" in caplog.text


def make_share(base_url: str) -> tuple[Owner, str]:
    owner = http_owner(base_url)
    status, note = owner.post_note(body="Ask about the liver panel.")
    assert status == 201
    status, share = request_json(
        "POST",
        base_url + "/api/v1/shares",
        headers=owner.headers,
        body={"trial_id": SEED, "note_ids": [note["id"]], "passcode": PASSCODE},
    )
    assert status == 201
    return owner, share["url"].rsplit("/s/", 1)[1]


def send_every_variant(host: str, port: int, token: str) -> int:
    """Every variant, each checked against the table's statuses; returns how many were sent."""
    variants = share_path_variants(token, authority=f"{host}:{port}")
    seen = set()
    for variant in variants:
        # An empty passcode: the share is found (401, not 404) with no Argon2 work and no attempt spent.
        body = b'{"passcode": ""}' if variant.method == "POST" else None
        headers = {"Content-Type": "application/json"} if body else {}
        status = send_raw(host, port, variant, body, headers)
        assert status in variant.statuses, (variant.label, status)
        seen.add(status)
    assert {200, 308, 401, 404} <= seen  # the page, the API, the merged-slashes redirect, near misses
    assert all(v.statuses in (ROUTED, NEAR_MISS) for v in variants)
    return len(variants)


def assert_log_holds_no_secret(log: str, owner: Owner, token: str, sent: int) -> None:
    leaked = [piece for piece in token_fragments(token) if piece in log]
    assert not leaked, f"{len(leaked)} pieces of the token in the log"
    assert owner.token not in log
    assert PASSCODE not in log and "query-secret" not in log
    # Every variant has its line, masked, and the log still says what happened.
    assert log.count(MASK) >= sent
    assert "/api/v1/notebooks" in log


@contextlib.contextmanager
def development_server(env: dict[str, str], log_path: Path) -> Iterator[int]:
    """`flask run` (what `make run` starts) on a free port, its output in `log_path`; the port."""
    port = free_port()
    with open(log_path, "wb") as output:
        process = subprocess.Popen(
            [str(BIN / "flask"), "--app", "notes_service", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env={"PATH": os.environ.get("PATH", ""), **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text(errors="replace")
            with contextlib.suppress(OSError):
                if request_json("GET", f"http://127.0.0.1:{port}/healthz", timeout=2)[0] == 200:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("flask run did not answer /healthz:\n" + log_path.read_text(errors="replace"))
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_development_server_log_masks_every_variant(app_env, tmp_path):
    log_path = tmp_path / "flask-run.log"
    with development_server({**app_env, **SERVER_ENV}, log_path) as port:
        owner, token = make_share(f"http://127.0.0.1:{port}")
        sent = send_every_variant("127.0.0.1", port, token)
    log = re.sub(r"\x1b\[[0-9;]*m", "", log_path.read_text(errors="replace"))  # werkzeug's colours
    assert '"POST /api/v1/notebooks HTTP/1.1" 201' in log  # it is the request log we are reading
    assert_log_holds_no_secret(log, owner, token, sent)


def test_gunicorn_logs_mask_every_variant(app_env, tmp_path):
    with ServerPool(tmp_path / "servers") as pool:
        server = pool.start({**app_env, **SERVER_ENV}, workers=1)
        owner, token = make_share(server.url)
        sent = send_every_variant("127.0.0.1", server.port, token)
        # gunicorn writes each access line after its response: wait for the last variant's line.
        deadline = time.monotonic() + 10
        while server.access_log.read_text().count(MASK) < sent and time.monotonic() < deadline:
            time.sleep(0.05)
        log = server.access_log.read_text() + server.error_text()
    assert '"POST /api/v1/notebooks HTTP/1.1" 201' in log
    assert_log_holds_no_secret(log, owner, token, sent)
