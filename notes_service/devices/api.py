"""Device and link-code routes: parse, call one service function, present."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from ..clock import isoformat
from ..extensions import rate_limited
from ..notes.auth import current_notebook
from ..notes.models import Notebook
from ..paging import encode_cursor, parse_page_request
from ..web import accepted, accepts, created
from . import service
from .models import Device
from .schemas import DEVICES_PER_PAGE, RedeemLinkCode

bp = Blueprint("devices_api", __name__, url_prefix="/api/v1")

# The device list's cursor carries the last device's (created_at, id).
DEVICE_KEY = (datetime, str)


def link_url(code: str) -> str:
    """Our /link page with the code in the fragment: a browser never sends a fragment, so no log holds it."""
    return f"{request.host_url.rstrip('/')}/link#code={code}"


def present_device(device: Device, notebook: Notebook) -> dict[str, Any]:
    """A device as its notebook's owner sees it: never its token."""
    return {
        "id": device.id,
        "name": device.name,
        "created_at": isoformat(device.created_at),
        "last_used_at": isoformat(device.last_used_at),
        "current": device.id == notebook.device_id,
    }


@bp.get("/notebooks/me/devices")
@rate_limited("devices")
def list_devices() -> dict[str, Any]:
    """A page of my notebook's devices, oldest first, and the cursor of the next."""
    notebook = current_notebook()
    page = parse_page_request(request.args, DEVICE_KEY, default_limit=DEVICES_PER_PAGE, max_limit=DEVICES_PER_PAGE)
    found = service.list_devices(notebook, page)
    last = found.devices[-1] if found.devices else None
    return {
        "devices": [present_device(device, notebook) for device in found.devices],
        "next": encode_cursor((last.created_at, last.id)) if found.more and last else None,
    }


@bp.delete("/notebooks/me/devices/<device_id>")
@rate_limited("devices")
def remove_device(device_id: str) -> Response:
    """Remove one of my devices (its token stops at once); the last one takes an unvouched notebook with it."""
    service.remove_device(current_notebook(), device_id)
    return Response(status=204)


@bp.post("/notebooks/me/link-codes")
@rate_limited("link_codes")
def create_link_code() -> Response:
    """A one-time code (10 minutes) that links another browser to my notebook."""
    issued = service.create_link_code(current_notebook())
    body = {"code": issued.code, "url": link_url(issued.code), "expires_at": isoformat(issued.expires_at)}
    return created(body, "/api/v1/notebooks/me/devices")


@bp.post("/link-codes/redeem")
@accepts(RedeemLinkCode)
@rate_limited("link_codes")
def redeem_link_code() -> Response:
    """Redeem a link code: this browser becomes a device of the code's notebook."""
    data = accepted(RedeemLinkCode)
    device, token = service.redeem_link_code(data.code, data.device_name)
    body = {"token": token, "notebook_id": device.notebook_id, "device_id": device.id}
    return created(body, "/api/v1/notebooks/me/devices")
