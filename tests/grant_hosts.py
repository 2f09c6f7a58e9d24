"""A host site for grant tests: its signing key, grants made with it, a publishers file naming it."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "https://trials.host.example"
AUDIENCE = "trial-notes"
JWKS_ISSUER = "https://jwks.host.example"


def public_pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def nks_for(user: str) -> str:
    """A stable per-user secret, as a host derives it (here: from the user id only, for the test)."""
    return base64.urlsafe_b64encode((user * 32).encode()[:32]).decode().rstrip("=")


@dataclass
class Host:
    """A host site: its signing key, and grants made with it."""

    key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    algorithm: str = "ES256"
    issuer: str = ISSUER
    audience: str = AUDIENCE

    def claims(self, user: str = "user-1", **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user,
            "exp": now + 300,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "nks": nks_for(user),
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def grant(self, user: str = "user-1", key: Any = None, algorithm: str | None = None, **changes: Any) -> str:
        return jwt.encode(self.claims(user, **changes), key or self.key, algorithm=algorithm or self.algorithm)
