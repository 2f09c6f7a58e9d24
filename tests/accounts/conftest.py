"""An app that trusts a host site (ES256, by PEM) and a second one (RS256 and EdDSA, by JWKS file)."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from grant_hosts import AUDIENCE, ISSUER, JWKS_ISSUER, Host, public_pem


@pytest.fixture
def host() -> Host:
    return Host()


@pytest.fixture
def publishers_file(tmp_path: Path, host: Host) -> Path:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    jwks = {
        "keys": [
            {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key())), "kid": "rsa-1", "alg": "RS256"},
            {**json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(ed_key.public_key())), "kid": "ed-1", "alg": "EdDSA"},
        ]
    }
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    path = tmp_path / "publishers.json"
    path.write_text(
        json.dumps(
            [
                {
                    "issuer": ISSUER,
                    "audience": AUDIENCE,
                    "algorithms": ["ES256"],
                    "public_key_pem": public_pem(host.key),
                },
                {
                    "issuer": JWKS_ISSUER,
                    "audience": AUDIENCE,
                    "algorithms": ["RS256", "EdDSA"],
                    "jwks_file": "jwks.json",
                },
            ]
        )
    )
    host.jwks_keys = {"RS256": rsa_key, "EdDSA": ed_key}  # type: ignore[attr-defined]
    return path


@pytest.fixture
def app(make_app, publishers_file: Path):
    return make_app(NOTES_PUBLISHERS_FILE=str(publishers_file))
