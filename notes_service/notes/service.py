"""Notebooks and notes: the rules, the encryption at rest, and the owner checks.

Every note's payload (selectors, body, colour, anchor state) is sealed with its
notebook's data key and associated data binding it to (notebook, note, format
version); the database holds only ciphertext, token hashes and wrapped keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Integer, Row, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import crypto, registry
from ..errors import Busy, Invalid
from ..extensions import db
from ..paging import PageRequest
from ..trials import service as trials
from ..trials.models import Trial
from .anchoring import MAX_EXACT, Quote, locate_exact, quote_for_range, quote_to_selectors
from .auth import check_token, owned_or_404, token_digest
from .models import KeyCheck, Note, Notebook
from .sanitize import sanitize_body
from .schemas import ANCHORED, MAX_BODY_CHARS, NoteInput, NotePatch, NotePayload

FORMAT_VERSION = 1


@dataclass(frozen=True)
class NoteView:
    """A decrypted note, or an unreadable one (`readable` False, no content)."""

    id: str
    trial_id: str
    created_at: datetime
    updated_at: datetime
    readable: bool = True
    selectors: list[dict[str, Any]] = field(default_factory=list)
    body: str = ""
    color: str = "yellow"
    anchor: str = ANCHORED

    @classmethod
    def of(cls, note: Any, payload: NotePayload) -> NoteView:
        """The view of a note row and its opened payload."""
        return cls(id=note.id, trial_id=note.trial_id, created_at=note.created_at, updated_at=note.updated_at,
                   selectors=payload.selector, body=payload.body, color=payload.color, anchor=payload.anchor)

    def payload(self, **changes: Any) -> NotePayload:
        """This note's payload, with `changes` (selector, body, color, anchor) made."""
        return NotePayload(**{"selector": self.selectors, "body": self.body, "color": self.color,
                              "anchor": self.anchor, **changes})

    @property
    def quote(self) -> str:
        """The highlighted text."""
        for selector in self.selectors:
            if selector.get("type") == "TextQuoteSelector":
                return str(selector.get("exact", ""))
        return ""

    @property
    def position(self) -> tuple[int, int] | None:
        """(start, end) in the trial's canonical text, when known."""
        for selector in self.selectors:
            if selector.get("type") == "TextPositionSelector":
                return int(selector["start"]), int(selector["end"])
        return None


def _new_id() -> str:
    return uuid.uuid4().hex


def dek_context(notebook_id: str) -> bytes:
    """The context a notebook's data key is wrapped under."""
    # Binds a wrapped key to its notebook: a wrapped key copied to another row fails to unwrap.
    return b"notebook:" + notebook_id.encode("ascii")


# -- Notebooks ---------------------------------------------------------------------


def create_notebook() -> tuple[Notebook, str]:
    """A new notebook and its token (returned this once, stored only as a hash)."""
    token = crypto.new_token(32)
    notebook_id = _new_id()
    kek_id, wrapped = crypto.wrap_data_key(registry.keyring(), crypto.new_data_key(), dek_context(notebook_id))
    notebook = Notebook(id=notebook_id, token_hash=crypto.hash_token(token), kek_id=kek_id,
                        wrapped_dek=wrapped, created_at=registry.now())
    db.session.add(notebook)
    db.session.commit()
    return notebook, token


def delete_notebook(notebook: Notebook) -> None:
    """Erase the wrapped data key first (crypto-shredding), then the notebook and all it holds."""
    notebook_id = notebook.id
    db.session.execute(
        update(Notebook).where(Notebook.id == notebook_id).values(wrapped_dek=None, kek_id=None)
    )
    # Committed on its own: whatever happens next, the notes can no longer be decrypted.
    db.session.commit()
    # The foreign keys cascade (ON DELETE CASCADE, enforced on SQLite by PRAGMA foreign_keys on
    # every connection): its notes, its shares and what those hold go in the same statement, so
    # this module needs to know nothing of the tables that belong to notebooks.
    db.session.execute(delete(Notebook).where(Notebook.id == notebook_id))
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        _erase_sqlite_log()


