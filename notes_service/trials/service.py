"""Trial store operations: load records in batches keeping every version; read, list and search."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import multiprocessing
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple, cast

from cachetools import LRUCache, cached
from flask import current_app
from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, text, update

from .. import paging, registry
from ..errors import BadRequest, Invalid, NotFound
from ..extensions import db
from ..i18n import gettext
from . import ctgov, reader, render
from .models import Trial, TrialVersion
from .signals import trials_changed

# Records written per transaction: large enough that commits do not dominate, small enough
# that an interrupted load loses little and a batch's rows stay a few MiB.
BATCH_SIZE = 200
# ... and at most this many bytes of record JSON: a record with results can be megabytes,
# and 200 of those would not be "a few MiB". What a load holds stays under a batch of these.
BATCH_BYTES = 16 * 1024 * 1024
MAX_REPORTED_FAILURES = 1000
# Decoding, parsing and rendering are most of a record's cost, all of it Python (about 1 ms a
# record, docs/performance.md): a large load spreads them over worker processes. A small one is over
# before a worker would have started.
PARALLEL_BYTES = 64 * 1024 * 1024
MAX_WORKERS = 2
# Entries a worker takes at a time (or this many bytes of JSON Lines), and chunks out per worker.
CHUNK_SIZE = 25
CHUNK_BYTES = 4 * 1024 * 1024
CHUNKS_AHEAD = 3
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# A search ranks at most this many matches (the first the index yields): ranking every match
# of a broad word would grow with the store; past it the answer says so (refine the words).
MAX_RANKED = 1000
# A title list's cursor holds a title (at most ctgov.MAX_TITLE_CHARS characters, each at most 6
# bytes as JSON), base64 encoded: the cursors the list gives out fit; a longer one is none of ours.
MAX_CURSOR_CHARS = 4096
MAX_TERMS = 8
MAX_TERM_LENGTH = 64
_TERM_RE = re.compile(r"[^\W_]+")
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
# Column weights of the ranking: the id and title weigh most, then conditions, interventions, sponsor.
_SQLITE_BM25 = "bm25(trials_fts, 10.0, 5.0, 3.0, 2.0, 1.0)"


@dataclass
class LoadReport:
    """What one load did; counts rather than lists, so a load of millions stays small."""

    added: int = 0
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (where, problem), the first ones
    failed_count: int = 0
    notices: list[str] = field(default_factory=list)  # what receivers of trials_changed said

    def fail(self, where: str, problem: str) -> None:
        """Count a record that could not be loaded; keep the first ones' details."""
        self.failed_count += 1
        if len(self.failed) < MAX_REPORTED_FAILURES:
            self.failed.append((where, problem))


# -- Loading ------------------------------------------------------------------------


def load_records(
    paths: Iterable[Path],
    on_read: Callable[[int], None] | None = None,
    on_record: Callable[[], None] | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int = 0,
) -> LoadReport:
    """Import study files, bulk files, folders or zips; idempotent, one bad record never stops the rest."""
    entries = reader.read_entries(reader.find_record_files(paths), on_read)
    return load_entries(entries, on_record=on_record, batch_size=batch_size, workers=workers)


def default_workers(size: int) -> int:
    """Worker processes for a load reading `size` bytes: none for a small one, else one per core, two at most."""
    return 0 if size < PARALLEL_BYTES else min(MAX_WORKERS, os.cpu_count() or 1)


def load_entries(
    entries: Iterable[reader.Entry],
    on_record: Callable[[], None] | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int = 0,
) -> LoadReport:
    """Store records a batch per transaction: an interrupted load keeps the batches it committed.

    With `workers`, records are decoded, parsed and rendered in that many processes while this
    one writes (in order, a bounded number of records ahead); with none, here, rendering only
    the records whose content changed.
    """
    report = LoadReport()
    batch: list[_Record] = []
    held = 0
    for where, record in _prepared(entries, workers):
        if on_record:
            on_record()
        if isinstance(record, str):
            report.fail(where, record)
            continue
        batch.append(record)
        held += record.size
        if len(batch) >= batch_size or held >= BATCH_BYTES:
            _store_batch(batch, report)
            batch, held = [], 0
    if batch:
        _store_batch(batch, report)
    return report


