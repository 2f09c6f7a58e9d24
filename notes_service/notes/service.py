"""Notebooks and notes: the rules, the encryption at rest, and the owner checks.

Every note's payload (selectors, body, colour, anchor state) is sealed with its
notebook's data key and associated data binding it to (notebook, note, format
version); the database holds only ciphertext, token hashes and key slots. The data
key comes out of a slot only with the token of the request being served
(`keys.open_slot`), so everything here that reads a note runs inside a request
that brought the notebook token or a share's link token.

Re-anchoring after a trial's text changed happens here too, on the next read
that holds the key: each note row carries the trial version it was last
anchored against, and a read re-anchors the stale notes it is about to show.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, case, delete, func, or_, select, update

from .. import crypto, keys, registry
from ..devices.models import Device
from ..errors import Busy, Invalid
from ..extensions import DriverSelect, db, read_connection
from ..i18n import gettext
from ..paging import PageRequest
from ..trials import service as trials
from ..trials.models import Trial
from .anchoring import MAX_EXACT, Quote, locate_exact, quote_for_range, quote_to_selectors
from .auth import check_token, notebook_gone, owned_or_404, token_digest, touch_device
from .models import KeySlot, Note, Notebook
from .reanchor import accepted, reanchored
from .sanitize import BODY_RULES, body_as_shown, sanitize_body
from .schemas import ANCHORED, MAX_BODY_CHARS, NoteChange, NoteInput, NotePatch, NotePayload

# 2: the payload is sealed under the note's own key (HKDF of the notebook's DEK, see
# crypto.note_key), so a share can hold the keys of its notes only. 1 (before key slots): sealed
# under the DEK itself; still read by the owner, and sealed again as 2 when shared or written.
FORMAT_VERSION = 2
LEGACY_FORMAT = 1


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and a read builds
# one view per note (slots make building one plain attribute stores). Nothing changes a view.
@dataclass(slots=True)
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
    change: NoteChange | None = None  # with anchor "changed": the passage before and after

    @classmethod
    def of(cls, note: Any, payload: dict[str, Any]) -> NoteView:
        """The view of a note row and its opened payload's fields (`NotePayload.opened_fields`)."""
        return cls(
            id=note.id,
            trial_id=note.trial_id,
            created_at=note.created_at,
            updated_at=note.updated_at,
            selectors=payload["selector"],
            body=body_as_shown(payload["body"], payload["body_rules"]),
            color=payload["color"],
            anchor=payload["anchor"],
            change=payload["change"],
        )

    def payload(self, **changes: Any) -> NotePayload:
        """This note's payload, with `changes` (selector, body, color, anchor, change) made."""
        current = {
            "selector": self.selectors,
            "body": self.body,
            "color": self.color,
            "anchor": self.anchor,
            "change": self.change,
            "body_rules": BODY_RULES,  # the body as shown is today's: cleaned again when read if it was not
        }
        return NotePayload(**{**current, **changes})

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


# The namespace of the ids of notes saved with an idempotency key (a constant of ours, random once).
_SAVED_NOTES = uuid.UUID("5b0f6f0e-8a43-4d8e-9d0c-2f6a1c7e4b93")


def saved_note_id(notebook_id: str, key: str) -> str:
    """The id of the note a save with this idempotency key makes in this notebook (a name-based UUID).

    Per notebook: the key another notebook's client chose makes another id there, so a key
    tells nothing of other notebooks' notes (a global id chosen by the client did: 404 when
    another notebook held it, 201 when not).
    """
    return uuid.uuid5(_SAVED_NOTES, f"{notebook_id}/{key}").hex


# -- Notebooks ---------------------------------------------------------------------


FIRST_DEVICE_NAME = "First browser"


def new_notebook() -> Notebook:
    """A notebook row, added and flushed (in the caller's transaction), with no device yet."""
    # notebooks.token_hash authenticates nothing since devices (0011_devices): a hash of bytes
    # no one is given fills the column SQLite could not drop.
    filler = crypto.hash_token(crypto.new_token(32))
    notebook = Notebook(id=_new_id(), token_hash=filler, created_at=registry.now())
    db.session.add(notebook)
    db.session.flush()  # devices and slots refer to the notebook row (no relationship orders the inserts)
    return notebook


def add_device(notebook_id: str, dek: bytes, name: str) -> tuple[Device, str]:
    """A new device of a notebook (in the caller's transaction): its token, once, and its slot sealed for it."""
    token = crypto.new_token(32)
    now = registry.now()
    device = Device(
        id=_new_id(), notebook_id=notebook_id, token_hash=crypto.hash_token(token), name=name, created_at=now
    )
    device.last_used_at = now
    db.session.add(device)
    db.session.flush()
    # The data key is only ever stored in slots: this device's, sealed for its token.
    db.session.add(keys.new_slot(notebook_id, None, dek, token, device_id=device.id))
    return device, token


