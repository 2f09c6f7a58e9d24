"""Vouched accounts: exchange a host's grant for a device of the notebook of (issuer, subject).

The account's key slot holds the notebook's data key sealed under HKDF of the grant's `nks`
(inside a KEK layer, like every slot): the host keeps the key nks is derived with, we keep
the slot, and neither alone opens the notes. A grant whose nks does not open the slot is
refused; it never gets a new, empty notebook in place of the sealed one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from .. import crypto, keys, registry
from ..devices.models import Device
from ..devices.schemas import MAX_DEVICES
from ..devices.service import device_name, keep_as_written, lock_notebook
from ..errors import Busy, Invalid, Unauthorized
from ..extensions import db
from ..i18n import gettext
from ..notes import service as notes
from ..notes.models import KeySlot
from .grants import LEEWAY_SECONDS, Grant, GrantRefused, verify_grant
from .models import Account, UsedGrant

# A grant is accepted until its exp plus the leeway (grants.py): its id is kept as long.
SPENT_KEPT_AFTER_EXP = timedelta(seconds=LEEWAY_SECONDS)
NKS_CHANGED = (
    "The site's notebook key (nks) for this account does not open its notebook: the notes stay sealed "
    "until the site sends the key it used before. Ask the site to restore it; nothing was changed."
)


def _refused(words: str) -> Unauthorized:
    return Unauthorized(words, errors={"grant": words})


def exchange_grant(raw: str, name: str | None) -> tuple[Device, str, bool]:
    """A new device of the vouched notebook (made on first use), its token, and whether the notebook is new."""
    now = registry.now()
    try:
        grant = verify_grant(raw, registry.settings().publishers, now)
    except GrantRefused as refusal:
        raise _refused(str(refusal)) from None
    # Another request made the account after this one looked for it (two first grants for the
    # same user at once), or deleted it with its notebook: tried again from the start, this one
    # finds the account made, or makes a new one as a grant a moment later would (PostgreSQL;
    # SQLite serializes writers). Nothing of the first try is kept.
    for _attempt in range(2):
        try:
            return _exchange(grant, name, now)
        except _AccountChanged:
            db.session.rollback()
    raise Busy(gettext("The account's notebook was being made by another request: try again."), retry_after=1)


class _AccountChanged(Exception):
    """The account of this (issuer, subject) was made or deleted by another request after this one looked."""


def _exchange(grant: Grant, name: str | None, now: datetime) -> tuple[Device, str, bool]:
    # Spent grant ids are kept as long as their grant could be accepted, then forgotten (one
    # indexed delete); forgotten at exp, a grant could be exchanged again within the leeway.
    db.session.execute(delete(UsedGrant).where(UsedGrant.expires_at < now - SPENT_KEPT_AFTER_EXP))
    db.session.add(
        UsedGrant(issuer=grant.issuer, jti=grant.jti, expires_at=datetime.fromtimestamp(grant.expires_at, UTC))
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _refused("This grant was used already: ask the site for a new one.") from None
    account = db.session.scalar(select(Account).where(Account.issuer == grant.issuer, Account.subject == grant.subject))
    slot = _slot_of(account) if account is not None else None
    if account is None or slot is None:
        dek = crypto.new_data_key()
        account, created = _new_account(grant.issuer, grant.subject, dek, grant.nks), True
    else:
        dek, created = _account_key(slot, grant.nks), False
        _check_room(account.notebook_id)
    device, token = notes.add_device(account.notebook_id, dek, device_name(name))
    keep_as_written(device)
    db.session.commit()
    return device, token, created


def _new_account(issuer: str, subject: str, dek: bytes, nks: str) -> Account:
    notebook = notes.new_notebook()
    account = Account(
        id=uuid.uuid4().hex, notebook_id=notebook.id, issuer=issuer, subject=subject, created_at=registry.now()
    )
    db.session.add(account)
    try:
        db.session.flush()
    except IntegrityError:
        # uq_accounts_issuer_subject: the other request's account is committed (PostgreSQL waited
        # for it). Caught here, not at the error handler, whose log would quote the database's
        # detail, and with it the subject (often an email address).
        raise _AccountChanged() from None
    db.session.add(keys.new_slot(notebook.id, None, dek, nks, account_id=account.id))
    return account


def _slot_of(account: Account) -> KeySlot | None:
    """The account's slot, under its notebook's row; None once the notebook is removed here.

    The row is locked first, as link codes, device removals and the notebook's deletion lock
    it: the device limit holds for grants at once, and a notebook being deleted waits for this
    grant's device (and erases its slot) or has no slots any more.
    """
    if not lock_notebook(account.notebook_id):
        raise _AccountChanged()
    slot = db.session.scalar(select(KeySlot).where(KeySlot.account_id == account.id))
    if slot is None:
        # An account's slot goes only with its notebook, whose deletion erases the slots and then
        # removes the notebook. Under the notebook's row no deletion is between its two steps:
        # this one's process ended there. Finished here, the account goes with its notebook
        # (cascade), and the grant makes a new one, as after any deletion.
        notes.remove_erased_notebook(account.notebook_id)
        db.session.flush()
    return slot


def _account_key(slot: KeySlot, nks: str) -> bytes:
    try:
        return keys.open_slot(slot, nks)
    except crypto.CryptoError:
        raise _refused(NKS_CHANGED) from None


def _check_room(notebook_id: str) -> None:
    count = db.session.scalar(select(func.count()).select_from(Device).where(Device.notebook_id == notebook_id))
    if (count or 0) >= MAX_DEVICES:
        raise Invalid(
            gettext("This notebook already has %(most)s devices: remove one first.", most=MAX_DEVICES),
            errors={"(notebook)": gettext("has the most devices it may have")},
        )
