from __future__ import annotations

import pytest
from support import new_owner

from notes_service import create_app
from notes_service.crypto import Keyring


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


@pytest.mark.parametrize("size", ["0", "-1"])
def test_keys_rotate_refuses_a_batch_size_below_one(app_env, make_app, size):
    # 0 re-wrapped nothing and then reported every slot as left under the older key; -1 was a
    # traceback on PostgreSQL (LIMIT must not be negative) and one unbounded batch on SQLite.
    app = make_app()
    new_owner(app.test_client()).add_note()
    rotated = make_app(NOTES_KEYS=f"{Keyring.generate_spec('k2')},{app_env['NOTES_KEYS']}")
    result = rotated.test_cli_runner().invoke(args=["keys", "rotate", "--batch-size", size])
    assert result.exit_code == 2, result.output
    assert "--batch-size" in result.output
    assert "re-wrapped" not in result.output