def create_notebook() -> tuple[Notebook, str]:
    """A new notebook and its first device's token (returned this once, stored only as a hash)."""
    dek = crypto.new_data_key()
    notebook = new_notebook()
    device, token = add_device(notebook.id, dek, FIRST_DEVICE_NAME)
    notebook.token, notebook.device_id = token, device.id
    db.session.commit()
    return notebook, token


def delete_notebook(notebook: Notebook) -> None:
    """Erase every key slot first (crypto-shredding), then the notes, shares and notebook."""
    notebook_id = notebook.id
    # The notebook's row first, as every change of its devices, codes and notes takes it: a
    # device a grant or a link code is adding commits before, and its slot is erased with the
    # others, or waits and finds the notebook without slots (refused). Without it, such a slot
    # committed after this erasure read the slots lived until the notebook's row went.
    hold_notebook(notebook, exclusive=True)
    keys.delete_notebook_slots(notebook_id)
    # Committed on its own: whatever happens next, the notes can no longer be decrypted (by the
    # owner's token or by any share's link), and the token no longer authenticates.
    db.session.commit()
    remove_erased_notebook(notebook_id)
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        erase_sqlite_log()


def remove_erased_notebook(notebook_id: str) -> None:
    """Delete a notebook whose slots are erased, with its notes and shares (in the caller's transaction).

    The second step of `delete_notebook`; also how a grant finishes a deletion whose process
    ended between the two (accounts.service). The foreign keys cascade (ON DELETE CASCADE,
    enforced on SQLite by PRAGMA foreign_keys on every connection): its notes, its shares and
    what those hold go in the same statement, so this module needs to know nothing of the
    tables that belong to notebooks.
    """
    db.session.execute(delete(Notebook).where(Notebook.id == notebook_id))


# How long erasing a deleted notebook from SQLite's log waits for readers and writers to finish.
ERASE_WAIT_MS = 30_000


def erase_sqlite_log() -> None:
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
        raise Busy(
            gettext(
                "Your notebook is deleted and can no longer be opened, but the database stayed busy, so "
                "its last copies in the database log are not erased yet; that happens at the next "
                "notebook deletion or restart."
            ),
            retry_after=None,
        )


def data_key(notebook: Notebook) -> bytes:
    """The notebook's data key, out of its owner slot with the request's notebook token."""
    if notebook.token is None:
        # Nothing without a token can open a note: a CLI or a background job gets here.
        raise crypto.DecryptionError("a device's key slot opens only with the device's token")
    slot = notebook.owner_slot
    if slot is None or slot.salt is None:  # not read with the notebook, or to be sealed for the token
        # The slot of the device whose token this is (found by the token's hash, as auth does).
        slot = db.session.scalar(
            select(KeySlot)
            .join(Device, KeySlot.device_id == Device.id)
            .where(Device.notebook_id == notebook.id, Device.token_hash == crypto.hash_token(notebook.token))
        )
    if slot is None:
        raise crypto.DecryptionError("the notebook's data key was erased")
    return keys.open_slot(slot, notebook.token)


# -- Note keys and sealing ---------------------------------------------------------


class OwnerKeys:
    """Every note key of a notebook, from its DEK (the owner's slot opened with the notebook token)."""

    def __init__(self, dek: bytes) -> None:
        self.dek = dek
        self.maker = crypto.NoteKeyMaker(dek)  # one HKDF extract for all the notes of a request

    def prepare(self, note_ids: list[str]) -> None:
        """Nothing to load: each key is derived."""

    def opening_key(self, row: Any) -> bytes | None:
        """The key this note's ciphertext opens with (the DEK itself for a note from before key slots)."""
        if row.format_version == LEGACY_FORMAT:
            return self.dek
        return self.maker.derive(row.notebook_id, row.id)

    def sealing_key(self, row: Any) -> bytes:
        """The key a note is sealed under when written (always its own)."""
        return self.maker.derive(row.notebook_id, row.id)


class SharedKeys:
    """The note keys a share holds, each sealed under the share's key (its slot opened with the link token)."""

    def __init__(self, share_id: str, share_key: bytes) -> None:
        self.share_id = share_id
        self.share_key = share_key
        self.wrapped: dict[str, bytes] = {}

    def prepare(self, note_ids: list[str]) -> None:
        """Load the sealed keys of these notes (one query a page)."""
        from ..shares.models import share_notes

        rows = db.session.execute(
            select(share_notes.c.note_id, share_notes.c.wrapped_key).where(
                share_notes.c.share_id == self.share_id, share_notes.c.note_id.in_(note_ids)
            )
        )
        self.wrapped.update({note_id: bytes(wrapped) for note_id, wrapped in rows if wrapped is not None})

    def opening_key(self, row: Any) -> bytes | None:
        """The note's key, if this share holds it (a note of another share or notebook: None)."""
        wrapped = self.wrapped.get(row.id)
        if wrapped is None or row.format_version != FORMAT_VERSION:
            return None
        try:
            return crypto.unwrap_note_key(self.share_key, wrapped, self.share_id, row.id)
        except crypto.CryptoError:
            return None

    sealing_key = opening_key

    def note_key(self, note_id: str) -> bytes | None:
        """The key of a note whose sealed key `prepare` loaded, or None."""
        wrapped = self.wrapped.get(note_id)
        if wrapped is None:
            return None
        try:
            return crypto.unwrap_note_key(self.share_key, wrapped, self.share_id, note_id)
        except crypto.CryptoError:
            return None