class _Record(NamedTuple):
    """A parsed record on its way to the database: its columns once rendered, else its study."""

    where: str  # the file and position it was read at, for the report
    nct_id: str
    version: str
    size: int  # bytes of record JSON: what a batch holds
    study: ctgov.Study | None  # not rendered yet (a load without workers renders only what changed)
    columns: dict[str, Any] | None  # rendered: the columns of its version and of its listing


def _prepare(entry: reader.Entry, render_now: bool) -> tuple[str, _Record | str]:
    """(where, the record or its problem): decode, parse and, if asked, render one entry."""
    raw, problem = reader.study_of(entry)
    if problem is not None:
        return entry.where, problem
    try:
        # The parsed dict is several times its JSON's size; past parsing only the JSON is kept.
        study = ctgov.parse_study(raw, keep_record=False)
        columns = _columns(study) if render_now else None
    except ctgov.RecordError as exc:
        return entry.where, str(exc)
    size = len(study.record_json)
    return entry.where, _Record(entry.where, study.nct_id, study.version, size, None if render_now else study, columns)


def _prepare_chunk(chunk: list[reader.Entry]) -> list[tuple[str, _Record | str]]:
    """A worker process's part: a few entries prepared and rendered, in order."""
    return [_prepare(entry, render_now=True) for entry in chunk]


def _prepared(entries: Iterable[reader.Entry], workers: int) -> Iterator[tuple[str, _Record | str]]:
    """Each entry prepared, in order: here, or by `workers` processes, a bounded number of chunks ahead."""
    if workers <= 0:
        for entry in entries:
            yield _prepare(entry, render_now=False)
        return
    # Forked: a worker starts at once, with the code already loaded, and never touches the
    # database (it gets entries and returns columns). At most AHEAD chunks are out, so what the
    # load holds stays a few batches whatever the file's size.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        out: deque[Future[list[tuple[str, _Record | str]]]] = deque()
        for chunk in worker_chunks(entries):
            out.append(pool.submit(_prepare_chunk, chunk))
            if len(out) >= workers * CHUNKS_AHEAD:
                yield from out.popleft().result()
        while out:
            yield from out.popleft().result()


def worker_chunks(entries: Iterable[reader.Entry]) -> Iterator[list[reader.Entry]]:
    """The entries in the chunks a worker process takes: CHUNK_SIZE lines, or CHUNK_BYTES of them."""
    chunk: list[reader.Entry] = []
    held = 0
    for entry in entries:
        chunk.append(entry)
        # A record the reader already parsed (a bulk array's, a file's, a zip member's) has no
        # byte size to count: it travels alone, so what is in flight stays a few records.
        held += len(entry.raw) if entry.raw is not None else CHUNK_BYTES
        if len(chunk) >= CHUNK_SIZE or held >= CHUNK_BYTES:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


# What the listing's status and phase columns hold (String(64): PostgreSQL refuses more, and the
# batch with it). The registry's are at most 22 ("Active, not recruiting", "Early Phase 1/Phase 1").
MAX_LISTED_CODE_CHARS = 64


def _columns(study: ctgov.Study) -> dict[str, Any]:
    """The rendered columns of a study's version and listing; RecordError for a status or phase too long to list."""
    trial = render.render_trial(study)
    for path, shown in (
        ("protocolSection.statusModule.overallStatus", trial.status),
        ("protocolSection.designModule.phases", trial.phase),
    ):
        if len(shown) > MAX_LISTED_CODE_CHARS:
            raise ctgov.RecordError(path, f"is longer than {MAX_LISTED_CODE_CHARS} characters as shown")
    return {
        "title": trial.title,
        "status": trial.status,
        "phase": trial.phase,
        "conditions": "\n".join(trial.conditions),
        "interventions": "\n".join(study.interventions),
        "sponsor": trial.sponsor,
        "data_date": trial.data_date,
        "first_posted": trial.first_posted,
        "record": study.record_json,
        "canonical_text": trial.canonical_text,
        "sections": render.dump_sections(trial.sections),
    }


_VERSION_COLUMNS = ("title", "status", "phase", "conditions", "sponsor", "data_date", "first_posted")
_VERSION_TEXT = ("record", "canonical_text", "sections")
_LISTING_COLUMNS = ("title", "status", "phase", "conditions", "interventions", "sponsor")


