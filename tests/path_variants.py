"""Every spelling of a share path that reaches the share routes, for the log-masking test of each server.

The router (werkzeug behind the development server or gunicorn) takes a share path in many
forms: doubled slashes (answered directly or with a 308 to the plain path), a percent-
encoding of any character with either case of hex digits, encoded slashes, the absolute form
of the request target, and a query string or a fragment after it. An access log shows what
the client sent, so each of these must come out masked. Near misses (a trailing slash, an
upper-case `S`) are not routed to the share, but they carry a real token all the same.

Each variant is the raw request target as it goes on the request line, with the statuses
the app answers it with; tests send it with `send_raw` and check both the status (the table
is true) and the log (nothing of the token in it). The nginx front's test reuses the table.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass

# What the app answers: the share itself (200; 401 from the share API for an empty or wrong
# passcode, so a test need not spend Argon2 work), the merged-slashes redirect (308), or nothing
# routed there (404) for the near misses.
ROUTED = frozenset({200, 308, 401})
NEAR_MISS = frozenset({404})


@dataclass(frozen=True)
class Variant:
    """One spelling of a share path: a label, the method, the raw request target, what the app answers."""

    label: str
    method: str
    target: str
    statuses: frozenset[int]


def _encode(text: str, lower: bool = False) -> str:
    encoded = "".join(f"%{ord(ch):02X}" for ch in text)
    return encoded.lower() if lower else encoded


def _spellings(prefix: str, token: str) -> list[tuple[str, str]]:
    """(label, path) for the routed spellings of `/<prefix>/<token>`; prefix is "s" or "api/v1/shared"."""
    parts = prefix.split("/")
    plain = f"/{prefix}/{token}"
    spellings = [
        ("plain", plain),
        ("doubled leading slash", f"//{prefix}/{token}"),
        ("doubled slash before the token", f"/{prefix}//{token}"),
        ("encoded slash before the token", f"/{prefix}%2F{token}"),
        ("encoded slash, lower-case hex", f"/{prefix}%2f{token}"),
        ("token fully encoded", f"/{prefix}/{_encode(token)}"),
        ("token fully encoded, lower-case hex", f"/{prefix}/{_encode(token, lower=True)}"),
        ("whole path encoded but the first slash", "/" + _encode(plain[1:], lower=True)),
        ("query string", f"{plain}?passcode=query-secret&x=1"),
        ("fragment", f"{plain}#query-secret"),
    ]
    if len(parts) > 1:
        spellings += [
            (
                f"doubled slash after {part!r}",
                "/" + "/".join(parts[: i + 1]) + "//" + "/".join(parts[i + 1 :]) + f"/{token}",
            )
            for i, part in enumerate(parts[:-1])
        ]
        spellings.append(("encoded slashes throughout", "/" + "%2F".join(parts) + f"%2F{token}"))
    # One character at a time, every character but the first slash, alternating the case of the hex.
    for index in range(1, len(plain)):
        spellings.append(
            (
                f"character {index} encoded",
                plain[:index] + _encode(plain[index], lower=index % 2 == 1) + plain[index + 1 :],
            )
        )
    return spellings


def share_path_variants(token: str, authority: str | None = None) -> list[Variant]:
    """Every spelling of the share page (GET) and the share API (POST) for this token, near misses included.

    `authority` ("127.0.0.1:8000") adds the absolute form of the request target.
    """
    variants = []
    for method, prefix in (("GET", "s"), ("POST", "api/v1/shared")):
        spellings = _spellings(prefix, token)
        if authority is not None:
            spellings.append(("absolute form", f"http://{authority}/{prefix}/{token}"))
        variants += [Variant(f"{method} {label}", method, target, ROUTED) for label, target in spellings]
        variants += [
            Variant(f"{method} trailing slash", method, f"/{prefix}/{token}/", NEAR_MISS),
            Variant(f"{method} upper-case prefix", method, f"/{prefix.upper()}/{token}", NEAR_MISS),
            Variant(f"{method} encoded question mark", method, f"/{prefix}/{token}%3Fx", NEAR_MISS),
        ]
    return variants


def send_raw(
    host: str,
    port: int,
    variant: Variant,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15.0,
) -> int:
    """Send `variant` with its request target exactly as written (no client-side normalising); the status."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.putrequest(variant.method, variant.target, skip_accept_encoding=True)
        for name, value in {"Connection": "close", **(headers or {})}.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
