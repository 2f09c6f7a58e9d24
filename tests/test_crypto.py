"""Tests for notes_service.crypto: the real primitives, no mocks."""

import ast
import base64
import json
import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from notes_service import crypto
from notes_service.crypto import (
    NOTE_AAD_LABEL,
    DecryptionError,
    Keyring,
    UnknownKeyError,
    generate_passcode,
    hash_passcode,
    hash_token,
    key_check_matches,
    make_key_check,
    new_data_key,
    new_token,
    note_aad,
    open_sealed,
    rewrap_data_key,
    seal,
    tokens_match,
    unwrap_data_key,
    verify_passcode,
    wrap_data_key,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
B64_A = base64.b64encode(KEY_A).decode()
B64_B = base64.urlsafe_b64encode(KEY_B).decode().rstrip("=")

# Cheap Argon2 parameters: the tests check behaviour, not cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.parse(f"new:{B64_B},old:{B64_A}")


# -- Keyring.parse -------------------------------------------------------------


def test_parse_keeps_order_newest_first(keyring):
    assert keyring.ids == ("new", "old")
    assert keyring.newest_id == "new"
    assert keyring.has("old")
    assert not keyring.has("other")


@pytest.mark.parametrize(
    "spec",
    [
        f"k1:{B64_A}",  # standard, padded
        f"k1:{B64_A.rstrip('=')}",  # standard, unpadded
        f"k1:{base64.urlsafe_b64encode(KEY_A).decode()}",  # url-safe, padded
        f"  k1 : {B64_A} ",  # surrounding white space
        f"k1:{B64_A}\n",  # trailing newline from an env file
    ],
)
def test_parse_accepts_base64_variants(spec):
    ring = Keyring.parse(spec)
    assert ring.ids == ("k1",)
    assert ring.key("k1") == KEY_A


SECRET_TEXT = base64.b64encode(b"s" * 31).decode()  # valid base64, 31 bytes


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f"k1:{B64_A},", "entry 2 is empty"),
        (f"k1:{B64_A},,k2:{B64_B}", "entry 2 is empty"),
        (B64_A, "entry 1 is not of the form"),
        (f"k1:{B64_A},k1:{B64_B}", "'k1' (entry 2) appears more than once"),
        (f"k1:{SECRET_TEXT}", "'k1' (entry 1) must decode to 32 bytes, got 31"),
        (f"k1:{B64_A},k2:{SECRET_TEXT}!!", "'k2' (entry 2) is not valid base64"),
        (f"k1:{SECRET_TEXT[:5]}*{SECRET_TEXT[5:]}", "'k1' (entry 1) is not valid base64"),
        ("k1:", "'k1' (entry 1) is not valid base64"),
        (f"bad id:{B64_A}", "entry 1: key id must be"),
        (f":{B64_A}", "entry 1: key id must be"),
        (f"{'x' * 33}:{B64_A}", "entry 1: key id must be"),
        (f"k1:{B64_A},{SECRET_TEXT}:{B64_B}", "entry 2: key id must be"),
    ],
)
def test_parse_errors_name_the_entry_and_never_the_key(spec, expected):
    with pytest.raises(ValueError, match=re.escape(expected)) as info:
        Keyring.parse(spec)
    message = str(info.value)
    for secret in (B64_A, B64_B, SECRET_TEXT, SECRET_TEXT[:8], B64_A[:8]):
        assert secret not in message


def test_repr_hides_key_material(keyring):
    text = repr(keyring)
    assert "new" in text and "old" in text
    assert B64_A not in text and B64_B not in text
    assert repr(KEY_A) not in text


def test_generate_spec_round_trips():
    spec = Keyring.generate_spec("dev")
    ring = Keyring.parse(spec)
    assert ring.ids == ("dev",)
    assert len(ring.key("dev")) == 32
    assert Keyring.generate_spec("dev") != spec


def test_generate_spec_rejects_bad_id():
    with pytest.raises(ValueError, match="key id"):
        Keyring.generate_spec("no spaces")


# -- Key checks ----------------------------------------------------------------


def test_key_check_opens_only_under_the_same_id_and_bytes(keyring):
    check = make_key_check(keyring, "old")
    assert key_check_matches(keyring, "old", check)
    # Same id, other bytes: the case a check exists for (NOTES_KEYS pasted from the wrong place).
    assert not key_check_matches(Keyring.parse(f"old:{B64_B}"), "old", check)
    # Same bytes, other id: a check moved to another id's row fails too.
    assert not key_check_matches(Keyring.parse(f"other:{B64_A}"), "other", check)
    with pytest.raises(UnknownKeyError):
        key_check_matches(keyring, "missing", check)


