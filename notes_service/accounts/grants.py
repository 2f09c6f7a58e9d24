"""Verifying a grant: a short-lived JWT a host site signs for its logged-in user (PyJWT).

Pure (no Flask, no database): the publishers and the time come in as arguments. Every way a
grant can be wrong raises GrantRefused with words that say which check failed and never
quote the grant or its claims (`sub` may be an email address, `nks` is a secret).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from .publishers import ALGORITHMS, MAX_CLAIM_CHARS, Publisher, VerificationKey

# A grant is a few hundred bytes (an RS256 signature is 342 characters); more is no grant of ours.
MAX_GRANT_CHARS = 4096
# `exp` at most this far ahead: a grant is made for one exchange, right before it.
MAX_LIFETIME_SECONDS = 600
# Clocks of the host and of this service may differ by this much.
LEEWAY_SECONDS = 30
MIN_NKS_BYTES = 32
MAX_NKS_BYTES = 64
REQUIRED = ("iss", "aud", "sub", "exp", "jti", "nks")


# base64url, padded or not (Python's decoder would skip other characters instead of refusing them).
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class GrantRefused(Exception):
    """A grant that is not accepted; the message says which check failed."""


@dataclass(frozen=True, repr=False)
class Grant:
    """What a verified grant vouches for: the host's user, the grant's id and end, the notebook key secret."""

    issuer: str
    subject: str
    jti: str
    expires_at: int
    nks: str  # base64url without padding, as canonical text: the account slot's secret

    def __repr__(self) -> str:
        """The issuer only: the subject names a person, the nks is a secret."""
        return f"Grant(issuer={self.issuer!r})"


def _by_issuer(publishers: tuple[Publisher, ...], issuer: Any) -> Publisher:
    for publisher in publishers:
        if publisher.issuer == issuer:
            return publisher
    raise GrantRefused("The grant's issuer (iss) is not a publisher this service knows.")


def _key(publisher: Publisher, kid: Any, algorithm: str) -> VerificationKey:
    fitting = [key for key in publisher.keys if algorithm in key.algorithms]
    if kid is not None:
        fitting = [key for key in fitting if key.kid == kid]
    if len(fitting) != 1:
        raise GrantRefused("No key of the grant's publisher matches its key id (kid) and algorithm.")
    return fitting[0]


def _claim_text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_CLAIM_CHARS:
        raise GrantRefused(f"The grant's {name} claim must be a string of 1 to {MAX_CLAIM_CHARS} characters.")
    # JSON's escapes can spell a lone surrogate (it has no UTF-8 form, so neither database stores
    # it) or a NUL (PostgreSQL's text refuses it): refused here, not failing as the row is written.
    if "\x00" in value or not _is_utf8(value):
        raise GrantRefused(f"The grant's {name} claim must be text without NUL characters or lone surrogates.")
    return value


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nks(claims: dict[str, Any]) -> str:
    value = claims.get("nks")
    if not isinstance(value, str) or len(value) > 2 * MAX_NKS_BYTES or not _BASE64URL.fullmatch(value):
        raise GrantRefused("The grant's nks claim must be base64url text.")
    try:
        secret = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise GrantRefused("The grant's nks claim must be base64url text.") from None
    if not MIN_NKS_BYTES <= len(secret) <= MAX_NKS_BYTES:
        raise GrantRefused(f"The grant's nks claim must hold {MIN_NKS_BYTES} to {MAX_NKS_BYTES} bytes.")
    return base64.urlsafe_b64encode(secret).decode("ascii").rstrip("=")


def _check_times(claims: dict[str, Any], now: datetime) -> int:
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int):
        raise GrantRefused("The grant's exp claim must be a whole number of seconds.")
    moment = now.timestamp()
    if exp + LEEWAY_SECONDS <= moment:
        raise GrantRefused("The grant has expired: ask the site for a new one.")
    if exp > moment + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise GrantRefused(f"The grant's exp is more than {MAX_LIFETIME_SECONDS // 60} minutes ahead.")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, int | float) or value > moment + LEEWAY_SECONDS):
            raise GrantRefused(f"The grant's {name} claim is in the future.")
    return exp


def verify_grant(raw: str, publishers: tuple[Publisher, ...], now: datetime) -> Grant:
    """The verified grant; GrantRefused naming the first check that failed."""
    if not publishers:
        raise GrantRefused("This service accepts no grants: no publisher is configured.")
    if len(raw) > MAX_GRANT_CHARS:
        raise GrantRefused(f"The grant is over {MAX_GRANT_CHARS} characters.")
    try:
        header = jwt.get_unverified_header(raw)
        unverified = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise GrantRefused("The grant is not a signed JWT.") from None
    algorithm = header.get("alg")
    # Only asymmetric algorithms, and only those the publisher named: "none" and HS256 (which
    # would take a public key for a shared secret) are refused before any key is looked at.
    if algorithm not in ALGORITHMS:
        raise GrantRefused(f"The grant's algorithm must be one of {', '.join(ALGORITHMS)}.")
    publisher = _by_issuer(publishers, unverified.get("iss"))
    if algorithm not in publisher.algorithms:
        raise GrantRefused("The grant's algorithm is not one its publisher signs with.")
    key = _key(publisher, header.get("kid"), algorithm)
    try:
        claims = jwt.decode(
            raw,
            key.key,
            algorithms=[algorithm],
            audience=publisher.audience,
            issuer=publisher.issuer,
            # Times are checked below against the service's clock (registry.now), as every rule here.
            options={"require": list(REQUIRED), "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.MissingRequiredClaimError as error:
        raise GrantRefused(f"The grant lacks its {error.claim} claim.") from None
    except jwt.InvalidAudienceError:
        raise GrantRefused("The grant's audience (aud) is not this service.") from None
    except jwt.InvalidSignatureError:
        raise GrantRefused("The grant's signature does not verify with its publisher's key.") from None
    except jwt.PyJWTError:
        raise GrantRefused("The grant does not verify.") from None
    expires_at = _check_times(claims, now)
    return Grant(
        issuer=publisher.issuer,
        subject=_claim_text(claims, "sub"),
        jti=_claim_text(claims, "jti"),
        expires_at=expires_at,
        nks=_nks(claims),
    )
