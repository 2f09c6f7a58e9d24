"""The thief: a stolen server (database, a backup, NOTES_KEYS, the secret key, our code) opens no note.

Notebooks, notes and shares are made through the API. The thief then holds every row of the
database as it is now and of a backup taken earlier (before a notebook was deleted and a
share revoked), the configured KEKs and the app's secret key, and this service's own crypto
code. It tries every key the stored data and the configuration can give:

* every 32-byte value stored or configured, every hex digest decoded, the SHA-256 of every
  stored or configured string, as a data key, a share key, a note key;
* every slot's KEK layer opened with the KEKs (that works: the KEK is the outer layer), then
  the inner layer tried with all of the above and with HKDF slot keys derived from every
  stored or configured string taken as a token (the slot's own salt and context);
* every key found that way, also as a DEK to derive note keys from, and to unwrap the note
  keys the shares hold;
* on each note, formats 1 (DEK) and 2 (own key).

Without a token it opens nothing. Given one notebook token (as the owner's browser holds it),
it opens that notebook's notes, and no other; given one share link, that share's notes only.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from grant_hosts import AUDIENCE, ISSUER, Host, nks_for, public_pem
from sqlalchemy import create_engine, text
from support import SEED, Owner, new_owner

from notes_service import crypto
from notes_service.crypto import Keyring

TABLES = (
    "notebooks",
    "key_slots",
    "notes",
    "shares",
    "share_notes",
    "share_attempts",
    "key_checks",
    "devices",
    "link_codes",
    "accounts",
    "used_grants",
)
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
Dump = dict[str, list[dict[str, Any]]]


def dump_database(database_url: str, data_dir: Path, backup_to: Path | None = None) -> Dump:
    """Every row of the notebook tables, as the thief copies them (SQLite: from the file)."""
    if database_url.startswith("sqlite"):
        source = sqlite3.connect(data_dir / "notes.sqlite3")
        if backup_to is not None:  # a backup as `sqlite3 .backup` makes it
            copy = sqlite3.connect(backup_to)
            source.backup(copy)
            copy.close()
        source.row_factory = sqlite3.Row
        try:
            return {t: [dict(row) for row in source.execute(f"SELECT * FROM {t}")] for t in TABLES}  # noqa: S608
        finally:
            source.close()
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:  # a pg_dump of the data, in effect
            return {
                t: [dict(row._mapping) for row in connection.execute(text(f"SELECT * FROM {t}"))]  # noqa: S608
                for t in TABLES
            }
    finally:
        engine.dispose()


def backup_dump(path: Path) -> Dump:
    source = sqlite3.connect(path)
    source.row_factory = sqlite3.Row
    try:
        return {t: [dict(row) for row in source.execute(f"SELECT * FROM {t}")] for t in TABLES}  # noqa: S608
    finally:
        source.close()


def values(dumps: Iterable[Dump]) -> tuple[set[str], set[bytes]]:
    strings: set[str] = set()
    blobs: set[bytes] = set()
    for dump in dumps:
        for rows in dump.values():
            for row in rows:
                for value in row.values():
                    if isinstance(value, str):
                        strings.add(value)
                    elif isinstance(value, bytes | memoryview):
                        blobs.add(bytes(value))
    return strings, blobs


def raw_keys(strings: set[str], blobs: set[bytes], ring: Keyring) -> set[bytes]:
    """Every 32-byte key the data and the configuration can give directly."""
    found = {blob for blob in blobs if len(blob) == 32} | {ring.key(kek_id) for kek_id in ring.ids}
    found |= {bytes.fromhex(s) for s in strings if HEX_DIGEST.fullmatch(s)}
    found |= {hashlib.sha256(s.encode()).digest() for s in strings}
    found |= {s.encode()[:32] for s in strings if len(s.encode()) >= 32}
    found |= {blob[:32] for blob in blobs if len(blob) > 32}
    return found


def context_of(slot: dict[str, Any]) -> bytes:
    notebook = b"notebook:" + slot["notebook_id"].encode()
    for holder, label in (("share_id", b"share:"), ("link_code_id", b"link-code:"), ("account_id", b"account:")):
        if slot.get(holder) is not None:
            return label + slot[holder].encode() + b"|" + notebook
    return notebook  # a device's slot


def attempt(open_: Any, *args: Any) -> bytes | None:
    try:
        return open_(*args)
    except (crypto.CryptoError, ValueError):
        return None


def keys_out_of_slots(dumps: list[Dump], ring: Keyring, tokens: set[str], keys: set[bytes]) -> tuple[set[bytes], int]:
    """What every slot gives for every candidate token and key: data keys or share keys."""
    found, tries = set(), 0
    for slot in (slot for dump in dumps for slot in dump["key_slots"]):
        context, wrapped = context_of(slot), bytes(slot["wrapped"])
        # A KEK-only wrap (as before key slots) would open here with the KEK alone.
        for kek_id in ring.ids:
            tries += 1
            owner = {**slot, "share_id": None, "link_code_id": None, "account_id": None}
            dek = attempt(crypto.unwrap_data_key, ring, kek_id, wrapped, context_of(owner))
            if dek is not None:
                found.add(dek)
        inner = attempt(crypto.open_slot_layer, ring, slot["kek_id"], wrapped, context)
        assert inner is not None, "the KEK layer opens with NOTES_KEYS: the thief gets this far"
        salt = bytes(slot["salt"])
        candidates = keys | {crypto.slot_key(token, salt, context) for token in tokens if token}
        for key in candidates:
            tries += 1
            opened = attempt(crypto.open_sealed, key, inner, crypto.SLOT_AAD_LABEL + context)
            if opened is not None:
                found.add(opened)
    return found, tries


def opened_notes(dumps: list[Dump], ring: Keyring, tokens: set[str] = frozenset()) -> tuple[set[str], int]:
    """The ids of the notes the thief opens with everything it has (plus `tokens`), and the tries made."""
    strings, blobs = values(dumps)
    keys = raw_keys(strings, blobs, ring)
    from_slots, tries = keys_out_of_slots(dumps, ring, strings | tokens, keys)
    keys |= from_slots
    note_keys: dict[str, set[bytes]] = {}
    for link in (link for dump in dumps for link in dump["share_notes"] if link["wrapped_key"] is not None):
        for key in keys:
            tries += 1
            got = attempt(crypto.unwrap_note_key, key, bytes(link["wrapped_key"]), link["share_id"], link["note_id"])
            if got is not None:
                note_keys.setdefault(link["note_id"], set()).add(got)
    opened = set()
    for note in (note for dump in dumps for note in dump["notes"]):
        derived = {crypto.note_key(key, note["notebook_id"], note["id"]) for key in keys}
        for version in (1, 2):
            aad = crypto.note_aad(note["notebook_id"], note["id"], version)
            for key in keys | derived | note_keys.get(note["id"], set()):
                tries += 1
                if attempt(crypto.open_sealed, key, bytes(note["ciphertext"]), aad) is not None:
                    opened.add(note["id"])
    return opened, tries


def link_of(share: dict) -> str:
    return share["url"].rsplit("/s/", 1)[1]


@pytest.fixture
def app(make_app, tmp_path, host):
    """An app that trusts a host site: a vouched account's slot is in the stolen data too."""
    path = tmp_path / "publishers.json"
    entry = {"issuer": ISSUER, "audience": AUDIENCE, "algorithms": ["ES256"], "public_key_pem": public_pem(host.key)}
    path.write_text(json.dumps([entry]))
    return make_app(NOTES_PUBLISHERS_FILE=str(path))