# How long erasing a deleted notebook from SQLite's log waits for readers and writers to finish.
ERASE_WAIT_MS = 30_000


def _erase_sqlite_log() -> None:
    """Copy the write-ahead log into the database file, then empty the log; Busy if it cannot."""
    # secure_delete zeroed the deleted rows (and freed pages) in the pages the delete wrote, but
    # the log still holds the earlier images of those pages: the wrapped key, the ciphertexts.
    # TRUNCATE waits (busy handler) for every reader to leave the log, even one on an old
    # snapshot, then writes the pages back and cuts the log to zero bytes.
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        usual_wait = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout={int(ERASE_WAIT_MS)}")
        busy, _frames, _copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.execute(f"PRAGMA busy_timeout={int(usual_wait)}")
        cursor.close()
    finally:
        raw.close()
    if busy:
        current_app.logger.warning("a deleted notebook is still in the SQLite log: the checkpoint was blocked")
        raise Busy("Your notebook is deleted and can no longer be opened, but the database stayed busy, so "
                   "its last copies in the database log are not erased yet; that happens at the next "
                   "notebook deletion or restart.", retry_after=None)


def data_key(notebook: Notebook) -> bytes:
    """The notebook's unwrapped data key."""
    if notebook.wrapped_dek is None or notebook.kek_id is None:
        raise crypto.DecryptionError("the notebook's data key was erased")
    return crypto.unwrap_data_key(registry.keyring(), notebook.kek_id, notebook.wrapped_dek, dek_context(notebook.id))


# -- Sealing -----------------------------------------------------------------------


def seal_payload(dek: bytes, notebook_id: str, note_id: str, payload: NotePayload) -> bytes:
    """Encrypt a note's payload, bound to its notebook, its id and the format version."""
    return crypto.seal(dek, payload.plaintext(), crypto.note_aad(notebook_id, note_id, FORMAT_VERSION))


def open_note(dek: bytes | None, note: Note | Row[Any]) -> NoteView:
    """Decrypt a note row; a row that fails to decrypt is returned as unreadable, never raised."""
    if dek is not None and note.format_version == FORMAT_VERSION:
        try:
            aad = crypto.note_aad(note.notebook_id, note.id, note.format_version)
            payload = NotePayload.from_plaintext(crypto.open_sealed(dek, note.ciphertext, aad))
        except (crypto.CryptoError, ValueError):
            pass
        else:
            return NoteView.of(note, payload)
    current_app.logger.warning("note %s could not be decrypted", note.id)
    return NoteView(id=note.id, trial_id=note.trial_id, created_at=note.created_at,
                    updated_at=note.updated_at, readable=False)


def safe_data_key(notebook: Notebook) -> bytes | None:
    """The notebook's data key, or None (logged by id) when it cannot be unwrapped."""
    try:
        return data_key(notebook)
    except crypto.CryptoError:
        current_app.logger.warning("data key of notebook %s could not be unwrapped", notebook.id)
        return None


# -- Notes -------------------------------------------------------------------------


def _anchor_quote(trial_id: str, quote: Quote) -> tuple[list[dict[str, Any]], str]:
    trial = trials.get_trial(trial_id)
    text = trial.canonical_text
    anchor = locate_exact(text, quote)
    if anchor is None:
        raise Invalid(
            "The highlighted text was not found in this trial.",
            errors={"target.selector[0].exact": "does not occur in the trial's text"},
        )
    if anchor.end - anchor.start > MAX_EXACT:
        # White space folds when matching, so the passage found may be longer than the quote
        # sent: the bound holds for what is stored and returned.
        raise Invalid("The highlighted passage is too long.",
                      errors={"target.selector[0].exact": f"the passage must be at most {MAX_EXACT} characters"})
    # Store selectors measured on our canonical text: the position becomes authoritative.
    return quote_to_selectors(quote_for_range(text, anchor.start, anchor.end)), trial.version


