"""The notes API's models: what a note request may hold, what is sealed, what is returned.

Each limit, the palette and each enum is written here once: the views validate with these
models, the service takes them, and the OpenAPI document is generated from them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, Tag, field_validator, model_validator
from pydantic_core.core_schema import ValidationInfo

from ..i18n import gettext
from ..paging import MAX_LIMIT
from ..schemas import UNION_TAGS, RequestModel, ResponseModel, absent, refuse
from .anchoring import MAX_CONTEXT, MAX_EXACT, Quote, fold_whitespace

# Small named palette; each colour is always shown with its label, never colour alone.
Color = Literal["yellow", "green", "blue", "pink", "purple"]
PALETTE: dict[str, str] = {color: color.capitalize() for color in get_args(Color)}
DEFAULT_COLOR: Color = "yellow"
MAX_BODY_CHARS = 10_000
# changed: re-anchored on a newer version of the trial whose passage is not the same text; the
# note keeps the old wording (NoteChange) until its owner accepts the new one.
AnchorState = Literal["anchored", "orphaned", "changed"]
_ANCHOR_STATES: tuple[AnchorState, ...] = get_args(AnchorState)  # get_args is typed as returning Any
ANCHORED, ORPHANED, CHANGED = _ANCHOR_STATES
# A passage found again may be longer than the quote (text inserted into it): past the bound a
# new note's passage has, it is taken as gone (re-anchoring it again later must read it back).
MAX_CHANGED_PASSAGE = MAX_EXACT

QUOTE_SELECTOR = "TextQuoteSelector"
POSITION_SELECTOR = "TextPositionSelector"
OTHER_SELECTOR = "(another selector)"
UNION_TAGS.update({QUOTE_SELECTOR, POSITION_SELECTOR, OTHER_SELECTOR})


class _Selector(RequestModel):
    # Selectors may carry more than we read (W3C's refinedBy, a client's own keys): ignored.
    model_config = ConfigDict(extra="ignore")


class TextQuoteSelector(_Selector):
    """The highlighted text with some text before and after it (W3C Web Annotation)."""

    type: Literal["TextQuoteSelector"]
    exact: str = Field(
        min_length=1,
        max_length=MAX_EXACT,
        description="The highlighted text; it must occur in the trial's canonical text "
        "(white space folded) and hold more than white space",
    )
    prefix: str | None = Field(default="", max_length=MAX_CONTEXT, description="Text just before it")
    suffix: str | None = Field(default="", max_length=MAX_CONTEXT, description="Text just after it")

    @field_validator("exact")
    @classmethod
    def _has_text(cls, exact: str) -> str:
        if not fold_whitespace(exact):
            raise refuse("blank", gettext("must contain text"))
        return exact


# A position is a hint for placing the quote (scoring.score divides its distance by the text's
# length, as a float): a number past what any text reaches is refused as the request is read, not
# left to overflow there (10**400 did: a 500). A trial shows at most 150,000 characters of text
# (ctgov.MAX_SHOWN_CHARS) and a browser's string under 2**30 UTF-16 units, so no page the widget
# measures comes near 2**31 - 1 (a PostgreSQL integer and the bound of a cursor's number too).
MAX_POSITION = 2**31 - 1


class TextPositionSelector(_Selector):
    """Where the text is, in code points of the trial's canonical text, end exclusive."""

    type: Literal["TextPositionSelector"]
    start: int = Field(ge=0, le=MAX_POSITION)
    end: int = Field(ge=0, le=MAX_POSITION, description="Not less than start")

    @field_validator("end")
    @classmethod
    def _not_before_start(cls, end: int, info: ValidationInfo) -> int:
        start = info.data.get("start")
        if start is not None and end < start:
            raise refuse("end_before_start", gettext("must not be less than start"))
        return end


def _other_selector_schema(schema: dict[str, Any]) -> None:
    schema["properties"] = {"type": {"not": {"enum": [QUOTE_SELECTOR, POSITION_SELECTOR]}}}


