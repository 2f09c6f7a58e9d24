"""Seed a benchmark database fast: real notebooks, real encrypted notes, real shares.

Rows are built with the service's own crypto and models (key slots sealed for each
notebook token and share link, AES-GCM payloads bound to their rows, SHA-256 token
hashes, an Argon2id passcode hash) and inserted in batches, so 200,000 notes take
seconds rather than the hours that one API call per note would. What the server later
reads is exactly what it would have written itself: `service.seal_payload` and
`keys.new_slot` are the service's helpers.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select

from notes_service import crypto, keys
from notes_service.clock import utcnow
from notes_service.devices.models import Device
from notes_service.extensions import db
from notes_service.notes import service
from notes_service.notes.anchoring import quote_for_range, quote_to_selectors
from notes_service.notes.models import KeySlot, Note, Notebook
from notes_service.notes.sanitize import BODY_RULES, sanitize_body
from notes_service.notes.schemas import ANCHORED, NotePayload
from notes_service.paging import MAX_LIMIT, PageRequest
from notes_service.shares.models import Share, share_notes
from notes_service.trials import service as trials

SEED_TRIAL = "NCT07085104"
COLORS = ("yellow", "green", "blue", "pink", "purple")
BODIES = (
    "Ask the study team whether this applies to me.",
    "<p>Does this <strong>exclude</strong> me? My last scan was in March.</p>",
    "<p>Bring this up at the next appointment:</p><ul><li>dose</li><li>travel costs</li></ul>",
    "Mum: compare with the <em>other</em> trial we looked at.",
    '<p>See <a href="https://clinicaltrials.gov">the registry</a> for the full record.</p>',
)
BATCH_NOTEBOOKS = 500  # x 20 notes: 10,000 rows per INSERT batch


@dataclass(frozen=True)
class Reader:
    """A seeded notebook the load drivers act as."""

    notebook_id: str
    token: str


def quote_pool(app: Flask, count: int, rng: random.Random) -> list[NotePayload]:
    """`count` note payloads quoting random word runs of the seed trial's canonical text."""
    with app.app_context():
        text = trials.get_trial(SEED_TRIAL).canonical_text
    words = [i for i in range(1, len(text)) if text[i - 1].isspace() and not text[i].isspace()]
    pool = []
    for _ in range(count):
        first = rng.randrange(len(words) - 12)
        start = words[first]
        end = words[first + rng.randint(2, 10)] - 1
        while end > start and text[end - 1].isspace():
            end -= 1
        selectors = quote_to_selectors(quote_for_range(text, start, end))
        body = sanitize_body(rng.choice(BODIES))
        pool.append(
            NotePayload(selector=selectors, body=body, color=rng.choice(COLORS), anchor=ANCHORED, body_rules=BODY_RULES)
        )
    return pool


def _slot_row(notebook_id: str, share_id: str | None, dek: bytes, token: str) -> dict[str, Any]:
    # A notebook's slot is its first device's (that device takes the notebook's id, as 0011_devices does).
    device_id = notebook_id if share_id is None else None
    slot = keys.new_slot(notebook_id, share_id, dek, token, device_id=device_id)
    return {
        column: getattr(slot, column)
        for column in ("id", "notebook_id", "share_id", "device_id", "kek_id", "salt", "wrapped", "created_at")
    }


def _notebook_row(now: Any) -> tuple[dict[str, Any], str, bytes]:
    token = crypto.new_token(32)
    notebook_id = uuid.uuid4().hex
    dek = crypto.new_data_key()
    # notebooks.token_hash authenticates nothing since devices: the device row holds the token's hash.
    row = {"id": notebook_id, "token_hash": crypto.hash_token(crypto.new_token(32)), "created_at": now}
    device = {
        "id": notebook_id,
        "notebook_id": notebook_id,
        "token_hash": crypto.hash_token(token),
        "name": "bench",
        "created_at": now,
        "last_used_at": now,
    }
    row["device"] = device
    return row, token, dek