@pytest.mark.parametrize("damage", [lambda c: c[:-1] + bytes([c[-1] ^ 1]), lambda c: c[:20], lambda c: b""])
def test_damaged_key_check_does_not_match(keyring, damage):
    assert not key_check_matches(keyring, "new", damage(make_key_check(keyring, "new")))


def test_key_check_reveals_nothing_and_is_not_a_wrapped_key(keyring):
    first, second = make_key_check(keyring, "new"), make_key_check(keyring, "new")
    assert first != second and len(first) == 12 + len(crypto.KEY_CHECK_PLAINTEXT) + 16
    assert KEY_B not in first and crypto.KEY_CHECK_PLAINTEXT not in first
    # Its associated data differs from a wrapped key's: a check cannot pass as a wrapped key.
    with pytest.raises(DecryptionError):
        unwrap_data_key(keyring, "new", first)


# -- Data keys -----------------------------------------------------------------


def test_new_data_key_is_random_and_32_bytes():
    a, b = new_data_key(), new_data_key()
    assert len(a) == 32 and len(b) == 32
    assert a != b


def test_wrap_unwrap_round_trip(keyring):
    dek = new_data_key()
    kek_id, wrapped = wrap_data_key(keyring, dek)
    assert kek_id == "new"
    assert len(wrapped) == 12 + 32 + 16
    assert dek not in wrapped
    assert unwrap_data_key(keyring, kek_id, wrapped) == dek


def test_wrap_uses_fresh_nonce(keyring):
    dek = new_data_key()
    assert wrap_data_key(keyring, dek)[1] != wrap_data_key(keyring, dek)[1]


def test_wrapped_key_is_bound_to_its_context(keyring):
    dek = new_data_key()
    kek_id, wrapped = wrap_data_key(keyring, dek, context=b"notebook-1")
    assert unwrap_data_key(keyring, kek_id, wrapped, context=b"notebook-1") == dek
    for other in (b"notebook-2", b""):
        with pytest.raises(DecryptionError):
            unwrap_data_key(keyring, kek_id, wrapped, context=other)


def test_wrapped_key_is_bound_to_its_kek_id():
    # Same key bytes under two ids: only the AAD tells them apart.
    ring = Keyring.parse(f"a:{B64_A},b:{B64_A}")
    kek_id, wrapped = wrap_data_key(ring, new_data_key())
    assert kek_id == "a"
    with pytest.raises(DecryptionError):
        unwrap_data_key(ring, "b", wrapped)


def test_unwrap_unknown_key_names_the_id(keyring):
    _, wrapped = wrap_data_key(keyring, new_data_key())
    with pytest.raises(UnknownKeyError, match="'retired-2023'") as info:
        unwrap_data_key(keyring, "retired-2023", wrapped)
    assert info.value.key_id == "retired-2023"
    assert isinstance(info.value, crypto.CryptoError)


def test_unwrap_with_wrong_kek_fails(keyring):
    kek_id, wrapped = wrap_data_key(keyring, new_data_key())
    impostor = Keyring.parse(f"{kek_id}:{B64_A}")
    with pytest.raises(DecryptionError):
        unwrap_data_key(impostor, kek_id, wrapped)


def test_wrap_rejects_wrong_dek_length(keyring):
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_data_key(keyring, b"short")


def test_rewrap_after_rotation():
    old_ring = Keyring.parse(f"old:{B64_A}")
    dek = new_data_key()
    old_id, old_wrapped = wrap_data_key(old_ring, dek, context=b"nb")
    assert old_id == "old"

    # Rotation: a new key is put in front, the old one stays for reading.
    rotated = Keyring.parse(f"new:{B64_B},old:{B64_A}")
    assert unwrap_data_key(rotated, old_id, old_wrapped, context=b"nb") == dek
    new_id, new_wrapped = rewrap_data_key(rotated, old_id, old_wrapped, context=b"nb")
    assert new_id == "new"
    assert unwrap_data_key(rotated, new_id, new_wrapped, context=b"nb") == dek

    # Once everything is re-wrapped the old key can be dropped.
    only_new = Keyring.parse(f"new:{B64_B}")
    assert unwrap_data_key(only_new, new_id, new_wrapped, context=b"nb") == dek
    with pytest.raises(UnknownKeyError):
        unwrap_data_key(only_new, old_id, old_wrapped, context=b"nb")


