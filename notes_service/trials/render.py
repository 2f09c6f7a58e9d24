"""A `Study` -> ordered sections and the one canonical text notes anchor to.

Pure functions over plain values. The trial page's `data-notes-root` element has
exactly the canonical text as its text content, so positions agree between server
and page. Sections are rendered once, at import, and stored (`dump_sections`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple

import orjson

from .ctgov import Study

SECTION_SEPARATOR = "\n\n"

# Markdown escapes in CT.gov text (`\<`, `\>`, `\[`): undo any backslash before ASCII punctuation.
_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")
# A list item: numbered ("6. ", "b) ", "iv. "; group 1 is the marker) or bulleted (no group 1).
_ITEM_RE = re.compile(r"^(?:(\d{1,3}[.)]|[a-zA-Z][.)]|[ivxIVX]{1,4}[.)])|[*\-•+])\s+(.*)$")
_CRITERIA_HEADER_RE = re.compile(r"^(?:key\s+)?(inclusion|exclusion)\s+criteria\b[^\n]{0,60}?:?$", re.IGNORECASE)


class Block(NamedTuple):
    """One line of trial text: a paragraph, a list item or a labelled fact.

    A named tuple rather than a frozen dataclass: a record has some forty, made at every
    load, and a frozen dataclass costs ten times as much to build.
    """

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
        return "\n".join([block.text for block in self.blocks])

    @property
    def full_text(self) -> str:
        """Heading and body as they appear in the canonical text."""
        return self.heading + ("\n" + self.text if self.blocks else "")


@dataclass(frozen=True)
class Trial:
    """A rendered trial: the listed fields, its sections and their canonical text."""

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
    canonical_text: str
    revision: int = 1


def canonical_text(sections: Iterable[Section]) -> str:
    """Join sections into the one text that notes anchor to."""
    return SECTION_SEPARATOR.join(section.full_text for section in sections)


def dump_sections(sections: Iterable[Section]) -> str:
    """Sections as compact JSON, the form they are stored in (orjson: a load writes one per record)."""
    return orjson.dumps(
        [
            [s.id, s.heading, s.level, [[b.kind, b.text, b.marker, b.level, b.label] for b in s.blocks]]
            for s in sections
        ],
    ).decode("utf-8")


def load_sections(stored: str) -> tuple[Section, ...]:
    """The sections `dump_sections` wrote."""
    return tuple(
        Section(sid, heading, tuple(Block(*block) for block in blocks), level)
        for sid, heading, level, blocks in json.loads(stored)
    )


def unescape(text: str) -> str:
    """Undo CT.gov's markdown backslash escapes (`\\<` -> `<`)."""
    return _ESCAPE_RE.sub(r"\1", text)


def one_line(text: str) -> str:
    """A field shown on one line (a title, a name, a date), its white space collapsed as text blocks' is.

    A browser reads a carriage return in a page as a line feed, "\\r\\n" as one: left in, the
    page's text would no longer be the canonical text, nor a block one line.
    """
    return " ".join(text.split())


def humanize(code: str) -> str:
    """RECRUITING -> Recruiting, NOT_YET_RECRUITING -> Not yet recruiting."""
    words = one_line(code.replace("_", " ")).lower()
    return words[:1].upper() + words[1:]


def format_phase(phases: Iterable[str] | None) -> str:
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
        return (one_line(value), "")
    return (match.group(1), match.group(2).lower())


