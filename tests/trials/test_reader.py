"""Every bulk form ClinicalTrials.gov hands out is read record by record, bad records reported."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import pytest
from bulk_trials import clone_id, make
from hypothesis import given
from hypothesis import strategies as st

from notes_service.trials import reader
from notes_service.trials.reader import find_record_files, read_entries, shipped_data_dir, study_of, total_bytes


def seed() -> dict:
    return json.loads((shipped_data_dir() / "NCT07085104.json").read_text())


def ids(entries) -> list[str]:
    studies = (study_of(e)[0] for e in entries)
    return [s["protocolSection"]["identificationModule"]["nctId"] for s in studies if isinstance(s, dict)]


@pytest.mark.parametrize("name", ["bulk.json", "bulk.jsonl", "bulk.zip", "array.json"])
def test_each_bulk_form_yields_every_record_in_order(tmp_path, name):
    path = make(tmp_path / name, 30, array=name.startswith("array"))
    entries = list(read_entries([path]))
    assert ids(entries) == [clone_id(i) for i in range(30)]
    assert all(study_of(e)[1] is None for e in entries)


def test_a_folder_mixes_single_studies_bulk_files_and_zips(tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(seed()))
    (tmp_path / "sub").mkdir()
    make(tmp_path / "sub" / "b.jsonl", 3)
    make(tmp_path / "c.zip", 2, start=10)
    (tmp_path / "notes.txt").write_text("not a record")
    files = find_record_files([tmp_path])
    assert [f.name for f in files] == ["c.zip", "one.json", "b.jsonl"]
    assert ids(read_entries(files)) == [clone_id(10), clone_id(11), "NCT07085104", *map(clone_id, range(3))]


def test_a_bad_line_is_reported_and_the_next_lines_still_read(tmp_path):
    path = make(tmp_path / "bulk.jsonl", 3)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "{not json", "", lines[1], "42", lines[2]]) + "\n")
    entries = list(read_entries([path]))
    assert ids(entries) == [clone_id(0), clone_id(1), clone_id(2)]
    # A line is decoded where it is parsed (a loader's worker): the problem names the line all the same.
    assert [(e.where.rsplit(":", 1)[1], study_of(e)[1]) for e in entries if study_of(e)[1]] == [
        ("2", "not readable JSON (JSONDecodeError)")
    ]
    assert [study_of(e)[0] for e in entries if e.where.endswith(":5")] == [42]  # the parser refuses it, by name


def test_broken_json_mid_stream_keeps_what_came_before_and_says_where(tmp_path):
    path = make(tmp_path / "bulk.json", 5)
    text = path.read_text()
    path.write_text(text[: text.index(clone_id(3))] + "}}}]]")
    entries = list(read_entries([path]))
    assert ids(entries)[:2] == [clone_id(0), clone_id(1)]
    assert entries[-1].problem.startswith("not readable JSON after record")


def test_an_empty_download_is_nothing_to_load(tmp_path):
    (tmp_path / "empty.json").write_text('{"studies": [], "totalCount": 0}')
    assert list(read_entries([tmp_path / "empty.json"])) == []


def test_a_broken_zip_is_reported(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    [entry] = list(read_entries([tmp_path / "bad.zip"]))
    assert entry.problem.startswith("not a readable zip")


def test_progress_counts_every_byte(tmp_path):
    path = make(tmp_path / "bulk.zip", 20)
    seen = []
    list(read_entries([path], on_read=seen.append))
    with zipfile.ZipFile(path) as archive:
        assert sum(seen) == total_bytes([path]) == archive.infolist()[0].file_size


def _bulk(tmp_path, array: bool, middle: str, count: int = 4):
    """A bulk file of `count` records with the JSON text `middle` in place of the third."""
    records = make(tmp_path / "seed.json", count, array=True).read_text()
    found = json.loads(records)
    texts = [json.dumps(record) for record in found]
    texts[2] = middle
    body = "[" + ", ".join(texts) + "]"
    path = tmp_path / "bulk.json"
    path.write_text(body if array else '{"studies": ' + body + "}")
    return path


@pytest.mark.parametrize("array", [True, False])
@pytest.mark.parametrize("opener, closer", [("[", "]"), ('{"a": ', "}")])
def test_nesting_past_the_bound_is_refused_before_the_parser_holds_it(tmp_path, array, opener, closer):
    # The parser keeps each open level's path as a string of its own: 100,000 levels in 200 KB
    # took 24 GB. The records before the deep one load; nothing of it is held.
    depth = 5000
    path = _bulk(tmp_path, array, opener * depth + "1" + closer * depth)
    tracemalloc.start()
    try:
        entries = list(read_entries([path]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ids(entries) == [clone_id(0), clone_id(1)]
    assert entries[-1].problem == (
        f"nested deeper than {reader.MAX_NESTING} levels after record 1; the rest of the file skipped"
    )
    assert peak < 8 * 1024 * 1024  # 62 MB of paths at this depth without the bound


def test_nesting_within_the_bound_and_brackets_inside_strings_are_read(tmp_path):
    # 32 levels in all (the download's 2, the record's 2, 28 arrays) is at the bound; a string full of
    # brackets, escaped quotes and backslashes, longer than a read, is text.
    text = '[{\\"\\\\' * 40_000
    deep = '{"protocolSection": {"title": "' + text + '", "n": ' + "[" * 28 + "1" + "]" * 28 + "}}"
    path = _bulk(tmp_path, False, deep)
    entries = list(read_entries([path]))
    assert [e.problem for e in entries] == [None] * 4
    assert entries[2].study["protocolSection"]["title"] == '[{"\\' * 40_000


def test_a_bulk_record_past_the_byte_bound_is_refused_and_the_records_before_load(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_STUDY_BYTES", 300_000)
    path = _bulk(tmp_path, True, '{"a": "' + "x" * 400_000 + '"}')
    entries = list(read_entries([path]))
    assert ids(entries) == [clone_id(0), clone_id(1)]
    assert entries[-1].problem == "a record larger than 0 MiB after record 1; the rest of the file skipped"
    # The bound is a record's, not the file's: many records of nearly the bound load.
    path = _bulk(tmp_path, True, '{"a": "' + "x" * 200_000 + '"}', count=3)
    assert [e.problem for e in read_entries([path])] == [None] * 3
    path = _bulk(tmp_path, True, '"' + "x" * 400_000 + '"')  # a string alone in its place is bounded too
    assert list(read_entries([path]))[-1].problem.startswith("a record larger than")


class _Pieces(io.RawIOBase):
    """Bytes handed out at most `size` at a time: every cut between two reads gets tried."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data, self._size, self._at = data, size, 0

    def read(self, size: int = -1) -> bytes:
        piece = self._data[self._at : self._at + min(self._size, size if size >= 0 else self._size)]
        self._at += len(piece)
        return piece


_TEXTS = st.text(alphabet=st.sampled_from('[]{}"\\ a\n\u00e9'), max_size=12)
_VALUES = st.recursive(
    st.none() | st.integers() | _TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXTS, inner, max_size=3),
    max_leaves=60,
)


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(st.lists(_VALUES, max_size=4), st.integers(1, 9), st.integers(1, 40))
def test_the_bound_reads_the_depth_of_any_json_cut_anywhere(records, piece, extra):
    # Whatever the strings hold and wherever the reads cut them, a file is refused exactly
    # when it nests past the bound, and what is read is the file.
    value = records
    for _ in range(extra):
        value = [value]
    data = json.dumps(value, ensure_ascii=False).encode()
    bounded = reader._Bounded(reader._Counted(_Pieces(data, piece), lambda _n: None), 1)
    read = []
    try:
        while chunk := bounded.read(piece):
            read.append(chunk)
    except reader._Refused:
        assert _depth(value) > reader.MAX_NESTING
    else:
        assert _depth(value) <= reader.MAX_NESTING
        assert b"".join(read) == data
