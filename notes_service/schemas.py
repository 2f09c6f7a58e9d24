"""What every area's request and response models share, and turning a failed validation into a 422.

Each area keeps its models next to its service (`notes/schemas.py`, `shares/schemas.py`,
`trials/schemas.py`): the types, limits and descriptions are written there once, the views
validate with them and the OpenAPI document is generated from them (`openapi.py`).

A validation error is reported field by field, keyed by the field's path as the client wrote
it (`target.selector[0].exact`), in our own words: pydantic's messages are never passed on,
since they may quote the rejected value (a note's text, a passcode). The words are gettext's,
in the request's language (notes_service/i18n.py); the field paths never change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from .errors import Invalid
from .i18n import gettext, ngettext, number

M = TypeVar("M", bound="RequestModel")

# The key of an error about the body as a whole (not an object, no field given), as before.
WHOLE_BODY = "(body)"


class RequestModel(BaseModel):
    """A request body: strict JSON types (no "7" for 7, no true for 1), unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    # How an error's detail names the thing ("The note is not valid.") and an unknown field.
    noun: ClassVar[str] = "request"

    @classmethod
    def parse(cls: type[M], data: Any) -> M:
        """Validate a decoded JSON body; raise Invalid naming every bad field, never echoing a value."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise Invalid(not_valid(cls.noun), errors=field_errors(error, cls.noun)) from None


class ResponseModel(BaseModel):
    """A response body: what the API returns, documented; undocumented keys are refused."""

    model_config = ConfigDict(extra="forbid")


def absent(description: str | None = None, extra: dict[str, Any] | None = None, **constraints: Any) -> Any:
    """An optional field that may be left out but not sent as null (its default, None, means "not given")."""

    def schema(field_schema: dict[str, Any]) -> None:
        field_schema.pop("default", None)
        field_schema.update(extra or {})

    return Field(default=None, description=description, json_schema_extra=schema, **constraints)


def field_path(loc: tuple[int | str, ...], tags: frozenset[str] = frozenset()) -> str:
    """`("target", "selector", 0, "exact")` as `target.selector[0].exact`; a union's tags are left out."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in tags:
            path = f"{path}.{part}" if path else part
    return path or WHOLE_BODY


# Union members are tagged with these names (see notes/schemas.py); they are no field of the body.
UNION_TAGS: set[str] = set()


def _expected(ctx: dict[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace("'", "")


# Our words for pydantic's error types. Only the type and the limits in `ctx` are used: the
# input never is. A type not listed here (none is expected) gets the neutral "is not valid".
MESSAGES: dict[str, Callable[[dict[str, Any], str], str]] = {
    "missing": lambda ctx, noun: gettext("is required"),
    "extra_forbidden": lambda ctx, noun: not_a_field(noun),
    "model_type": lambda ctx, noun: gettext("must be an object"),
    "model_attributes_type": lambda ctx, noun: gettext("must be an object"),
    "dict_type": lambda ctx, noun: gettext("must be an object"),
    "union_tag_not_found": lambda ctx, noun: gettext("must be an object"),
    "string_type": lambda ctx, noun: gettext("must be a string"),
    "int_type": lambda ctx, noun: gettext("must be a whole number"),
    "list_type": lambda ctx, noun: gettext("must be a list"),
    "bool_type": lambda ctx, noun: gettext("must be true or false"),
    "literal_error": lambda ctx, noun: gettext("must be one of %(values)s", values=_expected(ctx)),
    "string_too_short": lambda ctx, noun: ngettext(
        "must have at least %(num)s character", "must have at least %(num)s characters", ctx["min_length"]
    ),
    "string_too_long": lambda ctx, noun: ngettext(
        "must be at most %(num)s character", "must be at most %(num)s characters", ctx["max_length"]
    ),
    "too_short": lambda ctx, noun: ngettext(
        "must have at least %(num)s item", "must have at least %(num)s items", ctx["min_length"]
    ),
    "too_long": lambda ctx, noun: ngettext(
        "must have at most %(num)s item", "must have at most %(num)s items", ctx["max_length"]
    ),
    "greater_than_equal": lambda ctx, noun: gettext("must be at least %(least)s", least=number(ctx["ge"])),
    "less_than_equal": lambda ctx, noun: gettext("must be at most %(most)s", most=number(ctx["le"])),
}

# Each request model's noun, in whole sentences (a translator cannot assemble "The %s is not
# valid." in every language): the body as a whole, and a field it does not have.
NOUN_SENTENCES: dict[str, Callable[[], tuple[str, str]]] = {
    "request": lambda: (gettext("The request is not valid."), gettext("is not a field of this request")),
    "note": lambda: (gettext("The note is not valid."), gettext("is not a field of a note")),
    "share": lambda: (gettext("The share is not valid."), gettext("is not a field of a share")),
    "reply": lambda: (gettext("The reply is not valid."), gettext("is not a field of a reply")),
    "import": lambda: (gettext("The import is not valid."), gettext("is not a field of an import")),
    "grant": lambda: (gettext("The grant is not valid."), gettext("is not a field of a grant")),
    "link code": lambda: (gettext("The link code is not valid."), gettext("is not a field of a link code")),
}


def not_valid(noun: str) -> str:
    """ "The note is not valid." for a model's noun."""
    return NOUN_SENTENCES.get(noun, NOUN_SENTENCES["request"])()[0]


def not_a_field(noun: str) -> str:
    """ "is not a field of a note" for a model's noun."""
    return NOUN_SENTENCES.get(noun, NOUN_SENTENCES["request"])()[1]


def field_errors(error: ValidationError, noun: str = "request") -> dict[str, str]:
    """One message per field path (the first pydantic found for it), in our words."""
    errors: dict[str, str] = {}
    tags = frozenset(UNION_TAGS)
    for detail in error.errors(include_url=False, include_input=False):
        path = field_path(detail["loc"], tags)
        errors.setdefault(path, message_for(detail, noun))
    return errors


def message_for(detail: ErrorDetails, noun: str = "request") -> str:
    """The message for one error: a custom error's own words (ours), else the table's."""
    ctx = dict(detail.get("ctx") or {})
    if detail["type"] in MESSAGES:
        return MESSAGES[detail["type"]](ctx, noun)
    if "words" in ctx:  # a PydanticCustomError raised by one of our validators (see `refuse`)
        return str(ctx["words"])
    return gettext("is not valid")


def refuse(kind: str, words: str) -> Exception:
    """A validation error in our words, for a model's own validators (never holding the input)."""
    from pydantic_core import PydanticCustomError

    return PydanticCustomError(kind, "{words}", {"words": words})


class Problem(ResponseModel):
    """An error (RFC 9457 application/problem+json)."""

    type: str = Field(description="A URL naming the kind of problem")
    title: str
    status: int
    detail: str = Field(description="What went wrong, in words for the user; never echoes a secret")
    errors: dict[str, str] | None = absent(
        "For invalid content: a message per field, keyed by its path as sent (`target.selector[0].exact`)"
    )