@dataclass(frozen=True)
class NoteSlice:
    """Up to a page of notes, decrypted one at a time as they are read, and whether more follow."""

    notes: Iterator[NoteView]
    more: bool
    total: int | None = None


def _keyset_after(columns: tuple[Any, ...], after: tuple[Any, ...]) -> Any:
    """Rows strictly after `after` in the order of `columns` (a lexicographic keyset condition)."""
    column, *rest = columns
    value, *rest_values = after
    if not rest:
        return column > value
    return or_(column > value, and_(column == value, _keyset_after(tuple(rest), tuple(rest_values))))


# Rows are fetched with their payloads a few hundred KiB of ciphertext at a time while a page
# fills (the id query reads each payload's length, not the payload): a page of large notes
# stops at the byte budget after a few dozen, so the rest of the page's payloads are never
# loaded, and a page of small notes comes in one query.
FETCH_BYTES = 512 * 1024
NOTE_ORDER = (Note.created_at, Note.id)
_NOTES = Note.__table__
# What decrypting and presenting a note needs, read as plain rows (no ORM objects on the read path).
_NOTE_COLUMNS = tuple(_NOTES.c[name] for name in (
    "id", "notebook_id", "trial_id", "format_version", "ciphertext", "created_at", "updated_at"))


def _slice(notebook: Notebook, ids: Any, order: tuple[Any, ...], page: PageRequest,
           total: int | None = None) -> NoteSlice:
    """A page of notes: `ids` selects the candidates' ids, `order` is the page's sort key."""
    if page.after is not None:
        ids = ids.where(_keyset_after(order, page.after))
    # Two steps: the page's ids first (sorting only keys), then those rows with their payloads.
    # Sorting whole rows would make SQLite sort every candidate's ciphertext (240 MB for a
    # full notebook) to keep one page of it. One more id than asked tells whether more follow.
    sized = ids.add_columns(func.length(Note.ciphertext)).order_by(*order).limit(page.limit + 1)
    return _page_of(notebook, [tuple(row) for row in db.session.execute(sized)], page, total)


def _page_of(notebook: Any, sized_ids: list[tuple[str, int]], page: PageRequest,
             total: int | None = None) -> NoteSlice:
    """The slice for up to limit + 1 (id, payload length) pairs, in page order."""
    more = len(sized_ids) > page.limit
    sized_ids = sized_ids[: page.limit]
    dek = safe_data_key(notebook) if sized_ids else None
    return NoteSlice(notes=_open_in_chunks(dek, sized_ids), more=more, total=total)


def _chunks(sized_ids: list[tuple[str, int]]) -> Iterator[list[str]]:
    """The ids in order, in runs of at most FETCH_BYTES of payload (at least one id each)."""
    chunk: list[str] = []
    used = 0
    for note_id, size in sized_ids:
        if chunk and used + (size or 0) > FETCH_BYTES:
            yield chunk
            chunk, used = [], 0
        chunk.append(note_id)
        used += size or 0
    if chunk:
        yield chunk


# Built once: a statement object keeps its compiled form's cache key, so a read neither
# rebuilds nor re-keys it (profiled: building and keying the selects was about a tenth of a read's Python time).
_CHUNK_QUERY = select(*_NOTE_COLUMNS).where(_NOTES.c.id.in_(bindparam("ids", expanding=True)))


def _open_in_chunks(dek: bytes | None, sized_ids: list[tuple[str, int]]) -> Iterator[NoteView]:
    """The notes with these ids, in this order, loaded and decrypted a chunk at a time."""
    connection = db.session.connection()
    for chunk in _chunks(sized_ids):
        by_id = {row.id: row for row in connection.execute(_CHUNK_QUERY, {"ids": chunk})}
        # A note deleted since its id was read is simply not in the page.
        yield from (open_note(dek, by_id[note_id]) for note_id in chunk if note_id in by_id)