def _note_rows(
    notebook: dict[str, Any],
    dek: bytes,
    count: int,
    pool: list[NotePayload],
    version: str,
    rng: random.Random,
    now: Any,
) -> list[dict[str, Any]]:
    rows = []
    for index in range(count):
        note_id = uuid.uuid4().hex
        created = now + timedelta(microseconds=index)
        rows.append(
            {
                "id": note_id,
                "notebook_id": notebook["id"],
                "trial_id": SEED_TRIAL,
                "format_version": service.FORMAT_VERSION,
                "ciphertext": service.seal_payload(
                    crypto.note_key(dek, notebook["id"], note_id), notebook["id"], note_id, rng.choice(pool)
                ),
                "anchored_version": version,
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def seed_notebooks(
    app: Flask, notebooks: int, notes_each: int, pool: list[NotePayload], rng: random.Random
) -> list[Reader]:
    """Insert `notebooks` notebooks with `notes_each` encrypted notes each on the seed trial."""
    readers: list[Reader] = []
    with app.app_context():
        version = trials.get_trial_row(SEED_TRIAL).version
        for first in range(0, notebooks, BATCH_NOTEBOOKS):
            now = utcnow()
            books, devices, slots, notes = [], [], [], []
            for _ in range(min(BATCH_NOTEBOOKS, notebooks - first)):
                row, token, dek = _notebook_row(now)
                devices.append(row.pop("device"))
                books.append(row)
                slots.append(_slot_row(row["id"], None, dek, token))
                notes += _note_rows(row, dek, notes_each, pool, version, rng, now)
                readers.append(Reader(row["id"], token))
            db.session.execute(insert(Notebook), books)
            db.session.execute(insert(Device), devices)
            db.session.execute(insert(KeySlot), slots)
            if notes:
                db.session.execute(insert(Note), notes)
            db.session.commit()
        db.session.remove()
    return readers


def note_count(app: Flask) -> int:
    """Notes in the database."""
    with app.app_context():
        try:
            return int(db.session.scalar(select(func.count()).select_from(Note)))
        finally:
            db.session.remove()


def grow_to(app: Flask, total: int, notes_each: int, pool: list[NotePayload], rng: random.Random) -> float:
    """Add notebooks of `notes_each` notes until the database holds `total` notes; seconds taken."""
    started = time.perf_counter()
    missing = total - note_count(app)
    if missing > 0:
        full, rest = divmod(missing, notes_each)
        seed_notebooks(app, full, notes_each, pool, rng)
        if rest:
            seed_notebooks(app, 1, rest, pool, rng)
    return time.perf_counter() - started


def seed_shares(app: Flask, owner: Reader, count: int, passcode: str) -> list[str]:
    """`count` live shares of the owner's notes on the seed trial, all with `passcode`; their tokens."""
    tokens = []
    with app.app_context():
        # One Argon2id hash for all: each share row is still verified with full Argon2 cost,
        # but seeding 200 shares does not pay 200 hashes.
        passcode_hash = crypto.hash_passcode(passcode)
        note_ids = db.session.scalars(select(Note.id).where(Note.notebook_id == owner.notebook_id)).all()
        notebook = db.session.get(Notebook, owner.notebook_id)
        notebook.token = owner.token
        dek = service.data_key(notebook)  # the owner's token opens the key each share's slot holds
        now = utcnow()
        shares, links, slots = [], [], []
        for _ in range(count):
            token = crypto.new_token(32)
            share_id = uuid.uuid4().hex
            shares.append(
                {
                    "id": share_id,
                    "notebook_id": owner.notebook_id,
                    "trial_id": SEED_TRIAL,
                    "token_hash": crypto.hash_token(token),
                    "passcode_hash": passcode_hash,
                    "expires_at": now + timedelta(days=7),
                    "max_views": None,
                    "views": 0,
                    "failed_streak": 0,
                    "failed_total": 0,
                    "lock_count": 0,
                    "revoked": False,
                    "created_at": now,
                }
            )
            share_key = crypto.new_data_key()  # the share's own key: it seals its notes' keys
            links += [
                {
                    "share_id": share_id,
                    "note_id": note_id,
                    "wrapped_key": crypto.wrap_note_key(
                        share_key, crypto.note_key(dek, owner.notebook_id, note_id), share_id, note_id
                    ),
                }
                for note_id in note_ids
            ]
            slots.append(_slot_row(owner.notebook_id, share_id, share_key, token))
            tokens.append(token)
        db.session.execute(insert(Share), shares)
        db.session.execute(insert(KeySlot), slots)
        db.session.execute(insert(share_notes), links)
        db.session.commit()
        db.session.remove()
    return tokens


def notebook_selectors(app: Flask, owner: Reader) -> list[list[dict[str, Any]]]:
    """The decrypted selectors of a notebook's notes on the seed trial, oldest first."""
    with app.app_context():
        notebook = db.session.get(Notebook, owner.notebook_id)
        notebook.token = owner.token
        selectors, page = [], PageRequest(after=None, limit=MAX_LIMIT)
        while True:  # every page of the list, as a client following the cursor gets them
            found = service.list_notes(notebook, SEED_TRIAL, page)
            views = list(found.notes)
            selectors += [view.selectors for view in views]
            if not found.more:
                break
            page = PageRequest(after=(views[-1].created_at, views[-1].id), limit=MAX_LIMIT)
        db.session.remove()
    return selectors