@pytest.fixture
def host() -> Host:
    return Host()


@pytest.fixture
def stolen(app, client, app_env, data_dir, database_url, tmp_path, host):
    """Notebooks (one with two devices, one with a pending link code, one vouched), notes and shares
    made through the API; a backup; then a deletion and a revocation."""
    alice, bob, carol = new_owner(client), new_owner(client), new_owner(client)
    code = client.post("/api/v1/notebooks/me/link-codes", headers=alice.headers).get_json()["code"]
    phone = client.post("/api/v1/link-codes/redeem", json={"code": code}).get_json()["token"]
    pending = client.post("/api/v1/notebooks/me/link-codes", headers=bob.headers).get_json()["code"]
    vouched = client.post("/api/v1/grants", json={"grant": host.grant("dave")}).get_json()
    dave = Owner(alice.api, vouched["notebook_id"], vouched["token"])
    notes = {
        "alice shared": alice.add_note(body="alice: shared with family"),
        "alice private": alice.add_note(body="alice: private"),
        "bob shared": bob.add_note(body="bob: shared with family"),
        "bob private": bob.add_note(body="bob: private"),
        "carol": carol.add_note(body="carol: deleted later"),
        "dave": dave.add_note(body="dave: vouched for by the host"),
    }
    ids = {name: note["id"] for name, note in notes.items()}
    alice_share = alice.share(passcode="alice-code-1", note_ids=[ids["alice shared"]])
    revoked = alice.share(passcode="alice-code-2", note_ids=[ids["alice private"]])
    bob_share = bob.share(passcode="bob-code-1", note_ids=[ids["bob shared"]])
    # Opened once each, through the API and the page, so opened shares are in the data too.
    assert client.post(f"/api/v1/shared/{link_of(alice_share)}", json={"passcode": "alice-code-1"}).status_code == 200
    assert client.post(f"/s/{link_of(bob_share)}", data={"passcode": "bob-code-1"}).status_code == 303
    if database_url.startswith("sqlite"):
        backup_path = tmp_path / "backup.sqlite3"
        dump_database(database_url, data_dir, backup_to=backup_path)
        backup = backup_dump(backup_path)
    else:
        backup = dump_database(database_url, data_dir)
    assert client.delete("/api/v1/notebooks/me", headers=carol.headers).status_code == 204
    assert client.delete(f"/api/v1/shares/{revoked['id']}", headers=alice.headers).status_code == 204
    live = dump_database(database_url, data_dir)
    return {
        "dumps": [live, backup],
        "ring": Keyring.parse(app_env["NOTES_KEYS"]),
        "ids": ids,
        "secret": app_env["NOTES_SECRET_KEY"],
        "alice": alice,
        "bob": bob,
        "alice_share": alice_share,
        "bob_share": bob_share,
        "revoked": revoked,
        "phone": phone,
        "pending code": pending,
        "dave": dave,
    }