def stored_body(text: str) -> str:
    """The sanitized body as it is stored and returned, within MAX_BODY_CHARS; else Invalid.

    Sanitizing escapes markup it does not keep ("<" becomes "&lt;", "&" becomes "&amp;"),
    so a body within the limit as typed can come out five times longer: the limit is
    checked on what is stored, which bounds every response that holds the note.
    """
    body = sanitize_body(text)
    if len(body) > MAX_BODY_CHARS:
        raise Invalid("The note is too long once its markup is made safe.", errors={
            "body": f"must be at most {MAX_BODY_CHARS} characters as stored; characters such as < and & "
                    f"are stored escaped (&lt;, &amp;) and this one comes to {len(body)}"})
    return body


def list_notes(notebook: Notebook, trial_id: str, page: PageRequest) -> NoteSlice:
    """A page of my notes on a trial, oldest first; unreadable ones included and marked."""
    row = trials.get_trial_row(trial_id)
    ids = select(Note.id).where(Note.notebook_id == notebook.id, Note.trial_id == row.id)
    return _slice(notebook, ids, NOTE_ORDER, page)


_NOTEBOOKS = Notebook.__table__
_TRIALS = Trial.__table__


def _my_page_query(after: bool) -> Any:
    """Notebook by token hash, the trial, and a page of note ids with payload lengths: one statement.

    Outer joins: a row comes back whenever the notebook exists, its trial id null when there
    is no such trial, its note id null when there is no note on the page.
    """
    notes, trial, notebooks = _NOTES.c, _TRIALS.c, _NOTEBOOKS.c
    note_on = and_(notes.notebook_id == notebooks.id, notes.trial_id == trial.id)
    if after:
        keyset = _keyset_after((notes.created_at, notes.id), (bindparam("after_at"), bindparam("after_id")))
        note_on = and_(note_on, keyset)
    return (
        select(notebooks.id, notebooks.token_hash, notebooks.kek_id, notebooks.wrapped_dek,
               trial.id.label("trial_id"), notes.id.label("note_id"), func.length(notes.ciphertext).label("size"))
        .select_from(_NOTEBOOKS)
        .outerjoin(_TRIALS, and_(trial.id == bindparam("trial"), trial.version_id.is_not(None)))
        .outerjoin(_NOTES, note_on)
        .where(notebooks.token_hash == bindparam("digest"))
        .order_by(notes.created_at, notes.id)
        .limit(bindparam("limit", type_=Integer))
    )


_MY_PAGE_QUERY = {after: _my_page_query(after) for after in (False, True)}


def my_notes_on_trial(token: str | None, trial_id: str, page: PageRequest) -> NoteSlice:
    """`list_notes` for the notebook of a bearer token, in two queries (the API's hot read).

    The first finds the notebook, the trial and the page's note ids (`_my_page_query`), the
    second loads the page's payloads (one query per FETCH_BYTES of them). Unauthorized comes
    before NotFound, as with `current_notebook` then `list_notes`.
    """
    values: dict[str, Any] = {"digest": token_digest(token), "trial": trials.trial_key(trial_id) or "",
                              "limit": page.limit + 1}
    if page.after is not None:
        values["after_at"], values["after_id"] = page.after
    rows = db.session.connection().execute(_MY_PAGE_QUERY[page.after is not None], values).all()
    first = check_token(token or "", rows[0] if rows else None)
    if first.trial_id is None:
        raise trials.trial_not_found(trial_id)
    return _page_of(first, [(row.note_id, row.size) for row in rows if row.note_id is not None], page)


