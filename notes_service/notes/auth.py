"""Notebook tokens: issue, and resolve an `Authorization: Bearer` header to its notebook."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from flask import request
from sqlalchemy import select, update

from .. import registry
from ..crypto import hash_token, tokens_match
from ..devices.models import Device
from ..errors import NotFound, Unauthorized
from ..extensions import db
from ..i18n import gettext
from .models import KeySlot, Notebook

MAX_TOKEN_CHARS = 128
T = TypeVar("T")


class TokenRow(Protocol):
    """What check_token reads: a result row with the device's token hash and its slot's id."""

    @property
    def slot_id(self) -> str | None: ...

    @property
    def token_hash(self) -> str: ...


Found = TypeVar("Found", bound=TokenRow)
# Row ids are uuid4().hex; anything else is not looked up (PostgreSQL refuses a NUL in text with an error).
_ROW_ID = re.compile(r"[0-9a-f]{32}")


def bearer_token() -> str | None:
    """The bearer token of the request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_digest(token: str | None) -> str:
    """The hash a notebook's token is looked up by; Unauthorized when no token could be one."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized(gettext("Send your notebook token as `Authorization: Bearer <token>`."))
    return hash_token(token)


def check_token(token: str, found: Found | None) -> Found:
    """`found` (a row with the device's token hash and `slot_id`) if it is live and this token's; else Unauthorized."""
    # The lookup is by hash; the constant-time comparison keeps the check itself timing-safe.
    # A device whose slot is gone is being deleted with its notebook (its slots are erased first).
    if found is None or found.slot_id is None or not tokens_match(token, found.token_hash):
        raise notebook_gone()
    return found


def notebook_gone() -> Unauthorized:
    """The refusal of a token whose notebook or device does not exist (any more)."""
    return Unauthorized(gettext("This notebook token is not valid (it may have been deleted)."))


# A token is a device's: the notebook comes through its device, the slot is the device's own.
_NOTEBOOK_BY_DIGEST = (
    select(
        Notebook,
        KeySlot,
        Device.token_hash,
        KeySlot.id.label("slot_id"),
        Device.id.label("device_id"),
        Device.last_used_at,
    )
    .join(Device, Device.notebook_id == Notebook.id)
    .outerjoin(KeySlot, KeySlot.device_id == Device.id)
)


def notebook_for_token(token: str | None) -> Notebook:
    """The live notebook whose device token this is, carrying the token (and the device's slot), or Unauthorized."""
    digest = token_digest(token)
    row = db.session.execute(_NOTEBOOK_BY_DIGEST.where(Device.token_hash == digest)).first()
    found = check_token(token or "", row)
    notebook: Notebook = found.Notebook
    notebook.token = token  # in memory for this request only: the device's slot opens with it
    notebook.device_id = found.device_id
    notebook.owner_slot = found.KeySlot  # read in the same statement: opening it costs no query
    touch_device(found.device_id, found.last_used_at)
    return notebook


# How stale a device's `last_used_at` may get: it is written at most once per step, so a
# device's reads are not each a write (the list shows "last used" to within this much).
LAST_USED_STEP = timedelta(minutes=5)


def touch_device(device_id: str, last_used_at: datetime) -> None:
    """Move a device's `last_used_at` to now, when it is more than LAST_USED_STEP old."""
    now = registry.now()
    if last_used_at > now - LAST_USED_STEP:
        return
    # A write of its own, at the start of the request: on SQLite a GET reads in a plain BEGIN,
    # and a write inside a read transaction may fail at once where its own waits for the lock.
    # The WHERE makes two requests at once write once.
    db.session.commit()
    db.session.execute(
        update(Device)
        .where(Device.id == device_id, Device.last_used_at <= now - LAST_USED_STEP)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# "No such note." for each kind of row a notebook owns: whole sentences, for the translators.
_NO_SUCH: dict[str, Callable[[], str]] = {
    "note": lambda: gettext("No such note."),
    "share": lambda: gettext("No such share."),
    "reply": lambda: gettext("No such reply."),
    "device": lambda: gettext("No such device."),
}


def _no_such_thing() -> str:
    return gettext("There is nothing at this address.")


def is_row_id(value: str) -> bool:
    """Whether `value` could be a row's id (uuid4().hex): only such a value is looked up."""
    return _ROW_ID.fullmatch(value) is not None


def owned_or_404(model: type[T], notebook: Notebook, row_id: str, what: str, *, lock: bool = False) -> T:
    """The notebook's row of `model` with this id; anything else, another owner's row included, is 404.

    `lock`: read afresh (not from the session) with the row locked until the commit (PostgreSQL;
    SQLite's writers hold the database's write lock already).
    """
    well_formed = is_row_id(row_id)
    if lock:
        row = db.session.get(model, row_id, with_for_update=True, populate_existing=True) if well_formed else None
    else:
        row = db.session.get(model, row_id) if well_formed else None
    # Another notebook's row is "not found" (never 403): its existence is not revealed.
    if row is None or row.notebook_id != notebook.id:  # type: ignore[attr-defined]
        raise NotFound(_NO_SUCH.get(what, _no_such_thing)())
    return row


def current_notebook() -> Notebook:
    """The notebook of the request's bearer token, or Unauthorized."""
    return notebook_for_token(bearer_token())
