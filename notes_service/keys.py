"""Key handling in one place: the keyring, its checks, rotation, and the key slots.

`crypto` holds the primitives; this module decides where keys come from and where they go:

* the key-encryption keys (KEKs) from `NOTES_KEYS` (or a development key in the data folder),
  checked at start-up against the check values and data in the database;
* the key slots (`key_slots`): a notebook's data key sealed for each device's token, for a
  link code and for a vouched account's nks, and a share's key for its link token, each inside
  a KEK layer. A data key is only ever in memory while a request that brought one of those
  secrets is served;
* `flask keys rotate`: moves every slot's KEK layer to the newest KEK, with no token.

DESIGN.md, "Data at rest", draws the hierarchy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult

from . import crypto, registry
from .config import ConfigError, Settings
from .crypto import Keyring
from .extensions import db

log = logging.getLogger(__name__)

DEV_KEY_FILE = "dev-keys"


# -- The keyring ---------------------------------------------------------------------


def load_keyring(settings: Settings) -> Keyring:
    """NOTES_KEYS when set; in development, a key generated once into the data folder."""
    if settings.keys_spec:
        try:
            return Keyring.parse(settings.keys_spec)
        except ValueError as exc:
            raise ConfigError(f"NOTES_KEYS is invalid: {exc}") from None
    path = settings.data_dir / DEV_KEY_FILE
    if not path.exists():
        write_private(path, Keyring.generate_spec("dev1"))
        log.warning("NOTES_KEYS is not set: generated a development key in %s; set NOTES_KEYS in production", path)
    try:
        return Keyring.parse(path.read_text(encoding="ascii").strip())
    except ValueError as exc:
        raise ConfigError(f"the development key file {path} is invalid: {exc}") from None


def write_private(path: Path, content: str) -> None:
    """Write a new file only this user reads, whole or not at all; one already there is kept."""
    # Written under a name of its own, then linked into place (a link, unlike a rename, fails when
    # the name exists): two workers starting at once must not both write (and disagree on) the
    # key, and neither a worker reading meanwhile nor a start after one killed mid-write may find
    # the file empty (an empty development secret signed share sessions with an empty key).
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(content + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another worker's came first: all read that one
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


# -- Slots ---------------------------------------------------------------------------


def owner_context(notebook_id: str) -> bytes:
    """What a notebook's owner slot (and a KEK-only wrap from before slots) is bound to."""
    return b"notebook:" + notebook_id.encode("ascii")


def share_context(share_id: str, notebook_id: str) -> bytes:
    """What a share's slot is bound to: a slot copied to another share or notebook fails to open."""
    return b"share:" + share_id.encode("ascii") + b"|notebook:" + notebook_id.encode("ascii")


def link_code_context(link_code_id: str, notebook_id: str) -> bytes:
    """What a link code's slot is bound to."""
    return b"link-code:" + link_code_id.encode("ascii") + b"|notebook:" + notebook_id.encode("ascii")


def account_context(account_id: str, notebook_id: str) -> bytes:
    """What a vouched account's slot is bound to."""
    return b"account:" + account_id.encode("ascii") + b"|notebook:" + notebook_id.encode("ascii")


def slot_context(slot: Any) -> bytes:
    """The context of a slot (a KeySlot or a SlotRow), by its holder.

    A device's slot is bound to its notebook, as the one owner slot was before devices: that
    slot became the first device's as it is (0011_devices), with no token to seal it again.
    """
    if slot.share_id is not None:
        return share_context(slot.share_id, slot.notebook_id)
    if getattr(slot, "link_code_id", None) is not None:
        return link_code_context(slot.link_code_id, slot.notebook_id)
    if getattr(slot, "account_id", None) is not None:
        return account_context(slot.account_id, slot.notebook_id)
    return owner_context(slot.notebook_id)


@dataclass(frozen=True, repr=False)
class SlotRow:
    """A slot's columns as a read query returns them (the hot read selects them, not a KeySlot)."""

    id: str
    notebook_id: str
    share_id: str | None
    kek_id: str
    salt: bytes | None
    wrapped: bytes
    device_id: str | None = None
    link_code_id: str | None = None
    account_id: str | None = None


