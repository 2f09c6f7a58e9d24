"""Start-up with a bad setting, as an operator sees it: one line naming the variable, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "FLASK_APP": "notes_service",
        "NOTES_DATA_DIR": str(tmp_path / "data"),
        "NOTES_ARGON2_MAX_CONCURRENT": "zero",
        "BIND": "127.0.0.1:0",
        "WEB_CONCURRENCY": "1",
    }
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "flask"), "db", "upgrade"],
        [str(BIN / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"), "wsgi:app"],
    ],
    ids=["flask", "gunicorn"],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(tmp_path, command):
    result = run(command, tmp_path)
    assert result.returncode != 0
    assert "NOTES_ARGON2_MAX_CONCURRENT must be an integer" in result.stderr
    # No traceback of the app's start-up. (gunicorn's master may print one of its own as it
    # halts on a worker that failed to boot: its HaltServer, raised again when a second
    # worker's exit is handled during the halt; one worker makes that rarer, not impossible.)
    assert "ConfigError" not in result.stderr and "notes_service/" not in result.stderr, result.stderr
