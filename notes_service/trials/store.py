"""Trial records: validate ClinicalTrials.gov API v2 study JSON and render it.

Pure functions over plain values. A study renders to ordered sections and one
canonical text; notes anchor to that text, and the trial page's `data-notes-root`
element has exactly that text content, so positions agree between server and page.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

NCT_RE = re.compile(r"^NCT\d{8}$")
SECTION_SEPARATOR = "\n\n"

# Markdown escapes in CT.gov text (`\<`, `\>`, `\[`): undo any backslash before ASCII punctuation.
_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")
_NUMBERED_RE = re.compile(r"^(\d{1,3}[.)]|[a-zA-Z][.)]|[ivxIVX]{1,4}[.)])\s+(.*)$")
_BULLET_RE = re.compile(r"^[*\-•+]\s+(.*)$")
_CRITERIA_HEADER_RE = re.compile(
    r"^(?:key\s+)?(inclusion|exclusion)\s+criteria\b[^\n]{0,60}?:?$", re.IGNORECASE
)


class RecordError(ValueError):
    """A study record is malformed; `field` names the missing or invalid field."""

    def __init__(self, field_path: str, problem: str) -> None:
        super().__init__(f"{field_path}: {problem}")
        self.field = field_path
        self.problem = problem


@dataclass(frozen=True)
class Block:
    """One line of trial text: a paragraph, a list item or a labelled fact."""

    kind: str  # "p", "item" or "fact"
    text: str  # the full text as it appears in the canonical text
    marker: str = ""  # "6. " for numbered items; part of `text`
    level: int = 0  # nesting depth of list items
    label: str = ""  # "Status: " for facts; part of `text`


@dataclass(frozen=True)
class Section:
    """A titled part of a trial page."""

    id: str
    heading: str
    blocks: tuple[Block, ...]
    level: int = 2

    @property
    def text(self) -> str:
        """The section's body text, one line per block."""
        return "\n".join(block.text for block in self.blocks)

    @property
    def full_text(self) -> str:
        """Heading and body as they appear in the canonical text."""
        return self.heading + ("\n" + self.text if self.blocks else "")


@dataclass(frozen=True)
class Trial:
    """A validated, rendered trial."""

    nct_id: str
    title: str
    status: str
    phase: str
    conditions: tuple[str, ...]
    sponsor: str
    data_date: str | None
    first_posted: str | None
    sections: tuple[Section, ...]
    version: str
    record: dict[str, Any] = field(repr=False, compare=False)

    @property
    def canonical_text(self) -> str:
        """The text notes anchor to: every section, in order."""
        return canonical_text(self.sections)


def canonical_text(sections: Iterable[Section]) -> str:
    """Join sections into the one text that notes anchor to."""
    return SECTION_SEPARATOR.join(section.full_text for section in sections)


