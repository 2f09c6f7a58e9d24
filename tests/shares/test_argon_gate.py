"""The Argon2 gate is host-wide, fair between clients, and guards share creation too (issue 11.5, 14.2)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
from contextlib import ExitStack

import pytest
from argon2 import PasswordHasher
from support import CHEAP_HASHER, SEED, new_owner

from notes_service import registry
from notes_service.errors import Busy
from notes_service.extensions import db
from notes_service.shares.passcodes import ArgonGate


def quick(gate: ArgonGate) -> ArgonGate:
    gate.WAIT_SECONDS = 0.05  # this instance only: refusals in these tests need no long wait
    return gate


def test_two_processes_share_one_bound(tmp_path):
    # Two gates on one folder are what two gunicorn workers of a host have.
    first, second = quick(ArgonGate(tmp_path, 2)), quick(ArgonGate(tmp_path, 2))
    with first.slot(), second.slot():
        with pytest.raises(Busy) as refused, first.slot():
            pass
        assert refused.value.retry_after == 1
    with second.slot(), second.slot():
        pass  # both places are free again once released


def test_a_killed_process_gives_its_slot_back(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from notes_service.shares.passcodes import ArgonGate
        with ArgonGate({str(tmp_path)!r}, 1).slot():
            print("holding", flush=True)
            time.sleep(600)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        gate = quick(ArgonGate(tmp_path, 1))
        with pytest.raises(Busy), gate.slot():
            pass
        os.kill(holder.pid, signal.SIGKILL)  # no cleanup runs: only the kernel can release it
        holder.wait(timeout=10)
        with gate.slot():
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)


def test_one_place_per_client_keeps_a_looping_client_from_holding_every_slot(tmp_path):
    gate = quick(ArgonGate(tmp_path, 2))
    with gate.slot(client="203.0.113.7"):
        with pytest.raises(Busy) as refused, gate.slot(client="203.0.113.7"):
            pass
        assert "already running" in refused.value.detail
        with gate.slot(client="198.51.100.2"):  # another family still gets the other slot
            pass


def test_the_waiting_room_is_bounded(tmp_path):
    gate = quick(ArgonGate(tmp_path, 1))
    with ExitStack() as held:
        # Fill every place of the waiting room straight through the files, as waiting
        # requests of other workers would (one open file and one flock each).
        for name in [f"room-{i}" for i in range(ArgonGate.ROOM_PER_SLOT)]:
            fd = os.open(tmp_path / name, os.O_RDWR | os.O_CREAT, 0o600)
            held.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(Busy) as refused, gate.slot():
            pass
        assert "waiting" in refused.value.detail


class WatchingHasher(PasswordHasher):
    """Real (small) Argon2id that records, for each new hash, whether a transaction was open."""

    def __init__(self) -> None:
        super().__init__(**CHEAP_HASHER)
        self.open_during_hash: list[bool] = []

    def hash(self, password, *, salt=None):
        self.open_during_hash.append(db.session().in_transaction())
        return super().hash(password, salt=salt)


@pytest.mark.parametrize("passcode", ["chosen-passcode", None], ids=["chosen", "generated"])
def test_share_creation_hashes_outside_any_transaction(make_app, passcode):
    app = make_app()
    hasher = WatchingHasher()
    registry.of(app).password_hasher = hasher
    owner = new_owner(app.test_client())
    owner.add_note()
    body = {"trial_id": SEED} if passcode is None else {"trial_id": SEED, "passcode": passcode}
    response = owner.client.post("/api/v1/shares", headers=owner.headers, json=body)
    assert response.status_code == 201
    assert hasher.open_during_hash == [False]


def test_share_creation_waits_its_turn_at_the_gate(make_app):
    app = make_app(NOTES_ARGON2_MAX_CONCURRENT="1")
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    quick(registry.of(app).argon_gate)
    owner = new_owner(app.test_client())
    owner.add_note()
    with registry.of(app).argon_gate.slot():
        response = owner.client.post(
            "/api/v1/shares", headers=owner.headers, json={"trial_id": SEED, "passcode": "chosen-passcode"}
        )
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert owner.client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"] == []
    response = owner.client.post(
        "/api/v1/shares", headers=owner.headers, json={"trial_id": SEED, "passcode": "chosen-passcode"}
    )
    assert response.status_code == 201