NoteKeys = OwnerKeys | SharedKeys


def _note_keys(keys_or_dek: NoteKeys | bytes | None) -> NoteKeys | None:
    return OwnerKeys(keys_or_dek) if isinstance(keys_or_dek, bytes) else keys_or_dek


def seal_payload(key: bytes, notebook_id: str, note_id: str, payload: NotePayload) -> bytes:
    """A payload sealed under the note's own key (FORMAT_VERSION), bound to its notebook and id."""
    return crypto.seal(key, payload.plaintext(), crypto.note_aad(notebook_id, note_id, FORMAT_VERSION))


def open_note(note_keys: NoteKeys | bytes | None, note: Any) -> NoteView:
    """Decrypt a note row; a row that fails to decrypt is returned as unreadable, never raised.

    `note_keys`: the owner's keys (or the DEK itself) or a share's; None opens nothing.
    """
    return open_notes(note_keys, [note])[0]


def open_notes(note_keys: NoteKeys | bytes | None, rows: list[Any]) -> list[NoteView]:
    """`open_note` for each row, in order, each step taken for every row before the next.

    Opened one after another, each note ran OpenSSL's key derivation and cipher, orjson's
    parser and our own code in turn, and the processor's caches kept little of one step from
    one note to the next: 20 notes took 536 us of CPU so and 411 us step by step (the same
    steps, the same rows, in process on the bench machine); a whole read of 20 notes, 2,475 us
    against 2,050.
    """
    opener = _note_keys(note_keys)
    keys = [
        opener.opening_key(row) if opener is not None and row.format_version in _READ_FORMATS else None for row in rows
    ]
    plaintexts = [_opened(key, row) if key is not None else None for key, row in zip(keys, rows, strict=True)]
    fields = [_fields(plaintext) if plaintext is not None else None for plaintext in plaintexts]
    return [
        NoteView.of(row, payload) if payload is not None else _unreadable(row)
        for row, payload in zip(rows, fields, strict=True)
    ]


_READ_FORMATS = (LEGACY_FORMAT, FORMAT_VERSION)


def _opened(key: bytes, row: Any) -> bytes | None:
    try:
        return crypto.open_sealed(key, row.ciphertext, crypto.note_aad(row.notebook_id, row.id, row.format_version))
    except (crypto.CryptoError, ValueError):
        return None


def _fields(plaintext: bytes) -> dict[str, Any] | None:
    try:
        return NotePayload.opened_fields(plaintext)
    except ValueError:
        return None


def _unreadable(row: Any) -> NoteView:
    current_app.logger.warning("note %s could not be decrypted", row.id)
    return NoteView(
        id=row.id, trial_id=row.trial_id, created_at=row.created_at, updated_at=row.updated_at, readable=False
    )


def safe_key(key: Callable[[], bytes], notebook_id: str) -> bytes | None:
    """`key()`, or None (logged by the notebook's id) when its slot does not open."""
    try:
        return key()
    except crypto.CryptoError:
        current_app.logger.warning("data key of notebook %s could not be unwrapped", notebook_id)
        return None


def safe_data_key(notebook: Notebook) -> bytes | None:
    """The notebook's data key from its owner's slot, or None (logged by id) when it does not open."""
    return safe_key(lambda: data_key(notebook), notebook.id)


def _owner_keys(notebook: Notebook) -> OwnerKeys | None:
    dek = safe_data_key(notebook)
    return OwnerKeys(dek) if dek is not None else None


# -- Notes -------------------------------------------------------------------------


def _anchor_quote(trial_id: str, quote: Quote) -> tuple[list[dict[str, Any]], str]:
    trial = trials.get_trial(trial_id)
    text = trial.canonical_text
    anchor = locate_exact(text, quote)
    if anchor is None:
        raise Invalid(
            gettext("The highlighted text was not found in this trial."),
            errors={"target.selector[0].exact": gettext("does not occur in the trial's text")},
        )
    if anchor.end - anchor.start > MAX_EXACT:
        # White space folds when matching, so the passage found may be longer than the quote
        # sent: the bound holds for what is stored and returned.
        raise Invalid(
            gettext("The highlighted passage is too long."),
            errors={
                "target.selector[0].exact": gettext("the passage must be at most %(limit)s characters", limit=MAX_EXACT)
            },
        )
    # Store selectors measured on our canonical text: the position becomes authoritative.
    return quote_to_selectors(quote_for_range(text, anchor.start, anchor.end)), trial.version


