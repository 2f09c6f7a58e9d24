"""Browser-side helpers: select text in the notes root, read highlights, find deep focus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

CATALOGS = Path(__file__).resolve().parents[2] / "widget" / "src" / "catalogs"


def widget_catalog(lang: str) -> dict[str, Any]:
    """The widget's words in `lang`: its first-draw part and the rest, as one catalog."""
    parts = (CATALOGS / f"{lang}.first.json", CATALOGS / f"{lang}.json")
    return {key: message for part in parts for key, message in json.loads(part.read_text("utf-8")).items()}


SELECT_TEXT = """
(phrase) => {
  const root = document.querySelector('[data-notes-root]');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(phrase);
    if (at >= 0) {
      node.parentElement.scrollIntoView({block: 'center'});
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + phrase.length);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return true;
    }
  }
  return false;
}
"""

HIGHLIGHTED_TEXTS = """
() => {
  const texts = [];
  for (const [name, highlight] of CSS.highlights) {
    // The focus mark, the overlaps' paint (trial-notes-mix-*) and the changed-text mark repeat
    // passages drawn already.
    const repeat =
      name === 'trial-notes-focused' || name === 'trial-notes-changed' || name.startsWith('trial-notes-mix-');
    if (!name.startsWith('trial-notes-') || repeat) continue;
    for (const range of highlight) texts.push(range.toString());
  }
  return texts.sort();
}
"""

DEEP_ACTIVE = """
() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el ? (el.getAttribute('aria-label') || el.textContent || el.tagName).trim() : null;
}
"""


def select_text(page: Page, phrase: str) -> None:
    """Select the first occurrence of a phrase inside [data-notes-root], as a reader would.

    It waits for the widget first: its modules load after the page (the loader imports them),
    and a reader's keys before then reach only the page.
    """
    page.wait_for_selector("trial-notes-widget", state="attached")
    assert page.evaluate(SELECT_TEXT, phrase), f"{phrase!r} not on the page"


def highlighted(page: Page) -> list[str]:
    """The texts drawn as custom highlights by the widget."""
    return page.evaluate(HIGHLIGHTED_TEXTS)


def wait_for_highlights(page: Page, count: int, timeout: float = 10_000) -> list[str]:
    """Wait until the widget has drawn `count` highlights."""
    page.wait_for_function(
        "(n) => { let c = 0; for (const [k, h] of CSS.highlights) if (k.startsWith('trial-notes-') && "
        "k !== 'trial-notes-focused' && k !== 'trial-notes-changed' && !k.startsWith('trial-notes-mix-')) "
        "c += h.size; return c === n; }",
        arg=count,
        timeout=timeout,
    )
    return highlighted(page)


def deep_active(page: Page) -> str | None:
    """The accessible name or text of the focused element, inside shadow roots too."""
    return page.evaluate(DEEP_ACTIVE)
