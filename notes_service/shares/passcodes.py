"""Passcodes: normalisation, what a passcode may be, and the host-wide gate on Argon2 work."""

from __future__ import annotations

import fcntl
import os
import random
import re
import time
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ..errors import Busy
from ..i18n import gettext

MIN_CHARS = 6
MAX_CHARS = 128
_DIGITS_ONLY = re.compile(r"^[\d\s-]+$")

# How a share's passcode was normalized before it was hashed (shares.passcode_form).
# 1: trimmed, and a digits-only code without its spaces and dashes (shares made before
# read-aloud normalization; the column's default, so a row written by older code is 1).
# 2: `normalize` below. A form-1 share is checked with form 1 and, on its first right
# passcode, hashed again in form 2.
LEGACY_FORM = 1
CURRENT_FORM = 2
# The minus sign (U+2212) is a mathematical symbol, not a dash, but is what some keyboards
# and phones type for one.
_MINUS = "\u2212"


def normalize(passcode: str) -> str:
    """A passcode as it is read aloud and typed back: what is compared, when set and when checked.

    Unicode NFKC (full-width and compatibility characters become their plain forms), then
    case-folded ("Grandma" == "GRANDMA", "Straße" == "STRASSE"), without white space or
    dashes (Unicode category Pd, and the minus sign): "Grandma Rose 1950" ==
    "grandmarose1950" == "GRANDMA-ROSE-1950". A generated code ("482-913-057") becomes its
    digits. The minimum length is counted on this form.
    """
    folded = unicodedata.normalize("NFKC", passcode).casefold()
    return "".join(c for c in folded if not c.isspace() and c != _MINUS and unicodedata.category(c) != "Pd")


def legacy_normalize(passcode: str) -> str:
    """Form 1: trimmed; a digits-only code loses its spaces and dashes ("482 913-057" == "482913057")."""
    passcode = passcode.strip()
    if _DIGITS_ONLY.match(passcode):
        return re.sub(r"[\s-]", "", passcode)
    return passcode


def in_form(passcode: str, form: int) -> str:
    """The passcode normalized as a share of this form hashed it."""
    return legacy_normalize(passcode) if form == LEGACY_FORM else normalize(passcode)


def _encodable(text: str) -> bool:
    # A lone surrogate (JSON's "\ud800") is a str that has no UTF-8 form: argon2-cffi raises on it.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def typed_passcode(value: object) -> str | None:
    """The passcode someone typed to open a share (normalized by the share's form when checked), or None.

    None for anything Argon2 could not even be given (not text, empty, too long, no UTF-8
    form) and for a NUL, which no passcode holds and the share page's form refuses as no text
    (web.check_request_input): such input is refused before an attempt is reserved and never
    counts, on the page and in the API alike.
    """
    if not isinstance(value, str) or len(value) > MAX_CHARS or "\x00" in value or not _encodable(value):
        return None
    return value if normalize(value) else None


def passcode_problem(value: object) -> str | None:
    """Why a chosen passcode cannot be used for a new share, or None when it can."""
    if not isinstance(value, str):
        return gettext("must be a string")
    if not _encodable(value) or any(unicodedata.category(c) in {"Cc", "Cs"} for c in value):
        return gettext("must be plain text, without control characters")
    if len(normalize(value)) < MIN_CHARS or len(value) > MAX_CHARS:
        return gettext(
            "must have at least %(least)s letters or digits (spaces, dashes and capitals do not "
            "count) and at most %(most)s characters",
            least=MIN_CHARS,
            most=MAX_CHARS,
        )
    return None


class ArgonGate:
    """At most N Argon2 computations at once on this host, one per client at a time.

    Each verification holds 64 MiB for a few hundred milliseconds; without a bound, a flood
    of guesses would turn memory into the attack surface. The bound is shared by every
    worker process through `flock` on N slot files in the data folder, so it holds for the
    host, not per process, and the kernel releases a slot when its process dies.

    Fairness: a client (its address) has one place at the gate at a time, so one client
    opening a share in a loop holds at most one slot and cannot keep others out; its extra
    requests are refused at once. A request waits for a slot a few seconds at most. At most
    2 requests per slot are at the gate (running or waiting), so under a flood from many
    addresses most worker threads stay free for reads (gunicorn.conf.py); past that, and
    past the wait, it is refused with 503 and Retry-After. Refusals touch only these
    files, never the database.
    """

    WAIT_SECONDS = 3.0
    ROOM_PER_SLOT = 2
    CLIENT_BUCKETS = 4096

    def __init__(self, directory: Path, limit: int) -> None:
        self.directory = Path(directory)
        self.limit = limit
        self.directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def slot(self, client: str | None = None) -> Iterator[None]:
        """Hold one Argon2 slot of this host (waiting a few seconds at most), or raise Busy."""
        with ExitStack() as held:
            if client is not None:
                bucket = zlib.crc32(client.encode("utf-8", "replace")) % self.CLIENT_BUCKETS
                if not self._take(held, [f"client-{bucket:04d}"]):
                    raise Busy(
                        gettext("A passcode check from this connection is already running. Try again in a moment."),
                        retry_after=1,
                    )
            if not self._take(held, [f"room-{i}" for i in range(self.limit * self.ROOM_PER_SLOT)]):
                raise Busy(gettext("Too many passcode checks are waiting. Try again in a moment."), retry_after=1)
            deadline = time.monotonic() + self.WAIT_SECONDS
            slots = [f"slot-{i}" for i in range(self.limit)]
            while not self._take(held, slots):
                if time.monotonic() >= deadline:
                    raise Busy(gettext("Too many passcode checks are running. Try again in a moment."), retry_after=1)
                time.sleep(0.01)
            yield

    def _take(self, held: ExitStack, names: list[str]) -> bool:
        # One open file description per holder: flock then excludes other threads of this
        # process as well as other processes.
        for name in random.sample(names, len(names)):
            fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            held.callback(os.close, fd)  # closing the file releases the lock
            return True
        return False
