"""Replies: the family answers a shared note; the owner reads, marks seen and deletes the answers.

A reply is sealed under a key derived from its note's key (crypto.reply_key). The family
holds that note key only through the share (its slot opens with the link token, and holds
the keys of the share's notes); the owner derives it from the notebook's DEK. So a share's
link writes and reads replies to its own notes and no others, and the owner reads them all
with the notebook token, after the share is revoked as well.

Bounds are stored bounds, checked under the share's row lock when a reply is added: a note
holds at most MAX_REPLIES_PER_NOTE replies through one share, a share MAX_REPLIES_PER_SHARE
in all, whatever the rate of requests or the number of workers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from .. import crypto, registry
from ..errors import Closed, Gone, Invalid, NotFound
from ..extensions import db
from ..i18n import gettext
from ..notes import service as notes
from ..notes.auth import is_row_id, owned_or_404
from ..notes.models import Note, Notebook
from ..notes.sanitize import body_as_shown, plain_text, sanitize_body
from ..paging import PageRequest
from ..trials import service as trials
from .models import Reply, Share, share_notes
from .schemas import (
    ACTIVE,
    LOCKED,
    MAX_REPLIES_PER_NOTE,
    MAX_REPLIES_PER_SHARE,
    MAX_REPLY_CHARS,
    MAX_REPLY_NAME_CHARS,
    ReplyPayload,
)
from .service import locked_share, plain_field, refuse_unless_open, share_key, state_of


@dataclass(frozen=True)
class ReplyView:
    """A decrypted reply."""

    id: str
    note_id: str
    share_id: str
    name: str | None
    body: str
    created_at: datetime
    seen_at: datetime | None = None


# -- The family's side -------------------------------------------------------------


def replies_open(share: Share, now: datetime | None = None) -> bool:
    """Whether the share takes a reply now: replies on, and neither revoked, expired nor used up."""
    # Locked is a pause for new openings after wrong passcodes: a reader already in proved
    # the passcode, and may still answer.
    return share.replies_allowed and state_of(share, now or registry.now()) in (ACTIVE, LOCKED)


def _refuse_unless_taking_replies(share: Share, now: datetime) -> None:
    state = state_of(share, now)
    if state not in (ACTIVE, LOCKED):
        refuse_unless_open(share, now)  # revoked, expired: Gone, with its words
        raise Gone(gettext("This share has been opened as many times as allowed: it takes no more replies."))
    if not share.replies_allowed:
        raise Closed(gettext("The person who shared these notes has turned replies off."))


def stored_reply_body(text: str) -> str:
    """The sanitized body as stored, within MAX_REPLY_CHARS and not empty; else Invalid."""
    body = sanitize_body(text)
    if len(body) > MAX_REPLY_CHARS:
        raise Invalid(
            gettext("The reply is too long once its markup is made safe."),
            errors={
                "body": gettext(
                    "must be at most %(most)s characters as stored (< and & count as 4 and 5)", most=MAX_REPLY_CHARS
                )
            },
        )
    if not plain_text(body):  # nothing left to read: only markup, or white space
        raise Invalid(
            gettext("Write a reply before sending it."),
            errors={"body": gettext("is empty once its markup is made safe")},
        )
    return body


def _shared_note_key(share: Share, note_id: str) -> tuple[bytes, str]:
    """The key and trial of a note this share shows (out of its slot with the link token), or NotFound."""
    if not is_row_id(note_id):  # nothing else is looked up (PostgreSQL refuses a NUL in text with an error)
        raise NotFound(gettext("There is no such note in this share."))
    row = db.session.execute(
        select(share_notes.c.wrapped_key, Note.trial_id)
        .join(Note, Note.id == share_notes.c.note_id)
        .where(
            share_notes.c.share_id == share.id,
            share_notes.c.note_id == note_id,
            Note.notebook_id == share.notebook_id,
            Note.trial_id == share.trial_id,
        )
    ).first()
    keys_of_share = share_key(share) if row is not None else None
    if row is None or row.wrapped_key is None or keys_of_share is None:
        raise NotFound(gettext("There is no such note in this share."))
    try:
        key = crypto.unwrap_note_key(keys_of_share.share_key, bytes(row.wrapped_key), share.id, note_id)
    except crypto.CryptoError:
        raise NotFound(gettext("There is no such note in this share.")) from None
    return key, row.trial_id


def add_reply(
    share: Share,
    note_id: str,
    body: str,
    name: str | None,
    now: datetime | None = None,
    reply_id: str | None = None,
) -> tuple[ReplyView, bool]:
    """A reply to a note of an opened share, sealed and stored under the share's bounds; or raise.

    `share` is the one found by the link token with a valid session. Nothing is stored unless
    every check passes; the bounds are counted again under the share's row lock. `reply_id` is
    the id its form was given: the same form sent again (a second tap, a resend) stores nothing
    more and answers the reply stored the first time. The second value is False then (nothing
    new was stored), True for a reply stored now.
    """
    now = now or registry.now()
    _refuse_unless_taking_replies(share, now)
    stored = stored_reply_body(body)
    writer = plain_field(name, "name", MAX_REPLY_NAME_CHARS)
    key_of_note, trial_id = _shared_note_key(share, note_id)
    share_id, notebook_id = share.id, share.notebook_id
    db.session.commit()  # the reads' transaction ends: the checks below run under the share's lock
    locked = locked_share(share_id)
    if locked is None:
        db.session.commit()
        raise NotFound(gettext("There is no share at this address."))
    sent = db.session.get(Reply, reply_id) if reply_id and is_row_id(reply_id) else None
    if sent is not None and (sent.share_id, sent.note_id) == (share_id, note_id):
        db.session.commit()  # this form's reply is stored already: nothing more
        found = open_reply(key_of_note, sent) or ReplyView(sent.id, note_id, share_id, writer, stored, sent.created_at)
        return found, False
    if reply_id is None or sent is not None or not is_row_id(reply_id):
        reply_id = uuid.uuid4().hex  # no form's id, or one taken elsewhere: a reply of its own
    try:
        _refuse_unless_taking_replies(locked, now)
        _check_bounds(share_id, note_id)
    except BaseException:
        db.session.rollback()
        raise
    sealed = crypto.seal(
        crypto.reply_key(key_of_note, notebook_id, note_id),
        ReplyPayload(name=writer, body=stored).plaintext(),
        crypto.reply_aad(notebook_id, note_id, share_id, reply_id),
    )
    db.session.add(
        Reply(
            id=reply_id,
            notebook_id=notebook_id,
            share_id=share_id,
            note_id=note_id,
            trial_id=trial_id,
            ciphertext=sealed,
            created_at=now,
        )
    )
    db.session.commit()
    return ReplyView(reply_id, note_id, share_id, writer, stored, now), True


def _check_bounds(share_id: str, note_id: str) -> None:
    on_note, on_share = db.session.execute(
        select(
            func.count().filter(Reply.note_id == note_id),
            func.count(),
        ).where(Reply.share_id == share_id)
    ).one()
    if on_note >= MAX_REPLIES_PER_NOTE:
        raise Closed(
            gettext("This note already has %(most)s replies, as many as it can hold.", most=MAX_REPLIES_PER_NOTE)
        )
    if on_share >= MAX_REPLIES_PER_SHARE:
        raise Closed(
            gettext("This share already has %(most)s replies, as many as it can hold.", most=MAX_REPLIES_PER_SHARE)
        )


class SharedReplies:
    """The replies of one share, loaded on first use (at most MAX_REPLIES_PER_SHARE), opened per note."""

    def __init__(self, share: Share) -> None:
        self.share = share
        self._rows: dict[str, list[Reply]] | None = None
        self._keys: notes.SharedKeys | None = None

    def _load(self) -> dict[str, list[Reply]]:
        if self._rows is None:
            rows = db.session.scalars(
                select(Reply).where(Reply.share_id == self.share.id).order_by(Reply.created_at, Reply.id)
            ).all()
            self._rows = {}
            for row in rows:
                self._rows.setdefault(row.note_id, []).append(row)
            self._keys = share_key(self.share) if rows else None
            if self._keys is not None:
                self._keys.prepare(list(self._rows))
        return self._rows

    def of(self, note_id: str) -> list[ReplyView]:
        """This share's readable replies to a note, oldest first."""
        rows = self._load().get(note_id, [])
        key_of_note = self._keys.note_key(note_id) if rows and self._keys is not None else None
        if key_of_note is None:
            return []
        return [view for view in (open_reply(key_of_note, row) for row in rows) if view is not None]


