"""Every bulk form ClinicalTrials.gov hands out is read record by record, bad records reported."""

from __future__ import annotations

import json
import zipfile

import pytest
from bulk_trials import clone_id, make

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