@lru_cache(maxsize=4096)  # records share their dates; a load formats four per record
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
    item = _ITEM_RE.match
    for raw_line in (unescape(text) if "\\" in text else text).splitlines():
        words = raw_line.split()
        if not words:
            continue
        line = " ".join(words)
        found = item(line)
        if found is None:
            blocks.append(Block("p", line))
            continue
        level = min((len(raw_line) - len(raw_line.lstrip(" \t"))) // 2, 3)
        marker = found.group(1)
        if marker is None:
            blocks.append(Block("item", found.group(2), "", level))
        else:
            blocks.append(Block("item", f"{marker} {found.group(2)}", marker + " ", level))
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


def _facts(status: str, ages: str, sex: str, phase: str) -> tuple[Block, ...]:
    pairs = [("Status", status), ("Ages", ages), ("Sex", sex), ("Phase", phase)]
    return tuple(Block("fact", f"{label}: {value}", label=f"{label}: ") for label, value in pairs if value)


def _eligibility(study: Study) -> list[Section]:
    sections = split_criteria(study.criteria)
    if study.healthy_volunteers is not None:
        head = sections[0]
        volunteer = Block(
            "fact",
            f"Accepts healthy volunteers: {'Yes' if study.healthy_volunteers else 'No'}",
            label="Accepts healthy volunteers: ",
        )
        sections[0] = Section(head.id, head.heading, (volunteer, *head.blocks), head.level)
    return sections


def _identifier_blocks(study: Study) -> tuple[Block, ...]:
    facts = [("NCT number", study.nct_id)]
    org_study_id = one_line(study.org_study_id or "")
    if org_study_id:
        facts.append(("Sponsor's study ID", org_study_id))
    for label, raw in (
        ("First posted", study.first_posted),
        ("Study start", study.start_date),
        ("Primary completion", study.primary_completion),
        ("Last update posted", study.last_update_posted),
    ):
        value = one_line(format_date(raw) or "")
        if value:
            facts.append((label, value))
    return tuple(Block("fact", f"{label}: {value}", label=f"{label}: ") for label, value in facts)


def render_sections_of(study: Study) -> tuple[Section, ...]:
    """The study's sections, in page order; only what the record holds."""
    official = study.official_title.strip()
    title = one_line(study.title)
    title_blocks = (Block("p", one_line(official)),) if official and official != study.title else ()
    sex = humanize(study.sex_code) if study.sex_code else ""
    ages = format_ages(study.minimum_age, study.maximum_age)
    sections = [
        Section("title", title, title_blocks, level=1),
        Section("facts", "Key facts", _facts(status_of(study), ages, sex, format_phase(study.phases))),
    ]
    if study.summary.strip():
        sections.append(Section("overview", "Overview", tuple(parse_text_blocks(study.summary))))
    if study.detailed_description.strip():
        sections.append(
            Section("description", "Detailed description", tuple(parse_text_blocks(study.detailed_description)))
        )
    if study.criteria.strip() or study.healthy_volunteers is not None:
        sections.extend(_eligibility(study))
    details = [Block("item", condition) for condition in conditions_of(study)]
    if study.keywords:
        details.append(Block("fact", "Keywords: " + ", ".join(map(one_line, study.keywords)), label="Keywords: "))
    if details:
        sections.append(Section("conditions", "Study details", tuple(details)))
    sponsor = one_line(study.sponsor)
    sponsor_blocks = [Block("p", sponsor)] if sponsor else []
    sponsor_blocks.extend(
        Block("fact", f"Collaborator: {one_line(name)}", label="Collaborator: ") for name in study.collaborators
    )
    if sponsor_blocks:
        sections.append(Section("sponsor", "Sponsor", tuple(sponsor_blocks)))
    sections.append(Section("identifiers", "Identifiers and dates", _identifier_blocks(study)))
    return tuple(sections)


def conditions_of(study: Study) -> tuple[str, ...]:
    """The study's conditions as shown, one line each (the listing keeps them a line apiece)."""
    return tuple(one_line(condition) for condition in study.conditions)


def status_of(study: Study) -> str:
    """The study's status as shown: "Recruiting"."""
    return humanize(study.status_code) if study.status_code else ""


def render_trial(study: Study, revision: int = 1) -> Trial:
    """Render a validated study: its listed fields, sections and canonical text."""
    sections = render_sections_of(study)
    return Trial(
        nct_id=study.nct_id,
        title=one_line(study.title),
        status=status_of(study),
        phase=format_phase(study.phases),
        conditions=conditions_of(study),
        sponsor=one_line(study.sponsor),
        data_date=study.data_date,
        first_posted=study.first_posted,
        sections=sections,
        version=study.version,
        canonical_text=canonical_text(sections),
        revision=revision,
    )