def new_slot(
    notebook_id: str,
    share_id: str | None,
    dek: bytes,
    token: str,
    *,
    device_id: str | None = None,
    link_code_id: str | None = None,
    account_id: str | None = None,
) -> Any:
    """A slot row (not yet added to the session) sealing `dek` for `token`, held by exactly one holder."""
    from .notes.models import KeySlot

    if sum(holder is not None for holder in (share_id, device_id, link_code_id, account_id)) != 1:
        raise ValueError("a key slot has exactly one holder: a share, a device, a link code or an account")
    slot = KeySlot(
        id=uuid.uuid4().hex,
        notebook_id=notebook_id,
        share_id=share_id,
        device_id=device_id,
        link_code_id=link_code_id,
        account_id=account_id,
        created_at=registry.now(),
    )
    sealed = crypto.seal_slot(registry.keyring(), dek, token, slot_context(slot))
    slot.kek_id, slot.salt, slot.wrapped = sealed.kek_id, sealed.salt, sealed.wrapped
    return slot


def open_slot(slot: Any, token: str) -> bytes:
    """The key in `slot` (a KeySlot or a row with its columns) for `token`; CryptoError if it does not open.

    An owner slot holds the notebook's DEK, a share slot the share's key. An owner slot
    without a salt is a KEK-only wrap from before slots: it opens with the KEK alone, and is
    sealed for `token` in place at once (its own transaction), so it is read this once. A
    share's KEK-only slot is converted by the share's opening (shares.service), which also
    gives the share its own key.
    """
    context = slot_context(slot)
    if slot.salt is not None:
        sealed = crypto.SealedSlot(slot.kek_id, slot.salt, slot.wrapped)
        return crypto.open_slot(registry.keyring(), sealed, token, context)
    if slot.share_id is not None:
        raise crypto.DecryptionError("a share's slot from before key slots is converted at its opening")
    dek = open_kek_only(slot)
    # Ends the request's reads first: on SQLite a write that opens its own transaction waits for
    # the lock, one inside a read transaction may fail at once. Two requests converting the same
    # slot: the second matches no row (salt is set), and both hold the same key.
    db.session.commit()
    seal_in_place(slot, dek, token)
    db.session.commit()
    return dek


def open_kek_only(slot: Any) -> bytes:
    """The notebook DEK of a slot from before key slots (no salt): the KEK alone opens it."""
    # The KEK-only wrap was the notebook's own, so it is bound to the notebook, also in a share's copy.
    return crypto.unwrap_data_key(registry.keyring(), slot.kek_id, slot.wrapped, owner_context(slot.notebook_id))


def seal_in_place(slot: Any, secret: bytes, token: str) -> bool:
    """Seal `secret` for `token` over a KEK-only slot (in the caller's transaction); False if already sealed."""
    from .notes.models import KeySlot

    sealed = crypto.seal_slot(registry.keyring(), secret, token, slot_context(slot))
    # An UPDATE's result is a CursorResult, which has the row count (execute() is typed as Result).
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            update(KeySlot)
            .where(KeySlot.id == slot.id, KeySlot.salt.is_(None))
            .values(kek_id=sealed.kek_id, salt=sealed.salt, wrapped=sealed.wrapped)
            .execution_options(synchronize_session=False)
        ),
    )
    return bool(result.rowcount)


def share_slot(share_id: str) -> Any:
    """The slot of a share, or None (revoked, or its notebook deleted)."""
    from .notes.models import KeySlot

    return db.session.scalar(select(KeySlot).where(KeySlot.share_id == share_id))


def delete_share_slot(share_id: str) -> None:
    """Erase a share's slot (in the caller's transaction): the link opens nothing from then on."""
    from .notes.models import KeySlot

    db.session.execute(delete(KeySlot).where(KeySlot.share_id == share_id))


def delete_notebook_slots(notebook_id: str) -> None:
    """Erase every slot of a notebook, its owner's and its shares' (in the caller's transaction)."""
    from .notes.models import KeySlot

    db.session.execute(delete(KeySlot).where(KeySlot.notebook_id == notebook_id))


# -- Checks at start-up -------------------------------------------------------------


