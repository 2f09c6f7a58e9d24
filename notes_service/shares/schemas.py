"""The shares API's models: creating a share, opening one, reading its pages, and what is returned."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import ConfigDict, Field, field_validator

from ..notes.schemas import NEXT_DESCRIPTION, Note
from ..paging import DEFAULT_LIMIT
from ..schemas import RequestModel, ResponseModel, absent, refuse
from ..trials.schemas import TrialText
from .passcodes import MAX_CHARS, MIN_CHARS, passcode_problem
from .sessions import MAX_SESSION_CHARS

MAX_EXPIRY_DAYS = 90
DEFAULT_EXPIRY_DAYS = 7
MAX_VIEWS = 100_000
# A share lists up to 5,000 note ids (175 KB of JSON), so a page of the owner's list holds at
# most 20 shares: 3.5 MB at worst.
MAX_SHARED_NOTES = 5000
SHARES_PER_PAGE = 20
# Notes per API page of a share, as in the owner's lists; the byte budget may cut a page sooner.
SHARED_PAGE_NOTES = DEFAULT_LIMIT

ShareState = Literal["active", "expired", "revoked", "used_up", "locked"]
_STATES: tuple[ShareState, ...] = get_args(ShareState)  # get_args is typed as returning Any
ACTIVE, EXPIRED, REVOKED, USED_UP, LOCKED = _STATES

NoteId = Annotated[str, Field(min_length=1, max_length=64)]


class ShareInput(RequestModel):
    """A new share of chosen notes on one trial, behind a passcode."""

    noun: ClassVar[str] = "share"

    trial_id: str = Field(min_length=1, description="The trial's NCT number")
    note_ids: list[NoteId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SHARED_NOTES,
        description="The notes to share; null or absent: all my notes on the trial now",
    )
    passcode: str | None = Field(
        default=None,
        json_schema_extra={"minLength": MIN_CHARS, "maxLength": MAX_CHARS},
        description=f"{MIN_CHARS} to {MAX_CHARS} characters of plain text (for digits, spaces and dashes "
        "do not count); null or absent: one is generated and returned once",
    )
    expires_in_days: int = Field(default=DEFAULT_EXPIRY_DAYS, ge=1, le=MAX_EXPIRY_DAYS)
    max_views: int | None = Field(
        default=None, ge=1, le=MAX_VIEWS, description="How many openings the share allows; null or absent: no limit"
    )

    @field_validator("passcode")
    @classmethod
    def _typeable(cls, passcode: str | None) -> str | None:
        problem = passcode_problem(passcode) if passcode is not None else None
        if problem:
            raise refuse("passcode", problem)
        return passcode

    @field_validator("expires_in_days", mode="wrap")
    @classmethod
    def _whole_days(cls, value: Any, handler: Any) -> int:
        # One message for every way of getting it wrong, as the share dialog shows it.
        try:
            return int(handler(value))
        except ValueError:
            raise refuse("days", f"must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}") from None


class OpenShare(RequestModel):
    """Opening a share: the passcode (anything else is a wrong passcode that counts nothing)."""

    model_config = ConfigDict(extra="ignore")

    passcode: str = Field(description="As it was told; for digits, spaces and dashes do not count")


class SharedNotesRequest(RequestModel):
    """A next page of an opened share's notes."""

    # Both are checked beyond their type: a session must be one we signed for this share (else
    # 401), a cursor one we gave for this list (else 400), whatever their length.
    session: Any = Field(
        default=None,
        description="The session opening the share gave; anything else is a 401 "
        "(open the share again). Never put it in a URL.",
    )
    cursor: str | None = Field(
        default=None,
        description="The `next` of the previous page; null or absent: the "
        "first page. A cursor this service did not give is a 400.",
    )


# -- Responses ---------------------------------------------------------------------


class Share(ResponseModel):
    """A share as its owner sees it: counters and state, never the token or passcode."""

    id: str
    trial_id: str
    note_ids: list[str] = Field(max_length=MAX_SHARED_NOTES)
    note_count: int
    state: ShareState
    views: int
    max_views: int | None
    last_viewed_at: str | None
    failed_attempts: int
    failed_attempts_limit: int
    locked_until: str | None
    expires_at: str
    created_at: str
    revoked_at: str | None


class ShareCreated(Share):
    """A new share, with its link (shown in this response only)."""

    url: str = Field(description="The link to give; it carries the share token")
    passcode: str = absent("Only when it was generated")


class SharesPage(ResponseModel):
    """A page of my shares, newest first."""

    shares: list[Share] = Field(max_length=SHARES_PER_PAGE)
    next: str | None = Field(description=NEXT_DESCRIPTION)


class SharedNotesPage(ResponseModel):
    """A page of an opened share's readable notes."""

    notes: list[Note] = Field(
        max_length=SHARED_PAGE_NOTES, description=f"Up to {SHARED_PAGE_NOTES} readable notes, the response within 4 MiB"
    )
    next: str | None = Field(
        description="Cursor of the next page (POST /api/v1/shared/{token}/notes); null on the last page"
    )


class SharedTrial(SharedNotesPage):
    """An opened share: its trial, the first page of its notes, and a session for the next pages."""

    trial: TrialText
    session: str = Field(
        max_length=MAX_SESSION_CHARS,
        description="Signed, bound to this share, valid 30 minutes from the passcode check: "
        "send it in the body of each next-page request, never in a URL.",
    )
    session_expires_in: int = Field(description="Seconds the session stays valid")
    expires_at: str
