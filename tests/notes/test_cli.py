from __future__ import annotations

import pytest

from notes_service import create_app


@pytest.mark.parametrize("command", ["rotate", "check"])
def test_keys_commands_on_an_unmigrated_database_say_to_upgrade(tmp_path, command):
    # A new host or a restore into an empty database: the commands said nothing useful (a traceback
    # of "no such table: key_slots"; rotate had printed its key check as ok first).
    app = create_app({"NOTES_DATA_DIR": str(tmp_path / "data")})
    result = app.test_cli_runner().invoke(args=["keys", command])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert "run `flask db upgrade` first" in result.output
    assert "ok" not in result.output
