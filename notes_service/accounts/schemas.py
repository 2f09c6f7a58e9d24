"""The accounts API's models: exchanging a host's grant, and moving a browser's notes into the account."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ..devices.schemas import MAX_NAME_INPUT, DeviceCreated
from ..schemas import RequestModel, ResponseModel, absent
from .grants import MAX_GRANT_CHARS

# Room beyond the grant's own bound: a longer grant is a 401 problem (as every wrong grant),
# not a 422 about the body, up to this size.
MAX_GRANT_INPUT = 4 * MAX_GRANT_CHARS


class GrantInput(RequestModel):
    """A grant the host site signed for its logged-in user, and this browser's name."""

    noun: ClassVar[str] = "grant"

    grant: str = Field(
        max_length=MAX_GRANT_INPUT,
        description=f"A JWT (ES256, EdDSA or RS256) with iss, aud, sub, exp (at most 10 minutes ahead), jti "
        f"(used once) and nks (base64url of 32 to 64 bytes); over {MAX_GRANT_CHARS} characters it is refused (401)",
    )
    device_name: str | None = absent(
        "What the devices list calls this browser (plain text, cut to 60 characters)", max_length=MAX_NAME_INPUT
    )


class GrantExchanged(DeviceCreated):
    """A device of the account's notebook."""

    created: bool = Field(description="Whether the account's notebook was made by this grant (its first use)")


class ImportInput(RequestModel):
    """The anonymous notebook of this browser, whose notes move into the account's notebook."""

    noun: ClassVar[str] = "import"

    token: str = Field(max_length=128, description="That notebook's token (this browser's recovery key)")


class ImportDone(ResponseModel):
    """How many notes moved; the anonymous notebook is deleted."""

    moved: int
