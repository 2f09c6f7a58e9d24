"""Grant and import routes: parse, call one service function, present."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from ..extensions import rate_limited
from ..notes.auth import current_notebook
from ..notes.imports import import_notebook
from ..web import accepted, accepts, created
from . import service
from .schemas import GrantInput, ImportInput

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


@bp.post("/grants")
@accepts(GrantInput)
@rate_limited("grants")
def exchange_grant() -> Response:
    """Exchange a host site's grant for a device token of its user's notebook (made on first use)."""
    data = accepted(GrantInput)
    device, token, made = service.exchange_grant(data.grant, data.device_name)
    body = {"token": token, "notebook_id": device.notebook_id, "device_id": device.id, "created": made}
    return created(body, "/api/v1/notebooks/me/devices")


@bp.post("/notebooks/me/imports")
@accepts(ImportInput)
@rate_limited("grants")
def import_notes() -> dict[str, Any]:
    """Move the notes of this browser's anonymous notebook into my notebook; the anonymous one is deleted."""
    notebook = current_notebook()
    return {"moved": import_notebook(notebook, accepted(ImportInput).token)}
