"""Fixtures for tests that run the service as real gunicorn processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import ServerPool


@pytest.fixture
def server_pool(tmp_path: Path) -> Iterator[ServerPool]:
    """Starts gunicorn servers; every one is stopped (its whole process group) after the test."""
    with ServerPool(tmp_path / "servers") as pool:
        yield pool