@dataclass(frozen=True)
class NoteSlice:
    """Up to a page of notes, decrypted one at a time as they are read, and whether more follow."""

    notes: Iterator[NoteView]
    more: bool
    total: int | None = None
    # The sort key of the page's last row as its ids were read, when more follow: where the next
    # page starts even if every note of the page is deleted before its payload is read.
    last: tuple[Any, ...] | None = None


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
_NOTE_COLUMNS = tuple(
    _NOTES.c[name]
    for name in (
        "id",
        "notebook_id",
        "trial_id",
        "format_version",
        "ciphertext",
        "anchored_version",
        "created_at",
        "updated_at",
    )
)


def _slice(
    key: Callable[[], NoteKeys | None], ids: Any, order: tuple[Any, ...], page: PageRequest, total: int | None = None
) -> NoteSlice:
    """A page of notes: `ids` selects the candidates' ids, `order` is the page's sort key."""
    if page.after is not None:
        ids = ids.where(_keyset_after(order, page.after))
    # Two steps: the page's ids first (sorting only keys), then those rows with their payloads.
    # Sorting whole rows would make SQLite sort every candidate's ciphertext (240 MB for a
    # full notebook) to keep one page of it. One more id than asked tells whether more follow.
    # Each id comes with whether its note predates its trial's current text (to re-anchor).
    sized = (
        ids.join(Trial, Trial.id == Note.trial_id)
        .add_columns(func.length(Note.ciphertext), Note.anchored_version != Trial.version, *order)
        .order_by(*order)
        .limit(page.limit + 1)
    )
    return _page_of(key, [(*row[:3], tuple(row[3:])) for row in db.session.execute(sized)], page, total)


def _page_of(
    key: Callable[[], NoteKeys | None],
    sized_ids: list[tuple[str, int, bool, tuple[Any, ...]]],
    page: PageRequest,
    total: int | None = None,
    loaded: dict[str, Any] | None = None,
) -> NoteSlice:
    """The slice for up to limit + 1 (id, payload length, stale, sort key) rows, in page order.

    `loaded`: note rows already read with their ids (`my_notes_on_trial`), by id; the others
    are loaded a chunk at a time as the page reaches them.
    """
    more = len(sized_ids) > page.limit
    last = sized_ids[page.limit - 1][3] if more else None
    sized_ids = sized_ids[: page.limit]
    loaded = loaded or {}
    note_keys = key() if sized_ids else None
    if note_keys is not None:
        note_keys.prepare([note_id for note_id, *_ in sized_ids])
    stale = [note_id for note_id, _size, is_stale, _key in sized_ids if is_stale]
    if note_keys is not None and stale:
        reanchor_notes(note_keys, stale)
        rewritten = set(stale)  # read again, as re-anchoring sealed them anew
        loaded = {note_id: row for note_id, row in loaded.items() if note_id not in rewritten}
    return NoteSlice(
        notes=_open_in_chunks(note_keys, [(note_id, size) for note_id, size, *_ in sized_ids], loaded),
        more=more,
        total=total,
        last=last,
    )


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


# The reads' own form of _CHUNK_QUERY: a statement per number of ids (an expanding IN is
# rendered again on every run), sent as compiled SQL (extensions.DriverSelect).
_CHUNK_READS: dict[int, DriverSelect] = {}


def _chunk_read(count: int) -> DriverSelect:
    found = _CHUNK_READS.get(count)
    if found is None:
        ids = [bindparam(f"id_{index}", type_=_NOTES.c.id.type) for index in range(count)]
        statement = select(*_NOTE_COLUMNS).where(_NOTES.c.id.in_(ids))
        found = _CHUNK_READS[count] = DriverSelect(statement, typed=("created_at", "updated_at"))
    return found


def _open_in_chunks(dek: NoteKeys | None, sized_ids: list[tuple[str, int]], rows: dict[str, Any]) -> Iterator[NoteView]:
    """The notes with these ids, in this order, decrypted; those not in `rows` are read a chunk at a time.

    A chunk is read when the page reaches its first note, so a page cut short by its byte
    budget never reads the rest. The rows at hand are opened together (`open_notes`) before
    the next chunk is read, and let go once opened: what the page holds of ciphertext, and of
    plaintext, at a time stays within the rows read with the ids and one chunk; a page cut
    short opens at most those in vain.
    """
    chunks = _chunks([(note_id, size) for note_id, size in sized_ids if note_id not in rows])
    read: set[str] = set()
    batch: list[Any] = []
    for note_id, _size in sized_ids:
        if note_id not in rows and note_id not in read:
            yield from open_notes(dek, batch)
            batch = []
            chunk = next(chunks)  # the chunks run in page order: the next one starts with this note
            read.update(chunk)
            values = {f"id_{index}": chunk_id for index, chunk_id in enumerate(chunk)}
            rows.update((row.id, row) for row in _chunk_read(len(chunk)).rows(db.session.connection(), values))
        row = rows.pop(note_id, None)
        if row is not None:  # a note deleted since its id was read is simply not in the page
            batch.append(row)
    yield from open_notes(dek, batch)


