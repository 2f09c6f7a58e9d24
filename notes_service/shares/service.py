"""Shares: create, list, revoke, unlock, and open with a passcode under a lockout ladder.

Order of operations when opening, and why:
1. the per-client rate limit has already run (Flask-Limiter, before the view): floods
   stop before any database or Argon2 work;
2. a slot of the host-wide Argon2 gate is taken (one per client at a time), or 503: memory
   stays bounded and a refusal writes nothing;
3. the attempt is reserved in the database *before* Argon2 runs, as a ShareAttempt row with
   a lease, under the share's row lock: only while completed wrong passcodes plus attempts
   in flight are under 5 (and under 20 in all), so parallel guesses on any number of
   workers and hosts cannot get more than 5 verifications before the lock, while attempts
   in flight are never counted as failures;
4. Argon2 verifies; the outcome is recorded and the reservation deleted in one transaction:
   a wrong passcode adds to the streak and may start a lock, a right one ends the streak.
   Whatever fails in between, the reservation is deleted (or its lease runs out), so an
   error never spends an attempt.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, delete, func, insert, or_, select, update

from .. import crypto, keys, registry
from ..errors import Busy, Gone, Invalid, Locked, NotFound, Unauthorized
from ..extensions import db
from ..i18n import gettext, ngettext
from ..notes import service as notes
from ..notes.auth import owned_or_404
from ..notes.models import Note, Notebook
from ..notes.sanitize import plain_text
from ..paging import PageRequest, decode_cursor
from ..trials import service as trials
from ..trials.ctgov import NCT_RE
from .models import Reply, Share, ShareAttempt, share_notes
from .passcodes import CURRENT_FORM, LEGACY_FORM, in_form, normalize, typed_passcode
from .schemas import (
    ACTIVE,
    EXPIRED,
    LOCKED,
    MAX_LABEL_CHARS,
    MAX_SENDER_CHARS,
    MAX_SHARED_NOTES,
    REVOKED,
    USED_UP,
    SharedNotesRequest,
    ShareInput,
    ShareOwnerPayload,
    SharePatch,
)
from .schemas import SHARED_PAGE_NOTES as SHARED_PAGE_NOTES  # re-exported: the API reads the service's page size
from .sessions import session_share_id

STREAK_LIMIT = 5
TOTAL_LIMIT = 20
FIRST_LOCK = timedelta(minutes=15)
# How long a reservation holds its place if its worker dies mid-verification: well past a
# verification (under a second) and gunicorn's 30 s worker timeout.
ATTEMPT_LEASE = timedelta(seconds=60)
# How long a request waits for a place held by attempts in flight (their verifications end
# in well under a second, a few seconds on a loaded host) before 503.
IN_FLIGHT_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class OpenedShare:
    """A share a right passcode opened, its view counted; its notes are read a page at a time."""

    share: Share


def lock_duration(lock_number: int) -> timedelta:
    """15 minutes for the first lock, doubling for each one after."""
    factor: int = 2**lock_number  # int ** int is typed as Any (a negative power is a float)
    return FIRST_LOCK * factor


def state_of(share: Share, now: datetime | None = None) -> str:
    """active, expired, revoked, used_up or locked."""
    now = now or registry.now()
    if share.revoked:
        return REVOKED
    if share.expires_at <= now:
        return EXPIRED
    if share.max_views is not None and share.views >= share.max_views:
        return USED_UP
    if share.failed_total >= TOTAL_LIMIT:
        return LOCKED
    if share.locked_until is not None and share.locked_until > now:
        return LOCKED
    return ACTIVE


# -- Owner operations --------------------------------------------------------------


def create_share(
    notebook: Notebook, request: ShareInput, *, client: str | None = None
) -> tuple[Share, str, str | None]:
    """A new share; returns it, its token and the generated passcode (if one was generated)."""
    notebook_id = notebook.id
    trial_id, note_ids = _chosen_notes(notebook_id, request)
    _refuse_when_full(notebook_id)  # before Argon2 too: a full notebook costs no hashing
    details = ShareOwnerPayload(
        label=plain_field(request.label, "label", MAX_LABEL_CHARS),
        sender_name=plain_field(request.sender_name, "sender_name", MAX_SENDER_CHARS),
    )
    # The notebook token of this request opens the data key; the share gets a key of its own,
    # which seals the keys of its notes only and is held in the share's slot for the link token.
    dek = notes.data_key(notebook)
    passcode = request.passcode
    generated: str | None = None
    if passcode is None:
        passcode = generated = crypto.generate_passcode()
    passcode_hash = _hash_outside_transactions(normalize(passcode), client)
    # A new transaction (on SQLite, BEGIN IMMEDIATE): the notebook and notes are read again,
    # since they may have been deleted while the passcode was hashed. The notebook's row is held
    # as every write of its notes holds it: an import moving them (notes.imports) is waited for,
    # and its notebook then found gone (a share row written for it failed its foreign key, a 500).
    # Exclusive, as for a new note: creations at once cannot pass the bound on shares together.
    notes.hold_notebook(notebook, exclusive=True)
    _refuse_when_full(notebook_id)
    chosen = db.session.scalars(select(Note).where(Note.notebook_id == notebook_id, Note.id.in_(note_ids))).all()
    if not chosen:
        raise Invalid(gettext("There are no notes to share on this trial."), errors={"note_ids": gettext("no notes")})
    token = crypto.new_token(32)
    now = registry.now()
    share = Share(
        id=uuid.uuid4().hex,
        notebook_id=notebook_id,
        trial_id=trial_id,
        token_hash=crypto.hash_token(token),
        passcode_hash=passcode_hash,
        passcode_form=CURRENT_FORM,
        expires_at=now + timedelta(days=request.expires_in_days),
        max_views=request.max_views,
        views=0,
        failed_streak=0,
        failed_total=0,
        lock_count=0,
        revoked=False,
        created_at=now,
        replies_allowed=request.replies_allowed,
        language=request.language,
    )
    share_key = crypto.new_data_key()
    seal_details(share, dek, details)
    if details.sender_name is not None:
        share.sender_sealed = crypto.seal(
            share_key, details.sender_name.encode("utf-8"), crypto.share_sender_aad(notebook_id, share.id)
        )
    db.session.add(share)
    db.session.flush()  # the slot and the share's notes refer to the share row
    db.session.execute(
        insert(share_notes), notes.share_note_keys(dek, notebook_id, share.id, share_key, [note.id for note in chosen])
    )
    db.session.add(keys.new_slot(notebook_id, share.id, share_key, token))
    db.session.commit()
    return share, token, generated


def _refuse_when_full(notebook_id: str) -> None:
    """Invalid when the notebook holds as many shares as it may: revoked and expired ones count.

    They keep their rows, replies and wrapped note keys until the owner deletes them for good
    (`delete_share`), which is the way to make room, and what the refusal says.
    """
    count = db.session.scalar(select(func.count()).select_from(Share).where(Share.notebook_id == notebook_id))
    limit = registry.settings().max_shares_per_notebook
    if count is not None and count >= limit:
        raise Invalid(
            gettext(
                "A notebook holds at most %(limit)s shares, revoked and expired ones included. "
                "Delete the ones you no longer need for good to make room for a new one.",
                limit=limit,
            ),
            errors={"(notebook)": gettext("is full")},
        )


# Why a plain field was refused, by field: whole sentences, for the translators.
_TOO_LONG: dict[str, Callable[[], str]] = {
    "sender_name": lambda: gettext("The sender name is too long."),
    "label": lambda: gettext("The label is too long."),
    "name": lambda: gettext("Your name is too long."),  # a reply's writer
}


def plain_field(value: str | None, field: str, limit: int) -> str | None:
    """A name or label as stored: plain text within `limit` characters, or None when nothing is left."""
    if value is None:
        return None
    text = plain_text(value)
    if len(text) > limit:  # NFC may lengthen a few scripts' text
        raise Invalid(_TOO_LONG[field](), errors={field: gettext("must be at most %(most)s characters", most=limit)})
    return text or None


def seal_details(share: Share, dek: bytes, details: ShareOwnerPayload) -> None:
    """Seal the owner's label and sender name on the share row (null when neither is given)."""
    if details.label is None and details.sender_name is None:
        share.owner_sealed = None
        return
    key = crypto.share_owner_key(dek, share.notebook_id, share.id)
    share.owner_sealed = crypto.seal(key, details.plaintext(), crypto.share_owner_aad(share.notebook_id, share.id))