def create_note(notebook: Notebook, trial_id: str, data: NoteInput) -> NoteView:
    """Anchor, sanitize, encrypt and store a new note."""
    assert data.quote is not None
    row = trials.get_trial_row(trial_id)
    selectors, version = _anchor_quote(row.id, data.quote)
    body = stored_body(data.body or "")  # before the lock: sanitizing takes a while
    # Lock the notebook row (PostgreSQL) so concurrent creates cannot pass the limit together;
    # SQLite serializes writers with BEGIN IMMEDIATE already.
    db.session.execute(select(Notebook.id).where(Notebook.id == notebook.id).with_for_update())
    count = db.session.execute(
        select(func.count()).select_from(Note).where(Note.notebook_id == notebook.id)).scalar_one()
    limit = registry.settings().max_notes_per_notebook
    if count >= limit:
        raise Invalid(f"A notebook holds at most {limit} notes.", errors={"(notebook)": "is full"})
    now = registry.now()
    note = Note(id=_new_id(), notebook_id=notebook.id, trial_id=row.id, format_version=FORMAT_VERSION,
                anchored_version=version, created_at=now, updated_at=now)
    payload = NotePayload(selector=selectors, body=body, color=data.color, anchor=ANCHORED)
    dek = data_key(notebook)
    note.ciphertext = seal_payload(dek, notebook.id, note.id, payload)
    db.session.add(note)
    db.session.commit()
    return open_note(dek, note)


def _owned_note(notebook: Notebook, note_id: str) -> Note:
    return owned_or_404(Note, notebook, note_id, "note")


def get_note(notebook: Notebook, note_id: str) -> NoteView:
    """One of my notes."""
    return open_note(safe_data_key(notebook), _owned_note(notebook, note_id))


def update_note(notebook: Notebook, note_id: str, data: NotePatch) -> NoteView:
    """Change a note's target, body or colour; re-encrypted with a fresh nonce."""
    note = _owned_note(notebook, note_id)
    dek = data_key(notebook)
    current = open_note(dek, note)
    if not current.readable:
        raise Invalid("This note cannot be read, so it cannot be edited. You can delete it.",
                      errors={"(note)": "is unreadable"})
    selectors, anchor, version = current.selectors, current.anchor, note.anchored_version
    if data.quote is not None:
        selectors, version = _anchor_quote(note.trial_id, data.quote)
        anchor = ANCHORED
    payload = current.payload(selector=selectors, anchor=anchor,
                              body=stored_body(data.body) if data.body is not None else current.body,
                              color=data.color or current.color)
    note.ciphertext = seal_payload(dek, notebook.id, note.id, payload)
    note.anchored_version = version
    note.updated_at = registry.now()
    db.session.commit()
    return open_note(dek, note)


def delete_note(notebook: Notebook, note_id: str) -> None:
    """Delete one of my notes."""
    note = _owned_note(notebook, note_id)
    db.session.delete(note)
    db.session.commit()


def export_notes(notebook: Notebook, page: PageRequest) -> NoteSlice:
    """A page of every note of the notebook, by trial then age, with the notebook's note count."""
    total = db.session.scalar(select(func.count()).select_from(Note).where(Note.notebook_id == notebook.id))
    ids = select(Note.id).where(Note.notebook_id == notebook.id)
    return _slice(notebook, ids, (Note.trial_id, Note.created_at, Note.id), page, total=total)


def shared_notes_page(notebook: Notebook, share_id: str, trial_id: str, page: PageRequest) -> NoteSlice:
    """A page of a share's notes on its trial, in creation order (readable or not: the caller filters)."""
    from ..shares.models import share_notes  # shares point at notes; the query joins through them

    ids = (select(Note.id).join(share_notes, share_notes.c.note_id == Note.id)
           .where(share_notes.c.share_id == share_id, Note.notebook_id == notebook.id, Note.trial_id == trial_id))
    total = db.session.scalar(select(func.count()).select_from(ids.subquery()))
    return _slice(notebook, ids, NOTE_ORDER, page, total=total)


def reseal(notebook: Notebook, note: Note, view: NoteView, *, selectors: list[dict[str, Any]],
           anchor: str, version: str, dek: bytes) -> None:
    """Store new selectors and anchor state for a note (used by re-anchoring)."""
    note.ciphertext = seal_payload(dek, notebook.id, note.id, view.payload(selector=selectors, anchor=anchor))
    note.anchored_version = version


# -- Key management ----------------------------------------------------------------


