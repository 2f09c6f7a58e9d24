"""Study records read incrementally from files, whatever their size.

One study per file, a bulk download (`{"studies": [...]}` or a JSON array), JSON Lines
(one study per line), a folder of any of these, or a `.zip` of them (ClinicalTrials.gov's
download). Bulk files are streamed with ijson, one record in memory at a time, so memory
stays flat however large the file; a record that is not readable is reported and the
reading goes on where it can (the next line, member or file).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import IO, Any

import ijson

RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson")
# A study alone in a file (or on one line) is read whole: past this it is refused, not read.
# Real records, results included, stay under a few MiB.
MAX_STUDY_BYTES = 32 * 1024 * 1024
# A bulk file's arrays and objects may nest this deep (a real record nests 11 levels inside its
# 2 of a bulk download): the streaming parser keeps the path to each open level as a string of
# its own ("item.item.item...", "studies.item.a.b..."), so its memory grows with the square of
# the depth; a 200 KB file of 100,000 nested arrays took 24 GB and the machine's OOM killer.
MAX_NESTING = 32
_BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark, which some tools write first
_WHITESPACE = b" \t\r\n" + _BOM

OnRead = Callable[[int], None]


@dataclass(frozen=True)
class Entry:
    """One record read, or why one could not be: `where` names the file and position.

    A line of JSON Lines comes as its `raw` bytes, decoded by `study_of` where the record is
    parsed (a loader's worker process, so that decoding, the largest part of a record's cost,
    is spread too).
    """

    where: str
    study: Any = None
    problem: str | None = None
    raw: bytes | None = None


def study_of(entry: Entry) -> tuple[Any, str | None]:
    """(the decoded record, None), or (None, the problem): decodes `raw` when the entry holds it."""
    if entry.problem is not None or entry.raw is None:
        return entry.study, entry.problem
    try:
        return json.loads(entry.raw), None
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the decoder goes
        return None, f"not readable JSON ({type(exc).__name__})"


def shipped_data_dir() -> Path:
    """The folder of real ClinicalTrials.gov records shipped inside the package."""
    return Path(__file__).parent / "data"


def find_record_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their record files and zips, sorted; keep files as given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and _is_source(p.name)))
        else:
            files.append(path)
    return files


def _is_source(name: str) -> bool:
    return name.lower().endswith((*RECORD_SUFFIXES, ".zip"))


def total_bytes(files: Iterable[Path]) -> int:
    """What reading `files` will read, in bytes (a zip's members uncompressed): the progress bar's length."""
    total = 0
    for path in files:
        try:
            if path.suffix.lower() == ".zip":
                with zipfile.ZipFile(path) as archive:
                    total += sum(m.file_size for m in archive.infolist() if _is_member(m))
            else:
                total += path.stat().st_size
        except (OSError, zipfile.BadZipFile):
            continue  # reported when read
    return total


def read_entries(files: Iterable[Path], on_read: OnRead | None = None) -> Iterator[Entry]:
    """Every record in `files`, in order; `on_read(n)` is told of each n bytes read."""
    count = on_read or (lambda _n: None)
    for path in files:
        if path.suffix.lower() == ".zip":
            yield from _zip_entries(path, count)
            continue
        try:
            with path.open("rb") as handle:
                yield from _entries(handle, str(path), path.suffix.lower(), partial(_open_binary, path), count)
        except OSError as exc:
            yield Entry(str(path), problem=f"not readable ({type(exc).__name__})")


def _open_binary(path: Path) -> IO[bytes]:
    return path.open("rb")


def _is_member(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    return not info.is_dir() and not name.startswith("__MACOSX/") and name.lower().endswith(RECORD_SUFFIXES)


def _zip_entries(path: Path, count: OnRead) -> Iterator[Entry]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        yield Entry(str(path), problem=f"not a readable zip ({type(exc).__name__})")
        return
    with archive:
        for info in sorted((m for m in archive.infolist() if _is_member(m)), key=lambda m: m.filename):
            where = f"{path}!{info.filename}"
            suffix = Path(info.filename).suffix.lower()
            try:
                with archive.open(info) as handle:
                    yield from _entries(handle, where, suffix, partial(archive.open, info), count)
            except (OSError, zipfile.BadZipFile, EOFError) as exc:
                yield Entry(where, problem=f"not readable ({type(exc).__name__})")


class _Counted:
    """A binary reader that reports how much was read (the progress bar counts bytes)."""

    def __init__(self, handle: IO[bytes], count: OnRead) -> None:
        self._handle = handle
        self._count = count

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._count(len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._handle.readline(size)
        self._count(len(data))
        return data


def _entries(
    handle: IO[bytes], where: str, suffix: str, reopen: Callable[[], IO[bytes]], count: OnRead
) -> Iterator[Entry]:
    counted = _Counted(handle, count)
    if suffix in (".jsonl", ".ndjson"):
        yield from _line_entries(counted, where)
        return
    first = _first_byte(handle)
    if _peek(handle, 3).startswith(_BOM):
        counted.read(len(_BOM))  # the streaming parser takes JSON only (JSON Lines' decoder skips it)
    if first == b"[":
        yield from _streamed(counted, where, "item")
        return
    if first == b"{":
        streamed = yield from _streamed(counted, where, "studies.item")
        if streamed:
            return
    # No "studies" array inside: the file is one study, read whole (it is small, or refused).
    with reopen() as again:
        entry = _whole_file(again, where)
    if entry is not None:
        yield entry


def _peek(handle: IO[bytes], size: int) -> bytes:
    peek = getattr(handle, "peek", None)
    return peek(size) if peek else b""


def _first_byte(handle: IO[bytes]) -> bytes:
    stripped = _peek(handle, 64).lstrip(_WHITESPACE)
    return stripped[:1]


def _streamed(handle: _Counted, where: str, prefix: str) -> Generator[Entry, None, int]:
    """Yield each item under `prefix`; return how many there were (0: no such array)."""
    index = -1
    bounded = _Bounded(handle, prefix.count(".") + 1)
    try:
        # use_float: numbers come back as json.load gives them, so content hashes agree.
        for index, study in enumerate(ijson.items(bounded, prefix, use_float=True)):
            yield Entry(f"{where}[{index}]", study)
    except (ijson.JSONError, _Refused) as exc:
        after = f" after record {index}" if index >= 0 else ""
        why = f"{exc}{after}" if isinstance(exc, _Refused) else f"not readable JSON{after} ({type(exc).__name__})"
        yield Entry(where, problem=f"{why}; the rest of the file skipped")
        return index + 2  # something was there: do not read it again as one study
    return index + 1


class _Refused(Exception):
    """A streamed file past a bound of `_Bounded`: its message says which."""


# What the bound scans: an escape (its two bytes), every byte but quotes and brackets, a
# bracket's step in depth; and (on refusal only) a string or its open start, a bracket.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_OPENERS = frozenset(b"[{")
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


class _Bounded:
    """What the streaming parser reads of a bulk file, refused past MAX_NESTING levels or a
    record of MAX_STUDY_BYTES, before the parser holds it (`_Refused` from `read`).

    Each read is scanned as it passes: strings are taken out (a bracket inside one is text),
    and the brackets left give the depth. A string that goes on past a read is scanned again
    from its opening quote with the next one. A record is what opens past `record_level` (1 in
    an array of records, 2 in `{"studies": [...]}`) and the strings at that level; its bytes
    are counted from the read it began in, whole (a bound at most one read early). The read
    that breaks a bound is given up to the record that breaks it, so the records before it
    load; the next read refuses.
    """

    def __init__(self, handle: _Counted, record_level: int) -> None:
        self._handle = handle
        self._level = record_level
        self._depth = 0
        self._open_bytes = 0  # of the record (or string) still open at the end of the last read
        self._carry = b""  # the opening quote (and a lone backslash) of a string still open
        self._refusal: str | None = None

    def read(self, size: int = -1) -> bytes:
        if self._refusal is not None:
            raise _Refused(self._refusal)
        data = self._handle.read(size)
        carried, level, depth = self._carry, self._level, self._depth
        text = carried + data
        # Escapes out where a backslash comes before a quote (the quote may be text): elsewhere
        # they move no quote. A lone backslash at the end is an escape the next read finishes.
        if b'\\"' in text:
            text = _ESCAPE.sub(b"", text)
        pending = text.endswith(b"\\") and (len(text) - len(text.rstrip(b"\\"))) % 2 == 1
        # Quotes and brackets only, in order: each string is what lies between two quotes. Two
        # quotes side by side hold no bracket between them, inside a string or out: dropped.
        marks = text.translate(None, _NOT_STRUCTURE)
        closed = marks.count(b'"', 1) > 0 if carried else True  # the string carried in ends here
        parts = marks.replace(b'""', b"").split(b'"')
        self._carry = b""
        if len(parts) % 2 == 0:  # the last string goes on into the next read, maybe inside an escape
            self._carry = b'"\\' if pending else b'"'
        brackets = b"".join(parts[0::2])
        levels = list(accumulate(map(_STEP.__getitem__, brackets), initial=depth))
        if max(levels) > MAX_NESTING:
            return self._refuse(f"nested deeper than {MAX_NESTING} levels", carried, data)
        # Between records at some point of this read: outside any string, at most at the records'
        # level: at its start, once a string carried into it has closed, or at a bracket.
        between = min(levels) <= level if brackets else depth <= level and closed
        self._depth = depth = levels[-1]
        if depth <= level and not self._carry:
            self._open_bytes = 0
        elif between:
            self._open_bytes = len(data)
        else:
            self._open_bytes += len(data)
        if self._open_bytes > MAX_STUDY_BYTES:
            return self._refuse(f"a record larger than {MAX_STUDY_BYTES // (1024 * 1024)} MiB", carried, data)
        return data

    def _refuse(self, why: str, carried: bytes, data: bytes) -> bytes:
        """The part of `data` before the record that broke a bound (the next read refuses)."""
        depth, level, start = self._depth, self._level, 0
        text = carried + data
        for token in _TOKEN.finditer(text):
            if depth <= level:
                start = token.start()  # a record (or a string at the records' level) begins here
            if text[token.start()] != ord('"'):
                depth += 1 if text[token.start()] in _OPENERS else -1
                if depth > MAX_NESTING:
                    break
        self._refusal = why
        good = data[: max(0, start - len(carried))]
        if not good:  # an empty read would read as the file's end
            raise _Refused(why)
        return good


def _whole_file(handle: IO[bytes], where: str) -> Entry | None:
    data = handle.read(MAX_STUDY_BYTES + 1)
    if len(data) > MAX_STUDY_BYTES:
        return Entry(where, problem=f"larger than {MAX_STUDY_BYTES // (1024 * 1024)} MiB for one study")
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the decoder goes
        return Entry(where, problem=f"not readable JSON ({type(exc).__name__})")
    if isinstance(payload, dict) and isinstance(payload.get("studies"), list) and not payload["studies"]:
        return None  # a bulk download of no studies: nothing to load, nothing wrong
    return Entry(where, payload)


def _line_entries(handle: _Counted, where: str) -> Iterator[Entry]:
    number = 0
    while True:
        line = handle.readline(MAX_STUDY_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_STUDY_BYTES and not line.endswith(b"\n"):
            _skip_rest_of_line(handle)
            yield Entry(f"{where}:{number}", problem=f"longer than {MAX_STUDY_BYTES // (1024 * 1024)} MiB")
            continue
        if not line.strip():
            continue
        yield Entry(f"{where}:{number}", raw=line)


def _skip_rest_of_line(handle: _Counted) -> None:
    while True:
        chunk = handle.readline(1024 * 1024)
        if not chunk or chunk.endswith(b"\n"):
            return