def open_details(share: Share, dek: bytes | None) -> ShareOwnerPayload:
    """The owner's label and sender name of a share; empty when there are none or they do not open."""
    if share.owner_sealed is None or dek is None:
        return ShareOwnerPayload()
    key = crypto.share_owner_key(dek, share.notebook_id, share.id)
    try:
        opened = crypto.open_sealed(key, share.owner_sealed, crypto.share_owner_aad(share.notebook_id, share.id))
        return ShareOwnerPayload.from_plaintext(opened)
    except (crypto.CryptoError, ValueError):
        current_app.logger.warning("details of share %s could not be decrypted", share.id)
        return ShareOwnerPayload()


@dataclass(frozen=True)
class ShareDetails:
    """What the owner sees of a share beyond its row: its label, sender name and replies."""

    label: str | None = None
    sender_name: str | None = None
    reply_count: int = 0
    unread_replies: int = 0


def share_details(notebook: Notebook, shares: list[Share]) -> dict[str, ShareDetails]:
    """The details of these shares of mine, by share id (their replies counted in one query)."""
    if not shares:
        return {}
    dek = notes.safe_data_key(notebook) if any(share.owner_sealed is not None for share in shares) else None
    counts = {
        share_id: (total, unread or 0)
        for share_id, total, unread in db.session.execute(
            select(Reply.share_id, func.count(), func.sum(case((Reply.seen_at.is_(None), 1), else_=0)))
            .where(Reply.share_id.in_([share.id for share in shares]))
            .group_by(Reply.share_id)
        )
    }
    found = {}
    for share in shares:
        opened = open_details(share, dek)
        total, unread = counts.get(share.id, (0, 0))
        found[share.id] = ShareDetails(opened.label, opened.sender_name, int(total), int(unread))
    return found


