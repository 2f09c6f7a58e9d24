"""A module-scoped app for the security tests that make many small worlds in one database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from support import CHEAP_HASHER

from notes_service import create_app, registry
from notes_service.extensions import db


@pytest.fixture(scope="module")
def module_app(database_factory, tmp_path_factory) -> Iterator:
    """One app and database for a whole test module; the per-client rate limit is out of the way."""
    data_dir = tmp_path_factory.mktemp("security")
    url = database_factory.new_database(data_dir)
    app = create_app(database_factory.env(data_dir, url, NOTES_SHARE_RATE_LIMIT="100000 per minute"))
    app.config["TESTING"] = True
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database_factory.drop(url)
