from __future__ import annotations

import json

from sqlalchemy import func, select

from notes_service.extensions import db
from notes_service.trials.models import Trial
from notes_service.trials.reader import shipped_data_dir


def seed() -> dict:
    return json.loads((shipped_data_dir() / "NCT07085104.json").read_text())


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Trial))


def test_loading_shipped_records_again_is_idempotent(app, runner):
    before = count(app)
    result = runner.invoke(args=["trials", "load"])
    assert result.exit_code == 0, result.output
    assert f"0 added, 0 changed, {before} unchanged, 0 failed" in result.output
    assert count(app) == before


def test_changed_record_becomes_new_version(app, runner, tmp_path):
    with app.app_context():
        old = db.session.get(Trial, "NCT07085104")
        old_version, old_revision = old.version, old.revision
    study = seed()
    study["protocolSection"]["statusModule"]["overallStatus"] = "ACTIVE_NOT_RECRUITING"
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(study))
    result = runner.invoke(args=["trials", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 added, 1 changed" in result.output
    with app.app_context():
        row = db.session.get(Trial, "NCT07085104")
        assert row.version != old_version
        assert row.revision == old_revision + 1
        assert row.status == "Active not recruiting"


def test_malformed_record_reported_while_others_load(app, runner, tmp_path):
    good = seed()
    good["protocolSection"]["identificationModule"]["nctId"] = "NCT00000001"
    bad = seed()
    del bad["protocolSection"]["identificationModule"]["briefTitle"]
    (tmp_path / "a-good.json").write_text(json.dumps(good))
    (tmp_path / "b-bad.json").write_text(json.dumps(bad))
    (tmp_path / "c-broken.json").write_text("{not json")
    bulk = {
        "studies": [
            dict(
                good,
                protocolSection={
                    **good["protocolSection"],
                    "identificationModule": {"nctId": "NCT00000002", "briefTitle": "Bulk one"},
                },
            ),
            42,
        ]
    }
    (tmp_path / "d-bulk.json").write_text(json.dumps(bulk))
    result = runner.invoke(args=["trials", "load", str(tmp_path)])
    assert result.exit_code == 1
    assert "b-bad.json: protocolSection.identificationModule.briefTitle: is missing" in result.output
    assert "c-broken.json: not readable JSON" in result.output
    assert "d-bulk.json[1]: (record): must be a JSON object" in result.output
    assert "2 added" in result.output
    with app.app_context():
        assert db.session.get(Trial, "NCT00000001") is not None
        assert db.session.get(Trial, "NCT00000002").title == "Bulk one"


def test_bulk_array_download(app, runner, tmp_path):
    one = seed()
    one["protocolSection"]["identificationModule"]["nctId"] = "NCT00000003"
    (tmp_path / "bulk.json").write_text(json.dumps([one]))
    result = runner.invoke(args=["trials", "load", str(tmp_path / "bulk.json")])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output


def test_a_records_report_cannot_drive_the_operators_terminal(app, runner, tmp_path):
    # A key of a record names where it failed; a key holding an escape sequence (ESC [2J clears
    # the screen, ESC ]52 writes the clipboard) was printed as it was, to the operator's terminal.
    study = seed()
    study["protocolSection"]["\x1b[2J\x1b]52;c;aGk=\x07"] = {"x": "a\x00b"}
    path = tmp_path / "escape\x1b[31m.json"
    path.write_text(json.dumps(study))
    result = runner.invoke(args=["trials", "load", str(path)])
    assert "1 failed" in result.output, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "escape\\x1b[31m.json" in line and "\\x1b[2J\\x1b]52;c;aGk=\\x07" in line, line
    assert line.endswith("holds a NUL character"), line


def test_a_folder_without_record_files_fails_the_load(app, runner, tmp_path):
    # A wrong folder, or a download left compressed: nothing was loaded and the load said
    # "0 added, 0 changed, 0 unchanged, 0 failed" with exit status 0.
    empty = tmp_path / "download"
    empty.mkdir()
    (empty / "studies.json.gz").write_bytes(b"\x1f\x8b")
    study = seed()
    study["protocolSection"]["identificationModule"]["nctId"] = "NCT00000003"
    (tmp_path / "one.json").write_text(json.dumps(study))
    result = runner.invoke(args=["trials", "load", str(empty), str(tmp_path / "one.json")])
    assert result.exit_code == 1
    assert f"error: {empty}: no record files" in result.output
    assert "1 added" in result.output
