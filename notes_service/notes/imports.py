"""Moving an anonymous notebook's notes into another notebook (a browser that signs in on a host site).

Each note is opened with the anonymous notebook's data key and sealed again under its own key
in the receiving notebook (a note's key and associated data name its notebook), all in one
transaction with the deletion of the anonymous notebook: either every note moved and the old
notebook is gone, or nothing changed. Shares do not move: a share's key seals the keys its
notes had, which are not their keys any more; its link ends with the old notebook.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from .. import crypto, keys, registry
from ..accounts.models import Account
from ..errors import Invalid, Unauthorized
from ..extensions import db
from ..i18n import gettext, ngettext
from . import service
from .auth import notebook_for_token, notebook_gone
from .models import KeySlot, Note, Notebook

# Notes opened and sealed again per query: a few MiB of payloads at most in memory.
BATCH = 200


def _not_a_live_token() -> Unauthorized:
    return Unauthorized(
        gettext("This is not the token of a notebook in this browser (it may have been deleted)."),
        errors={"token": gettext("is not a live notebook token")},
    )


def _source(token: str, target: Notebook) -> Notebook:
    try:
        source = notebook_for_token(token)
    except Unauthorized:
        raise _not_a_live_token() from None
    if source.id == target.id:
        raise Invalid(
            gettext("That is this notebook's own token."), errors={"token": gettext("is the token of this notebook")}
        )
    if db.session.scalar(select(Account.id).where(Account.notebook_id == source.id)) is not None:
        raise Invalid(
            gettext("That notebook belongs to a site's account: only a browser's own notebook moves."),
            errors={"token": gettext("is the token of an account's notebook")},
        )
    return source


def _count(notebook_id: str) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Note).where(Note.notebook_id == notebook_id)) or 0)


def import_notebook(target: Notebook, token: str) -> int:
    """Move every note of the notebook of `token` into `target`, then delete that notebook; how many moved."""
    source = _source(token, target)
    limit = registry.settings().max_notes_per_notebook
    _hold(target, source)
    moving, held = _count(source.id), _count(target.id)
    if moving + held > limit:
        raise Invalid(
            gettext(
                "A notebook holds at most %(limit)s notes: these %(moving)s do not fit beside the %(held)s already "
                "here.",
                limit=limit,
                moving=moving,
                held=held,
            ),
            errors={
                "token": ngettext(
                    "its notebook's %(num)s note does not fit", "its notebook's %(num)s notes do not fit", moving
                )
            },
        )
    old = service.OwnerKeys(service.data_key(source))
    new = service.OwnerKeys(service.data_key(target))
    ids = list(db.session.scalars(select(Note.id).where(Note.notebook_id == source.id).order_by(Note.id)))
    for start in range(0, len(ids), BATCH):
        _move(old, new, target.id, ids[start : start + BATCH])
    keys.delete_notebook_slots(source.id)
    db.session.execute(delete(Notebook).where(Notebook.id == source.id))
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        service.erase_sqlite_log()
    return len(ids)


def _hold(target: Notebook, source: Notebook) -> None:
    """Lock both notebooks' rows until the commit (PostgreSQL), in the order of their ids; or Unauthorized.

    The receiving notebook's, as note creation does, so that the bound on its notes holds. The
    anonymous notebook's, so that its notes stay still while they move: a note written with its
    token meanwhile (service.hold_notebook) lands before the move and moves, or waits and finds
    the notebook gone; otherwise a note made meanwhile was deleted with the notebook, and an edit
    sealed under its data key after the key was shredded. The ids order the two locks: two
    imports of one notebook at once take them alike and cannot each hold what the other waits for.
    SQLite's writers hold the database's write lock already; the checks after count on both.
    """
    ids = sorted({target.id, source.id})
    locked = select(Notebook.id).where(Notebook.id.in_(ids)).order_by(Notebook.id).with_for_update()
    held = set(db.session.scalars(locked))
    if target.id not in held:
        raise notebook_gone()
    # A notebook deleted meanwhile (its slots go first, in a commit of their own) has moved nothing.
    if (
        source.id not in held
        or db.session.scalar(select(KeySlot.id).where(KeySlot.device_id == source.device_id)) is None
    ):
        raise _not_a_live_token()


def _move(old: service.OwnerKeys, new: service.OwnerKeys, target_id: str, note_ids: list[str]) -> None:
    rows = db.session.execute(
        select(
            Note.id,
            Note.notebook_id,
            Note.trial_id,
            Note.format_version,
            Note.ciphertext,
            Note.created_at,
            Note.updated_at,
        )
        .where(Note.id.in_(note_ids))
        .order_by(Note.id)  # rows locked in the order of their ids, as re-anchoring writes them (service)
    ).all()
    for row in rows:
        view = service.open_note(old, row)
        values: dict[str, object] = {"notebook_id": target_id}
        if view.readable:
            key = crypto.note_key(new.dek, target_id, row.id)
            values.update(
                ciphertext=service.seal_payload(key, target_id, row.id, view.payload()),
                format_version=service.FORMAT_VERSION,
            )
        # A note that did not open moves as it is: unreadable before, unreadable after, never dropped.
        db.session.execute(
            update(Note).where(Note.id == row.id).values(**values).execution_options(synchronize_session=False)
        )
