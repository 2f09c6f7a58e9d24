"""Trial store operations: load records into the database, find and render trials."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import or_, select

from ..clock import utcnow
from ..errors import NotFound
from ..extensions import db
from . import store
from .models import Trial


@dataclass
class LoadReport:
    """What one `load_records` run did, file by file."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (where, problem)


def _read_json(path: Path) -> object:
    with path.open("rb") as handle:
        return json.load(handle)


def load_records(paths: Iterable[Path], on_file: Callable[[Path], None] | None = None) -> LoadReport:
    """Import study files or folders; idempotent, one bad record never stops the rest."""
    report = LoadReport()
    for path in store.find_record_files(paths):
        try:
            payload = _read_json(path)
        except (OSError, ValueError) as exc:
            report.failed.append((str(path), f"not readable JSON ({type(exc).__name__})"))
        else:
            for index, study in store.iter_studies(payload):
                where = str(path) if index is None else f"{path}[{index}]"
                _load_one(study, where, report)
        if on_file:
            on_file(path)
    return report


def _load_one(study: object, where: str, report: LoadReport) -> None:
    try:
        trial = store.parse_study(study)
    except store.RecordError as exc:
        report.failed.append((where, str(exc)))
        return
    row = db.session.get(Trial, trial.nct_id)
    if row is not None and row.version == trial.version:
        report.unchanged.append(trial.nct_id)
        return
    now = utcnow()
    if row is None:
        row = Trial(id=trial.nct_id, revision=1, loaded_at=now)
        db.session.add(row)
        report.added.append(trial.nct_id)
    else:
        row.revision += 1
        report.changed.append(trial.nct_id)
    row.title = trial.title
    row.status = trial.status
    row.phase = trial.phase
    row.conditions = "\n".join(trial.conditions)
    row.version = trial.version
    row.record = json.dumps(trial.record, ensure_ascii=False)
    row.updated_at = now
    db.session.commit()


@lru_cache(maxsize=256)
def _render(nct_id: str, version: str, record: str) -> store.Trial:
    # Keyed by version: a reloaded record renders afresh, an unchanged one is parsed once.
    return store.parse_study(json.loads(record))


def get_trial(nct_id: str) -> store.Trial:
    """The rendered trial, or NotFound."""
    row = get_trial_row(nct_id)
    return _render(row.id, row.version, row.record)


def get_trial_row(nct_id: str) -> Trial:
    """The trial's row, or NotFound."""
    row = db.session.get(Trial, nct_id.upper()) if store.NCT_RE.match(nct_id.upper()) else None
    if row is None:
        raise NotFound(f"No trial {nct_id[:20]!r} in the store.")
    return row


def search_trials(keyword: str | None = None, condition: str | None = None) -> list[Trial]:
    """Trials whose title, id or conditions contain the keyword / condition (any case)."""
    if "\x00" in (keyword or "") + (condition or ""):
        return []  # stored text never holds NUL, and PostgreSQL refuses one in a query with an error
    query = select(Trial).order_by(Trial.title)
    if condition:
        query = query.where(Trial.conditions.ilike(f"%{_like_escape(condition)}%", escape="\\"))
    if keyword:
        pattern = f"%{_like_escape(keyword)}%"
        query = query.where(or_(
            Trial.title.ilike(pattern, escape="\\"),
            Trial.conditions.ilike(pattern, escape="\\"),
            Trial.id.ilike(pattern, escape="\\"),
        ))
    return list(db.session.scalars(query))


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