# -- seal / open_sealed --------------------------------------------------------


AAD = note_aad("nb-1", "note-1")


@pytest.mark.parametrize("plaintext", [b"", b"x", "Child-Pugh B \u2014 ok? \U0001f600".encode()])
def test_seal_round_trip(plaintext):
    dek = new_data_key()
    blob = seal(dek, plaintext, AAD)
    assert len(blob) == 12 + len(plaintext) + 16
    assert open_sealed(dek, blob, AAD) == plaintext


def test_seal_uses_fresh_nonce():
    dek = new_data_key()
    first, second = seal(dek, b"same", AAD), seal(dek, b"same", AAD)
    assert first[:12] != second[:12]
    assert first != second


def _flip(blob: bytes, index: int) -> bytes:
    mutable = bytearray(blob)
    mutable[index] ^= 0x01
    return bytes(mutable)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: _flip(b, 0), id="nonce-bit"),
        pytest.param(lambda b: _flip(b, 12), id="ciphertext-bit"),
        pytest.param(lambda b: _flip(b, len(b) - 1), id="tag-bit"),
        pytest.param(lambda b: b[:-1], id="truncated"),
        pytest.param(lambda b: b + b"\x00", id="extended"),
        pytest.param(lambda b: bytes(12) + b[12:], id="swapped-nonce"),
        pytest.param(lambda b: b[:27], id="too-short"),
        pytest.param(lambda b: b"", id="empty"),
    ],
)
def test_open_rejects_tampering(tamper):
    dek = new_data_key()
    blob = seal(dek, b"secret note body", AAD)
    with pytest.raises(DecryptionError) as info:
        open_sealed(dek, tamper(blob), AAD)
    assert "secret note body" not in str(info.value)


def test_open_rejects_nonce_from_another_message():
    dek = new_data_key()
    one, two = seal(dek, b"first", AAD), seal(dek, b"second", AAD)
    with pytest.raises(DecryptionError):
        open_sealed(dek, two[:12] + one[12:], AAD)


def test_open_rejects_wrong_key():
    blob = seal(new_data_key(), b"body", AAD)
    with pytest.raises(DecryptionError):
        open_sealed(new_data_key(), blob, AAD)


def test_open_rejects_malformed_key_as_decryption_error():
    blob = seal(new_data_key(), b"body", AAD)
    with pytest.raises(DecryptionError):
        open_sealed(b"short key", blob, AAD)


@pytest.mark.parametrize(
    "other_aad",
    [
        note_aad("nb-1", "note-2"),  # copied into another note
        note_aad("nb-2", "note-1"),  # copied into another notebook
        note_aad("nb-1", "note-1", version=2),  # replayed as another format
        b"",
    ],
)
def test_ciphertext_copied_to_another_row_fails(other_aad):
    dek = new_data_key()
    blob = seal(dek, b"body", AAD)
    with pytest.raises(DecryptionError):
        open_sealed(dek, blob, other_aad)


def test_note_aad_is_deterministic_and_unambiguous():
    assert note_aad("a", "b") == note_aad("a", "b", 1)
    pairs = [("a|b", "c"), ("a", "b|c"), ("a,b", "c"), ("a", "b,c"), ('a"', "b"), ("a", '"b')]
    encodings = {note_aad(nb, note) for nb, note in pairs}
    assert len(encodings) == len(pairs)


@given(st.text(), st.text(), st.integers(min_value=1, max_value=2**40))
def test_note_aad_is_the_json_array_of_label_version_and_ids(notebook_id, note_id, version):
    # Row ids are written without the JSON encoder: the bytes must be the encoder's, whatever the ids.
    expected = json.dumps([NOTE_AAD_LABEL, version, notebook_id, note_id], separators=(",", ":"), ensure_ascii=True)
    assert note_aad(notebook_id, note_id, version) == expected.encode("ascii")
    assert note_aad("ab" * 16, "0f" * 16, version) == json.dumps(
        [NOTE_AAD_LABEL, version, "ab" * 16, "0f" * 16], separators=(",", ":")
    ).encode("ascii")


