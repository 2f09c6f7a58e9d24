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

NCT_RE = re.compile(r"^NCT\d{8}$")
SOURCE = "ClinicalTrials.gov"


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
    """The record as compact JSON with sorted keys: what is hashed and stored."""
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


def _get(data: dict[str, Any], path: str, kind: type | tuple[type, ...], required: bool = False) -> Any:
    node: Any = data
    walked = []
    for key in path.split("."):
        walked.append(key)
        if not isinstance(node, dict):
            raise RecordError(".".join(walked[:-1]), "must be an object")
        node = node.get(key)
        if node is None:
            if required:
                raise RecordError(path, "is missing")
            return None
    if not isinstance(node, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RecordError(path, f"must be {_article(expected)}")
    return node


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


def _str_list(data: dict[str, Any], path: str) -> list[str]:
    items = _get(data, path, list) or []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise RecordError(f"{path}[{index}]", "must be a string")
    return items


def _names(data: dict[str, Any], path: str) -> tuple[str, ...]:
    """The `name` of each object in a list (collaborators, interventions)."""
    names = []
    for index, item in enumerate(_get(data, path, list) or []):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise RecordError(f"{path}[{index}].name", "must be a string")
        names.append(name)
    return tuple(names)


def _stripped(items: list[str]) -> tuple[str, ...]:
    return tuple(item.strip() for item in items if item.strip())


def parse_study(study: Any) -> Study:
    """Validate one CT.gov v2 study; raise RecordError naming the bad field."""
    if not isinstance(study, dict):
        raise RecordError("(record)", "must be a JSON object")
    canonical = canonical_json(study)
    if not _storable(canonical):
        _check_text(study)  # the slow walk names the field (a literal "\\u0000" text passes it)
    nct_id = _get(study, "protocolSection.identificationModule.nctId", str, required=True)
    if not NCT_RE.match(nct_id):
        raise RecordError("protocolSection.identificationModule.nctId", "must look like NCT01234567")
    title = _get(study, "protocolSection.identificationModule.briefTitle", str, required=True).strip()
    if not title:
        raise RecordError("protocolSection.identificationModule.briefTitle", "is empty")
    eligibility = _get(study, "protocolSection.eligibilityModule", dict) or {}
    healthy = eligibility.get("healthyVolunteers")
    status = "protocolSection.statusModule."
    return Study(
        nct_id=nct_id,
        title=title,
        official_title=_get(study, "protocolSection.identificationModule.officialTitle", str) or "",
        status_code=_get(study, status + "overallStatus", str) or "",
        phases=tuple(_str_list(study, "protocolSection.designModule.phases")),
        conditions=_stripped(_str_list(study, "protocolSection.conditionsModule.conditions")),
        keywords=tuple(_str_list(study, "protocolSection.conditionsModule.keywords")),
        interventions=_stripped(list(_names(study, "protocolSection.armsInterventionsModule.interventions"))),
        sex_code=_get(study, "protocolSection.eligibilityModule.sex", str) or "",
        minimum_age=_get(study, "protocolSection.eligibilityModule.minimumAge", str),
        maximum_age=_get(study, "protocolSection.eligibilityModule.maximumAge", str),
        summary=_get(study, "protocolSection.descriptionModule.briefSummary", str) or "",
        detailed_description=_get(study, "protocolSection.descriptionModule.detailedDescription", str) or "",
        criteria=_get(study, "protocolSection.eligibilityModule.eligibilityCriteria", str) or "",
        healthy_volunteers=healthy if isinstance(healthy, bool) else None,
        sponsor=_get(study, "protocolSection.sponsorCollaboratorsModule.leadSponsor.name", str) or "",
        collaborators=_names(study, "protocolSection.sponsorCollaboratorsModule.collaborators"),
        org_study_id=_get(study, "protocolSection.identificationModule.orgStudyIdInfo.id", str),
        data_date=_get(study, "derivedSection.miscInfoModule.versionHolder", str),
        first_posted=_get(study, status + "studyFirstPostDateStruct.date", str),
        start_date=_get(study, status + "startDateStruct.date", str),
        primary_completion=_get(study, status + "primaryCompletionDateStruct.date", str),
        last_update_posted=_get(study, status + "lastUpdatePostDateStruct.date", str),
        version=_hash(canonical),
        record=study,
        record_json=canonical,
    )