# The key of the advisory lock a batch holds on PostgreSQL while it reads and writes the store
# ("trials" in ASCII): any constant no other lock of ours uses.
LOAD_LOCK_KEY = 0x747269616C73


def _store_batch(records: Sequence[_Record], report: LoadReport) -> None:
    # A batch reads which of its trials are stored, at which version and revision, and writes
    # what differs: two loads at once (an operator's and a cron job's) both read a trial as new
    # (or at revision n) and both wrote it, the second failing on a duplicate key or a deadlock
    # and losing the rest of its load. Batches take turns, each reading what the one before
    # committed: SQLite's write lock is taken before the read (BEGIN IMMEDIATE); on PostgreSQL a
    # transaction's advisory lock, released by its commit or rollback (or a lost connection).
    # ON CONFLICT would not do: revisions, the listing's current version and the report all
    # follow from the read. Requests never take the lock.
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})
    # Core statements, several rows each (executemany): the ORM's unit of work cost more per
    # record than parsing it. Every version is inserted; a trial's row points at its newest.
    # Version ids are taken before the inserts, so a new trial's row is written once, already
    # pointing at its version (an UPDATE after would index its search text a second time).
    current = {
        row.id: [row.version, row.revision]
        for row in db.session.execute(
            select(Trial.id, Trial.version, Trial.revision).where(Trial.id.in_({r.nct_id for r in records}))
        )
    }
    versions: list[dict[str, Any]] = []
    listings: dict[str, dict[str, Any]] = {}
    new: set[str] = set()
    now = registry.now()
    for record in records:
        state = current.get(record.nct_id)
        if state is not None and state[0] == record.version:
            report.unchanged += 1  # the content hash is the one stored: nothing is written
            continue
        try:
            columns = record.columns if record.columns is not None else _columns(cast(ctgov.Study, record.study))
        except ctgov.RecordError as exc:
            report.fail(record.where, str(exc))
            continue
        if state is None:
            state = current[record.nct_id] = [record.version, 1]
            new.add(record.nct_id)
            report.added += 1
        else:
            state[0] = record.version  # a repeat of this record later in the batch is unchanged
            state[1] += 1
        versions.append(
            {
                "trial_id": record.nct_id,
                "revision": state[1],
                "version": record.version,
                **{name: columns[name] for name in _VERSION_COLUMNS + _VERSION_TEXT},
                "loaded_at": now,
            }
        )
        listings[record.nct_id] = {
            **{name: columns[name] for name in _LISTING_COLUMNS},
            "version": record.version,
            "revision": state[1],
            "updated_at": now,
        }
    if not versions:
        db.session.rollback()  # nothing to write: end the read transaction
        return
    for version_id, values in zip(_next_version_ids(len(versions)), versions, strict=True):
        values["id"] = version_id
        listings[values["trial_id"]]["version_id"] = version_id  # in order: a trial's newest comes last
    if new:
        db.session.execute(insert(_TRIALS), [{**listings[nct], "id": nct, "loaded_at": now} for nct in new])
    db.session.execute(insert(_VERSIONS), versions)
    changed = [nct for nct in listings if nct not in new]
    if changed:
        db.session.execute(
            update(_TRIALS).where(_TRIALS.c.id == bindparam("b_id")),
            [{"b_id": nct, **listings[nct]} for nct in changed],
        )
    db.session.commit()
    if changed:
        report.changed.extend(changed)
        _announce(tuple(changed), report)


def _next_version_ids(count: int) -> list[int]:
    """`count` unused trial_versions ids, in increasing order."""
    if db.engine.dialect.name == "postgresql":
        return list(
            db.session.scalars(
                text("SELECT nextval(pg_get_serial_sequence('trial_versions', 'id')) FROM generate_series(1, :n)"),
                {"n": count},
            )
        )
    # SQLite: the load's transaction holds the write lock (BEGIN IMMEDIATE) from its first read.
    last: int = db.session.execute(select(func.coalesce(func.max(TrialVersion.id), 0))).scalar_one()
    return list(range(last + 1, last + 1 + count))


# Declarative classes with a __tablename__ map a Table (DeclarativeBase types it as FromClause).
_TRIALS = cast(Table, Trial.__table__)
_VERSIONS = cast(Table, TrialVersion.__table__)