def key_problem(ring: Keyring) -> str | None:
    """Why the configured keys cannot serve this database (a missing id, other bytes), or None.

    Needs an app context and a reachable database; creates the check values still missing.
    """
    if not slots_table_exists():
        return None  # not migrated yet (`flask db upgrade` builds the app too)
    missing = missing_keks(ring)
    if missing:
        return (
            "NOTES_KEYS lacks the key-encryption key(s) "
            + ", ".join(repr(k) for k in missing)
            + " that protect data in the database; add them back (older keys go after the newest)"
        )
    wrong = mismatched_keks(ring)
    if wrong:
        return (
            "NOTES_KEYS holds other key bytes than the database's data was written with for key id(s) "
            + ", ".join(repr(k) for k in wrong)
            + " (the stored key check does not open); configure the original bytes for that id, "
            "or give a new key a new id"
        )
    return None


def slots_table_exists() -> bool:
    """Whether the database is migrated far enough to hold key slots."""
    # Looked up before the session's transaction: on SQLite that one holds the write lock, and
    # the inspector's own connection would wait for it.
    return "key_slots" in inspect(db.engine).get_table_names()


def kek_usage() -> dict[str, int]:
    """How many key slots each key-encryption key protects."""
    from .notes.models import KeySlot

    rows = db.session.execute(select(KeySlot.kek_id, func.count()).group_by(KeySlot.kek_id)).all()
    return {kek_id: count for kek_id, count in rows}


def missing_keks(ring: Keyring) -> list[str]:
    """Key ids that protect data in the database but are not configured."""
    return sorted(kek_id for kek_id in kek_usage() if not ring.has(kek_id))


# A key id with data but no check value yet (written before checks existed) is proven by
# opening the KEK layer of slots under it: one that opens proves the bytes (an AES-GCM tag does
# not open under other bytes); a few are tried so one damaged slot does not stop the service.
PROOF_SAMPLE = 5


def mismatched_keks(ring: Keyring) -> list[str]:
    """Configured key ids whose bytes are not the ones their check value (or their data) was made with.

    A key id without a check value gets one, made from the configured bytes, once they are
    proven on its data (or if nothing is under it yet).
    """
    from .notes.models import KeyCheck

    wrong = []
    for kek_id in ring.ids:
        check = db.session.get(KeyCheck, kek_id)
        if check is None and not _opens_data_under(ring, kek_id):
            wrong.append(kek_id)
            continue
        if check is None:
            check = _store_key_check(ring, kek_id)
        if not crypto.key_check_matches(ring, kek_id, check.check_value):
            wrong.append(kek_id)
    return wrong


def _opens_kek_layer(ring: Keyring, slot: Any) -> bool:
    """Whether the KEK layer of a slot opens (no token needed, and no data key is seen)."""
    try:
        if slot.salt is None:
            crypto.unwrap_data_key(ring, slot.kek_id, slot.wrapped, owner_context(slot.notebook_id))
        else:
            crypto.open_slot_layer(ring, slot.kek_id, slot.wrapped, slot_context(slot))
    except crypto.DecryptionError:
        return False
    return True


def _opens_data_under(ring: Keyring, kek_id: str) -> bool:
    from .notes.models import KeySlot

    sample = db.session.scalars(
        select(KeySlot).where(KeySlot.kek_id == kek_id).order_by(KeySlot.notebook_id, KeySlot.id).limit(PROOF_SAMPLE)
    ).all()
    if not sample:
        return True  # nothing under this id yet: its check is made from the bytes configured now
    return any(_opens_kek_layer(ring, slot) for slot in sample)


def _store_key_check(ring: Keyring, kek_id: str) -> Any:
    """Insert a check value unless another worker got there first; return the stored one."""
    from .notes.models import KeyCheck

    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    # ON CONFLICT DO NOTHING: gunicorn workers boot side by side and each may find no check;
    # the first insert wins, and every worker then verifies its own bytes against the winner's.
    db.session.execute(
        insert(KeyCheck)
        .values(kek_id=kek_id, check_value=crypto.make_key_check(ring, kek_id), created_at=registry.now())
        .on_conflict_do_nothing(index_elements=["kek_id"])
    )
    db.session.commit()
    return db.session.get(KeyCheck, kek_id, populate_existing=True)


# -- Rotation ------------------------------------------------------------------------


def slots_to_rotate(ring: Keyring) -> int:
    """How many slots are not under the newest KEK."""
    from .notes.models import KeySlot

    return db.session.execute(
        select(func.count()).select_from(KeySlot).where(KeySlot.kek_id != ring.newest_id)
    ).scalar_one()


