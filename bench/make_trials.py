"""Make a bulk file of N trials cloned from the shipped real records under new NCT numbers.

    .venv/bin/python bench/make_trials.py OUT.json 100000              # {"studies": [...]}
    .venv/bin/python bench/make_trials.py OUT.jsonl 100000             # JSON Lines
    .venv/bin/python bench/make_trials.py OUT.zip 100000               # a zip of one JSON Lines member
    .venv/bin/python bench/make_trials.py OUT.json 100000 --array      # a bare JSON array

Each clone is a real record (text, lists, escapes as ClinicalTrials.gov gives them) whose
NCT number is replaced by NCT9xxxxxxx, so every clone is a distinct trial with a
distinct content version. Written as it is made: memory stays small whatever N.
Never committed: `make bench` writes it to a temporary folder.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

DATA = Path(__file__).resolve().parent.parent / "notes_service" / "trials" / "data"
FIRST_NUMBER = 90_000_000


def templates() -> list[tuple[str, str]]:
    """(NCT number, compact JSON) of each shipped record, in name order."""
    out = []
    for path in sorted(DATA.glob("NCT*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        out.append((path.stem, json.dumps(record, ensure_ascii=False, separators=(",", ":"))))
    return out


def clone_id(index: int) -> str:
    """The NCT number of clone `index`."""
    return f"NCT{FIRST_NUMBER + index:08d}"


def clones(count: int, start: int = 0) -> Iterator[str]:
    """`count` study JSON texts, clone `start` onwards."""
    bases = templates()
    for index in range(start, start + count):
        nct, text = bases[index % len(bases)]
        yield text.replace(nct, clone_id(index))


def write(handle: IO[str], count: int, shape: str, start: int = 0) -> None:
    """Write `count` clones as "studies" ({"studies": [...]}), "array" or "jsonl"."""
    if shape == "jsonl":
        for text in clones(count, start):
            handle.write(text + "\n")
        return
    handle.write('{"studies":[' if shape == "studies" else "[")
    for index, text in enumerate(clones(count, start)):
        handle.write(("," if index else "") + text + "\n")
    handle.write("]}" if shape == "studies" else "]")


def make(path: Path, count: int, array: bool = False, start: int = 0) -> Path:
    """Write the bulk file `path` (its suffix picks the form); return it."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with (
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
            archive.open("studies.jsonl", "w") as raw,
            _text(raw) as handle,
        ):
            write(handle, count, "jsonl", start)
        return path
    shape = "jsonl" if suffix in (".jsonl", ".ndjson") else "array" if array else "studies"
    with path.open("w", encoding="utf-8") as handle:
        write(handle, count, shape, start)
    return path


def _text(raw: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(raw, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--array", action="store_true", help='a bare JSON array instead of {"studies": [...]}')
    parser.add_argument("--start", type=int, default=0, help="the first clone's index")
    args = parser.parse_args()
    make(args.path, args.count, args.array, args.start)
    print(f"{args.path}: {args.count} trials, {args.path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