def kek_usage() -> dict[str, int]:
    """How many notebooks' data keys each key-encryption key protects."""
    rows = db.session.execute(
        select(Notebook.kek_id, func.count()).where(Notebook.kek_id.is_not(None)).group_by(Notebook.kek_id)
    ).all()
    return {kek_id: count for kek_id, count in rows if kek_id is not None}  # (NULL is filtered out above)


def missing_keks(ring: crypto.Keyring) -> list[str]:
    """Key ids that protect data in the database but are not configured."""
    return sorted(kek_id for kek_id in kek_usage() if not ring.has(kek_id))


# A key id with data but no check value yet (written before checks existed) is proven by
# unwrapping data keys under it: one that opens proves the bytes (an AES-GCM tag does not open
# under other bytes); a few are tried so one damaged wrapped key does not stop the service.
PROOF_SAMPLE = 5


def mismatched_keks(ring: crypto.Keyring, *, store: bool = True) -> list[str]:
    """Configured key ids whose bytes are not the ones their check value (or their data) was made with.

    A key id without a check value gets one, made from the configured bytes, once they are
    proven on its data (or if nothing is under it yet). `store=False` (the key_checks table is
    not migrated yet) only proves keys on their data.
    """
    wrong = []
    for kek_id in ring.ids:
        check = db.session.get(KeyCheck, kek_id) if store else None
        if check is None and not _opens_data_under(ring, kek_id):
            wrong.append(kek_id)
            continue
        if check is None and store:
            check = _store_key_check(ring, kek_id)
        if check is not None and not crypto.key_check_matches(ring, kek_id, check.check_value):
            wrong.append(kek_id)
    return wrong


def _opens_data_under(ring: crypto.Keyring, kek_id: str) -> bool:
    sample = db.session.execute(
        select(Notebook.id, Notebook.wrapped_dek)
        .where(Notebook.kek_id == kek_id, Notebook.wrapped_dek.is_not(None))
        .order_by(Notebook.id).limit(PROOF_SAMPLE)
    ).all()
    for notebook_id, wrapped in sample:
        assert wrapped is not None  # the query selects wrapped keys only
        try:
            crypto.unwrap_data_key(ring, kek_id, wrapped, dek_context(notebook_id))
        except crypto.DecryptionError:
            continue
        return True
    return not sample  # nothing under this id yet: its check is made from the bytes configured now


def _store_key_check(ring: crypto.Keyring, kek_id: str) -> KeyCheck:
    """Insert a check value unless another worker got there first; return the stored one."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    # ON CONFLICT DO NOTHING: gunicorn workers boot side by side and each may find no check;
    # the first insert wins, and every worker then verifies its own bytes against the winner's.
    db.session.execute(
        insert(KeyCheck).values(kek_id=kek_id, check_value=crypto.make_key_check(ring, kek_id),
                                created_at=registry.now()).on_conflict_do_nothing(index_elements=["kek_id"])
    )
    db.session.commit()
    return db.session.get_one(KeyCheck, kek_id, populate_existing=True)


def rotate_data_keys(batch_size: int = 500, on_batch: Any = None) -> int:
    """Re-wrap every data key not under the newest KEK; safe to stop and re-run."""
    ring = registry.keyring()
    rotated = 0
    while True:
        batch = db.session.scalars(
            select(Notebook).where(Notebook.kek_id.is_not(None), Notebook.kek_id != ring.newest_id)
            .order_by(Notebook.id).limit(batch_size)
        ).all()
        if not batch:
            return rotated
        for notebook in batch:
            context = dek_context(notebook.id)
            # delete_notebook clears both columns at once, and the query selects kek_id not NULL.
            assert notebook.kek_id is not None and notebook.wrapped_dek is not None
            dek = crypto.unwrap_data_key(ring, notebook.kek_id, notebook.wrapped_dek, context)
            notebook.kek_id, notebook.wrapped_dek = crypto.wrap_data_key(ring, dek, context)
        # Each batch commits on its own: an interrupted rotation resumes where it stopped.
        db.session.commit()
        rotated += len(batch)
        if on_batch:
            on_batch(len(batch))
