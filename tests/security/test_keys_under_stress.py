"""Keys under stress: damaged ciphertexts stay contained, and rotation never fails a read.

1. Several kinds of damage (a flipped tag bit, a flipped nonce bit, a truncated blob, an
   empty blob, a damaged wrapped data key) each make exactly the damaged notes unreadable;
   every other note, of that notebook and of others, is still served through the API.
2. `flask keys rotate` (keys.rotate_slots under an app configured `k2,test1`) runs
   in one thread while reader threads list every notebook's notes through the API without
   pause. Each batch of the rotation waits until readers have finished more reads, so reads
   demonstrably fall between batches (mixed old- and new-key notebooks), and every single
   read must be a 200 with every note readable and its body intact.
"""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest
from servers import ServerPool
from sqlalchemy import select
from support import SEED, new_owner

from notes_service import keys
from notes_service.crypto import Keyring
from notes_service.extensions import db
from notes_service.notes.models import KeySlot, Note

NOTEBOOKS = 12
BATCH = 2  # 12 notebooks / 2 per batch: six batches, six commits
READERS = 3


def flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


DAMAGE = {
    "tag bit flipped": lambda blob: flip(blob, len(blob) - 1),
    "nonce bit flipped": lambda blob: flip(blob, 0),
    "truncated": lambda blob: blob[:20],
    "emptied": lambda blob: b"",
}


def test_damaged_ciphertexts_make_only_their_notes_unreadable(app, client):
    owner = new_owner(client)
    notes = [owner.add_note(body=f"note {index}") for index in range(len(DAMAGE) + 2)]
    damaged_ids = [note["id"] for note in notes[1:-1]]
    other = new_owner(client)
    other.add_note(body="the other notebook's note")
    with app.app_context():
        for note_id, damage in zip(damaged_ids, DAMAGE.values(), strict=True):
            row = db.session.get(Note, note_id)
            row.ciphertext = damage(row.ciphertext)
        db.session.commit()

    listed = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert listed.status_code == 200
    by_id = {note["id"]: note for note in listed.get_json()["notes"]}
    assert [by_id[note["id"]]["readable"] for note in notes] == [True] + [False] * len(DAMAGE) + [True]
    assert by_id[notes[0]["id"]]["body"] == "note 0" and by_id[notes[-1]["id"]]["body"] == f"note {len(notes) - 1}"
    for note_id in damaged_ids:
        # Unreadable notes say so and carry nothing; they can be read (as unreadable) and deleted, not edited.
        assert by_id[note_id]["body"] is None and by_id[note_id]["target"] is None
        single = client.get(f"/api/v1/notes/{note_id}", headers=owner.headers)
        assert single.status_code == 200 and single.get_json()["readable"] is False
        assert client.patch(f"/api/v1/notes/{note_id}", headers=owner.headers, json={"body": "x"}).status_code == 422
    export = client.get("/api/v1/notebooks/me/export", headers=owner.headers).get_json()
    # total counts the notebook's notes; a page leaves out the unreadable ones and counts them.
    assert export["total"] == 2 + len(DAMAGE) and export["first"]["unreadable"] == len(DAMAGE)
    assert len(export["first"]["items"]) == 2

    # A share of every note shows the readable ones and leaves the damaged ones out.
    share = owner.share(passcode="family-code-1", note_ids=[note["id"] for note in notes])
    token = share["url"].rsplit("/s/", 1)[1]
    opened = client.post(f"/api/v1/shared/{token}", json={"passcode": "family-code-1"})
    assert opened.status_code == 200
    assert [note["body"] for note in opened.get_json()["notes"]] == ["note 0", f"note {len(notes) - 1}"]

    assert client.delete(f"/api/v1/notes/{damaged_ids[0]}", headers=owner.headers).status_code == 204
    theirs = client.get(f"/api/v1/trials/{SEED}/notes", headers=other.headers).get_json()["notes"]
    assert [(note["readable"], note["body"]) for note in theirs] == [(True, "the other notebook's note")]