def stored_body(text: str) -> str:
    """The sanitized body as it is stored and returned, within MAX_BODY_CHARS; else Invalid.

    Sanitizing escapes markup it does not keep ("<" becomes "&lt;", "&" becomes "&amp;"),
    so a body within the limit as typed can come out five times longer: the limit is
    checked on what is stored, which bounds every response that holds the note.
    """
    body = sanitize_body(text)
    if len(body) > MAX_BODY_CHARS:
        raise Invalid(
            gettext("The note is too long once its markup is made safe."),
            errors={
                "body": gettext(
                    "must be at most %(most)s characters as stored; characters such as < and & "
                    "are stored escaped (&lt;, &amp;) and this one comes to %(length)s",
                    most=MAX_BODY_CHARS,
                    length=len(body),
                )
            },
        )
    return body


def list_notes(notebook: Notebook, trial_id: str, page: PageRequest) -> NoteSlice:
    """A page of my notes on a trial, oldest first; unreadable ones included and marked."""
    row = trials.get_trial_row(trial_id)
    ids = select(Note.id).where(Note.notebook_id == notebook.id, Note.trial_id == row.id)
    return _slice(lambda: _owner_keys(notebook), ids, NOTE_ORDER, page)


_TRIALS = Trial.__table__
_SLOTS = KeySlot.__table__
_DEVICES = Device.__table__


def _my_page_query(after: bool) -> Any:
    """Notebook by token hash, the trial, and a page of notes: one statement.

    Outer joins: a row comes back whenever the device exists, its trial id null when there
    is no such trial, its note columns null when there is no note on the page. The notebook
    is the device's `notebook_id`, not a join: the foreign key (enforced on both databases,
    deleting a notebook deletes its devices) makes a device's notebook exist. Each note
    comes with its payload's length and, when that is at most `:inline` bytes (FETCH_BYTES
    shared by the rows of the page), its payload: a page of ordinary notes is read in this
    one round trip, and what it holds stays within FETCH_BYTES however large the notes; a
    larger one is loaded after, in chunks (`_open_in_chunks`).
    """
    notes, trial, slots, devices = _NOTES.c, _TRIALS.c, _SLOTS.c, _DEVICES.c
    note_on = and_(notes.notebook_id == devices.notebook_id, notes.trial_id == trial.id)
    if after:
        keyset = _keyset_after((notes.created_at, notes.id), (bindparam("after_at"), bindparam("after_id")))
        note_on = and_(note_on, keyset)
    size = func.length(notes.ciphertext)
    return (
        select(
            devices.notebook_id,
            devices.token_hash,
            devices.id.label("device_id"),
            devices.last_used_at,
            slots.id.label("slot_id"),
            slots.kek_id,
            slots.salt,
            slots.wrapped,
            trial.id.label("trial_id"),
            notes.id,
            notes.format_version,
            case((size <= bindparam("inline", type_=Integer), notes.ciphertext)).label("ciphertext"),
            notes.created_at,
            notes.updated_at,
            size.label("size"),
            (notes.anchored_version != trial.version).label("stale"),
        )
        .select_from(_DEVICES)
        .outerjoin(_SLOTS, slots.device_id == devices.id)
        .outerjoin(_TRIALS, and_(trial.id == bindparam("trial"), trial.version_id.is_not(None)))
        .outerjoin(_NOTES, note_on)
        .where(devices.token_hash == bindparam("digest"))
        .order_by(notes.created_at, notes.id)
        .limit(bindparam("limit", type_=Integer))
    )


_MY_PAGE_QUERY = {
    after: DriverSelect(_my_page_query(after), typed=("created_at", "updated_at")) for after in (False, True)
}


def my_notes_on_trial(token: str | None, trial_id: str, page: PageRequest) -> NoteSlice:
    """`list_notes` for the notebook of a bearer token, in one query (the API's hot read).

    The query finds the notebook, the trial and the page's notes with their payloads
    (`_my_page_query`); only payloads too large to come with it are loaded after (one query
    per FETCH_BYTES of them). Unauthorized comes before NotFound, as with `current_notebook`
    then `list_notes`.
    """
    values: dict[str, Any] = {
        "digest": token_digest(token),
        "trial": trials.trial_key(trial_id) or "",
        "limit": page.limit + 1,
        "inline": FETCH_BYTES // (page.limit + 1),
    }
    if page.after is not None:
        values["after_at"], values["after_id"] = page.after
    query = _MY_PAGE_QUERY[page.after is not None]
    rows = query.read_alone(db.engine, values)  # a row per note, the notebook's columns in each: read from the first
    first = check_token(token or "", rows[0] if rows else None)
    touch_device(first.device_id, query.typed_value(db.engine.dialect, first, "last_used_at"))
    if first.trial_id is None:
        raise trials.trial_not_found(trial_id)
    notebook_id = first.notebook_id
    slot = keys.SlotRow(first.slot_id, notebook_id, None, first.kek_id, first.salt, first.wrapped, first.device_id)

    def key() -> NoteKeys | None:
        dek = safe_key(lambda: keys.open_slot(slot, token or ""), notebook_id)
        return OwnerKeys(dek) if dek is not None else None

    found = [row for row in rows if row.id is not None]
    loaded = {row.id: row for row in found if row.ciphertext is not None}
    shown = found[: page.limit]  # the one more is there to tell whether more follow
    if any(row.ciphertext is None or row.stale for row in shown):
        read_connection()  # what follows (payloads too large to come along, re-anchoring) reads as before
    return _page_of(
        key, [(row.id, row.size, row.stale, (row.created_at, row.id)) for row in found], page, loaded=loaded
    )