_ROW_ID = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@given(st.binary(min_size=32, max_size=32), _ROW_ID, st.lists(_ROW_ID, min_size=1, max_size=5))
def test_note_keys_are_the_one_shot_hkdf_of_the_data_key(dek, notebook_id, note_ids):
    # Keys are derived from one extract per request (NoteKeyMaker): each must stay the one-shot
    # HKDF-SHA256 every stored note was sealed under, or notes sealed before would not open.
    maker = crypto.NoteKeyMaker(dek)
    for note_id in note_ids:
        info = crypto.NOTE_KEY_INFO + f"{notebook_id}|{note_id}".encode("ascii")
        one_shot = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(dek)
        assert maker.derive(notebook_id, note_id) == crypto.note_key(dek, notebook_id, note_id) == one_shot
    assert len({maker.derive(notebook_id, note_id) for note_id in note_ids}) == len(set(note_ids))


@pytest.mark.parametrize("dek", [b"", b"k" * 16, b"k" * 33])
def test_note_keys_need_a_whole_data_key(dek):
    with pytest.raises(ValueError):
        crypto.NoteKeyMaker(dek)
    with pytest.raises(ValueError):
        crypto.note_key(dek, "ab" * 16, "cd" * 16)


@pytest.mark.parametrize("version", [0, -1, True, 1.0])
def test_note_aad_rejects_bad_version(version):
    with pytest.raises(ValueError):
        note_aad("a", "b", version)


# -- Tokens --------------------------------------------------------------------


def test_new_token_is_urlsafe_and_long():
    token = new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert new_token() != token
    assert len(new_token(16)) == 22


def test_new_token_refuses_short_tokens():
    with pytest.raises(ValueError):
        new_token(8)


def test_hash_token_is_sha256_hex():
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_tokens_match():
    token = new_token()
    stored = hash_token(token)
    assert tokens_match(token, stored)
    assert not tokens_match(token + "x", stored)
    assert not tokens_match(token, stored.upper())
    assert not tokens_match(token, "")
    assert not tokens_match(token, "\u00e9" * 64)  # corrupt non-ASCII row: no TypeError


# -- Passcodes -----------------------------------------------------------------


def test_passcode_hash_and_verify():
    stored = hash_passcode("482-913-057", FAST_HASHER)
    assert stored.startswith("$argon2id$")
    assert "482-913-057" not in stored
    assert verify_passcode(stored, "482-913-057", FAST_HASHER) == (True, None)


def test_wrong_passcode():
    stored = hash_passcode("482-913-057", FAST_HASHER)
    assert verify_passcode(stored, "482-913-058", FAST_HASHER) == (False, None)


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=8,t=1,p=1$bad$bad"])
def test_invalid_stored_hash_is_a_failure(stored):
    assert verify_passcode(stored, "anything", FAST_HASHER) == (False, None)


def test_verify_rehashes_when_parameters_change():
    stored = hash_passcode("correct horse", FAST_HASHER)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    ok, new_hash = verify_passcode(stored, "correct horse", stronger)
    assert ok
    assert new_hash is not None and new_hash != stored
    assert "t=2" in new_hash
    assert verify_passcode(new_hash, "correct horse", stronger) == (True, None)


def test_default_hasher_is_argon2id_rfc9106_low_memory():
    # One real default-cost hash, to pin the production parameters.
    stored = hash_passcode("482-913-057")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_passcode(stored, "482-913-057") == (True, None)


def test_generate_passcode_format():
    codes = {generate_passcode() for _ in range(50)}
    assert all(re.fullmatch(r"\d{3}-\d{3}-\d{3}", code) for code in codes)
    assert len(codes) > 45


# -- Key slots -----------------------------------------------------------------

TOKEN = "notebook-token-" + "t" * 40
CONTEXT = b"notebook:" + b"a" * 32


def test_a_slot_opens_with_its_kek_and_token_only(keyring):
    dek = new_data_key()
    slot = crypto.seal_slot(keyring, dek, TOKEN, CONTEXT)
    assert slot.kek_id == "new" and len(slot.salt) == 16 and dek not in slot.wrapped
    assert len(slot.wrapped) == 12 + (12 + 32 + 16) + 16  # the KEK layer around the token's layer
    assert crypto.open_slot(keyring, slot, TOKEN, CONTEXT) == dek
    for token in (TOKEN + "x", TOKEN[:-1], hash_token(TOKEN), "another-token-" + "t" * 40):
        with pytest.raises(DecryptionError):
            crypto.open_slot(keyring, slot, token, CONTEXT)
    impostor = Keyring.parse(f"new:{B64_A}")  # the right id, other bytes
    with pytest.raises(DecryptionError):
        crypto.open_slot(impostor, slot, TOKEN, CONTEXT)
    with pytest.raises(UnknownKeyError):
        crypto.open_slot(Keyring.parse(f"other:{B64_B}"), slot, TOKEN, CONTEXT)