def sender_name(share: Share) -> str | None:
    """The sender name the share page shows before the passcode: its link token opens it, or None."""
    if share.sender_sealed is None:
        return None
    keys_of_share = share_key(share)
    if keys_of_share is None:
        return None
    try:
        opened = crypto.open_sealed(
            keys_of_share.share_key, share.sender_sealed, crypto.share_sender_aad(share.notebook_id, share.id)
        )
    except crypto.CryptoError:
        current_app.logger.warning("sender name of share %s could not be decrypted", share.id)
        return None
    return opened.decode("utf-8")


def _chosen_notes(notebook_id: str, request: ShareInput) -> tuple[str, list[str]]:
    # Every check that needs no Argon2 comes first: a bad request costs no hashing.
    row = trials.get_trial_row(request.trial_id)
    mine = db.session.scalars(select(Note.id).where(Note.notebook_id == notebook_id, Note.trial_id == row.id)).all()
    if request.note_ids is None:
        chosen = list(mine)
        # All my notes on the trial: held to the bound a list of ids is held to (a notebook may hold
        # more notes than a share carries, and a share's ids come back in its every answer).
        if len(chosen) > MAX_SHARED_NOTES:
            raise Invalid(
                gettext("A share holds at most %(most)s notes: choose them in `note_ids`.", most=MAX_SHARED_NOTES),
                errors={
                    "note_ids": ngettext(
                        "must have at most %(num)s item", "must have at most %(num)s items", MAX_SHARED_NOTES
                    )
                },
            )
    else:
        by_id = set(mine)
        unknown = [i for i in request.note_ids if i not in by_id]
        if unknown:
            # Not yours or not on this trial: the same answer, so ids of others are not probed.
            raise Invalid(
                gettext("Some notes are not yours or not on this trial."),
                errors={"note_ids": ngettext("%(num)s unknown note id", "%(num)s unknown note ids", len(unknown))},
            )
        chosen = list(dict.fromkeys(request.note_ids))
    if not chosen:
        raise Invalid(gettext("There are no notes to share on this trial."), errors={"note_ids": gettext("no notes")})
    return row.id, chosen