@dataclass
class Rotation:
    """What `rotate_slots` did. Slot ids and key ids only: never a key byte or a token."""

    rotated: int = 0
    # Deleted between the read and the write (a share revoked, a device removed, a link code
    # expired): a slot that is gone needs no rotation.
    gone: int = 0
    # Slot id -> the KEK it is still under: written by a request between the read and the
    # write (a KEK-only slot sealed for its token at a first read or opening) under a KEK that
    # is not the newest. Left as the request wrote it, for the next run.
    changed: dict[str, str] = field(default_factory=dict)
    # Slot id -> its KEK: its KEK layer does not open (damaged, or a key not configured); left
    # as it is, so one such slot does not stop the rotation of every other.
    unopenable: dict[str, str] = field(default_factory=dict)


def rotate_slots(batch_size: int = 500, on_batch: Any = None) -> Rotation:
    """Move every slot's KEK layer to the newest KEK; safe to stop and re-run, and while the service serves.

    Only the KEK layer changes: what is inside stays sealed under the token's slot key, so no
    data key is ever unwrapped (a KEK-only wrap from before slots is re-wrapped as it is).

    Requests change slots meanwhile: a first read or opening seals a KEK-only slot for its
    token in place, a revocation deletes one. Each batch is read in a transaction of its own,
    and each slot is written back only if it is still exactly what was read (one conditional
    UPDATE per slot), so the rotation never writes an old wrap over a request's: a slot changed
    meanwhile is left as the request wrote it (`changed` when that is still an older KEK), and a
    slot deleted meanwhile is skipped. The batches walk the slots by id, so a slot left under an
    older KEK (changed, or one whose KEK layer does not open) is met once per run.
    """
    from .notes.models import KeySlot

    ring = registry.keyring()
    result = Rotation()
    after = ""
    while True:
        rows = db.session.execute(
            select(
                KeySlot.id,
                KeySlot.notebook_id,
                KeySlot.share_id,
                KeySlot.kek_id,
                KeySlot.salt,
                KeySlot.wrapped,
                KeySlot.device_id,
                KeySlot.link_code_id,
                KeySlot.account_id,
            )
            .where(KeySlot.kek_id != ring.newest_id, KeySlot.id > after)
            .order_by(KeySlot.id)
            .limit(batch_size)
        ).all()
        # Ends the read: on SQLite it holds the write lock, which requests must not wait for
        # while the batch is re-wrapped; the writes below check what they replace instead.
        db.session.commit()
        if not rows:
            return result
        batch = [SlotRow(**row._asdict()) for row in rows]
        after = batch[-1].id
        missed = []
        for slot in batch:
            try:
                if slot.salt is None:
                    kek_id, wrapped = crypto.rewrap_data_key(
                        ring, slot.kek_id, slot.wrapped, owner_context(slot.notebook_id)
                    )
                else:
                    kek_id, wrapped = crypto.rewrap_slot(ring, slot.kek_id, slot.wrapped, slot_context(slot))
            except crypto.CryptoError:
                log.warning("key slot %s under %s does not open: left under %s", slot.id, slot.kek_id, slot.kek_id)
                result.unopenable[slot.id] = slot.kek_id
                continue
            if _replace_wrap(slot, kek_id, wrapped):
                result.rotated += 1
            else:
                missed.append(slot.id)
        if missed:
            # Changed or deleted since the read; what is still there now says which.
            now = dict(db.session.execute(select(KeySlot.id, KeySlot.kek_id).where(KeySlot.id.in_(missed))).all())
            result.gone += len(missed) - len(now)
            result.changed.update({slot_id: kek_id for slot_id, kek_id in now.items() if kek_id != ring.newest_id})
        # Each batch commits on its own: an interrupted rotation resumes where it stopped.
        db.session.commit()
        if on_batch:
            on_batch(len(batch))


def _replace_wrap(slot: SlotRow, kek_id: str, wrapped: bytes) -> bool:
    """Write a slot's new KEK layer if the slot is still as read; False if it changed or is gone."""
    from .notes.models import KeySlot

    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            update(KeySlot)
            .where(
                KeySlot.id == slot.id,
                KeySlot.kek_id == slot.kek_id,
                KeySlot.wrapped == slot.wrapped,
                KeySlot.salt.is_not_distinct_from(slot.salt),
            )
            .values(kek_id=kek_id, wrapped=wrapped)
            .execution_options(synchronize_session=False)
        ),
    )
    return bool(result.rowcount)
