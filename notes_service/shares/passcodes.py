"""Passcodes: normalisation, the minimum length, and a bound on concurrent Argon2 work."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import Busy

MIN_CHARS = 6
MAX_CHARS = 128
_DIGITS_ONLY = re.compile(r"^[\d\s-]+$")


def normalize(passcode: str) -> str:
    """Trim; a digits-only code loses its spaces and dashes ("482 913-057" == "482913057")."""
    passcode = passcode.strip()
    if _DIGITS_ONLY.match(passcode):
        return re.sub(r"[\s-]", "", passcode)
    return passcode


class ArgonGate:
    """At most N Argon2 verifications at once in this process; past it, fail at once.

    Each verification holds 64 MiB for tens of milliseconds; without a bound, a flood of
    guesses would turn memory into the attack surface. Refusing immediately (503 with
    Retry-After) is cheaper for everyone than queueing.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one verification slot, or raise Busy."""
        if not self._slots.acquire(blocking=False):
            raise Busy("Too many passcode checks are running. Try again in a moment.", retry_after=1)
        try:
            yield
        finally:
            self._slots.release()