def content_version(study: dict[str, Any]) -> str:
    """A stable hash of the record's content: a changed record gets a new version."""
    canonical = json.dumps(study, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def unescape(text: str) -> str:
    """Undo CT.gov's markdown backslash escapes (`\\<` -> `<`)."""
    return _ESCAPE_RE.sub(r"\1", text)


def humanize(code: str) -> str:
    """RECRUITING -> Recruiting, NOT_YET_RECRUITING -> Not yet recruiting."""
    words = code.replace("_", " ").strip().lower()
    return words[:1].upper() + words[1:]


def format_phase(phases: list[str] | None) -> str:
    """["PHASE1", "PHASE2"] -> "Phase 1/Phase 2"; NA -> "Not applicable"."""
    names = []
    for phase in phases or []:
        if phase == "NA":
            names.append("Not applicable")
            continue
        match = re.fullmatch(r"(EARLY_)?PHASE(\d)", phase)
        if match is None:
            names.append(humanize(phase))
            continue
        names.append(("Early Phase " if match.group(1) else "Phase ") + match.group(2))
    return "/".join(names)


def format_ages(minimum: str | None, maximum: str | None) -> str:
    """("18 Years", "69 Years") -> "18-69 years"; one bound -> "18 years and older"."""
    low = _age(minimum)
    high = _age(maximum)
    if low and high:
        if low[1] == high[1]:
            return f"{low[0]}-{high[0]} {high[1]}"
        return f"{low[0]} {low[1]} to {high[0]} {high[1]}"
    if low:
        return f"{low[0]} {low[1]} and older"
    if high:
        return f"Up to {high[0]} {high[1]}"
    return ""


def _age(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    match = re.fullmatch(r"\s*(\d+)\s+([A-Za-z]+)\s*", value)
    if match is None:
        return (value.strip(), "")
    return (match.group(1), match.group(2).lower())


def format_date(value: str | None) -> str | None:
    """2025-08-07 -> 7 August 2025; 2025-08 -> August 2025; other text unchanged."""
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return f"{day.day} {day:%B %Y}"
        if re.fullmatch(r"\d{4}-\d{2}", value):
            return f"{date.fromisoformat(value + '-01'):%B %Y}"
    except ValueError:
        return value
    return value


def parse_text_blocks(text: str) -> list[Block]:
    """Split CT.gov markdown-ish text into paragraphs and list items, one per line."""
    blocks = []
    for raw_line in unescape(text).splitlines():
        if not raw_line.strip():
            continue
        indent = len(raw_line) - len(raw_line.lstrip(" \t"))
        line = " ".join(raw_line.split())
        level = min(indent // 2, 3)
        numbered = _NUMBERED_RE.match(line)
        if numbered:
            marker = numbered.group(1) + " "
            blocks.append(Block("item", marker + numbered.group(2), marker=marker, level=level))
            continue
        bullet = _BULLET_RE.match(line)
        if bullet:
            blocks.append(Block("item", bullet.group(1), level=level))
            continue
        blocks.append(Block("p", line))
    return blocks


def split_criteria(text: str) -> list[Section]:
    """Eligibility text -> "Eligibility" plus one section per criteria header, in order."""
    groups: list[tuple[str, str, list[Block]]] = [("eligibility", "Eligibility", [])]
    counts: dict[str, int] = {}
    for block in parse_text_blocks(text):
        header = _CRITERIA_HEADER_RE.match(block.text) if block.kind == "p" else None
        if header is None:
            groups[-1][2].append(block)
            continue
        kind = header.group(1).lower()
        counts[kind] = counts.get(kind, 0) + 1
        section_id = kind if counts[kind] == 1 else f"{kind}-{counts[kind]}"
        groups.append((section_id, block.text.rstrip(":").strip(), []))
    sections = [Section(groups[0][0], groups[0][1], tuple(groups[0][2]), level=2)]
    if len(groups) == 1 and groups[0][2]:
        # No headers at all: the whole text is the criteria, under one plain heading.
        sections = [
            Section("eligibility", "Eligibility", (), level=2),
            Section("criteria", "Eligibility criteria", tuple(groups[0][2]), level=3),
        ]
    sections.extend(Section(sid, heading, tuple(blocks), level=3) for sid, heading, blocks in groups[1:])
    return sections


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


def _facts(status: str, ages: str, sex: str, phase: str) -> tuple[Block, ...]:
    pairs = [("Status", status), ("Ages", ages), ("Sex", sex), ("Phase", phase)]
    return tuple(
        Block("fact", f"{label}: {value}", label=f"{label}: ") for label, value in pairs if value
    )


def parse_study(study: Any) -> Trial:
    """Validate one CT.gov v2 study and render it; raise RecordError naming the bad field."""
    if not isinstance(study, dict):
        raise RecordError("(record)", "must be a JSON object")
    _check_text(study)
    nct_id = _get(study, "protocolSection.identificationModule.nctId", str, required=True)
    if not NCT_RE.match(nct_id):
        raise RecordError("protocolSection.identificationModule.nctId", "must look like NCT01234567")
    title = _get(study, "protocolSection.identificationModule.briefTitle", str, required=True).strip()
    if not title:
        raise RecordError("protocolSection.identificationModule.briefTitle", "is empty")
    official = _get(study, "protocolSection.identificationModule.officialTitle", str) or ""
    status_code = _get(study, "protocolSection.statusModule.overallStatus", str) or ""
    phases = _str_list(study, "protocolSection.designModule.phases")
    conditions = _str_list(study, "protocolSection.conditionsModule.conditions")
    keywords = _str_list(study, "protocolSection.conditionsModule.keywords")
    eligibility = _get(study, "protocolSection.eligibilityModule", dict) or {}
    sex_code = _get(study, "protocolSection.eligibilityModule.sex", str) or ""
    ages = format_ages(
        _get(study, "protocolSection.eligibilityModule.minimumAge", str),
        _get(study, "protocolSection.eligibilityModule.maximumAge", str),
    )
    summary = _get(study, "protocolSection.descriptionModule.briefSummary", str) or ""
    detailed = _get(study, "protocolSection.descriptionModule.detailedDescription", str) or ""
    criteria = _get(study, "protocolSection.eligibilityModule.eligibilityCriteria", str) or ""
    healthy = eligibility.get("healthyVolunteers")
    sponsor = _get(study, "protocolSection.sponsorCollaboratorsModule.leadSponsor.name", str) or ""
    collaborators = _get(study, "protocolSection.sponsorCollaboratorsModule.collaborators", list) or []
    data_date = _get(study, "derivedSection.miscInfoModule.versionHolder", str)
    first_posted = _get(study, "protocolSection.statusModule.studyFirstPostDateStruct.date", str)

    status = humanize(status_code) if status_code else ""
    phase = format_phase(phases)
    sections = [
        Section(
            "title",
            title,
            (Block("p", " ".join(official.split())),) if official.strip() and official.strip() != title else (),
            level=1,
        ),
        Section("facts", "Key facts", _facts(status, ages, humanize(sex_code) if sex_code else "", phase)),
    ]
    if summary.strip():
        sections.append(Section("overview", "Overview", tuple(parse_text_blocks(summary))))
    if detailed.strip():
        sections.append(Section("description", "Detailed description", tuple(parse_text_blocks(detailed))))
    if criteria.strip() or isinstance(healthy, bool):
        eligibility_sections = split_criteria(criteria)
        if isinstance(healthy, bool):
            head = eligibility_sections[0]
            volunteer = Block("fact", f"Accepts healthy volunteers: {'Yes' if healthy else 'No'}",
                              label="Accepts healthy volunteers: ")
            eligibility_sections[0] = Section(head.id, head.heading, (volunteer, *head.blocks), head.level)
        sections.extend(eligibility_sections)
    study_details = [Block("item", condition.strip()) for condition in conditions if condition.strip()]
    if keywords:
        study_details.append(Block("fact", "Keywords: " + ", ".join(keywords), label="Keywords: "))
    if study_details:
        sections.append(Section("conditions", "Study details", tuple(study_details)))
    sponsor_blocks = [Block("p", sponsor)] if sponsor else []
    for index, collaborator in enumerate(collaborators):
        name = collaborator.get("name") if isinstance(collaborator, dict) else None
        if not isinstance(name, str):
            raise RecordError(
                f"protocolSection.sponsorCollaboratorsModule.collaborators[{index}].name", "must be a string"
            )
        sponsor_blocks.append(Block("fact", f"Collaborator: {name}", label="Collaborator: "))
    if sponsor_blocks:
        sections.append(Section("sponsor", "Sponsor", tuple(sponsor_blocks)))
    sections.append(Section("identifiers", "Identifiers and dates", _identifier_blocks(study, nct_id)))
    return Trial(
        nct_id=nct_id,
        title=title,
        status=status,
        phase=phase,
        conditions=tuple(c.strip() for c in conditions if c.strip()),
        sponsor=sponsor,
        data_date=data_date,
        first_posted=first_posted,
        sections=tuple(sections),
        version=content_version(study),
        record=study,
    )


def _identifier_blocks(study: dict[str, Any], nct_id: str) -> tuple[Block, ...]:
    facts = [("NCT number", nct_id)]
    org_id = _get(study, "protocolSection.identificationModule.orgStudyIdInfo.id", str)
    if org_id:
        facts.append(("Sponsor's study ID", org_id))
    for label, path in (
        ("First posted", "protocolSection.statusModule.studyFirstPostDateStruct.date"),
        ("Study start", "protocolSection.statusModule.startDateStruct.date"),
        ("Primary completion", "protocolSection.statusModule.primaryCompletionDateStruct.date"),
        ("Last update posted", "protocolSection.statusModule.lastUpdatePostDateStruct.date"),
    ):
        value = format_date(_get(study, path, str))
        if value:
            facts.append((label, value))
    return tuple(Block("fact", f"{label}: {value}", label=f"{label}: ") for label, value in facts)


def iter_studies(payload: Any) -> Iterator[tuple[int | None, Any]]:
    """One study file, or a bulk download (`{"studies": [...]}` or a JSON array)."""
    if isinstance(payload, list):
        yield from enumerate(payload)
        return
    if isinstance(payload, dict) and isinstance(payload.get("studies"), list):
        yield from enumerate(payload["studies"])
        return
    yield None, payload


def find_record_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their *.json files, sorted; keep files as given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        else:
            files.append(path)
    return files


def shipped_data_dir() -> Path:
    """The folder of real CT.gov records shipped inside the package."""
    return Path(__file__).parent / "data"