def test_the_kek_alone_gives_only_the_tokens_layer(keyring):
    dek = new_data_key()
    slot = crypto.seal_slot(keyring, dek, TOKEN, CONTEXT)
    inner = crypto.open_slot_layer(keyring, slot.kek_id, slot.wrapped, CONTEXT)
    assert dek not in inner and len(inner) == 12 + 32 + 16
    # Every key the stored data and the configuration give, tried on what the KEK layer hides.
    stored_or_configured = [keyring.key("new"), keyring.key("old"), slot.salt * 2, bytes.fromhex(hash_token(TOKEN))]
    for key in stored_or_configured:
        with pytest.raises(DecryptionError):
            crypto.open_sealed(key, inner, crypto.SLOT_AAD_LABEL + CONTEXT)


def test_lookup_hash_and_slot_key_are_separate_derivations():
    salt = bytes(16)
    key = crypto.slot_key(TOKEN, salt, CONTEXT)
    assert len(key) == 32
    assert key != bytes.fromhex(hash_token(TOKEN))
    assert key not in bytes.fromhex(hash_token(TOKEN)) + hash_token(TOKEN).encode()
    # The salt and the context each give another key from the same token.
    assert key != crypto.slot_key(TOKEN, bytes([1]) + bytes(15), CONTEXT)
    assert key != crypto.slot_key(TOKEN, salt, CONTEXT + b"x")
    with pytest.raises(ValueError):
        crypto.slot_key(TOKEN, b"short", CONTEXT)
    with pytest.raises(ValueError):
        crypto.slot_key("", salt, CONTEXT)


def test_two_slots_of_one_key_share_nothing(keyring):
    dek = new_data_key()
    first, second = (crypto.seal_slot(keyring, dek, TOKEN, CONTEXT) for _ in range(2))
    assert first.salt != second.salt and first.wrapped != second.wrapped


def test_a_slot_is_bound_to_its_context(keyring):
    slot = crypto.seal_slot(keyring, new_data_key(), TOKEN, CONTEXT)
    for other in (b"notebook:" + b"b" * 32, b"share:x|" + CONTEXT, b""):
        with pytest.raises(DecryptionError):
            crypto.open_slot(keyring, slot, TOKEN, other)
        with pytest.raises(DecryptionError):
            crypto.open_slot_layer(keyring, slot.kek_id, slot.wrapped, other)


def test_rewrap_slot_moves_the_kek_layer_without_the_token(keyring):
    dek = new_data_key()
    old_ring = Keyring.parse(f"old:{B64_A}")
    slot = crypto.seal_slot(old_ring, dek, TOKEN, CONTEXT)
    kek_id, wrapped = crypto.rewrap_slot(keyring, slot.kek_id, slot.wrapped, CONTEXT)
    assert kek_id == "new" and wrapped != slot.wrapped
    moved = crypto.SealedSlot(kek_id, slot.salt, wrapped)
    only_new = Keyring.parse(f"new:{B64_B}")
    assert crypto.open_slot(only_new, moved, TOKEN, CONTEXT) == dek
    with pytest.raises(UnknownKeyError):
        crypto.open_slot(only_new, slot, TOKEN, CONTEXT)
    # A KEK-only wrap (a data key wrapped before slots) does not pass for a slot's KEK layer.
    _, legacy = wrap_data_key(keyring, dek, CONTEXT)
    with pytest.raises(DecryptionError):
        crypto.open_slot_layer(keyring, "new", legacy, CONTEXT)


def test_a_sealed_slot_shows_its_kek_id_only():
    slot = crypto.SealedSlot("k1", b"s" * 16, b"w" * 88)
    assert repr(slot) == "SealedSlot(kek_id='k1')"


# -- Purity --------------------------------------------------------------------


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_module_imports_no_web_or_database_code():
    modules = _imported_modules(Path(crypto.__file__))
    roots = {name.split(".")[0] for name in modules}
    assert not roots & {"flask", "werkzeug", "sqlalchemy", "flask_sqlalchemy"}
    assert not any(name.startswith("notes_service") for name in modules)
