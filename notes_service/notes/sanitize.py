"""The HTML policy for note bodies, built on bleach.

A body may use a handful of inline and list tags and links; everything else
is stripped (the tag goes, its text stays), except elements whose content is
never readable text (scripts, styles, embedded documents, SVG, MathML, raw
text elements), which go with their content.

Why two passes. bleach's tokenizer turns a disallowed tag into text before
the tree is built, so the tree bleach sanitizes never holds a ``<script>``
element: its content arrives as ordinary characters and would survive as
visible junk ("alert(1)"). A filter on bleach's ``Cleaner`` cannot tell that
text apart. So a first pass parses the body with html5lib (the parser bleach
itself ships, through its public ``bleach.html5lib_shim`` module) the way a
browser does, with scripting on so ``<noscript>`` content is raw text as in a
browser, and drops those elements with everything inside them. The second
pass is bleach's ``Cleaner``, which does the actual sanitizing; the first
pass only ever removes things, so bleach remains the only gate.

Links. bleach's ``LinkifyFilter`` is not used: a note must not grow links
the writer did not write. Instead the ``a`` attribute callable keeps ``href``
only for absolute http, https and mailto URLs (bleach's own protocol check
then runs as well), and a small filter after bleach adds
``rel="noopener noreferrer nofollow"`` to every kept link and unwraps links
left without an ``href``. Relative and fragment links are dropped: a note is
shown on pages of other sites and on share pages, where they would point
somewhere the writer never meant.

Lists. A list item outside a list (``<li>`` typed on its own) is kept, wrapped in a ``<ul>``
of its own by a filter after bleach: a bare ``<li>`` shown inside a page's own list item (a
shared note is one) would end that item early, as the HTML parser closes an open ``<li>``
through any ``<div>``, and take the rest of the page's list out of order with it.

Cost. html5lib builds trees in time quadratic in the nesting depth, so a
body with more than ``MAX_TAGS`` tag-like sequences is treated as plain text
(its markup shown, escaped); a note never needs that many.

The result is idempotent: sanitizing sanitized output changes nothing.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bleach.sanitizer import INVISIBLE_CHARACTERS_RE, INVISIBLE_REPLACEMENT_CHAR, Cleaner

if TYPE_CHECKING:
    # bleach runs its own copy of html5lib 1.1, re-exported by bleach.html5lib_shim; typeshed's
    # bleach stubs type that copy as html5lib (types-html5lib) and do not re-export it.
    from html5lib import HTMLParser, getTreeWalker
    from html5lib.filters.base import Filter
    from html5lib.serializer import HTMLSerializer
else:
    from bleach.html5lib_shim import Filter, HTMLParser, HTMLSerializer, getTreeWalker

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a"})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

# Elements removed with their content: scripting and styling, embedded
# documents and plugins, foreign content (SVG, MathML), and raw-text or
# RCDATA elements whose "text" is markup source nobody meant to show.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "textarea",
        "title",
        "xmp",
        "noembed",
        "noframes",
        "plaintext",
    }
)

# Above this many tag-like "<" sequences a body is treated as plain text.
MAX_TAGS = 1000

_TAG_TOKENS = frozenset({"StartTag", "EndTag", "EmptyTag"})
_TAG_LIKE = re.compile(r"<[A-Za-z/!?]")


def sanitize_body(text: str) -> str:
    """Return ``text`` as safe HTML under the note body policy."""
    if not text:
        return ""
    # bleach swaps control characters for "?" in text, except in white space
    # right after a tag (html5lib's SpaceCharacters token), so a form feed
    # there would survive once and change on a second pass. Doing bleach's
    # replacement up front keeps the result idempotent.
    text = INVISIBLE_CHARACTERS_RE.sub(INVISIBLE_REPLACEMENT_CHAR, text)
    if len(_TAG_LIKE.findall(text)) > MAX_TAGS:
        # html5lib's tree building is quadratic in nesting depth (64 KiB of
        # "<ul><li>" takes over 20 s), and no real note needs this much
        # markup: show it as the text it was typed as, in linear time.
        text = text.replace("<", "&lt;")
    if "<" in text:
        # Without a "<" there is no element to drop: skip a whole parse.
        cleaned = _cleaner().clean(_drop_hidden_elements(text))
        if len(_TAG_LIKE.findall(cleaned)) <= MAX_TAGS:
            return cleaned
        # Balancing adds end tags (1,000 "<b>" come out as 2,000 tags): past the limit, a
        # second pass would show this as text, so show it as text now and stay idempotent.
        text = text.replace("<", "&lt;")
    return _cleaner().clean(text)


# The sanitizer's rules, as a number a sealed note carries (NotePayload.body_rules): 2 keeps list
# items inside lists. The bodies are sealed under keys the server does not keep, so an older body
# cannot be cleaned again by a migration: it is cleaned when read, until it is sealed again.
BODY_RULES = 2


def body_as_shown(stored: str, rules: int = 1) -> str:
    """A stored body as it is shown: one cleaned by older rules and holding a list item is sanitized again.

    Bodies stored before list items were kept inside lists may hold a bare ``<li>``; sanitizing
    is idempotent, so this changes nothing else. A body sealed under today's rules is shown as
    stored: no parse on the read path.
    """
    return sanitize_body(stored) if rules < BODY_RULES and "<li" in stored else stored


def plain_text(text: str) -> str:
    """``text`` as one line of plain text: markup removed as for a body, then no tag and no entity at all.

    For short names (a share's sender, a reply's writer) that are shown as text, never as
    HTML: elements whose content is never text go with it (``<script>``...), other tags go
    and leave their text, entities become the characters they stand for, control and
    format characters go, and runs of white space become one space. The result is escaped
    wherever it is shown (Jinja's autoescape, the widget's textContent).
    """
    if not text:
        return ""
    kept = sanitize_body(text)
    if "<" in kept:
        kept = Cleaner(tags=frozenset(), strip=True, strip_comments=True).clean(kept)
    words = html.unescape(kept)
    visible = "".join(
        " " if char.isspace() else char for char in words if unicodedata.category(char)[0] != "C" or char.isspace()
    )
    return " ".join(unicodedata.normalize("NFC", visible).split())


# -- Pass 1: drop elements whose content is never text ----------------------------


class _DropHiddenElements(Filter):
    """Drop DROPPED_WITH_CONTENT elements with everything inside, and comments."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield the tokens outside any dropped element."""
        depth = 0
        for token in super().__iter__():
            kind = token["type"]
            if kind in _TAG_TOKENS and token["name"].lower() in DROPPED_WITH_CONTENT:
                # The tokens come from a tree, so start and end tags balance.
                depth += {"StartTag": 1, "EndTag": -1}.get(kind, 0)
                continue
            if depth or kind in ("Comment", "Doctype"):
                continue
            yield token