def _hash_outside_transactions(passcode: str, client: str | None) -> str:
    # Argon2 under the same gate as verification, and with no transaction open: on SQLite a
    # POST's transaction holds the write lock (BEGIN IMMEDIATE), which every other writer of
    # every worker would wait on for the whole hash.
    db.session.commit()  # ends the reads' transaction; nothing is pending
    with registry.argon_gate().slot(client):
        return crypto.hash_passcode(passcode, registry.password_hasher())


@dataclass(frozen=True)
class SharePage:
    """A page of shares, each one's note ids, and whether more shares follow."""

    shares: list[Share]
    note_ids: dict[str, list[str]]
    more: bool
    details: dict[str, ShareDetails]


def list_shares(notebook: Notebook, page: PageRequest, trial_id: str | None = None) -> SharePage:
    """A page of my shares, newest first, with their note ids."""
    query = select(Share).where(Share.notebook_id == notebook.id)
    if trial_id:
        if not NCT_RE.fullmatch(trial_id.upper()):
            # no share is on a trial without an NCT id (and PostgreSQL refuses a NUL in text)
            return SharePage([], {}, False, {})
        query = query.where(Share.trial_id == trial_id.upper())
    if page.after is not None:
        created_at, share_id = page.after
        query = query.where(
            or_(Share.created_at < created_at, and_(Share.created_at == created_at, Share.id < share_id))
        )
    query = query.order_by(Share.created_at.desc(), Share.id.desc()).limit(page.limit + 1)
    shares = list(db.session.scalars(query))
    more = len(shares) > page.limit
    shares = shares[: page.limit]
    # Only the ids of the page's notes, in one query: loading the notes themselves would
    # hold up to 5,000 rows per share in memory.
    note_ids: dict[str, list[str]] = {share.id: [] for share in shares}
    if shares:
        links = db.session.execute(
            select(share_notes.c.share_id, share_notes.c.note_id).where(share_notes.c.share_id.in_(list(note_ids)))
        )
        for share_id, note_id in links:
            note_ids[share_id].append(note_id)
    return SharePage(shares, note_ids, more, share_details(notebook, shares))


def _owned_share(notebook: Notebook, share_id: str) -> Share:
    return owned_or_404(Share, notebook, share_id, "share")


def get_share(notebook: Notebook, share_id: str) -> Share:
    """One of my shares."""
    return _owned_share(notebook, share_id)


def _share_to_write(notebook: Notebook, share_id: str) -> Share:
    """One of my shares, read again with its row locked until the commit; else 401 or 404.

    The notebook's row is held first, as every write of its notes holds it: a notebook deleted
    since the share was found is a 401 (it was a 500, the update of a row that was gone). The
    share is read afresh under its lock, as a passcode check counts on it (`locked_share`): an
    unlock resets the counters a wrong passcode has just written, not an older copy of them (it
    answered 200 and left the share locked).
    """
    _owned_share(notebook, share_id)  # another owner's share or none: 404 before any lock
    notes.hold_notebook(notebook, exclusive=False)
    return owned_or_404(Share, notebook, share_id, "share", lock=True)


def revoke_share(notebook: Notebook, share_id: str) -> None:
    """Revoke one of my shares: its link answers 410 from now on, and its key slot is erased at once."""
    share = _share_to_write(notebook, share_id)
    keys.delete_share_slot(share.id)
    share.revoked = True
    share.revoked_at = share.revoked_at or registry.now()
    db.session.commit()


