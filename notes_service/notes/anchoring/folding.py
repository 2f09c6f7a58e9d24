"""White space folding: every run of Unicode white space becomes one space.

The folded text keeps, for each of its characters, the index it came from in the original,
so a range found in the folded text maps back to a range of the original text: a quote
that spans a line break or a double space then covers that white space.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

_WHITESPACE = re.compile(r"\s+")


def fold_whitespace(s: str) -> str:
    """Collapse runs of Unicode white space to one space and strip the ends."""
    return collapse(s).strip(" ")


def collapse(s: str) -> str:
    """Collapse runs of white space to one space, keeping edge spaces."""
    return _WHITESPACE.sub(" ", s)


@dataclass(frozen=True)
class Folded:
    """A text with white space collapsed, and where each character came from."""

    original: str
    text: str
    # starts[i] is the original index of folded character i; one extra entry
    # (len(original)) lets a folded end index map to an original end index.
    starts: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a folded range (not starting or ending in a space) to the original."""
        return self.starts[start], self.starts[end]

    def to_folded(self, position: int) -> int:
        """Map an original index to the nearest folded index at or after it."""
        return bisect.bisect_left(self.starts, position, 0, len(self.text))


# A trial's text is folded for every note placed on it (3 ms for a 40 KB record): the last few
# texts are kept, folded. A Folded is immutable, so sharing one between requests is safe; each
# costs about 1.5 MB for a 40 KB text (the `starts` tuple), hence a small cache.
@lru_cache(maxsize=4)
def fold_text(text: str) -> Folded:
    """Collapse white space in ``text`` and remember original positions."""
    parts: list[str] = []
    starts: list[int] = []
    cursor = 0
    for run in _WHITESPACE.finditer(text):
        parts.append(text[cursor : run.start()])
        starts.extend(range(cursor, run.start()))
        parts.append(" ")
        # The space stands for the whole run; the next folded character
        # starts at the run's end, which is how a range covers the run.
        starts.append(run.start())
        cursor = run.end()
    parts.append(text[cursor:])
    starts.extend(range(cursor, len(text)))
    starts.append(len(text))
    return Folded(original=text, text="".join(parts), starts=tuple(starts))