# -- The owner's side --------------------------------------------------------------


def open_reply(key_of_note: bytes, row: Reply) -> ReplyView | None:
    """A reply row decrypted with its note's key, or None (logged by id) when it does not open."""
    try:
        opened = crypto.open_sealed(
            crypto.reply_key(key_of_note, row.notebook_id, row.note_id),
            row.ciphertext,
            crypto.reply_aad(row.notebook_id, row.note_id, row.share_id, row.id),
        )
        payload = ReplyPayload.from_plaintext(opened)
    except (crypto.CryptoError, ValueError):
        current_app.logger.warning("reply %s could not be decrypted", row.id)
        return None
    body = body_as_shown(payload.body)
    return ReplyView(row.id, row.note_id, row.share_id, payload.name, body, row.created_at, row.seen_at)


@dataclass(frozen=True)
class ReplyPage:
    """A page of replies, newest first, the last row's sort key, and whether more follow."""

    replies: list[ReplyView]
    last: tuple[datetime, str] | None
    more: bool


# The owner's list's cursor carries the last reply's (created_at, id).
REPLY_KEY = (datetime, str)


def list_replies(notebook: Notebook, trial_id: str, page: PageRequest) -> ReplyPage:
    """A page of the replies to my notes on a trial, newest first (unreadable ones left out)."""
    row = trials.get_trial_row(trial_id)
    query = select(Reply).where(Reply.notebook_id == notebook.id, Reply.trial_id == row.id)
    if page.after is not None:
        created_at, reply_id = page.after
        query = query.where(
            or_(Reply.created_at < created_at, and_(Reply.created_at == created_at, Reply.id < reply_id))
        )
    rows = list(db.session.scalars(query.order_by(Reply.created_at.desc(), Reply.id.desc()).limit(page.limit + 1)))
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    dek = notes.safe_data_key(notebook) if rows else None
    key: Callable[[Reply], bytes | None] = (
        (lambda reply: crypto.note_key(dek, reply.notebook_id, reply.note_id)) if dek is not None else (lambda _: None)
    )
    views = []
    for reply in rows:
        key_of_note = key(reply)
        view = open_reply(key_of_note, reply) if key_of_note is not None else None
        if view is not None:
            views.append(view)
    last = (rows[-1].created_at, rows[-1].id) if rows else None
    return ReplyPage(views, last, more)


def mark_seen(notebook: Notebook, trial_id: str, reply_ids: list[str]) -> None:
    """Mark these replies to my notes on a trial as seen; ids not mine (or not on it) change nothing."""
    row = trials.get_trial_row(trial_id)
    reply_ids = [reply_id for reply_id in reply_ids if is_row_id(reply_id)]  # nor do ids no reply could have
    db.session.execute(
        update(Reply)
        .where(
            Reply.notebook_id == notebook.id,
            Reply.trial_id == row.id,
            Reply.id.in_(reply_ids),
            Reply.seen_at.is_(None),
        )
        .values(seen_at=registry.now())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def delete_reply(notebook: Notebook, reply_id: str) -> None:
    """Delete one reply to my notes (another owner's: 404)."""
    reply = owned_or_404(Reply, notebook, reply_id, "reply")
    db.session.execute(delete(Reply).where(Reply.id == reply.id))
    db.session.commit()