def create_note(notebook: Notebook, trial_id: str, data: NoteInput) -> tuple[NoteView, bool]:
    """Anchor, sanitize, encrypt and store a new note; with an idempotency key, the note it already made if any.

    The second value is False when that note was there already (a save sent again after its
    answer was lost): it is answered as stored, whatever this request says.
    """
    assert data.quote is not None
    row = trials.get_trial_row(trial_id)
    selectors, version = _anchor_quote(row.id, data.quote)
    body = stored_body(data.body or "")  # before the lock: sanitizing takes a while
    # Exclusive, so that concurrent creates cannot pass the limit together, and of two saves
    # with one id the second finds the first's note.
    hold_notebook(notebook, exclusive=True)
    note_id = _new_id() if data.idempotency_key is None else saved_note_id(notebook.id, data.idempotency_key)
    if data.idempotency_key is not None and db.session.get(Note, note_id) is not None:
        return get_note(notebook, note_id), False
    count = db.session.execute(
        select(func.count()).select_from(Note).where(Note.notebook_id == notebook.id)
    ).scalar_one()
    limit = registry.settings().max_notes_per_notebook
    if count >= limit:
        raise Invalid(
            gettext("A notebook holds at most %(limit)s notes.", limit=limit), errors={"(notebook)": gettext("is full")}
        )
    now = registry.now()
    note = Note(
        id=note_id,
        notebook_id=notebook.id,
        trial_id=row.id,
        format_version=FORMAT_VERSION,
        anchored_version=version,
        created_at=now,
        updated_at=now,
    )
    payload = NotePayload(selector=selectors, body=body, color=data.color, anchor=ANCHORED, body_rules=BODY_RULES)
    dek = data_key(notebook)
    note.ciphertext = seal_payload(crypto.note_key(dek, notebook.id, note.id), notebook.id, note.id, payload)
    db.session.add(note)
    created = open_note(dek, note)  # before the commit, as in update_note: a deletion may follow it at once
    db.session.commit()
    return created, True


def hold_notebook(notebook: Notebook, *, exclusive: bool) -> None:
    """Lock the notebook's row until the commit (PostgreSQL), shared or exclusive; Unauthorized if it is gone.

    Every write of a notebook's notes takes it: an import moving the notebook's notes into
    another holds it exclusively (notes.imports), so a write either lands before the move (and
    its note moves) or waits for it and finds the notebook gone, never lost with the deleted
    notebook nor sealed under its shredded key. Reads take no lock: a re-anchoring read writes
    only a note still in the notebook it read (`reanchor_notes`). SQLite's writers hold the
    database's write lock (BEGIN IMMEDIATE) already, and FOR UPDATE is not rendered there; the
    check that the row is still there counts on both.
    """
    locked = select(Notebook.id).where(Notebook.id == notebook.id).with_for_update(read=not exclusive)
    if db.session.scalar(locked) is None:
        raise notebook_gone()


def _owned_note(notebook: Notebook, note_id: str) -> Note:
    return owned_or_404(Note, notebook, note_id, "note")


def _current_note(notebook: Notebook, note_id: str, dek: bytes | None) -> Note:
    """One of my notes, re-anchored first if its trial's text changed since it was anchored."""
    note = _owned_note(notebook, note_id)
    if dek is not None and note.anchored_version != trials.get_trial_row(note.trial_id).version:
        reanchor_notes(OwnerKeys(dek), [note.id])
        note = _owned_note(notebook, note_id)  # read again: the commit expired it
    return note


def get_note(notebook: Notebook, note_id: str) -> NoteView:
    """One of my notes."""
    _owned_note(notebook, note_id)  # 404 before any key work
    dek = safe_data_key(notebook)
    return open_note(dek, _current_note(notebook, note_id, dek))


def _note_to_write(notebook: Notebook, note_id: str) -> Note:
    """One of my notes, read afresh with its row locked until the commit (PostgreSQL); else NotFound.

    A write seals the whole payload again from what it read: two edits of one note at once
    must each start from the other's result (a body and a colour changed at once both stay),
    and a note deleted meanwhile is a 404, not an update of a row that is gone. The notebook's
    row is held first (shared, `hold_notebook`): a note moved to another notebook meanwhile is
    found with its notebook gone.
    """
    hold_notebook(notebook, exclusive=False)
    return owned_or_404(Note, notebook, note_id, "note", lock=True)


