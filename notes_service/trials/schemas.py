"""The trial store API's response models (the requests are query strings, described in openapi.py)."""

from __future__ import annotations

from pydantic import Field

from ..schemas import ResponseModel, absent
from .ctgov import NCT_RE


class TrialSummary(ResponseModel):
    """A trial as listed."""

    id: str = Field(pattern=NCT_RE.pattern, description="NCT number")
    title: str
    status: str
    phase: str
    conditions: list[str]
    version: str = Field(description="SHA-256 of the record (content version)")
    url: str = Field(description="The trial's page")


class Section(ResponseModel):
    """One section of a trial's rendering."""

    id: str
    heading: str
    level: int
    text: str


class TrialText(TrialSummary):
    """A trial with its sections and the canonical text notes anchor to."""

    sections: list[Section]
    text: str = Field(description="The canonical text notes anchor to.")


class Trial(TrialText):
    """One trial: its fields, sections, canonical text and content version."""

    sponsor: str
    data_date: str | None
    first_posted: str | None
    revision: int = Field(ge=1)
    current: bool = Field(description="Whether this is the trial's current version")
    updated_at: str | None
    source: str


class EmbedCheck(ResponseModel):
    """What a page embedding the widget for a trial must have right: the trial and the page's origin."""

    trial: str = Field(max_length=32, description="The NCT number asked about, as the page gave it")
    known: bool = Field(description="Whether the store holds this trial: notes can be added to it")
    title: str | None = Field(description="The trial's title when known")
    origin: str | None = Field(max_length=256, description="The calling page's origin (its Origin header), if any")
    origin_allowed: bool = Field(
        description="Whether that origin may call the API: the service's own, one listed in NOTES_ALLOWED_ORIGINS, "
        "or none (a same-origin request)"
    )


class TrialsPage(ResponseModel):
    """A page of trials, by title or ranked by a search."""

    trials: list[TrialSummary]
    next: str | None = Field(description="Cursor of the next page")
    previous: str | None = Field(description="Cursor of the previous page")
    matches: int = absent("Searches: how many matches were ranked", ge=0)
    matches_capped: bool = absent("Searches: more matched than are ranked (1,000)")


class TrialVersion(ResponseModel):
    """One stored version of a trial."""

    revision: int = Field(ge=1)
    version: str = Field(description="SHA-256 of the record (content version)")
    data_date: str | None
    loaded_at: str | None
    current: bool
    url: str


class VersionsPage(ResponseModel):
    """A page of a trial's versions, newest first."""

    versions: list[TrialVersion]
    next: str | None
