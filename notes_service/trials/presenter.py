"""Trials as JSON (the API's summary and text), and trial sections -> HTML whose text content is
exactly the canonical text.

The widget counts positions in the text of `data-notes-root`; the server counts
them in the canonical text. Rendering both from the same sections, with the
separators emitted as literal text nodes, keeps the two identical. The share
page uses `marks` to wrap shared passages in `<mark>` on the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape

from . import render
from .models import Trial
from .render import SECTION_SEPARATOR, Block, Section


def present_summary(row: Trial) -> dict[str, object]:
    """A trial as listed."""
    return {
        "id": row.id,
        "title": row.title,
        "status": row.status,
        "phase": row.phase,
        "conditions": row.condition_list,
        "version": row.version,
        "url": f"/trials/{row.id}",
    }


def present_text(trial: render.Trial) -> dict[str, object]:
    """A trial's sections and the canonical text notes anchor to."""
    return {
        "sections": [{"id": s.id, "heading": s.heading, "level": s.level, "text": s.text} for s in trial.sections],
        "text": trial.canonical_text,
    }


@dataclass(frozen=True)
class Mark:
    """A passage to mark: canonical-text code-point range and the note it belongs to."""

    start: int
    end: int
    note_ref: str
    color: str = "yellow"
    changed: bool = False  # the trial's text of the passage changed since it was highlighted


# A token is markup (offset None) or text at a canonical offset (markable unless a separator).
_Token = tuple[str, int | None, bool]


def _block_tokens(block: Block, offset: int) -> Iterator[_Token]:
    if block.kind == "fact":
        value = block.text[len(block.label) :]
        yield '<li><span class="fact-label">', None, False
        yield block.label, offset, True
        css = "badge" if block.label == "Status: " else "fact-value"
        yield f'</span><span class="{css}">', None, False
        yield value, offset + len(block.label), True
        yield "</span></li>", None, False
        return
    if block.kind == "item":
        yield f'<li class="level-{block.level}">', None, False
        if block.marker:
            yield '<span class="marker">', None, False
            yield block.marker, offset, True
            yield "</span>", None, False
        rest = block.text[len(block.marker) :]
        yield rest, offset + len(block.marker), True
        yield "</li>", None, False
        return
    yield "<p>", None, False
    yield block.text, offset, True
    yield "</p>", None, False


def _list_tag(block: Block) -> str | None:
    if block.kind == "fact":
        return '<ul class="facts">'
    if block.kind == "item":
        return '<ol class="criteria">' if block.marker else '<ul class="items">'
    return None


def _section_tokens(section: Section, offset: int, heading_offset: int) -> Iterator[_Token]:
    level = min(6, section.level + heading_offset)
    yield f'<section id="sec-{section.id}" aria-labelledby="h-{section.id}">', None, False
    yield f'<h{level} id="h-{section.id}">', None, False
    yield section.heading, offset, True
    yield f"</h{level}>", None, False
    offset += len(section.heading)
    open_list: str | None = None
    for block in section.blocks:
        wanted = _list_tag(block)
        if open_list and wanted != open_list:
            yield _closing(open_list), None, False
            open_list = None
        yield "\n", offset, False
        offset += 1
        if wanted and wanted != open_list:
            yield wanted, None, False
            open_list = wanted
        yield from _block_tokens(block, offset)
        offset += len(block.text)
    if open_list:
        yield _closing(open_list), None, False
    yield "</section>", None, False


def _closing(opening: str) -> str:
    return "</ol>" if opening.startswith("<ol") else "</ul>"


def _tokens(sections: Sequence[Section], heading_offset: int) -> Iterator[_Token]:
    offset = 0
    for index, section in enumerate(sections):
        if index:
            yield SECTION_SEPARATOR, offset, False
            offset += len(SECTION_SEPARATOR)
        yield from _section_tokens(section, offset, heading_offset)
        offset += len(section.full_text)


def _marked_text(text: str, offset: int, marks: Sequence[Mark], links: bool) -> str:
    end = offset + len(text)
    touching = [m for m in marks if m.start < end and m.end > offset]
    if not touching:
        return str(escape(text))
    cuts = sorted({offset, end, *(max(offset, min(end, b)) for m in touching for b in (m.start, m.end))})
    pieces = []
    for a, b in pairwise(cuts):
        piece = str(escape(text[a - offset : b - offset]))
        covering = [m for m in touching if m.start <= a and m.end >= b]
        if not covering or not piece:
            pieces.append(piece)
            continue
        refs = " ".join(escape(m.note_ref) for m in covering)
        starting = next((m for m in covering if m.start == a), None)
        anchor_id = f' id="mark-{escape(starting.note_ref)}"' if links and starting else ""
        changed = " hl-changed" if any(m.changed for m in covering) else ""
        pieces.append(
            f'<mark class="hl hl-{escape(covering[0].color)}{changed}"{anchor_id} data-notes="{refs}">{piece}</mark>'
        )
        if links:
            pieces.extend(_back_link(m) for m in covering if m.end == b)
    return "".join(pieces)


def _back_link(mark: Mark) -> str:
    ref = escape(mark.note_ref)
    number = escape(mark.note_ref.rsplit("-", 1)[-1])
    # Not a <sup>: a tap target of 44 by 44 CSS px (site.css), the number drawn small inside it.
    return f'<a class="note-ref" href="#{ref}" aria-label="Go to note {number}"><span>{number}</span></a>'


def render_sections(
    sections: Sequence[Section], marks: Iterable[Mark] = (), *, links: bool = False, heading_offset: int = 0
) -> Markup:
    """Render sections as HTML; without `links` its text content equals the canonical text.

    `links` adds a numbered link after each marked passage back to its note (share page);
    `heading_offset` demotes headings when the trial is not the page's main subject.
    """
    mark_list = sorted(marks, key=lambda m: (m.start, m.end))
    html = []
    for chunk, offset, markable in _tokens(sections, heading_offset):
        if offset is None:
            html.append(chunk)
        elif markable and mark_list:
            html.append(_marked_text(chunk, offset, mark_list, links))
        else:
            html.append(str(escape(chunk)))
    return Markup("".join(html))  # noqa: S704 - every text chunk above is escaped
