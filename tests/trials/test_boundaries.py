"""The trial store stands alone: it imports nothing of notes or shares, it announces changes."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import notes_service.trials as trials_package
from notes_service.trials.reader import shipped_data_dir
from notes_service.trials.signals import trials_changed


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_trial_store_module_imports_notes_or_shares():
    for path in Path(trials_package.__file__).parent.glob("*.py"):
        for name in imported_modules(path):
            assert not name.lstrip(".").startswith(("notes", "shares")), f"{path.name} imports {name}"
            assert "notes_service.notes" not in name and "notes_service.shares" not in name


def test_a_load_that_changes_a_trial_tells_the_subscribers(app, runner, tmp_path):
    heard = []

    def listener(sender, nct_ids):
        heard.append((sender, nct_ids))
        return ["listener heard it"]

    trials_changed.connect(listener, sender=app)
    try:
        study = json.loads((shipped_data_dir() / "NCT07085104.json").read_text())
        study["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
        (tmp_path / "changed.json").write_text(json.dumps(study))
        result = runner.invoke(args=["trials", "load", str(tmp_path / "changed.json")])
    finally:
        trials_changed.disconnect(listener, sender=app)
    assert result.exit_code == 0, result.output
    assert heard == [(app, ("NCT07085104",))]
    assert "listener heard it" in result.output
    assert "NCT07085104: content changed; 0 notes to re-anchor at their next read" in result.output  # notes too
