"""Devices and link codes: list and remove a notebook's browsers, link another by a one-time code.

Each device holds its own token and its own key slot. A link code is the one way to add a
browser from another one: it is 100 random bits, stored as its SHA-256 beside a key slot
sealed under it (HKDF of the code, inside a KEK layer), and redeeming it gives the new
browser a device of its own and deletes the code and its slot in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select

from .. import crypto, keys, registry
from ..errors import N_, Invalid, NotFound, Unauthorized
from ..extensions import db
from ..i18n import gettext
from ..notes import service as notes
from ..notes.auth import owned_or_404
from ..notes.models import KeySlot, Notebook
from ..paging import PageRequest
from .models import MAX_NAME_CHARS, Device, LinkCode
from .schemas import MAX_DEVICES

LINK_CODE_LIFETIME = timedelta(minutes=10)
# Crockford's base32: no I, L, O or U, so what is read off a screen types back unambiguously.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SYMBOLS = 20  # 100 bits: see docs/security.md, "Link codes"
GROUP = 4
# Codes a notebook may have waiting at once; a new one beyond replaces the oldest.
MAX_PENDING_CODES = 3
UNNAMED = "Unnamed browser"
# One answer for a used, expired, unknown or mistyped code: which one it was is not told.
CODE_REFUSED = N_(
    "This link code does not work: it may have been used already or expired. Make a new one on your other device."
)


def device_name(raw: str | None) -> str:
    """A browser's name as plain text: no control or format characters, spaces folded, within 60 characters."""
    if not raw:
        return UNNAMED
    # Cc (controls), Cf (format: bidi overrides, zero-width), Cs, Co, Cn and line/paragraph
    # separators could reorder or hide what the list shows; each becomes a space, then folds.
    kept = "".join(
        " " if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} else char for char in raw
    )
    plain = " ".join(unicodedata.normalize("NFC", kept).split())[:MAX_NAME_CHARS].strip()
    return plain or UNNAMED


# -- Devices -------------------------------------------------------------------------


def lock_notebook(notebook_id: str) -> bool:
    """Lock the notebook's row until the transaction ends; whether the notebook still exists."""
    # One lock orders every change of a notebook's devices and link codes on PostgreSQL: limits
    # are counted under it, and a device or code is never added to a notebook being removed
    # (whose deletion takes the same row). SQLite serializes writers already (BEGIN IMMEDIATE)
    # and has no FOR UPDATE.
    locked = db.session.scalar(select(Notebook.id).where(Notebook.id == notebook_id).with_for_update())
    return locked is not None


@dataclass(frozen=True)
class DevicePage:
    """A page of devices, oldest first, and whether more follow."""

    devices: list[Device]
    more: bool


def list_devices(notebook: Notebook, page: PageRequest) -> DevicePage:
    """A page of my notebook's devices, oldest first."""
    query = select(Device).where(Device.notebook_id == notebook.id)
    if page.after is not None:
        created_at, device_id = page.after
        query = query.where(
            or_(Device.created_at > created_at, and_(Device.created_at == created_at, Device.id > device_id))
        )
    rows = list(db.session.scalars(query.order_by(Device.created_at, Device.id).limit(page.limit + 1)))
    return DevicePage(rows[: page.limit], len(rows) > page.limit)


def remove_device(notebook: Notebook, device_id: str) -> bool:
    """Remove one of my devices: its token stops at once, its slot goes with it (ON DELETE CASCADE).

    When it was the last device of a notebook no host vouches for, nothing could open the
    notebook again (its data key was only in that slot and in pending link codes, which a
    device would have to make): the whole notebook is deleted, crypto-shredded as by
    DELETE /notebooks/me. A vouched notebook stays: its next grant adds a device.
    Every pending link code of the notebook goes too: a code does not record the device that
    made it, and a removed device must not keep one as a way back in.
    Returns whether the notebook was deleted.
    """
    from ..accounts.models import Account

    device = owned_or_404(Device, notebook, device_id, "device")
    # Two devices removed at once must not each see the other and leave a notebook nothing opens.
    lock_notebook(notebook.id)
    others = db.session.scalar(
        select(func.count()).select_from(Device).where(Device.notebook_id == notebook.id, Device.id != device.id)
    )
    vouched = db.session.scalar(select(Account.id).where(Account.notebook_id == notebook.id)) is not None
    if not others and not vouched:
        notes.delete_notebook(notebook)
        return True
    # Their slots go with them (ON DELETE CASCADE), as when a code expires or is redeemed. The
    # owner, who is the one removing, makes a new code for a browser still to be linked.
    db.session.execute(delete(LinkCode).where(LinkCode.notebook_id == notebook.id))
    db.session.execute(delete(Device).where(Device.id == device.id))
    db.session.commit()
    return False


# -- Link codes ----------------------------------------------------------------------


def new_link_code() -> str:
    """20 random Crockford base32 symbols (100 bits), in groups of 4: `7Q2M-...`."""
    symbols = "".join(secrets.choice(CROCKFORD) for _ in range(CODE_SYMBOLS))
    return "-".join(symbols[i : i + GROUP] for i in range(0, CODE_SYMBOLS, GROUP))


