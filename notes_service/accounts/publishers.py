"""The host sites allowed to vouch for their users: read from NOTES_PUBLISHERS_FILE at start-up.

The file is a JSON list; each publisher is
``{"issuer", "audience", "algorithms", "public_key_pem"}`` or the same with ``"jwks_file"``
(a JWKS document on disk, relative paths from the publishers file's folder). Only asymmetric
algorithms are taken (ES256, EdDSA, RS256): the service holds public keys only, so nothing
it stores can sign a grant. Every problem is a ValueError naming the entry and the field,
never quoting a key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt import PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError

ALGORITHMS = ("ES256", "EdDSA", "RS256")
MAX_FILE_BYTES = 1024 * 1024
MAX_CLAIM_CHARS = 255
MIN_RSA_BITS = 2048
FIELDS = {"issuer", "audience", "algorithms", "public_key_pem", "jwks_file"}


@dataclass(frozen=True, repr=False)
class VerificationKey:
    """A publisher's public key, by its `kid` (None for a PEM key), and the algorithms it serves."""

    kid: str | None
    key: Any
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class Publisher:
    """A host site: its grants' `iss` and `aud`, the algorithms it signs with, its public keys."""

    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    keys: tuple[VerificationKey, ...]

    def __repr__(self) -> str:
        """The issuer only."""
        return f"Publisher(issuer={self.issuer!r})"


def _serves(key: Any) -> tuple[str, ...]:
    """The algorithms of ALGORITHMS a public key can verify."""
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return ("ES256",)
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return ("EdDSA",)
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
        return ("RS256",)
    return ()


def _text(entry: dict[str, Any], field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CLAIM_CHARS:
        raise ValueError(f"{where}: {field!r} must be a non-empty string of at most {MAX_CLAIM_CHARS} characters")
    return value


def _algorithms(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    value = entry.get("algorithms")
    if not isinstance(value, list) or not value or not all(isinstance(alg, str) for alg in value):
        raise ValueError(f"{where}: 'algorithms' must be a non-empty list, from {', '.join(ALGORITHMS)}")
    refused = [alg for alg in value if alg not in ALGORITHMS]
    if refused:
        raise ValueError(
            f"{where}: 'algorithms' may hold only {', '.join(ALGORITHMS)} (asymmetric), not {', '.join(refused)}"
        )
    return tuple(dict.fromkeys(value))


def _pem_key(entry: dict[str, Any], where: str) -> list[VerificationKey]:
    pem = entry["public_key_pem"]
    if not isinstance(pem, str):
        raise ValueError(f"{where}: 'public_key_pem' must be a PEM string")
    try:
        key = load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        raise ValueError(f"{where}: 'public_key_pem' is not a PEM public key") from None
    return [VerificationKey(None, key, _serves(key))]


def _jwks_keys(entry: dict[str, Any], where: str, folder: Path) -> list[VerificationKey]:
    raw = entry["jwks_file"]
    if not isinstance(raw, str) or not raw:
        raise ValueError(f"{where}: 'jwks_file' must be a path")
    path = folder / raw
    document = _read_json(path, f"{where}: the jwks_file {str(path)!r}")
    try:
        keys = PyJWKSet.from_dict(document).keys
    except (PyJWKSetError, PyJWKError):
        raise ValueError(f"{where}: the jwks_file {str(path)!r} holds no usable public key") from None
    found = []
    for jwk in keys:
        if jwk.key_type == "oct" or hasattr(jwk.key, "private_bytes"):
            raise ValueError(f"{where}: the jwks_file {str(path)!r} must hold public keys only")
        found.append(VerificationKey(jwk.key_id, jwk.key, _serves(jwk.key)))
    return found


def _read_json(path: Path, what: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{what} cannot be read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{what} is over {MAX_FILE_BYTES} bytes")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{what} is not JSON") from None


def _publisher(entry: Any, position: int, folder: Path) -> Publisher:
    where = f"publisher {position}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be an object")
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    issuer = _text(entry, "issuer", where)
    audience = _text(entry, "audience", where)
    algorithms = _algorithms(entry, where)
    if ("public_key_pem" in entry) == ("jwks_file" in entry):
        raise ValueError(f"{where}: give exactly one of 'public_key_pem' or 'jwks_file'")
    keys = _pem_key(entry, where) if "public_key_pem" in entry else _jwks_keys(entry, where, folder)
    for key in keys:
        if not set(key.algorithms) & set(algorithms):
            raise ValueError(
                f"{where}: a key serves none of its algorithms ({', '.join(algorithms)}): ES256 needs a P-256 key, "
                f"EdDSA an Ed25519 or Ed448 key, RS256 an RSA key of at least {MIN_RSA_BITS} bits"
            )
    return Publisher(issuer, audience, algorithms, tuple(keys))


def load_publishers(path: Path) -> tuple[Publisher, ...]:
    """The publishers in the file at `path`; ValueError naming what is wrong."""
    document = _read_json(path, f"the file {str(path)!r}")
    if not isinstance(document, list):
        raise ValueError("it must be a JSON list of publishers")
    publishers = tuple(_publisher(entry, position, path.parent) for position, entry in enumerate(document, start=1))
    issuers = [publisher.issuer for publisher in publishers]
    if len(set(issuers)) != len(issuers):
        raise ValueError("an issuer appears more than once")
    return publishers