def _drop_hidden_elements(text: str) -> str:
    """Parse like a browser and serialize without the dropped elements."""
    parser = HTMLParser(namespaceHTMLElements=False)
    # scripting=True: a browser with JavaScript parses <noscript> content as
    # raw text, which is how mutation-XSS payloads hide inside it.
    fragment = parser.parseFragment(text, container="div", scripting=True)
    walker = getTreeWalker("etree")
    serializer = HTMLSerializer(
        quote_attr_values="always",
        omit_optional_tags=False,
        escape_lt_in_attrs=True,
        alphabetical_attributes=False,
        # Always double quotes (a quote in a value becomes &quot;): bleach re-escapes the
        # entities of a single-quoted value on every pass, which broke idempotence.
        use_best_quote_char=False,
    )
    return serializer.render(_DropHiddenElements(walker(fragment)))


# -- Pass 2: bleach ------------------------------------------------------------------


def _cleaner() -> Cleaner:
    """A fresh Cleaner: bleach's parser keeps state, so one per call is thread-safe."""
    attributes: dict[str, Callable[[str, str, str], bool]] = {"a": _allow_link_attribute}
    return Cleaner(
        tags=ALLOWED_TAGS,
        attributes=attributes,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[_LinkPolicy, _ListItemsInLists],
    )


def _allow_link_attribute(tag: str, name: str, value: str) -> bool:
    """Keep only ``href``, and only with an absolute http, https or mailto URL."""
    return name == "href" and _has_allowed_scheme(value)


def _has_allowed_scheme(value: str) -> bool:
    """Tell whether an attribute value is an absolute URL with an allowed scheme."""
    # Entities first (``&#106;avascript:``), then urlsplit, which like a
    # browser strips leading controls and spaces and drops tabs and newlines.
    try:
        scheme = urlsplit(html.unescape(value).strip()).scheme
    except ValueError:
        return False
    return scheme.lower() in ALLOWED_PROTOCOLS


class _LinkPolicy(Filter):
    """Add rel to every kept link; unwrap links that lost their href."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield tokens with links rewritten."""
        kept: list[bool] = []
        for token in super().__iter__():
            if token["type"] not in _TAG_TOKENS or token["name"] != "a":
                yield token
                continue
            if token["type"] == "EndTag":
                # bleach's tokens come from a tree, so every end has a start.
                if kept and kept.pop():
                    yield token
                continue
            attributes = token.get("data") or {}
            has_href = (None, "href") in attributes
            if token["type"] == "StartTag":
                kept.append(has_href)
            if has_href:
                attributes[(None, "rel")] = LINK_REL
                token["data"] = attributes
                yield token


class _ListItemsInLists(Filter):
    """Wrap list items that are not in a list (consecutive ones together) in a ``<ul>``."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield the tokens with a ``<ul>`` around each run of orphan list items."""
        # The open elements, innermost last; None stands for a <ul> this filter opened.
        open_elements: list[str | None] = []
        for token in super().__iter__():
            kind = token["type"]
            is_item = kind == "StartTag" and token["name"] == "li"
            between_items = kind == "SpaceCharacters" or (kind == "EndTag" and token["name"] == "li")
            if open_elements and open_elements[-1] is None and not is_item and not between_items:
                open_elements.pop()
                yield {"type": "EndTag", "name": "ul", "namespace": token.get("namespace")}
            if is_item and (not open_elements or open_elements[-1] not in {"ul", "ol", None}):
                open_elements.append(None)
                yield {"type": "StartTag", "name": "ul", "namespace": token.get("namespace"), "data": {}}
            if kind == "StartTag":
                open_elements.append(token["name"])
            elif kind == "EndTag" and open_elements:
                open_elements.pop()
            yield token
        if open_elements and open_elements[-1] is None:
            yield {"type": "EndTag", "name": "ul", "namespace": None}