def _announce(nct_ids: tuple[str, ...], report: LoadReport) -> None:
    # current_app is typed as Flask; it is a LocalProxy, and the signal's sender is the app itself.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for _receiver, lines in trials_changed.send(app, nct_ids=nct_ids):
        report.notices.extend(lines or ())


# -- Reading one trial --------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    sections: tuple[render.Section, ...]
    canonical_text: str
    weight: int  # the stored rendering's characters (sections and canonical text): what it costs to hold


# What a process keeps of trial renderings, in characters of their stored form. Held in memory a
# rendering takes at most about seven bytes a stored character (a record of 30,000 one-word list
# items: 4.3 MiB for 0.69 M characters; prose 1 byte; a real record 3.4, 9,700 characters), so
# the cache holds at most some 60 MiB a process, about 800 real records. Counted by entries it
# held 256 renderings whatever their size: up to a gigabyte a process on a store of records at
# the shown-text bound. A rendering over the whole budget is served and not kept.
TEXT_CACHE_CHARS = 8_000_000
_TEXTS: LRUCache[tuple[int, str], _Text] = LRUCache(maxsize=TEXT_CACHE_CHARS, getsizeof=attrgetter("weight"))


@cached(_TEXTS, lock=threading.Lock())
def _text(version_id: int, content_hash: str) -> _Text:
    # A version row never changes after import: cached by its id (and hash, so two databases
    # in one process cannot mix theirs up). Reads the stored rendering; never parses the record.
    stored = db.session.execute(
        select(TrialVersion.sections, TrialVersion.canonical_text).where(TrialVersion.id == version_id)
    ).one()
    weight = len(stored.sections) + len(stored.canonical_text)
    return _Text(render.load_sections(stored.sections), stored.canonical_text, weight)


def find_trial_row(key: str) -> Trial | None:
    """The row of a trial with a current version under its primary key, or None."""
    row = db.session.get(Trial, key)
    return row if row is not None and row.version_id is not None else None


def get_trial_row(nct_id: str) -> Trial:
    """The trial's row, or NotFound."""
    key = trial_key(nct_id)
    row = find_trial_row(key) if key else None
    if row is None:
        raise trial_not_found(nct_id)
    return row


def trial_key(nct_id: str) -> str | None:
    """The primary key an NCT number in any case is stored under, or None if it is not one."""
    key = nct_id.upper()
    return key if ctgov.NCT_RE.fullmatch(key) else None


def trial_not_found(nct_id: str) -> NotFound:
    """The error for a trial that is not in the store (a query that joined it found no row)."""
    return NotFound(gettext("No trial %(nct)r in the store.", nct=nct_id[:20]))


def get_trial(nct_id: str, version: str | None = None) -> render.Trial:
    """The trial as rendered at import: its current version, or the one `version` names."""
    row = get_trial_row(nct_id)
    stored = db.session.get(TrialVersion, row.version_id) if version is None else _find_version(row, version)
    assert stored is not None
    text_of = _text(stored.id, stored.version)
    return render.Trial(
        nct_id=row.id,
        title=stored.title,
        status=stored.status,
        phase=stored.phase,
        conditions=tuple(c for c in stored.conditions.split("\n") if c),
        sponsor=stored.sponsor,
        data_date=stored.data_date,
        first_posted=stored.first_posted,
        sections=text_of.sections,
        version=stored.version,
        canonical_text=text_of.canonical_text,
        revision=stored.revision,
    )


# Versions a note's re-anchoring walks through at most (each is a match on its text); past this
# it is placed on the current text alone, and a change is dated by the current version.
MAX_VERSIONS_WALKED = 20


def texts_after(nct_id: str, content_hash: str) -> list[tuple[str, str | None]] | None:
    """(canonical text, data date) of each version after the last one with `content_hash`, oldest first.

    The current version comes last. None when the trial never had that version, or more than
    MAX_VERSIONS_WALKED came after it. Each text is the stored rendering (cached by version).
    """
    row = get_trial_row(nct_id)
    start = db.session.scalar(
        select(func.max(TrialVersion.revision)).where(
            TrialVersion.trial_id == row.id, TrialVersion.version == content_hash
        )
    )
    if start is None:
        return None
    later = db.session.execute(
        select(TrialVersion.id, TrialVersion.version, TrialVersion.data_date)
        .where(TrialVersion.trial_id == row.id, TrialVersion.revision > start, TrialVersion.revision <= row.revision)
        .order_by(TrialVersion.revision)
        .limit(MAX_VERSIONS_WALKED + 1)
    ).all()
    if len(later) > MAX_VERSIONS_WALKED:
        return None
    return [(_text(v.id, v.version).canonical_text, v.data_date) for v in later]


