"""ClinicalTrials.gov API v2 study JSON -> a validated `Study` of plain values.

The parser only reads and checks the record; how a study is shown (sections, the
canonical text) is the renderer's job (render.py), so another source of trials needs
only its own parser producing a `Study`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

NCT_RE = re.compile(r"^NCT[0-9]{8}$")  # ASCII digits; match it with fullmatch ($ also matches before a final newline)
# ClinicalTrials.gov's brief titles are at most 300 characters; a longer one is no record of
# theirs. The bound keeps a title list's cursor (which holds the title) within its length.
MAX_TITLE_CHARS = 500
# What a trial's page and `GET /api/v1/trials/{nct}` show, bounded so that they stay under 4 MiB
# (the text comes twice there, as sections and whole, each character at most 12 bytes as escaped
# JSON). ClinicalTrials.gov's own limits put a record's shown fields well under a third of it.
MAX_SHOWN_CHARS = 150_000
# Every field the rendering shows, codes and dates included: a status, a phase or a date of
# megabytes was shown whole, past the bound.
_SHOWN_FIELDS = (
    "title",
    "official_title",
    "status_code",
    "phases",
    "conditions",
    "keywords",
    "interventions",
    "sex_code",
    "minimum_age",
    "maximum_age",
    "summary",
    "detailed_description",
    "criteria",
    "sponsor",
    "collaborators",
    "org_study_id",
    "data_date",
    "first_posted",
    "start_date",
    "primary_completion",
    "last_update_posted",
)
# A list item is shown with more than its text: a collaborator on a line of its own after
# "Collaborator: ", a keyword after a comma, a phase code by its name ("NA" is "Not applicable").
# That is ASCII, at most about 90 bytes of a page's markup and 32 of the API's JSON: what 8
# characters of text may take (12 bytes each as escaped JSON). So a list of empty names cannot
# fill a page unseen.
_ITEM_CHARS = 8
# What `GET /api/v1/trials/{nct}` answers as fields of their own beside the text that shows them
# too: counted twice.
_LISTED_FIELDS = ("status_code", "phases", "conditions", "sponsor", "first_posted")
SOURCE = "ClinicalTrials.gov"
# Where orjson's output may differ from the standard library's, whose output the stored
# content versions hash: a float under 1e-4 (orjson's "0.00001" and "1e-9" are the standard
# "1e-05" and "1e-09") and a NaN or an infinity (orjson writes null). Text that merely looks
# like one of these only costs the slower encoder. Literal searches: a regex alternation
# scans a 27 KB record ten times slower.
_ONE_DIGIT_EXPONENT_RE = re.compile(rb"e-\d(?!\d)")
_DIGITS = frozenset(b"0123456789")


class RecordError(ValueError):
    """A study record is malformed; `field` names the missing or invalid field."""

    def __init__(self, field_path: str, problem: str) -> None:
        super().__init__(f"{field_path}: {problem}")
        self.field = field_path
        self.problem = problem


@dataclass(frozen=True)
class Study:
    """What we read from one study record, unformatted (codes as the source gives them)."""

    nct_id: str
    title: str
    official_title: str
    status_code: str
    phases: tuple[str, ...]
    conditions: tuple[str, ...]
    keywords: tuple[str, ...]
    interventions: tuple[str, ...]
    sex_code: str
    minimum_age: str | None
    maximum_age: str | None
    summary: str
    detailed_description: str
    criteria: str
    healthy_volunteers: bool | None
    sponsor: str
    collaborators: tuple[str, ...]
    org_study_id: str | None
    data_date: str | None
    first_posted: str | None
    start_date: str | None
    primary_completion: str | None
    last_update_posted: str | None
    version: str
    record: dict[str, Any] = field(repr=False, compare=False)
    record_json: str = field(default="", repr=False, compare=False)  # canonical_json(record), as stored


def canonical_json(study: dict[str, Any]) -> str:
    """The record as compact JSON with sorted keys: what is hashed and stored.

    Exactly `json.dumps(study, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
    (the stored versions' hashes are of that text), written by orjson, about eight times
    faster, whenever its output is sure to be the same; otherwise by the standard library.
    """
    encoded = _fast_canonical(study)
    return encoded.decode("utf-8") if encoded is not None else _standard_json(study)


def _fast_canonical(study: Any) -> bytes | None:
    """The canonical JSON as UTF-8 by orjson, or None where it may differ from the standard library's."""
    try:
        encoded = orjson.dumps(study, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return None  # an integer past 64 bits, a lone surrogate, nesting past orjson's depth limit
    if b"null" in encoded or b"0.0000" in encoded:
        return None
    for match in _ONE_DIGIT_EXPONENT_RE.finditer(encoded):
        if match.start() > 0 and encoded[match.start() - 1] in _DIGITS:
            return None
    return encoded


def _standard_json(study: Any) -> str:
    return json.dumps(study, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_version(study: dict[str, Any]) -> str:
    """A stable hash of the record's content: a changed record gets a new version."""
    return _hash(canonical_json(study))


def _hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _storable(canonical: str) -> bool:
    """Cheap test on the serialized record: no lone surrogate, no NUL (JSON writes it as an escape)."""
    try:
        canonical.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\\u0000" not in canonical


class _Fields:
    """Reads dotted paths of one record, finding each parent object once (a record has ~25 fields)."""

    __slots__ = ("_data", "_parents")

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self._parents: dict[str, dict[str, Any] | None] = {"": data}

    def get(self, path: str, kind: type | tuple[type, ...], required: bool = False) -> Any:
        parent, _, key = path.rpartition(".")
        node = self._parent(parent)
        value = node.get(key) if node is not None else None
        if value is None:
            if required:
                raise RecordError(path, "is missing")
            return None
        if not isinstance(value, kind):
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise RecordError(path, f"must be {_article(expected)}")
        return value

    def _parent(self, path: str) -> dict[str, Any] | None:
        """The object at `path`, None if absent; RecordError if something else is there."""
        try:
            return self._parents[path]
        except KeyError:
            pass
        above, _, key = path.rpartition(".")
        node = self._parent(above)
        value = node.get(key) if node is not None else None
        if value is not None and not isinstance(value, dict):
            raise RecordError(path, "must be an object")
        self._parents[path] = value
        return value


def _check_text(study: dict[str, Any]) -> None:
    """Refuse text that cannot be stored: JSON's "\\ud800" escape gives a lone surrogate (not
    encodable as UTF-8), and PostgreSQL text cannot hold NUL. Iterative: depth is the input's."""
    stack: list[tuple[str, Any]] = [("(record)", study)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            problem = _text_problem(node)
            if problem:
                raise RecordError(path, problem)
        elif isinstance(node, dict):
            for key, value in node.items():
                problem = _text_problem(str(key))
                if problem:
                    # The bad key stays out of the message: it could not be printed either.
                    raise RecordError(f"{path}.(a key)", problem)
                stack.append((f"{path}.{key}" if path != "(record)" else str(key), value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(node))


def _shown_chars(study: Study) -> int:
    """The characters of a study's fields that its rendering shows (each list item counted too)."""
    total = 0
    for name in _SHOWN_FIELDS + _LISTED_FIELDS:
        value = getattr(study, name)
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, tuple):
            total += sum(len(item) + _ITEM_CHARS for item in value)
    return total


def is_stored_text(text: str, limit: int) -> bool:
    """Whether `text` could be a stored text field of at most `limit` characters (a cursor's title, say)."""
    return len(text) <= limit and _text_problem(text) is None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds text that is not valid Unicode (a lone surrogate)"
    return None


def _article(name: str) -> str:
    return {"str": "a string", "list": "a list", "dict": "an object"}.get(name, name)


def _str_list(data: _Fields, path: str) -> list[str]:
    items = data.get(path, list) or []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise RecordError(f"{path}[{index}]", "must be a string")
    return items


def _names(data: _Fields, path: str) -> tuple[str, ...]:
    """The `name` of each object in a list (collaborators, interventions)."""
    names = []
    for index, item in enumerate(data.get(path, list) or []):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise RecordError(f"{path}[{index}].name", "must be a string")
        names.append(name)
    return tuple(names)


def _stripped(items: list[str]) -> tuple[str, ...]:
    return tuple(item.strip() for item in items if item.strip())


def parse_study(study: Any, keep_record: bool = True) -> Study:
    """Validate one CT.gov v2 study; raise RecordError naming the bad field.

    `keep_record=False` leaves the parsed dict out of the `Study` (`record` is {}): a loader
    keeps only its JSON, the dict being several times that size.
    """
    if not isinstance(study, dict):
        raise RecordError("(record)", "must be a JSON object")
    encoded = _fast_canonical(study)
    if encoded is not None:  # valid UTF-8 (orjson refuses lone surrogates), hashed as it is
        canonical, version = encoded.decode("utf-8"), hashlib.sha256(encoded).hexdigest()
        storable = b"\\u0000" not in encoded
    else:
        try:
            canonical = _standard_json(study)
        except RecursionError:  # past orjson's 255 levels, the standard library's encoder recursed out
            raise RecordError("(record)", "is nested too deeply") from None
        version, storable = _hash(canonical), _storable(canonical)
    if not storable:
        _check_text(study)  # the slow walk names the field (a literal "\\u0000" text passes it)
    fields = _Fields(study)
    get = fields.get
    identification = "protocolSection.identificationModule."
    nct_id = get(identification + "nctId", str, required=True)
    if not NCT_RE.fullmatch(nct_id):
        raise RecordError(identification + "nctId", "must look like NCT01234567")
    title = get(identification + "briefTitle", str, required=True).strip()
    if not title:
        raise RecordError(identification + "briefTitle", "is empty")
    if len(title) > MAX_TITLE_CHARS:
        raise RecordError(identification + "briefTitle", f"is longer than {MAX_TITLE_CHARS} characters")
    eligibility = get("protocolSection.eligibilityModule", dict) or {}
    healthy = eligibility.get("healthyVolunteers")
    status = "protocolSection.statusModule."
    sponsors = "protocolSection.sponsorCollaboratorsModule."
    parsed = Study(
        nct_id=nct_id,
        title=title,
        official_title=get(identification + "officialTitle", str) or "",
        status_code=get(status + "overallStatus", str) or "",
        phases=tuple(_str_list(fields, "protocolSection.designModule.phases")),
        conditions=_stripped(_str_list(fields, "protocolSection.conditionsModule.conditions")),
        keywords=tuple(_str_list(fields, "protocolSection.conditionsModule.keywords")),
        interventions=_stripped(list(_names(fields, "protocolSection.armsInterventionsModule.interventions"))),
        sex_code=get("protocolSection.eligibilityModule.sex", str) or "",
        minimum_age=get("protocolSection.eligibilityModule.minimumAge", str),
        maximum_age=get("protocolSection.eligibilityModule.maximumAge", str),
        summary=get("protocolSection.descriptionModule.briefSummary", str) or "",
        detailed_description=get("protocolSection.descriptionModule.detailedDescription", str) or "",
        criteria=get("protocolSection.eligibilityModule.eligibilityCriteria", str) or "",
        healthy_volunteers=healthy if isinstance(healthy, bool) else None,
        sponsor=get(sponsors + "leadSponsor.name", str) or "",
        collaborators=_names(fields, sponsors + "collaborators"),
        org_study_id=get(identification + "orgStudyIdInfo.id", str),
        data_date=get("derivedSection.miscInfoModule.versionHolder", str),
        first_posted=get(status + "studyFirstPostDateStruct.date", str),
        start_date=get(status + "startDateStruct.date", str),
        primary_completion=get(status + "primaryCompletionDateStruct.date", str),
        last_update_posted=get(status + "lastUpdatePostDateStruct.date", str),
        version=version,
        record=study if keep_record else {},
        record_json=canonical,
    )
    if _shown_chars(parsed) > MAX_SHOWN_CHARS:
        raise RecordError("(record)", f"holds more than {MAX_SHOWN_CHARS:,} characters of text to show")
    return parsed