class OtherSelector(_Selector):
    """A selector of another type (or none): allowed by the W3C model, and ignored."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_other_selector_schema)


def _selector_kind(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(value, dict | BaseModel):
        return None  # not an object: "must be an object"
    return kind if kind in (QUOTE_SELECTOR, POSITION_SELECTOR) else OTHER_SELECTOR


Selector = Annotated[
    Annotated[TextQuoteSelector, Tag(QUOTE_SELECTOR)]
    | Annotated[TextPositionSelector, Tag(POSITION_SELECTOR)]
    | Annotated[OtherSelector, Tag(OTHER_SELECTOR)],
    Discriminator(_selector_kind),
]


def _selector_list_schema(schema: dict[str, Any]) -> None:
    schema["contains"] = {"type": "object", "required": ["type"], "properties": {"type": {"const": QUOTE_SELECTOR}}}


class Target(_Selector):
    """What a note highlights: a list of W3C selectors for one passage."""

    source: str | None = absent("The trial (ignored in requests: the path names it)")
    selector: list[Selector] = Field(
        json_schema_extra=_selector_list_schema,
        description="A TextQuoteSelector is required; a TextPositionSelector is a hint; the first of "
        "each type is used and other types are ignored",
    )

    @field_validator("selector")
    @classmethod
    def _has_quote(cls, selectors: list[Any]) -> list[Any]:
        if not any(isinstance(s, TextQuoteSelector) for s in selectors):
            raise refuse("quote_required", gettext("a TextQuoteSelector is required"))
        return selectors

    @property
    def quote(self) -> Quote:
        """The first quote selector, with the first position selector as its hint."""
        exact = next(s for s in self.selector if isinstance(s, TextQuoteSelector))
        position = next((s for s in self.selector if isinstance(s, TextPositionSelector)), None)
        return Quote(
            exact=exact.exact,
            prefix=exact.prefix or "",
            suffix=exact.suffix or "",
            start=position.start if position else None,
            end=position.end if position else None,
        )


BODY_DESCRIPTION = f"HTML kept by a small policy (the rest escaped), at most {MAX_BODY_CHARS} characters as stored"


class NoteInput(RequestModel):
    """A new note: the passage it highlights, its body and its colour."""

    noun: ClassVar[str] = "note"

    target: Target
    body: str = Field(default="", max_length=MAX_BODY_CHARS, description=BODY_DESCRIPTION)
    color: Color = Field(default=DEFAULT_COLOR, description="A colour of the palette")
    idempotency_key: str = absent(
        "A key the client chose for this save (32 lowercase hex digits, random like a UUID4's): a save "
        "sent again after its answer was lost sends the same key, and the note it stored in my notebook "
        "is answered as stored (200, nothing changed) instead of a second note. The note's id is "
        "derived from my notebook and the key, so the same key in another notebook is another note",
        pattern=r"^[0-9a-f]{32}$",
    )

    @property
    def quote(self) -> Quote:
        """The passage to anchor."""
        return self.target.quote


def _at_least_one(schema: dict[str, Any]) -> None:
    schema["minProperties"] = 1


class NotePatch(RequestModel):
    """A change to a note: any of its target, body and colour, or accepting a changed passage (null is not a value)."""

    model_config = ConfigDict(json_schema_extra=_at_least_one)
    noun: ClassVar[str] = "note"

    target: Target = absent()
    body: str = absent(BODY_DESCRIPTION, max_length=MAX_BODY_CHARS)
    color: Color = absent("A colour of the palette")
    anchor: Literal["accept"] = absent(
        'On a note whose passage changed (anchor "changed"): keep it on the new text ("Keep on the new '
        'text"), so it is anchored again, or orphaned when the passage is gone; the old wording is '
        "forgotten. Nothing to accept leaves the note as it is"
    )

    @model_validator(mode="after")
    def _not_empty(self) -> NotePatch:
        if self.target is None and self.body is None and self.color is None and self.anchor is None:
            raise refuse("empty", gettext("give at least one of %(fields)s", fields=", ".join(type(self).model_fields)))
        return self

    @property
    def quote(self) -> Quote | None:
        """The passage to anchor, when the target changes."""
        return self.target.quote if self.target is not None else None


class NoteChange(BaseModel):
    """How a note's passage changed in a newer version of the trial (sealed with the note, and shown to its readers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    before: str = Field(
        max_length=MAX_CHANGED_PASSAGE, description="The passage as the note's owner highlighted (or last accepted) it"
    )
    after: str | None = Field(
        max_length=MAX_CHANGED_PASSAGE, description="The passage in the trial's current text; null when it is gone"
    )
    since: str | None = Field(description="The data date of the trial version it changed in (YYYY-MM-DD), if known")


# The rules of a body sealed before the payload said which (see NotePayload.body_rules).
FIRST_BODY_RULES = 1