def update_note(notebook: Notebook, note_id: str, data: NotePatch) -> NoteView:
    """Change a note's target, body or colour, or accept its changed passage; re-encrypted with a fresh nonce."""
    _owned_note(notebook, note_id)
    dek = data_key(notebook)
    _current_note(notebook, note_id, dek)  # re-anchoring commits on its own, so the lock comes after it
    note = _note_to_write(notebook, note_id)
    current = open_note(dek, note)
    if not current.readable:
        raise Invalid(
            gettext("This note cannot be read, so it cannot be edited. You can delete it."),
            errors={"(note)": gettext("is unreadable")},
        )
    placement = accepted(current.payload()) if data.anchor == "accept" else None
    if placement is not None and placement.anchor == current.anchor and data.model_fields_set == {"anchor"}:
        return current  # nothing to accept (a second tab accepted it already): nothing is written
    selectors, version = current.selectors, note.anchored_version
    anchor, change = (placement.anchor, placement.change) if placement else (current.anchor, current.change)
    if data.quote is not None:
        # Highlighting anew settles any change: the note is on the words chosen now.
        selectors, version = _anchor_quote(note.trial_id, data.quote)
        anchor, change = ANCHORED, None
    payload = current.payload(
        selector=selectors,
        anchor=anchor,
        change=change,
        body=stored_body(data.body) if data.body is not None else current.body,
        color=data.color or current.color,
    )
    note.ciphertext = seal_payload(crypto.note_key(dek, notebook.id, note.id), notebook.id, note.id, payload)
    note.format_version = FORMAT_VERSION
    note.anchored_version = version
    note.updated_at = registry.now()
    # The note as written, taken before the commit: once the lock is let go, a deletion waiting
    # for it goes ahead, and the row would no longer be there to read back.
    written = open_note(dek, note)
    db.session.commit()
    return written


def delete_note(notebook: Notebook, note_id: str) -> None:
    """Delete one of my notes."""
    note = _note_to_write(notebook, note_id)
    db.session.delete(note)
    db.session.commit()


ALL_NOTES_ORDER = (Note.trial_id, Note.created_at, Note.id)


def all_notes(notebook: Notebook, page: PageRequest, total: int | None = None) -> NoteSlice:
    """A page of every note of the notebook, by trial then age; unreadable ones included and marked."""
    ids = select(Note.id).where(Note.notebook_id == notebook.id)
    return _slice(lambda: _owner_keys(notebook), ids, ALL_NOTES_ORDER, page, total=total)


def export_notes(notebook: Notebook, page: PageRequest) -> NoteSlice:
    """`all_notes` with the notebook's note count."""
    total = db.session.scalar(select(func.count()).select_from(Note).where(Note.notebook_id == notebook.id))
    return all_notes(notebook, page, total=total)


@dataclass(frozen=True)
class TrialNotes:
    """A trial holding notes of a notebook: its title, how many notes, when one was last edited."""

    trial_id: str
    title: str
    note_count: int
    last_edited: datetime


def my_trials(notebook: Notebook, page: PageRequest) -> tuple[list[TrialNotes], bool]:
    """A page of the trials holding the notebook's notes, last edited first; and whether more follow.

    Counted from the rows' columns only: no note is opened (titles are public, notes stay sealed).
    The keyset is on the aggregate (last edited, then NCT number), so it sits in HAVING.
    """
    last_edited = func.max(Note.updated_at)
    query = (
        select(Note.trial_id, Trial.title, func.count(), last_edited)
        .join(Trial, Trial.id == Note.trial_id)
        .where(Note.notebook_id == notebook.id)
        .group_by(Note.trial_id, Trial.title)
        .order_by(last_edited.desc(), Note.trial_id)
        .limit(page.limit + 1)
    )
    if page.after is not None:
        at, trial_id = page.after
        query = query.having(or_(last_edited < at, and_(last_edited == at, Note.trial_id > trial_id)))
    rows = db.session.execute(query).all()
    found = [TrialNotes(trial_id, title, count, edited) for trial_id, title, count, edited in rows[: page.limit]]
    return found, len(rows) > page.limit


def shared_notes_page(
    notebook_id: str, share_id: str, trial_id: str, page: PageRequest, key: Callable[[], SharedKeys | None]
) -> NoteSlice:
    """A page of a share's notes on its trial, in creation order (readable or not: the caller filters).

    `key` gives the share's note keys, out of its slot (the link token opens it).
    """
    from ..shares.models import share_notes  # shares point at notes; the query joins through them

    ids = (
        select(Note.id)
        .join(share_notes, share_notes.c.note_id == Note.id)
        .where(share_notes.c.share_id == share_id, Note.notebook_id == notebook_id, Note.trial_id == trial_id)
    )
    total = db.session.scalar(select(func.count()).select_from(ids.subquery()))
    return _slice(key, ids, NOTE_ORDER, page, total=total)


def reseal(
    notebook: Notebook,
    note: Note,
    view: NoteView,
    *,
    selectors: list[dict[str, Any]],
    anchor: str,
    version: str,
    dek: bytes,
) -> None:
    """Store new selectors and anchor state for a note (the caller commits)."""
    payload = view.payload(selector=selectors, anchor=anchor)
    note.ciphertext = seal_payload(crypto.note_key(dek, notebook.id, note.id), notebook.id, note.id, payload)
    note.format_version = FORMAT_VERSION
    note.anchored_version = version