def _find_version(row: Trial, wanted: str) -> TrialVersion:
    """A version by revision number ("3") or content hash; NotFound if the trial never had it."""
    query = select(TrialVersion).where(TrialVersion.trial_id == row.id)
    if wanted.isascii() and wanted.isdigit() and len(wanted) <= 9:  # not "²", which int() refuses
        query = query.where(TrialVersion.revision == int(wanted))
    elif _HASH_RE.match(wanted):
        query = query.where(TrialVersion.version == wanted).order_by(TrialVersion.revision.desc()).limit(1)
    else:
        raise Invalid(
            gettext("The version is not valid."),
            errors={"version": gettext("must be a revision number or a content version (64 hex digits)")},
        )
    stored = db.session.scalars(query).first()
    if stored is None:
        raise NotFound(gettext("Trial %(nct)s has no version %(version)r.", nct=row.id, version=wanted[:64]))
    return stored


# -- Cursors ------------------------------------------------------------------------


def encode_cursor(payload: dict[str, Any]) -> str:
    """An opaque cursor: the keyset position and the list it belongs to."""
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def bad_cursor(problem: str | None = None) -> BadRequest:
    """A cursor this list did not give out: a 400 problem, as on every list (notes_service/paging.py)."""
    return BadRequest(
        paging.bad_cursor_detail(), errors={"cursor": problem or gettext("is not a cursor from this list")}
    )


