"""Bulk files for the trial-store tests, made by bench/make_trials.py (one generator for both)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "make_trials", Path(__file__).resolve().parents[1] / "bench" / "make_trials.py"
)
assert _SPEC and _SPEC.loader
make_trials = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(make_trials)

clone_id = make_trials.clone_id
make = make_trials.make