class NotePayload(BaseModel):
    """What one note's ciphertext holds: the one place its shape is written."""

    model_config = ConfigDict(frozen=True)

    selector: list[dict[str, Any]]
    body: str
    color: str
    anchor: AnchorState
    # Only with anchor "changed": the old wording lives here, inside the ciphertext, and nowhere else.
    change: NoteChange | None = None
    # The sanitizer's rules `body` was cleaned by (sanitize.BODY_RULES); 1 for a note sealed before
    # the number was written, whose body is cleaned again when read if it holds a list item.
    body_rules: int = FIRST_BODY_RULES

    def plaintext(self) -> bytes:
        """The compact JSON that is sealed (without `change` when there is none, as before it existed)."""
        return self.model_dump_json(exclude={"change"} if self.change is None else None).encode("utf-8")

    @classmethod
    def from_plaintext(cls, plaintext: bytes) -> NotePayload:
        """Read an opened ciphertext (a ValueError if it is not a payload)."""
        return cls.model_validate_json(plaintext)

    @staticmethod
    def opened_fields(plaintext: bytes) -> dict[str, Any]:
        """An opened ciphertext's fields, defaults filled and `change` a NoteChange (a ValueError if not a payload).

        Not validated again: AES-GCM opened it with a note key only this service derives and
        associated data binding it to its row, so it is what `plaintext` wrote from a validated
        model (or, before this model, the same four fields). Validating it again was a fifth of
        opening a note (25,800 instructions by callgrind; a read opens 20); orjson alone reads it.
        `from_plaintext` stays the reader of a payload that did not come out of our own seal.
        """
        fields = orjson.loads(plaintext)
        if not isinstance(fields, dict) or not fields.keys() >= _SEALED_FIELDS:
            raise ValueError("not a note payload")
        fields.setdefault("body_rules", FIRST_BODY_RULES)
        # The fields' kinds, cheaply: a payload of another shape (a bug, an old writer) makes an
        # unreadable note, never a failed page.
        if not (
            isinstance(fields["body"], str)
            and isinstance(fields["color"], str)
            and isinstance(fields["selector"], list)
            and all(isinstance(selector, dict) for selector in fields["selector"])
            and fields["anchor"] in _ANCHOR_STATES
            and type(fields["body_rules"]) is int
        ):
            raise ValueError("not a note payload")
        change = fields.get("change")
        fields["change"] = NoteChange.model_validate(change) if change is not None else None
        return fields


# The fields every sealed payload has held (`change` and `body_rules` came later, with defaults).
_SEALED_FIELDS = frozenset(("selector", "body", "color", "anchor"))


# -- Responses ---------------------------------------------------------------------


class Note(ResponseModel):
    """A note; one that cannot be decrypted has `readable` false and no content."""

    id: str
    trial_id: str
    readable: bool = Field(description="false when the note cannot be decrypted")
    target: Target | None
    body: str | None = Field(description="Sanitized HTML")
    color: Color | None
    color_label: str | None = Field(description="The colour's name, to show with it (never colour alone)")
    anchor: AnchorState | None = Field(
        description="orphaned: the passage is no longer in the trial's text; changed: the trial's text of the "
        "passage changed since it was highlighted (see change)"
    )
    change: NoteChange | None = Field(
        description='With anchor "changed": the passage before and after, until the owner accepts the new text'
    )
    created_at: str
    updated_at: str


NEXT_DESCRIPTION = "Cursor of the next page; null on the last page."


class NotesPage(ResponseModel):
    """A page of my notes on a trial."""

    notes: list[Note] = Field(max_length=MAX_LIMIT)
    next: str | None = Field(description=NEXT_DESCRIPTION)


class AllNotesPage(ResponseModel):
    """A page of every note of my notebook, by trial (NCT number) then age."""

    notes: list[Note] = Field(max_length=MAX_LIMIT)
    next: str | None = Field(description=NEXT_DESCRIPTION)


class NotebookTrial(ResponseModel):
    """A trial that holds notes of mine."""

    id: str = Field(description="The trial's NCT number")
    title: str = Field(description="The trial's title (public data)")
    note_count: int = Field(ge=1, description="How many of my notes it holds")
    last_edited: str = Field(description="When one of those notes was last written (not re-anchored)")


class NotebookTrialsPage(ResponseModel):
    """A page of the trials holding my notes, the last edited first."""

    trials: list[NotebookTrial] = Field(max_length=MAX_LIMIT)
    next: str | None = Field(description=NEXT_DESCRIPTION)


class NotebookCreated(ResponseModel):
    """A new notebook."""

    model_config = ConfigDict(title="Notebook")

    notebook_id: str
    token: str = Field(description="Shown this once")


class _Export(ResponseModel):
    model_config = ConfigDict(populate_by_name=True)


class AnnotationCollectionHead(_Export):
    """The export's collection (W3C Web Annotation paging)."""

    type: Literal["AnnotationCollection"]
    id: str = absent()
    label: str = absent()
    total: int = Field(ge=0, description="Notes in the notebook")


class AnnotationPage(_Export):
    """A page of the export."""

    type: Literal["AnnotationPage"]
    startIndex: int = Field(ge=0)
    items: list[dict[str, Any]] = Field(max_length=MAX_LIMIT)
    unreadable: int = Field(ge=0, description="Notes of this page left out: they cannot be decrypted")
    next: str = absent("The next page; absent on the last.", {"format": "uri"})


class AnnotationCollection(AnnotationCollectionHead):
    """The export's first answer: the collection with its first page."""

    context: Any = Field(alias="@context")
    first: AnnotationPage


class AnnotationPageInCollection(AnnotationPage):
    """A further page of the export, naming its collection."""

    context: Any = Field(alias="@context")
    partOf: AnnotationCollectionHead


class AnnotationExport(RootModel[AnnotationCollection | AnnotationPageInCollection]):
    """An answer of the export: the collection with its first page, or a further page."""