def _share_now(share_id: str) -> Share:
    """The share read again between the steps of opening it; NotFound once its owner deleted it for good.

    A reader waits up to seconds for an Argon2 slot between finding the share and reserving an
    attempt, and the owner may delete the share meanwhile: a 404 then, as for any link that
    leads nowhere (it was a 500, NoResultFound).
    """
    share = db.session.get(Share, share_id)
    if share is None:
        raise NotFound(gettext("There is no share at this address."))
    return share


def delete_share(notebook: Notebook, share_id: str) -> None:
    """Delete one of my shares for good, revoked or not: its link is a 404 from now on.

    Its key slot, the keys of its notes (share_notes), its replies and any passcode check in
    flight go with its row (ON DELETE CASCADE), in one statement: nothing of it is left to
    count against the notebook's bound on shares.
    """
    share = _share_to_write(notebook, share_id)
    db.session.execute(delete(Share).where(Share.id == share.id))
    db.session.commit()


def update_share(notebook: Notebook, share_id: str, patch: SharePatch) -> Share:
    """Turn replies on or off for one of my shares, or change (or remove) its label or its language."""
    share = _share_to_write(notebook, share_id)
    if "label" in patch.model_fields_set:
        label = plain_field(patch.label, "label", MAX_LABEL_CHARS)
        dek = notes.data_key(notebook)
        current = open_details(share, dek)
        seal_details(share, dek, ShareOwnerPayload(label=label, sender_name=current.sender_name))
    if patch.replies_allowed is not None:
        share.replies_allowed = patch.replies_allowed
    if "language" in patch.model_fields_set:
        share.language = patch.language
    db.session.commit()
    return share


def unlock_share(notebook: Notebook, share_id: str) -> Share:
    """Lift a lock on one of my shares and reset its failure counters."""
    share = _share_to_write(notebook, share_id)
    share.failed_streak = 0
    share.failed_total = 0
    share.lock_count = 0
    share.locked_until = None
    db.session.commit()
    return share


# -- Opening -----------------------------------------------------------------------


def find_share(token: str) -> Share:
    """The share of a link token, or NotFound."""
    if not token or len(token) > 128 or not token.isascii():  # tokens are url-safe base64
        raise NotFound(gettext("There is no share at this address."))
    share = db.session.scalar(select(Share).where(Share.token_hash == crypto.hash_token(token)))
    if share is None:
        raise NotFound(gettext("There is no share at this address."))
    share.token = token  # in memory for this request only: the share's slot opens with it
    return share


def share_language(token: str) -> str | None:
    """The language a link's share is shown in (None: none chosen, or no such share)."""
    if not token or len(token) > 128 or not token.isascii():
        return None
    return db.session.scalar(select(Share.language).where(Share.token_hash == crypto.hash_token(token)))


def refuse_unless_open(share: Share, now: datetime) -> None:
    """Raise Gone or Locked when the share cannot be opened now."""
    state = state_of(share, now)
    if state == REVOKED:
        raise Gone(gettext("This share was revoked by the person who made it."))
    if state == EXPIRED:
        raise Gone(gettext("This share has expired."))
    if state == USED_UP:
        raise Gone(gettext("This share has been opened as many times as allowed."))
    if state != LOCKED:
        return
    if share.failed_total >= TOTAL_LIMIT:
        raise Locked(gettext("Too many wrong passcodes: this share is locked until the person who made it unlocks it."))
    # Locked and not for the owner: a timed lock, so it has an end to tell.
    until = share.locked_until or now + FIRST_LOCK
    seconds = max(1, int((until - now).total_seconds()))
    minutes = max(1, round(seconds / 60))
    raise Locked(
        ngettext(
            "Too many wrong passcodes. Try again in %(num)s minute.",
            "Too many wrong passcodes. Try again in %(num)s minutes.",
            minutes,
        ),
        retry_after=seconds,
    )