def test_damaged_wrapped_key_contains_the_damage_to_its_notebook(app, client):
    damaged, healthy = new_owner(client), new_owner(client)
    damaged.add_note(body="lost")
    healthy.add_note(body="kept")
    with app.app_context():
        slot = db.session.scalar(select(KeySlot).where(KeySlot.notebook_id == damaged.notebook_id))
        slot.wrapped = flip(slot.wrapped, 5)
        db.session.commit()
    lost = client.get(f"/api/v1/trials/{SEED}/notes", headers=damaged.headers)
    assert lost.status_code == 200
    assert [(note["readable"], note["body"]) for note in lost.get_json()["notes"]] == [(False, None)]
    kept = client.get(f"/api/v1/trials/{SEED}/notes", headers=healthy.headers).get_json()["notes"]
    assert [(note["readable"], note["body"]) for note in kept] == [(True, "kept")]


def test_rotation_while_reading_fails_no_read(app_env, make_app):
    old_app = make_app()
    client = old_app.test_client()
    owners = []
    for index in range(NOTEBOOKS):
        owner = new_owner(client)
        owner.add_note(body=f"first of {index}")
        owner.add_note(body=f"second of {index}", color="blue")
        owners.append(owner)
    expected = {owner.token: [f"first of {index}", f"second of {index}"] for index, owner in enumerate(owners)}

    # Every worker runs with both keys (newest first) before the rotation starts.
    both = f"{Keyring.generate_spec('k2')},{app_env['NOTES_KEYS']}"
    readers_app, rotating_app = make_app(NOTES_KEYS=both), make_app(NOTES_KEYS=both)

    stop = threading.Event()
    lock = threading.Lock()
    reads, failures, reads_at_batch = [0], [], []

    def read_continuously(offset: int) -> None:
        reader = readers_app.test_client()
        turn = offset
        while not stop.is_set():
            owner = owners[turn % NOTEBOOKS]
            turn += 1
            response = reader.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
            notes = response.get_json()["notes"] if response.status_code == 200 else []
            ok = (
                response.status_code == 200
                and all(note["readable"] for note in notes)
                and [note["body"] for note in notes] == expected[owner.token]
            )
            with lock:
                reads[0] += 1
                if not ok:
                    failures.append((response.status_code, [note.get("readable") for note in notes]))

    def wait_for_more_reads() -> None:
        # Make the interleaving certain: after each batch commit, let readers finish a few more reads.
        with lock:
            target = reads[0] + READERS * 2
            reads_at_batch.append(reads[0])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if reads[0] >= target:
                    return
            time.sleep(0.002)

    threads = [threading.Thread(target=read_continuously, args=(offset * 5,)) for offset in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        wait_for_more_reads()
        with rotating_app.app_context():
            rotated = keys.rotate_slots(BATCH, on_batch=lambda _count: wait_for_more_reads()).rotated
            db.session.remove()
        wait_for_more_reads()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    batches = len(reads_at_batch) - 2  # one mark before the rotation and one after it
    print(f"keys: rotated {rotated} key slots in {batches} batches while {reads[0]} reads ran; {len(failures)} failed")
    assert rotated == NOTEBOOKS  # every notebook's owner slot was under the old key
    assert batches == NOTEBOOKS // BATCH
    assert all(later > earlier for earlier, later in pairwise(reads_at_batch))
    assert failures == []
    check = rotating_app.test_cli_runner().invoke(args=["keys", "check"])
    assert f"k2: configured (newest), protects {NOTEBOOKS} key slots" in check.output


def test_gunicorn_refuses_other_key_bytes_under_a_known_id_naming_it(app_env, client, tmp_path):
    """The service as deployed: a worker does not boot with the wrong bytes, and says which id."""
    new_owner(client).add_note(body="written under the real test1")
    wrong = {**app_env, "NOTES_KEYS": Keyring.generate_spec("test1")}
    with ServerPool(tmp_path / "servers") as pool, pytest.raises(RuntimeError) as refused:
        pool.start(wrong, workers=1)
    message = str(refused.value)
    assert "gunicorn exited" in message and "'test1'" in message and "key check" in message
    assert Keyring.parse(wrong["NOTES_KEYS"]).key("test1").hex() not in message
    assert wrong["NOTES_KEYS"].split(":", 1)[1] not in message  # the key itself is never echoed
