"""Shares: create, list, revoke, unlock, and open with a passcode under a lockout ladder.

Order of operations when opening, and why:
1. the per-client rate limit has already run (Flask-Limiter, before the view): floods
   stop before any database or Argon2 work;
2. a slot of the per-process Argon2 gate is taken, or 503 at once (memory stays bounded);
3. the attempt is counted in the database by one conditional UPDATE *before* Argon2 runs,
   so parallel guesses on any number of workers cannot get more than 5 verifications
   past the lock: the UPDATE only matches while fewer than 5 attempts are in the streak;
4. Argon2 verifies; a right passcode gives the attempt back, a wrong one may start a lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy import or_, select, update

from .. import crypto
from ..clock import utcnow
from ..errors import Gone, Invalid, Locked, NotFound, Unauthorized
from ..extensions import db
from ..notes import service as notes
from ..notes.auth import owned_or_404
from ..notes.models import Note, Notebook
from ..notes.service import NoteView
from ..trials import service as trials
from ..trials.ctgov import NCT_RE
from .models import Share
from .passcodes import MAX_CHARS, MIN_CHARS, ArgonGate, normalize

STREAK_LIMIT = 5
TOTAL_LIMIT = 20
FIRST_LOCK = timedelta(minutes=15)
MAX_EXPIRY_DAYS = 90
DEFAULT_EXPIRY_DAYS = 7

ACTIVE, EXPIRED, REVOKED, USED_UP, LOCKED = "active", "expired", "revoked", "used_up", "locked"


@dataclass(frozen=True)
class ShareRequest:
    """A validated request to create a share."""

    trial_id: str
    note_ids: list[str] | None
    passcode: str | None
    expires_in_days: int
    max_views: int | None


@dataclass(frozen=True)
class OpenedShare:
    """What a right passcode reveals: the trial and the shared notes as they are now."""

    share: Share
    notes: list[NoteView]


def hasher() -> PasswordHasher:
    """The Argon2id hasher (argon2-cffi's RFC 9106 low-memory defaults unless a test swaps it)."""
    return current_app.extensions.get("notes_password_hasher") or PasswordHasher()


def gate() -> ArgonGate:
    """This process's bound on concurrent Argon2 verifications."""
    return current_app.extensions["notes_argon_gate"]


def lock_duration(lock_number: int) -> timedelta:
    """15 minutes for the first lock, doubling for each one after."""
    return FIRST_LOCK * (2 ** lock_number)


def state_of(share: Share, now: datetime | None = None) -> str:
    """active, expired, revoked, used_up or locked."""
    now = now or utcnow()
    if share.revoked:
        return REVOKED
    if share.expires_at <= now:
        return EXPIRED
    if share.max_views is not None and share.views >= share.max_views:
        return USED_UP
    if share.failed_total >= TOTAL_LIMIT or share.failed_streak >= STREAK_LIMIT:
        return LOCKED
    if share.locked_until is not None and share.locked_until > now:
        return LOCKED
    return ACTIVE


# -- Owner operations --------------------------------------------------------------


def parse_share_request(data: Any) -> ShareRequest:
    """Validate a create-share body; raise Invalid naming every bad field."""
    if not isinstance(data, dict):
        raise Invalid("The request body must be a JSON object.", errors={"(body)": "must be an object"})
    errors: dict[str, str] = {}
    trial_id = data.get("trial_id")
    if not isinstance(trial_id, str) or not trial_id:
        errors["trial_id"] = "is required (an NCT number)"
    note_ids = data.get("note_ids")
    if note_ids is not None and (
        not isinstance(note_ids, list) or not note_ids or len(note_ids) > 5000
        or not all(isinstance(i, str) and 0 < len(i) <= 64 for i in note_ids)
    ):
        errors["note_ids"] = "must be a non-empty list of note ids"
    passcode = data.get("passcode")
    if passcode is not None:
        if not isinstance(passcode, str):
            errors["passcode"] = "must be a string"
        elif not MIN_CHARS <= len(normalize(passcode)) <= MAX_CHARS:
            errors["passcode"] = f"must have {MIN_CHARS} to {MAX_CHARS} characters"
    days = data.get("expires_in_days", DEFAULT_EXPIRY_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = f"must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}"
    max_views = data.get("max_views")
    if max_views is not None and (isinstance(max_views, bool) or not isinstance(max_views, int)
                                  or not 1 <= max_views <= 100_000):
        errors["max_views"] = "must be a whole number from 1 to 100000"
    for name in sorted(set(data) - {"trial_id", "note_ids", "passcode", "expires_in_days", "max_views"}):
        errors[name] = "is not a field of a share"
    if errors:
        raise Invalid("The share is not valid.", errors=errors)
    return ShareRequest(trial_id, note_ids, passcode, days, max_views)


def create_share(notebook: Notebook, request: ShareRequest) -> tuple[Share, str, str | None]:
    """A new share; returns it, its token and the generated passcode (if one was generated)."""
    row = trials.get_trial_row(request.trial_id)
    mine = db.session.scalars(
        select(Note).where(Note.notebook_id == notebook.id, Note.trial_id == row.id)
    ).all()
    if request.note_ids is None:
        chosen = list(mine)
    else:
        by_id = {note.id: note for note in mine}
        unknown = [i for i in request.note_ids if i not in by_id]
        if unknown:
            # Not yours or not on this trial: the same answer, so ids of others are not probed.
            raise Invalid("Some notes are not yours or not on this trial.",
                          errors={"note_ids": f"{len(unknown)} unknown note id(s)"})
        chosen = [by_id[i] for i in dict.fromkeys(request.note_ids)]
    if not chosen:
        raise Invalid("There are no notes to share on this trial.", errors={"note_ids": "no notes"})
    generated = crypto.generate_passcode() if request.passcode is None else None
    passcode = normalize(request.passcode if request.passcode is not None else generated)
    token = crypto.new_token(32)
    now = utcnow()
    share = Share(
        id=uuid.uuid4().hex, notebook_id=notebook.id, trial_id=row.id,
        token_hash=crypto.hash_token(token), passcode_hash=crypto.hash_passcode(passcode, hasher()),
        expires_at=now + timedelta(days=request.expires_in_days), max_views=request.max_views,
        views=0, failed_streak=0, failed_total=0, lock_count=0, revoked=False, created_at=now,
    )
    share.notes = chosen
    db.session.add(share)
    db.session.commit()
    return share, token, generated


def list_shares(notebook: Notebook, trial_id: str | None = None) -> list[Share]:
    """My shares, newest first."""
    query = select(Share).where(Share.notebook_id == notebook.id)
    if trial_id:
        if not NCT_RE.match(trial_id.upper()):
            return []  # no share is on a trial without an NCT id (and PostgreSQL refuses a NUL in text)
        query = query.where(Share.trial_id == trial_id.upper())
    return list(db.session.scalars(query.order_by(Share.created_at.desc(), Share.id)))


def _owned_share(notebook: Notebook, share_id: str) -> Share:
    return owned_or_404(Share, notebook, share_id, "share")


def get_share(notebook: Notebook, share_id: str) -> Share:
    """One of my shares."""
    return _owned_share(notebook, share_id)


def revoke_share(notebook: Notebook, share_id: str) -> None:
    """Revoke one of my shares: its link answers 410 from now on."""
    share = _owned_share(notebook, share_id)
    share.revoked = True
    share.revoked_at = share.revoked_at or utcnow()
    db.session.commit()


def unlock_share(notebook: Notebook, share_id: str) -> Share:
    """Lift a lock on one of my shares and reset its failure counters."""
    share = _owned_share(notebook, share_id)
    share.failed_streak = 0
    share.failed_total = 0
    share.lock_count = 0
    share.locked_until = None
    db.session.commit()
    return share


# -- Opening -----------------------------------------------------------------------


def find_share(token: str) -> Share:
    """The share of a link token, or NotFound."""
    if not token or len(token) > 128:
        raise NotFound("There is no share at this address.")
    share = db.session.scalar(select(Share).where(Share.token_hash == crypto.hash_token(token)))
    if share is None:
        raise NotFound("There is no share at this address.")
    return share


def refuse_unless_open(share: Share, now: datetime) -> None:
    """Raise Gone or Locked when the share cannot be opened now."""
    state = state_of(share, now)
    if state == REVOKED:
        raise Gone("This share was revoked by the person who made it.")
    if state == EXPIRED:
        raise Gone("This share has expired.")
    if state == USED_UP:
        raise Gone("This share has been opened as many times as allowed.")
    if state != LOCKED:
        return
    if share.failed_total >= TOTAL_LIMIT:
        raise Locked("Too many wrong passcodes: this share is locked until the person who made it "
                     "unlocks it.")
    until = share.locked_until if share.locked_until and share.locked_until > now else now + FIRST_LOCK
    seconds = max(1, int((until - now).total_seconds()))
    raise Locked(f"Too many wrong passcodes. Try again in {max(1, round(seconds / 60))} minutes.",
                 retry_after=seconds)


def _reserve_attempt(share_id: str, now: datetime) -> bool:
    # One conditional UPDATE: atomic on SQLite and PostgreSQL alike, across workers and hosts.
    result = db.session.execute(
        update(Share)
        .where(
            Share.id == share_id,
            Share.revoked.is_(False),
            Share.expires_at > now,
            Share.failed_streak < STREAK_LIMIT,
            Share.failed_total < TOTAL_LIMIT,
            or_(Share.locked_until.is_(None), Share.locked_until <= now),
            or_(Share.max_views.is_(None), Share.views < Share.max_views),
        )
        .values(failed_streak=Share.failed_streak + 1, failed_total=Share.failed_total + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _record_success(share_id: str, now: datetime, new_hash: str | None) -> bool:
    values: dict[str, Any] = {
        "failed_streak": 0,
        "failed_total": Share.failed_total - 1,  # the reserved attempt was not a failure
        "views": Share.views + 1,
        "last_viewed_at": now,
    }
    if new_hash:
        values["passcode_hash"] = new_hash
    result = db.session.execute(
        update(Share)
        .where(Share.id == share_id, or_(Share.max_views.is_(None), Share.views < Share.max_views))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _record_failure(share_id: str, now: datetime) -> None:
    # Whoever completes the 5th failure of a streak starts the lock; the others find it started.
    share = db.session.get(Share, share_id, populate_existing=True)
    assert share is not None
    db.session.execute(
        update(Share)
        .where(Share.id == share_id, Share.failed_streak >= STREAK_LIMIT, Share.failed_total < TOTAL_LIMIT,
               or_(Share.locked_until.is_(None), Share.locked_until <= now))
        .values(failed_streak=0, lock_count=Share.lock_count + 1,
                locked_until=now + lock_duration(share.lock_count))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def open_share(token: str, passcode: Any, *, now: datetime | None = None) -> OpenedShare:
    """Check the passcode under the lockout rules and return the shared notes, or raise."""
    share = find_share(token)
    now = now or utcnow()
    refuse_unless_open(share, now)
    if not isinstance(passcode, str) or not passcode.strip() or len(passcode) > MAX_CHARS:
        raise Unauthorized("Enter the passcode you were given.")
    share_id, passcode_hash = share.id, share.passcode_hash
    # Read before _reserve_attempt commits: loading the expired attribute after it would open a
    # transaction that stays open through Argon2 (on SQLite, BEGIN IMMEDIATE: the write lock,
    # so every other request of every worker would wait for each verification).
    with gate().slot():
        if not _reserve_attempt(share_id, now):
            db.session.expire_all()
            refuse_unless_open(db.session.get(Share, share_id), now)
            raise Locked("Too many wrong passcodes. Try again later.", retry_after=int(FIRST_LOCK.total_seconds()))
        ok, new_hash = crypto.verify_passcode(passcode_hash, normalize(passcode), hasher())
    if not ok:
        _record_failure(share_id, now)
        db.session.expire_all()
        refreshed = db.session.get(Share, share_id)
        if state_of(refreshed, now) == LOCKED:
            refuse_unless_open(refreshed, now)
        left = max(1, STREAK_LIMIT - refreshed.failed_streak)
        raise Unauthorized(f"That passcode is not right. {left} more tries before a pause.")
    if not _record_success(share_id, now, new_hash):
        raise Gone("This share has been opened as many times as allowed.")
    db.session.expire_all()
    return OpenedShare(share=db.session.get(Share, share_id), notes=shared_notes(share_id))


def shared_notes(share_id: str) -> list[NoteView]:
    """The share's notes as they are now: edits show, deleted notes are gone."""
    share = db.session.get(Share, share_id)
    notebook = db.session.get(Notebook, share.notebook_id)
    if notebook is None:
        return []
    ids = [note.id for note in share.notes]
    return notes.notes_by_ids(notebook, share.trial_id, ids)


def session_view(share_id: str, now: datetime | None = None) -> OpenedShare:
    """Re-show an opened share (share-page cookie) after checking it is still open."""
    share = db.session.get(Share, share_id)
    if share is None:
        raise NotFound("There is no share at this address.")
    now = now or utcnow()
    state = state_of(share, now)
    # A used-up share still shows to the person who used its last view, for the cookie's life.
    if state in {REVOKED, EXPIRED}:
        refuse_unless_open(share, now)
    return OpenedShare(share=share, notes=shared_notes(share_id))