def decode_cursor(cursor: str, kind: str) -> dict[str, Any]:
    """The payload of a cursor of `kind`, or a 400 problem naming `cursor`."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise bad_cursor()
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_cursor() from None
    if not isinstance(payload, dict) or payload.get("k") != kind or payload.get("d") not in ("n", "p"):
        raise bad_cursor()
    return payload


def _page_size(limit: str | int | None) -> int:
    if limit is None or limit == "":
        return PAGE_SIZE
    value = str(limit)
    if not (value.isascii() and value.isdigit() and len(value) <= 6) or not 1 <= int(value) <= MAX_PAGE_SIZE:
        # As paging.parse_page_request answers a bad limit on every other list.
        raise BadRequest(
            gettext("limit must be a whole number from 1 to %(most)s.", most=MAX_PAGE_SIZE),
            errors={"limit": gettext("must be a whole number from 1 to %(most)s", most=MAX_PAGE_SIZE)},
        )
    return int(value)


# -- Listing and searching ----------------------------------------------------------


@dataclass(frozen=True)
class TrialPage:
    """One page of trials, with the cursors of its neighbours (None at either end)."""

    trials: list[Trial]
    next: str | None
    previous: str | None
    matches: int | None = None  # searches: how many matches were ranked
    capped: bool = False  # searches: more matched than MAX_RANKED


def search_terms(query: str | None) -> list[str]:
    """The words of a query, lower-cased: letters and digits only, so no query syntax gets through."""
    return [t[:MAX_TERM_LENGTH] for t in _TERM_RE.findall((query or "").lower())][:MAX_TERMS]


def list_trials(
    keyword: str | None = None, condition: str | None = None, cursor: str | None = None, limit: str | int | None = None
) -> TrialPage:
    """A page of trials: by title, or ranked by full-text search when there are words to search."""
    size = _page_size(limit)
    words, condition_words = search_terms(keyword), search_terms(condition)
    if words or condition_words:
        return _search_page(words, condition_words, cursor, size)
    return _title_page(cursor, size)


def _title_page(cursor: str | None, size: int) -> TrialPage:
    query = select(Trial).where(Trial.version_id.is_not(None))
    forward = True
    if cursor:
        payload = decode_cursor(cursor, "title")
        title, nct = _keyset(payload, str)
        forward = payload["d"] == "n"
        if forward:
            query = query.where(or_(Trial.title > title, and_(Trial.title == title, Trial.id > nct)))
        else:
            query = query.where(or_(Trial.title < title, and_(Trial.title == title, Trial.id < nct)))
    order = (Trial.title, Trial.id) if forward else (Trial.title.desc(), Trial.id.desc())
    rows = list(db.session.scalars(query.order_by(*order).limit(size + 1)))
    rows, more = paging.cut_to_budget(rows[:size], _listed_bytes, len(rows) > size)
    if not forward:
        rows.reverse()
    if not rows:
        return TrialPage([], None, None)

    def at(row: Trial, direction: str) -> str:
        return encode_cursor({"k": "title", "d": direction, "v": [row.title, row.id]})

    has_next = more if forward else True
    has_previous = bool(cursor) if forward else more
    return TrialPage(rows, at(rows[-1], "n") if has_next else None, at(rows[0], "p") if has_previous else None)


def _listed_bytes(row: Trial) -> int:
    """At most the bytes a trial takes in a list's JSON (its summary): a bound, computed without encoding.

    Titles, conditions, status and phase (up to MAX_LISTED_CODE_CHARS each) are the summary's
    long parts; escaped as JSON (\\uXXXX, two for a character past the BMP) a character takes at
    most 12 bytes. The rest is under 512.
    """
    return 12 * (len(row.title) + len(row.conditions) + len(row.status) + len(row.phase)) + 512


def _keyset(payload: dict[str, Any], first: type) -> tuple[Any, str]:
    # Only what this service writes in a cursor reaches SQL: a title as stored (text within the
    # bound on titles), a finite score, an NCT number. A lone surrogate, a NUL (which PostgreSQL
    # refuses in text) or a huge number was a 500.
    value = payload.get("v")
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], first)
        or isinstance(value[0], bool)
        or not isinstance(value[1], str)
        or not ctgov.NCT_RE.fullmatch(value[1])
    ):
        raise bad_cursor()
    key = value[0]
    if isinstance(key, str) and not ctgov.is_stored_text(key, ctgov.MAX_TITLE_CHARS):
        raise bad_cursor()
    if isinstance(key, float) and not math.isfinite(key):
        raise bad_cursor()
    return key, value[1]


def _is_revision(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _query_digest(words: list[str], condition_words: list[str]) -> str:
    return hashlib.sha256(json.dumps([words, condition_words]).encode()).hexdigest()[:16]


def _search_page(words: list[str], condition_words: list[str], cursor: str | None, size: int) -> TrialPage:
    digest = _query_digest(words, condition_words)
    key: tuple[float, str] | None = None
    forward = True
    if cursor:
        payload = decode_cursor(cursor, "rank")
        if payload.get("q") != digest:
            raise bad_cursor(gettext("belongs to another search"))
        key = _keyset(payload, float)
        forward = payload["d"] == "n"
    found = _ranked_page(words, condition_words, key, forward, size)
    wanted = found.entries[:size]
    by_id = {row.id: row for row in db.session.scalars(select(Trial).where(Trial.id.in_([n for _, n in wanted])))}
    # Going back, the entries come best first but the page ends at the cursor: cut from its far end.
    ordered = wanted if forward else wanted[::-1]
    chosen, cut = paging.cut_to_budget(
        ordered, lambda entry: _listed_bytes(by_id[entry[1]]) if entry[1] in by_id else 0, more=False
    )
    if forward:
        start, has_next = found.before, len(found.entries) > size or cut
    else:
        chosen.reverse()
        start, has_next = found.before - len(chosen), found.before < found.total
    rows = [by_id[n] for _, n in chosen if n in by_id]

    def at(entry: tuple[float, str], direction: str) -> str:
        return encode_cursor({"k": "rank", "d": direction, "q": digest, "v": [entry[0], entry[1]]})

    return TrialPage(
        rows,
        at(chosen[-1], "n") if chosen and has_next else None,
        at(chosen[0], "p") if chosen and start > 0 else None,
        matches=found.total,
        capped=found.total >= MAX_RANKED,
    )


@dataclass(frozen=True)
class _RankedPage:
    entries: list[tuple[float, str]]  # (score, NCT id) of the page, best first (one more when going forward)
    total: int  # matches ranked, at most MAX_RANKED
    before: int  # ranked matches before the page


# The ranking, sorting and paging of a search, in one statement on either database: the first
# MAX_RANKED matches the index yields (`matches`, per database) are ranked, and only a page of
# them (and two counts) comes back. Ranked by score, best first, ties by NCT number; the cursor
# is the last (or first) entry's (score, id), compared exactly (scores are doubles both ways).
# A match is carried by its `match_key` (`_KEYS`): on SQLite the NCT number as an integer (the
# index's row id), written out as an id for the page's rows only: writing every match's id
# and sorting them as text was 15% of a broad search at 100,000 trials (0.3 of 2.0 ms).
_RANKED_PAGE = (
    "WITH matches AS MATERIALIZED ({matches}) "
    "SELECT s.total, s.before, {page_id} AS id, p.score "
    "FROM (SELECT count(*) AS total, {before} AS before FROM matches) AS s "
    "LEFT JOIN (SELECT match_key, score FROM matches {where} ORDER BY {order} LIMIT :take) AS p ON 1 = 1 "
    "ORDER BY p.score DESC, p.match_key"
)
_AFTER_KEY = "score < :score OR (score = :score AND match_key > :key)"
_UP_TO_KEY = "score > :score OR (score = :score AND match_key <= :key)"
_BEFORE_KEY = "score > :score OR (score = :score AND match_key < :key)"
# Which rows a page takes: (rows before it counted, its rows, their order), by direction.
_PAGE_PARTS = {
    None: ("0", "", "score DESC, match_key"),
    "n": (f"count(*) FILTER (WHERE {_UP_TO_KEY})", f"WHERE {_AFTER_KEY}", "score DESC, match_key"),
    "p": (f"count(*) FILTER (WHERE {_BEFORE_KEY})", f"WHERE {_BEFORE_KEY}", "score, match_key DESC"),
}
# Per database: a page row's id from its key, and a cursor's NCT id as a key.
_KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "sqlite": ("printf('NCT%08d', p.match_key)", lambda nct: int(nct[3:])),
    "postgresql": ("p.match_key", lambda nct: nct),
}
# A search's matches with their scores (`:match`, `:cap`), per database. SQLite: the index's
# row id is the NCT number (migration 0010), so the index alone answers, no row of text is
# read per match (reading each match's id from a copy of the text grew with the store); bm25
# with column weights. PostgreSQL: the vectors are read from `trial_search` (id, search, kept
# by a trigger on `trials`, migration 0015): each match read from `trials` walked a row of four
# text columns to reach its vector, most of a broad search at 100,000 trials; the query is parsed
# once, in FROM (as an argument of ts_rank a prepared statement's generic plan parsed it again
# for every ranked row).
_MATCHES = {
    "sqlite": f"SELECT rowid AS match_key, -{_SQLITE_BM25} AS score FROM trials_fts "  # noqa: S608
    "WHERE trials_fts MATCH :match LIMIT :cap",
    "postgresql": "SELECT t.id AS match_key, CAST(ts_rank(t.search, q) AS double precision) AS score "
    "FROM to_tsquery('english', :match) AS q, trial_search AS t WHERE t.search @@ q LIMIT :cap",
}


# The beginning of an NCT number, alone in a query ("NCT0708", any case): the trials whose own
# number begins so are read from the primary key, in number order (every one scores the same).
# Searched as a word prefix, it made the index merge one entry per number it begins (each NCT
# number is a word of its own): at 100,000 trials "NCT9000" merged 10,000 of them, the slowest
# search on SQLite (4.1 ms against 1.1 for a whole number). Ids are "NCT" and 8 digits
# (ctgov.NCT_RE), so the numbers that begin with the digits are those between the digits
# padded with zeros and with nines, in any collation; the search index also held ids quoted in
# other trials' text, which were never what such a query means.
_NCT_PREFIX = re.compile(r"nct([0-9]{1,7})")
_BY_NCT = {
    dialect: f"SELECT {key} AS match_key, CAST(0 AS {kind}) AS score FROM trials "  # noqa: S608 - no input in the text
    "WHERE id BETWEEN :low AND :high AND version_id IS NOT NULL ORDER BY id LIMIT :cap"
    for dialect, key, kind in (
        ("sqlite", "CAST(substr(id, 4) AS INTEGER)", "REAL"),
        ("postgresql", "id", "double precision"),
    )
}


def _ranked_page(
    words: list[str], condition_words: list[str], key: tuple[float, str] | None, forward: bool, size: int
) -> _RankedPage:
    # Whole words first: an index reads a word's matches lazily, up to the cap, but a prefix
    # (`word*`) has every word it begins merged first, all of their matches, and the ranking
    # counts them all again: at 100,000 trials most of a broad search's time, growing with the
    # store (profiled). When the whole words alone fill the cap, the prefixes could only add to
    # the matches left unranked anyway; otherwise the prefixes are searched, as before.
    dialect = "postgresql" if db.engine.dialect.name == "postgresql" else "sqlite"
    before, where, order = _PAGE_PARTS[None if key is None else "n" if forward else "p"]

    page_id, key_of = _KEYS[dialect]

    def ranked(matches: str) -> Any:
        return text(_RANKED_PAGE.format(matches=matches, page_id=page_id, before=before, where=where, order=order))

    values: dict[str, Any] = {"cap": MAX_RANKED, "take": size + 1 if forward else size}
    if key is not None:
        values.update(score=key[0], key=key_of(key[1]))
    number = _NCT_PREFIX.fullmatch(words[0]) if len(words) == 1 and not condition_words else None
    if number is not None:
        digits = number.group(1)
        bounds = {"low": f"NCT{digits.ljust(8, '0')}", "high": f"NCT{digits.ljust(8, '9')}"}
        rows = db.session.execute(ranked(_BY_NCT[dialect]), {**values, **bounds}).all()
    else:
        statement, match = ranked(_MATCHES[dialect]), _sqlite_match if dialect == "sqlite" else _postgresql_match
        rows = db.session.execute(statement, {**values, "match": match(words, condition_words, prefix=False)}).all()
        if rows[0].total < MAX_RANKED:
            rows = db.session.execute(statement, {**values, "match": match(words, condition_words, prefix=True)}).all()
    entries = [(float(row.score), row.id) for row in rows if row.score is not None]  # none: no page (the counts only)
    return _RankedPage(entries, int(rows[0].total), int(rows[0].before))


def _sqlite_match(words: list[str], condition_words: list[str], prefix: bool) -> str:
    # Each word quoted (a phrase of one token), with a prefix star when asked: words are letters and digits only.
    star = "*" if prefix else ""
    return " AND ".join([f'"{w}"{star}' for w in words] + [f'conditions : "{w}"{star}' for w in condition_words])


def _postgresql_match(words: list[str], condition_words: list[str], prefix: bool) -> str:
    # Prefix matches are `word:*`; conditions carry weight B in `search`, so `:B` keeps to them.
    star = ":*" if prefix else ":"
    return " & ".join([f"{w}{star}" if prefix else w for w in words] + [f"{w}{star}B" for w in condition_words])


# -- Versions -----------------------------------------------------------------------


@dataclass(frozen=True)
class VersionPage:
    """One page of a trial's versions, newest first."""

    trial: Trial
    versions: list[Any]
    next: str | None


