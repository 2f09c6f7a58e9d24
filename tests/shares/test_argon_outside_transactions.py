"""Argon2 runs with no database transaction open (found by `make bench`'s flood).

On SQLite every transaction starts with BEGIN IMMEDIATE, i.e. takes the write lock: a
transaction left open through a verification (tens to hundreds of milliseconds) made
every other request of every worker wait for it.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from support import CHEAP_HASHER, new_owner

from notes_service import registry
from notes_service.errors import Unauthorized
from notes_service.extensions import db
from notes_service.shares import service


class TransactionWatchingHasher(PasswordHasher):
    """A real (small) Argon2id hasher that records whether a transaction was open during verify."""

    def __init__(self) -> None:
        super().__init__(**CHEAP_HASHER)
        self.open_during_verify: list[bool] = []

    def verify(self, hash, password):
        self.open_during_verify.append(db.session().in_transaction())
        return super().verify(hash, password)


@pytest.mark.parametrize("passcode", ["right-passcode", "wrong-passcode"])
def test_no_transaction_is_open_while_argon2_verifies(make_app, passcode):
    app = make_app()
    hasher = TransactionWatchingHasher()
    registry.of(app).password_hasher = hasher
    owner = new_owner(app.test_client())
    owner.add_note()
    token = owner.share(passcode="right-passcode")["url"].rsplit("/s/", 1)[1]

    with app.app_context():
        try:
            opened = service.open_share(token, passcode)
        except Unauthorized:
            opened = None
        finally:
            db.session.remove()

    assert hasher.open_during_verify == [False]
    assert (opened is not None) == (passcode == "right-passcode")
