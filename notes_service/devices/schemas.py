"""The devices API's models: the device list, link codes and their redemption."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ..notes.schemas import NEXT_DESCRIPTION
from ..schemas import RequestModel, ResponseModel, absent

# A page of the device list: a notebook has at most MAX_DEVICES, so one page shows them all.
MAX_DEVICES = 50
DEVICES_PER_PAGE = MAX_DEVICES
# What a browser may send as its name: longer is cut to MAX_NAME_CHARS once made plain text.
MAX_NAME_INPUT = 200
# A typed code may carry spaces and dashes; anything much longer than 20 symbols is no code.
MAX_CODE_INPUT = 64


class Device(ResponseModel):
    """One browser of my notebook."""

    id: str
    name: str = Field(max_length=60, description="Plain text the browser gave when it was linked; show it as text")
    created_at: str
    last_used_at: str = Field(description="To within 5 minutes")
    current: bool = Field(description="Whether this is the device whose token made the request")


class DevicesPage(ResponseModel):
    """A page of my notebook's devices, oldest first."""

    devices: list[Device] = Field(max_length=DEVICES_PER_PAGE)
    next: str | None = Field(description=NEXT_DESCRIPTION)


class LinkCodeCreated(ResponseModel):
    """A one-time link code for another browser (shown in this response only)."""

    code: str = Field(description="20 Crockford base32 symbols in groups of 4 (100 random bits)")
    url: str = Field(description="Our /link page with the code in its fragment only (for a QR code)")
    expires_at: str = Field(description="10 minutes from now; the code also ends at its first use")


class RedeemLinkCode(RequestModel):
    """A link code typed or scanned on the new browser, and that browser's name."""

    noun: ClassVar[str] = "link code"

    code: str = Field(
        max_length=MAX_CODE_INPUT,
        description="As shown; case, spaces and dashes do not count, and O reads as 0, I and L as 1",
    )
    device_name: str | None = absent(
        f"What the devices list calls this browser (plain text, cut to 60 characters); "
        f"at most {MAX_NAME_INPUT} characters sent",
        max_length=MAX_NAME_INPUT,
    )


class DeviceCreated(ResponseModel):
    """A new device of a notebook: its token, shown this once."""

    token: str = Field(description="This browser's notebook token; shown this once")
    notebook_id: str
    device_id: str
