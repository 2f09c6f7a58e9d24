"""The shares API's models: creating a share, opening one, reading its pages, and what is returned."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..i18n import gettext
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

# The languages a share page can be set to (notes_service/i18n.py ships the same three; adding
# one is a migration too: the column's check constraint lists them).
ShareLanguage = Literal["en", "es", "ar"]
SHARE_LANGUAGES: tuple[ShareLanguage, ...] = get_args(ShareLanguage)
LANGUAGE_DESCRIPTION = (
    "The language the share page is shown in (its passcode form too), unless the reader picks "
    "another with the page's language switch; null or absent: the reader's own (their browser's)"
)

NoteId = Annotated[str, Field(min_length=1, max_length=64)]

# A share's sender name ("Maria") and label ("For Mom"), and a reply's writer: plain text,
# counted after sanitizing (notes.sanitize.plain_text).
MAX_SENDER_CHARS = 60
MAX_LABEL_CHARS = 80
MAX_REPLY_NAME_CHARS = 60
# A reply's body: HTML under the note body policy, counted as stored (after sanitizing).
MAX_REPLY_CHARS = 2000
# Stored bounds, checked under the share's row lock: a note shows at most this many replies
# (all of them inline in the shared notes, so no separate list to page), a share takes at most
# this many in all. 20 replies of 2,000 characters: about 45 KB of JSON per note.
MAX_REPLIES_PER_NOTE = 20
MAX_REPLIES_PER_SHARE = 200
# The owner's list of replies on a trial, per page.
REPLIES_PER_PAGE = 50
MAX_SEEN_IDS = REPLIES_PER_PAGE

SENDER_DESCRIPTION = (
    f"Plain text (markup removed), at most {MAX_SENDER_CHARS} characters: shown on the share page before "
    'the passcode ("Maria shared notes with you"), so anyone holding the link reads it; null or absent: none'
)
LABEL_DESCRIPTION = (
    f"Plain text (markup removed), at most {MAX_LABEL_CHARS} characters, for the owner only "
    '("For Mom"); null or absent: none'
)


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
    sender_name: str | None = Field(default=None, max_length=MAX_SENDER_CHARS, description=SENDER_DESCRIPTION)
    label: str | None = Field(default=None, max_length=MAX_LABEL_CHARS, description=LABEL_DESCRIPTION)
    replies_allowed: bool = Field(default=True, description="Whoever opens the share may reply to its notes")
    language: ShareLanguage | None = Field(default=None, description=LANGUAGE_DESCRIPTION)

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
            raise refuse(
                "days", gettext("must be a whole number of days from 1 to %(most)s", most=MAX_EXPIRY_DAYS)
            ) from None


def _at_least_one(schema: dict[str, Any]) -> None:
    schema["minProperties"] = 1


class SharePatch(RequestModel):
    """A change to one of my shares: whether it takes replies, its label and its language (null removes either)."""

    model_config = ConfigDict(json_schema_extra=_at_least_one)
    noun: ClassVar[str] = "share"

    replies_allowed: bool = absent("Whoever opens the share may reply to its notes")
    label: str | None = Field(default=None, max_length=MAX_LABEL_CHARS, description=LABEL_DESCRIPTION)
    language: ShareLanguage | None = Field(default=None, description=LANGUAGE_DESCRIPTION)

    @model_validator(mode="after")
    def _not_empty(self) -> SharePatch:
        if not self.model_fields_set:
            raise refuse("empty", gettext("give at least one of %(fields)s", fields="replies_allowed, label, language"))
        return self


class ReplyInput(RequestModel):
    """A reply to a shared note, from whoever opened the share."""

    noun: ClassVar[str] = "reply"

    session: Any = Field(
        default=None,
        description="The session opening the share gave; anything else is a 401 (open the share again)",
    )
    body: str = Field(
        min_length=1,
        max_length=MAX_REPLY_CHARS,
        description=f"HTML kept by the note body policy (the rest escaped), at most {MAX_REPLY_CHARS} "
        "characters as stored",
    )
    name: str | None = Field(
        default=None,
        max_length=MAX_REPLY_NAME_CHARS,
        description=f"Who writes, plain text (markup removed), at most {MAX_REPLY_NAME_CHARS} characters; optional",
    )


class RepliesSeen(RequestModel):
    """Replies the owner has now read."""

    noun: ClassVar[str] = "request"

    reply_ids: list[NoteId] = Field(min_length=1, max_length=MAX_SEEN_IDS, description="Ids of my replies")


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


# -- Sealed payloads -----------------------------------------------------------------


class ShareOwnerPayload(BaseModel):
    """What a share's owner_sealed ciphertext holds: the one place its shape is written."""

    model_config = ConfigDict(frozen=True)

    label: str | None = None
    sender_name: str | None = None

    def plaintext(self) -> bytes:
        """The compact JSON that is sealed."""
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_plaintext(cls, plaintext: bytes) -> ShareOwnerPayload:
        """Read an opened ciphertext (a ValueError if it is not this payload)."""
        return cls.model_validate_json(plaintext)


class ReplyPayload(BaseModel):
    """What one reply's ciphertext holds."""

    model_config = ConfigDict(frozen=True)

    name: str | None
    body: str

    def plaintext(self) -> bytes:
        """The compact JSON that is sealed."""
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_plaintext(cls, plaintext: bytes) -> ReplyPayload:
        """Read an opened ciphertext (a ValueError if it is not a reply)."""
        return cls.model_validate_json(plaintext)


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
    label: str | None = Field(description="The owner's own name for the share (plain text)")
    sender_name: str | None = Field(description="The name the share page shows as its sender (plain text)")
    replies_allowed: bool
    language: ShareLanguage | None = Field(description=LANGUAGE_DESCRIPTION)
    reply_count: int = Field(description="Replies to this share's notes, kept")
    unread_replies: int = Field(description="Replies the owner has not marked as seen")


class ShareCreated(Share):
    """A new share, with its link (shown in this response only)."""

    url: str = Field(description="The link to give; it carries the share token")
    passcode: str = absent("Only when it was generated")


class SharesPage(ResponseModel):
    """A page of my shares, newest first."""

    shares: list[Share] = Field(max_length=SHARES_PER_PAGE)
    next: str | None = Field(description=NEXT_DESCRIPTION)


class Reply(ResponseModel):
    """A reply to a shared note, as the share's readers see it."""

    id: str
    note_id: str
    name: str | None = Field(description="Who wrote it, plain text; null when not given")
    body: str = Field(description="Sanitized HTML")
    created_at: str


class OwnerReply(Reply):
    """A reply to one of my shared notes."""

    share_id: str
    unread: bool = Field(description="Not yet marked as seen (POST /api/v1/trials/{nct}/replies/seen)")


class RepliesPage(ResponseModel):
    """A page of the replies to my notes on a trial, newest first."""

    replies: list[OwnerReply] = Field(max_length=REPLIES_PER_PAGE)
    next: str | None = Field(description=NEXT_DESCRIPTION)


class SharedNote(Note):
    """A shared note, with the replies written to it through this share."""

    replies: list[Reply] = Field(
        max_length=MAX_REPLIES_PER_NOTE,
        description=f"Oldest first; a note keeps at most {MAX_REPLIES_PER_NOTE}, so this is all of them",
    )
    replies_allowed: bool = Field(description="Whether this share takes a new reply to this note now")


class SharedNotesPage(ResponseModel):
    """A page of an opened share's readable notes."""

    notes: list[SharedNote] = Field(
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