def locked_share(share_id: str) -> Share | None:
    # The share's row lock (PostgreSQL; on SQLite, BEGIN IMMEDIATE already serializes writers)
    # makes each reservation and each outcome one atomic step: the count of attempts in flight
    # and the counters are read and changed with no other writer in between.
    return db.session.get(Share, share_id, with_for_update=True, populate_existing=True)


def reserve_attempt(share_id: str, now: datetime) -> str | None:
    """Reserve a verification under the lockout bound; its id, or None when the share is not open.

    Raises Busy when the share is open but its places are all taken by attempts in flight.
    """
    share = locked_share(share_id)
    if share is None or state_of(share, now) != ACTIVE:
        db.session.commit()
        return None
    db.session.execute(delete(ShareAttempt).where(ShareAttempt.share_id == share_id, ShareAttempt.lease_until <= now))
    in_flight = db.session.execute(select(func.count()).where(ShareAttempt.share_id == share_id)).scalar_one()
    if share.failed_streak + in_flight >= STREAK_LIMIT or share.failed_total + in_flight >= TOTAL_LIMIT:
        db.session.commit()
        if in_flight:
            # Others are verifying passcodes for this share right now; their outcomes decide
            # whether a place frees up (a right one) or the lock starts (the 5th wrong one).
            raise Busy(
                gettext("Several people are opening this share right now. Try again in a moment."), retry_after=1
            )
        return None
    attempt_id = uuid.uuid4().hex
    db.session.add(ShareAttempt(id=attempt_id, share_id=share_id, lease_until=now + ATTEMPT_LEASE))
    db.session.commit()
    return attempt_id


def _reserve_waiting(share_id: str, now: datetime) -> str | None:
    # Right passcodes at once must all get in: wait for places held by attempts in flight
    # rather than refuse. Only 5 attempts of a share are ever in flight, so few requests wait.
    deadline = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
    while True:
        try:
            return reserve_attempt(share_id, now)
        except Busy:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.02)


def _release_attempt(attempt_id: str) -> None:
    # The attempt ended without an outcome (an error): give its place back, count nothing.
    db.session.rollback()
    db.session.execute(delete(ShareAttempt).where(ShareAttempt.id == attempt_id))
    db.session.commit()


def _record_success(share_id: str, attempt_id: str, now: datetime, new_hash: str | None) -> None:
    share = locked_share(share_id)
    db.session.execute(delete(ShareAttempt).where(ShareAttempt.id == attempt_id))
    if share is None:
        db.session.commit()
        raise NotFound(gettext("There is no share at this address."))
    # Revoked, expired or used up while the passcode was checked (the wait and Argon2 take
    # seconds): the share is judged again now, under its lock, and no view is counted.
    checked_at = registry.now()
    if state_of(share, checked_at) in (REVOKED, EXPIRED, USED_UP):
        db.session.commit()
        refuse_unless_open(share, checked_at)
    share.failed_streak = 0
    share.views += 1
    share.last_viewed_at = now
    if new_hash:
        share.passcode_hash, share.passcode_form = new_hash, CURRENT_FORM
    db.session.commit()


def _record_failure(share_id: str, attempt_id: str, now: datetime) -> tuple[int, bool] | None:
    """Count a completed wrong passcode; the tries left and whether the last locks for good, or None if now locked."""
    # The failure that completes a streak of 5 starts the lock and ends the streak, so a lock
    # always has an end; at 20 in all the share stays locked until its owner unlocks it.
    share = locked_share(share_id)
    db.session.execute(delete(ShareAttempt).where(ShareAttempt.id == attempt_id))
    if share is None:
        db.session.commit()
        raise NotFound(gettext("There is no share at this address."))
    share.failed_streak += 1
    share.failed_total += 1
    # A right passcode ends a streak but not the total: the total may run out first.
    in_streak, in_total = STREAK_LIMIT - share.failed_streak, TOTAL_LIMIT - share.failed_total
    left: tuple[int, bool] | None = (min(in_streak, in_total), in_total <= in_streak)
    if share.failed_total >= TOTAL_LIMIT:
        left = None
    elif share.failed_streak >= STREAK_LIMIT:
        share.locked_until = now + lock_duration(share.lock_count)
        share.lock_count += 1
        share.failed_streak = 0
        left = None
    db.session.commit()
    return left