# -- Re-anchoring on read ------------------------------------------------------------


def reanchor_notes(note_keys: NoteKeys, note_ids: list[str]) -> None:
    """Re-anchor these notes (of one notebook) on their trials' current text, and store them.

    Runs in a request that opened the notebook's key (the owner's read, a share's opening):
    the notes are decrypted, placed again (exact, then approximate match) or marked orphaned,
    never lost, and sealed again. A note that does not decrypt is marked with the current
    version as it is, so each read does not try it again. A note changed meanwhile by another
    request is left to that one (the update matches its old version, time and notebook only:
    a note an import moved meanwhile is sealed under its new notebook's key, not this one's).
    """
    rows = db.session.connection().execute(_CHUNK_QUERY, {"ids": note_ids}).all()
    changes = []
    walks: dict[tuple[str, str], list[tuple[str, str | None]]] = {}  # the notes of a trial share their versions
    for row in rows:
        current = trials.get_trial_row(row.trial_id).version
        if row.anchored_version == current:
            continue
        view = open_note(note_keys, row)
        values: dict[str, Any] = {"anchored_version": current}
        sealing_key = note_keys.sealing_key(row)
        if view.readable and sealing_key is not None:
            payload = view.payload()
            # Through each version since the note's, so that a change is dated by the version its
            # words changed in, not by the one current when the note is next read.
            walk = (row.trial_id, row.anchored_version)
            if walk not in walks:
                walks[walk] = _texts_since(row)
            for text, data_date in walks[walk]:
                placed = reanchored(payload, text, data_date)
                payload = payload.model_copy(
                    update={"selector": placed.selectors, "anchor": placed.anchor, "change": placed.change}
                )
            values.update(
                ciphertext=seal_payload(sealing_key, row.notebook_id, row.id, payload), format_version=FORMAT_VERSION
            )
        changes.append((row.id, row.notebook_id, row.anchored_version, row.updated_at, values))
    if not changes:
        return
    # A write of its own: on SQLite a GET reads in a plain BEGIN, and a write that starts its own
    # transaction waits for the lock where one inside a read transaction may fail at once.
    db.session.commit()
    # In the order of the notes' ids, as an import moves them: two writers that each lock rows
    # in that order cannot each wait for the other (PostgreSQL).
    changes.sort(key=lambda change: change[0])
    for note_id, notebook_id, old_version, updated_at, values in changes:
        db.session.execute(
            update(Note)
            .where(
                Note.id == note_id,
                Note.notebook_id == notebook_id,
                Note.anchored_version == old_version,
                Note.updated_at == updated_at,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def _texts_since(row: Any) -> list[tuple[str, str | None]]:
    """The texts (and data dates) a note is placed on in turn: each version after its own, else the current alone."""
    walked = trials.texts_after(row.trial_id, row.anchored_version)
    if walked:
        return walked
    trial = trials.get_trial(row.trial_id)
    return [(trial.canonical_text, trial.data_date)]


def stale_note_counts(nct_ids: tuple[str, ...]) -> dict[str, int]:
    """How many notes on each trial predate its current text (counted, never opened)."""
    rows = db.session.execute(
        select(Note.trial_id, func.count())
        .join(Trial, Trial.id == Note.trial_id)
        .where(Note.trial_id.in_(nct_ids), Note.anchored_version != Trial.version)
        .group_by(Note.trial_id)
    ).all()
    return {trial_id: count for trial_id, count in rows}


def share_note_keys(
    dek: bytes, notebook_id: str, share_id: str, share_key: bytes, note_ids: list[str]
) -> list[dict[str, Any]]:
    """The share_notes rows of these notes, each with its key sealed under the share's key.

    A note from before key slots (sealed under the DEK itself) is sealed again under its own
    key first (in the caller's transaction), so the share's key opens it.
    """
    rows = db.session.execute(
        select(
            Note.id,
            Note.notebook_id,
            Note.format_version,
            Note.ciphertext,
            Note.trial_id,
            Note.created_at,
            Note.updated_at,
        ).where(Note.id.in_(note_ids), Note.notebook_id == notebook_id)
    ).all()
    owner = OwnerKeys(dek)
    for row in rows:
        if row.format_version != LEGACY_FORMAT:
            continue
        view = open_note(owner, row)
        if view.readable:
            payload = view.payload()
            db.session.execute(
                update(Note)
                .where(Note.id == row.id, Note.format_version == LEGACY_FORMAT)
                .values(
                    ciphertext=seal_payload(owner.sealing_key(row), notebook_id, row.id, payload),
                    format_version=FORMAT_VERSION,
                )
                .execution_options(synchronize_session=False)
            )
    return [
        {
            "share_id": share_id,
            "note_id": row.id,
            "wrapped_key": crypto.wrap_note_key(share_key, crypto.note_key(dek, notebook_id, row.id), share_id, row.id),
        }
        for row in rows
    ]