def test_without_a_token_the_thief_opens_nothing(stolen):
    dumps, ring = stolen["dumps"], stolen["ring"]
    assert {n["id"] for n in dumps[1]["notes"]} == set(stolen["ids"].values())  # the backup holds all six
    opened, tries = opened_notes(dumps, ring, tokens={stolen["secret"]})
    print(f"\nthief without a token: {tries} tries, {len(opened)} notes opened")
    assert opened == set()


def test_with_one_notebook_token_the_thief_opens_that_notebook_only(stolen):
    ids = stolen["ids"]
    opened, tries = opened_notes(stolen["dumps"], stolen["ring"], tokens={stolen["secret"], stolen["alice"].token})
    print(f"\nthief with alice's notebook token: {tries} tries, {len(opened)} notes opened")
    assert opened == {ids["alice shared"], ids["alice private"]}


def test_with_a_linked_devices_token_the_thief_opens_that_notebook_only(stolen):
    ids = stolen["ids"]
    opened, tries = opened_notes(stolen["dumps"], stolen["ring"], tokens={stolen["secret"], stolen["phone"]})
    print(f"\nthief with alice's phone token: {tries} tries, {len(opened)} notes opened")
    assert opened == {ids["alice shared"], ids["alice private"]}


def test_a_pending_link_code_opens_its_notebook_while_it_lives_and_nothing_else(stolen):
    """A link code is a bearer secret for its 10 minutes (100 bits: not guessed, only stolen with the screen)."""
    ids = stolen["ids"]
    opened, _ = opened_notes(stolen["dumps"], stolen["ring"], tokens={stolen["secret"], stolen["pending code"]})
    assert opened == {ids["bob shared"], ids["bob private"]}


def test_the_vouched_notebook_opens_with_its_nks_only(stolen):
    """Our database and keys with the host's user id are not enough: the nks comes from the host's own key."""
    ids = stolen["ids"]
    without, _ = opened_notes(stolen["dumps"], stolen["ring"], tokens={stolen["secret"], "dave"})
    assert without == set()
    opened, _ = opened_notes(stolen["dumps"], stolen["ring"], tokens={stolen["secret"], nks_for("dave")})
    assert opened == {ids["dave"]}


def test_with_one_share_link_the_thief_opens_that_shares_notes_only(stolen):
    ids = stolen["ids"]
    for share, expected in ((stolen["bob_share"], ids["bob shared"]), (stolen["alice_share"], ids["alice shared"])):
        opened, tries = opened_notes(stolen["dumps"], stolen["ring"], tokens={stolen["secret"], link_of(share)})
        print(f"\nthief with one share link: {tries} tries, {len(opened)} notes opened")
        assert opened == {expected}


def test_the_service_itself_reads_with_the_tokens(stolen, client):
    """The control: the same data is whole, through the service, for whoever holds the tokens."""
    listed = client.get(f"/api/v1/trials/{SEED}/notes", headers=stolen["alice"].headers).get_json()["notes"]
    assert {n["body"] for n in listed} == {"alice: shared with family", "alice: private"}
    opened = client.post(f"/api/v1/shared/{link_of(stolen['bob_share'])}", json={"passcode": "bob-code-1"})
    assert [n["body"] for n in opened.get_json()["notes"]] == ["bob: shared with family"]