def wrong_passcode_message(left: int, for_good: bool = False) -> str:
    """What a wrong passcode tells the reader, in plain words: how many tries are left before a pause.

    `for_good`: the last of them locks the link until the person who shared it unlocks it.
    """
    if for_good:
        return ngettext(
            "That passcode is not right. Check it with the person who shared the link. "
            "You have %(num)s more try before the link locks until they unlock it.",
            "That passcode is not right. Check it with the person who shared the link. "
            "You have %(num)s more tries before the link locks until they unlock it.",
            left,
        )
    return ngettext(
        "That passcode is not right. Check it with the person who shared the link. "
        "You have %(num)s more try before the link pauses for a while.",
        "That passcode is not right. Check it with the person who shared the link. "
        "You have %(num)s more tries before the link pauses for a while.",
        left,
    )


def open_share(token: str, passcode: Any, *, now: datetime | None = None, client: str | None = None) -> OpenedShare:
    """Check the passcode under the lockout rules and count the view, or raise; loads no note."""
    share = find_share(token)
    now = now or registry.now()
    refuse_unless_open(share, now)
    typed = typed_passcode(passcode)
    if typed is None:
        raise Unauthorized(gettext("Enter the passcode you were given."))
    share_id, passcode_hash, form = share.id, share.passcode_hash, share.passcode_form
    # End the read's transaction before the gate: a transaction left open would stay open
    # through the wait and Argon2 (on SQLite, BEGIN IMMEDIATE: the write lock, so every other
    # request of every worker would wait for each verification).
    db.session.commit()
    with registry.argon_gate().slot(client):
        attempt_id = _reserve_waiting(share_id, now)
        if attempt_id is None:
            db.session.expire_all()
            refuse_unless_open(_share_now(share_id), now)
            raise Locked(
                gettext("Too many wrong passcodes. Try again later."), retry_after=int(FIRST_LOCK.total_seconds())
            )
        ok, new_hash = _verify_or_release(attempt_id, passcode_hash, typed, form)
    opened = _finish(share_id, attempt_id, now, ok, new_hash)
    opened.share.token = token  # the share read again after the outcome: its slot opens with the link token
    return opened


def _verify_or_release(attempt_id: str, passcode_hash: str, typed: str, form: int) -> tuple[bool, str | None]:
    try:
        ok, new_hash = crypto.verify_passcode(passcode_hash, in_form(typed, form), registry.password_hasher())
        if ok and form == LEGACY_FORM:
            # Hashed again in the current form on its first right passcode, still in the gate's slot.
            new_hash = crypto.hash_passcode(normalize(typed), registry.password_hasher())
        return ok, new_hash
    except BaseException:
        _release_attempt(attempt_id)
        raise


def _finish(share_id: str, attempt_id: str, now: datetime, ok: bool, new_hash: str | None) -> OpenedShare:
    if not ok:
        # Should recording a wrong passcode fail, its reservation is left to its lease rather
        # than given back: a database error must not be a way to get guesses for free.
        left = _record_failure(share_id, attempt_id, now)
        if left is None:  # this very failure locked the share: say so, with the lock's end
            db.session.expire_all()
            refuse_unless_open(_share_now(share_id), now)
        tries, for_good = left or (1, False)
        raise Unauthorized(wrong_passcode_message(max(1, tries), for_good))
    try:
        _record_success(share_id, attempt_id, now, new_hash)
    except BaseException:
        _release_attempt(attempt_id)
        raise
    db.session.expire_all()
    # No note is read here: each reader loads one page at a time (the share page its 25, the
    # API its first page under the byte budget), so opening costs the same for any share.
    return OpenedShare(share=_share_now(share_id))