def list_versions(nct_id: str, cursor: str | None = None, limit: str | int | None = None) -> VersionPage:
    """A trial's stored versions, newest first, a page at a time."""
    row = get_trial_row(nct_id)
    size = _page_size(limit)
    query = select(TrialVersion.revision, TrialVersion.version, TrialVersion.data_date, TrialVersion.loaded_at).where(
        TrialVersion.trial_id == row.id
    )
    if cursor:
        payload = decode_cursor(cursor, "versions")
        revision = payload.get("v")
        if payload["d"] != "n" or payload.get("t") != row.id or not _is_revision(revision):
            raise bad_cursor()
        query = query.where(TrialVersion.revision < revision)
    versions = db.session.execute(query.order_by(TrialVersion.revision.desc()).limit(size + 1)).all()
    # A data date is a record's text (up to ctgov.MAX_SHOWN_CHARS): a page stops within the budget.
    versions, more = paging.cut_to_budget(versions[:size], _version_bytes, len(versions) > size)
    following = encode_cursor({"k": "versions", "d": "n", "t": row.id, "v": versions[-1].revision}) if more else None
    return VersionPage(row, list(versions), following)


def _version_bytes(version: Any) -> int:
    """At most the bytes a version takes in its list's JSON: 12 a character of its data date, the rest under 512."""
    return 12 * len(version.data_date or "") + 512