_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalized_code(typed: str) -> str | None:
    """The code as generated (groups of 4, upper case), from what was typed; None if it cannot be one."""
    compact = "".join(typed.split()).replace("-", "").upper().translate(_READS_AS)
    if len(compact) != CODE_SYMBOLS or any(char not in CROCKFORD for char in compact):
        return None
    return "-".join(compact[i : i + GROUP] for i in range(0, CODE_SYMBOLS, GROUP))


def _code_hash(code: str) -> str:
    # 100 random bits: a fast hash is right, as for tokens (nothing to brute-force).
    return hashlib.sha256(code.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    """A new link code (its text this once) and when it ends."""

    code: str
    expires_at: Any


def create_link_code(notebook: Notebook) -> IssuedCode:
    """A one-time code for another browser: its hash and a slot sealed under it, 10 minutes."""
    now = registry.now()
    dek = notes.data_key(notebook)
    # Under the notebook's lock the pending codes are counted by one request at a time, and the
    # calling device is known to be still there: one removed meanwhile makes no code (its
    # removal deleted the notebook's pending codes, and a code made after would outlive it).
    still_there = select(Device.id).where(Device.id == notebook.device_id)
    if not lock_notebook(notebook.id) or db.session.scalar(still_there) is None:
        raise Unauthorized(gettext("This notebook token is not valid (it may have been deleted)."))
    # Expired codes go with their slots (every notebook's: one indexed delete); beyond the
    # pending bound the oldest of this notebook's is replaced.
    db.session.execute(delete(LinkCode).where(LinkCode.expires_at <= now))
    pending = list(
        db.session.scalars(
            select(LinkCode.id).where(LinkCode.notebook_id == notebook.id).order_by(LinkCode.created_at.desc())
        )
    )
    if len(pending) >= MAX_PENDING_CODES:
        db.session.execute(delete(LinkCode).where(LinkCode.id.in_(pending[MAX_PENDING_CODES - 1 :])))
    code = new_link_code()
    row = LinkCode(
        id=uuid.uuid4().hex,
        notebook_id=notebook.id,
        code_hash=_code_hash(code),
        created_at=now,
        expires_at=now + LINK_CODE_LIFETIME,
    )
    db.session.add(row)
    db.session.flush()
    db.session.add(keys.new_slot(notebook.id, None, dek, code, link_code_id=row.id))
    db.session.commit()
    return IssuedCode(code, row.expires_at)


class CodeRefused(NotFound):
    """A link code that is not (or no longer) one: always the same 404 problem."""

    def __init__(self) -> None:
        super().__init__(gettext(CODE_REFUSED))


def redeem_link_code(typed: str, name: str | None) -> tuple[Device, str]:
    """A new device of the code's notebook (its token, once); the code and its slot go in the same transaction."""
    code = normalized_code(typed)
    if code is None:
        raise CodeRefused()
    now = registry.now()
    digest = _code_hash(code)
    notebook_id = db.session.scalar(select(LinkCode.notebook_id).where(LinkCode.code_hash == digest))
    # The notebook's row first, as removing a device takes it: deleting the code's row and then
    # adding a device (whose foreign key waits on the notebook's row) deadlocked with the removal
    # of the last device, which holds the notebook's row and cascades to the code. Under the
    # lock the code is read again: of two redeems at once the second finds it used, and a code
    # whose notebook is being deleted has lost its slot (slots go first) or its row.
    if notebook_id is None or not lock_notebook(notebook_id):
        raise CodeRefused()
    row = db.session.scalar(select(LinkCode).where(LinkCode.code_hash == digest))
    if row is None or row.expires_at <= now:
        raise CodeRefused()
    slot = db.session.scalar(select(KeySlot).where(KeySlot.link_code_id == row.id))
    try:
        dek = keys.open_slot(slot, code) if slot is not None else None
    except crypto.CryptoError:
        dek = None
    if dek is None:
        raise CodeRefused()
    count = db.session.scalar(select(func.count()).select_from(Device).where(Device.notebook_id == row.notebook_id))
    if (count or 0) >= MAX_DEVICES:
        raise Invalid(
            gettext(
                "This notebook already has %(most)s devices: remove one on your other device first.", most=MAX_DEVICES
            ),
            errors={"(notebook)": gettext("has the most devices it may have")},
        )
    db.session.execute(delete(LinkCode).where(LinkCode.id == row.id))
    device, token = notes.add_device(row.notebook_id, dek, device_name(name))
    keep_as_written(device)
    db.session.commit()
    return device, token


def keep_as_written(device: Device) -> None:
    """Detach a new device (written, not yet committed), so the answer reads it as written."""
    # A commit expires what the session holds, and the view would load the row again. A deletion
    # of the notebook that waited for this request's lock runs right after the commit; once it
    # took the row, the answer for a device that was made was a 500 (ObjectDeletedError).
    db.session.expunge(device)