def share_key(share: Share) -> notes.SharedKeys | None:
    """The share's note keys, out of its slot with the link token of this request; None if it does not open."""
    slot = keys.share_slot(share.id)
    token = share.token
    if slot is None or token is None:
        return None  # revoked (its slot is erased), or no link token: nothing opens
    if slot.salt is None:
        secret = notes.safe_key(lambda: _first_opening(share, slot, token), share.notebook_id)
    else:
        secret = notes.safe_key(lambda: keys.open_slot(slot, token), share.notebook_id)
    return notes.SharedKeys(share.id, secret) if secret is not None else None


def _first_opening(share: Share, slot: Any, token: str) -> bytes:
    """Seal a share from before key slots for its link: a key of its own, its notes' keys, its slot in place.

    Its slot held a KEK-only copy of the notebook's DEK (0008_key_slots); after this it holds
    the share's key only, sealed for the link token, and the DEK is gone from it.
    """
    dek = keys.open_kek_only(slot)
    share_key = crypto.new_data_key()
    note_ids = list(db.session.scalars(select(share_notes.c.note_id).where(share_notes.c.share_id == share.id)))
    db.session.commit()  # the reads' transaction ends: the writes below wait for the lock in their own
    if not keys.seal_in_place(slot, share_key, token):
        db.session.rollback()  # another request converted it meanwhile: open what it sealed
        return keys.open_slot(keys.share_slot(share.id), token)
    for row in notes.share_note_keys(dek, share.notebook_id, share.id, share_key, note_ids):
        db.session.execute(
            update(share_notes)
            .where(share_notes.c.share_id == share.id, share_notes.c.note_id == row["note_id"])
            .values(wrapped_key=row["wrapped_key"])
        )
    db.session.commit()
    return share_key


def shared_notes_page(share: Share, page: PageRequest) -> notes.NoteSlice | None:
    """A page of the share's notes as they are now (unreadable ones included), or None if its notebook is gone.

    `share` is the one `find_share` found by the link token: the token opens its key slot.
    """
    if db.session.get(Notebook, share.notebook_id) is None:
        return None
    return notes.shared_notes_page(share.notebook_id, share.id, share.trial_id, page, lambda: share_key(share))


@dataclass(frozen=True)
class ResumeRequest:
    """A request for a next page of an opened share: its session and where the page starts."""

    session: Any
    page: PageRequest


# A shared note's page cursor carries the last note's (created_at, id), as the notes list's does.
SHARED_NOTE_KEY = (datetime, str)


def resume_request(wanted: SharedNotesRequest) -> ResumeRequest:
    """Where a next page of an opened share starts; a cursor this service did not give is a 400."""
    after = decode_cursor(wanted.cursor, SHARED_NOTE_KEY) if wanted.cursor else None
    # The session is checked against the share, not here: any bad session is the same 401.
    return ResumeRequest(wanted.session, PageRequest(after=after, limit=SHARED_PAGE_NOTES))


def resumed_share(token: str, session: Any, now: datetime | None = None) -> Share:
    """The share of a link whose session (from opening it) is valid, after checking it is still open.

    A next page costs neither a view nor an Argon2 check: the session is the proof of a right
    passcode in the last 30 minutes, and it only opens the share it was issued for. The notes
    open with the link token only: the session holds no key and opens no slot by itself.
    """
    share = find_share(token)
    if session_share_id(session) != share.id:
        raise Unauthorized(
            gettext("This share session is not valid or has expired. Open the share with its passcode again.")
        )
    return session_share(share, now)


def session_share(share: Share, now: datetime | None = None) -> Share:
    """A share found by its link token whose session is valid, after checking it is still open."""
    now = now or registry.now()
    state = state_of(share, now)
    # A used-up share still shows to the person who used its last view, for the cookie's life.
    if state in {REVOKED, EXPIRED}:
        refuse_unless_open(share, now)
    return share
