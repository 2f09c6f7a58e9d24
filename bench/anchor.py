"""Anchor and draw 500 highlights on the seed trial page in Chromium (Playwright, Debian's chromium).

Two measurements, both on the real page served by the benchmarked server:

* `widget` (the reported `anchor_500_ms`): the real widget loads the 500 notes with a
  notebook token put in localStorage and, once it has anchored them and drawn the
  highlights, dispatches `trial-notes:anchored` on the document with
  {notes, anchored, ms}, `ms` being its own time from the notes' response to the
  highlights drawn (the launcher's count is set in the same task; the list in "My notes"
  too when the panel is open, else once the browser is idle or when it opens, whichever
  comes first: widget/src/panel.js). An init script listens,
  waits for the next painted frame (requestAnimationFrame, then a task) and reports
  `ms` plus that wait: from the notes received to the frame that shows them.
* `inpage` (reported as `anchor_500_inpage_ms`): a small script run in the page anchors the
  500 notes' selectors the way the widget does (text index of the `data-notes-root`
  element, code-point positions converted to UTF-16 and checked against the quote,
  else the quote searched and ranked by its context), builds the Ranges, adds them to
  five `Highlight` objects (one per colour) and registers them with `CSS.highlights.set`;
  the time runs from the start until the frame after that has been painted
  (requestAnimationFrame, then a task). It was the figure before the widget had its
  event; it is kept as the cost of anchoring alone, without the widget's notes list.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

INPAGE_SCRIPT = r"""
async ({selectors, runs}) => {
  const root = document.querySelector('[data-notes-root]');
  const paint = ['#ffeb80', '#b8f0b0', '#bcdcff', '#ffc6dd', '#dccbff'];
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(paint.map((c, i) => `::highlight(bench-${i}){background-color:${c}}`).join('\n'));
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  const painted = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const similarity = (a, b) => { let n = 0; while (n < a.length && n < b.length && a[n] === b[n]) n++; return n; };
  const times = [], syncTimes = [];
  let anchored = 0, textLength = 0;
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < paint.length; i++) CSS.highlights.delete(`bench-${i}`);
    await painted();
    const t0 = performance.now();
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const nodes = [], starts = [];
    let text = '';
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      nodes.push(n); starts.push(text.length); text += n.data;
    }
    textLength = text.length;
    const pairs = [];
    for (const m of text.matchAll(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)) pairs.push(m.index);
    const toUtf16 = (cp) => { let k = 0; while (k < pairs.length && pairs[k] - k < cp) k++; return cp + k; };
    const locate = (offset, atEnd) => {
      let lo = 0, hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] < offset || (!atEnd && starts[mid] === offset)) lo = mid; else hi = mid - 1;
      }
      return [nodes[lo], offset - starts[lo]];
    };
    const groups = paint.map(() => []);
    anchored = 0;
    selectors.forEach((list, i) => {
      const quote = list.find((s) => s.type === 'TextQuoteSelector');
      const position = list.find((s) => s.type === 'TextPositionSelector');
      let start = -1, end = -1;
      if (position) {
        start = toUtf16(position.start); end = toUtf16(position.end);
        if (text.slice(start, end) !== quote.exact) start = -1;
      }
      if (start < 0) {
        let best = -1;
        for (let j = text.indexOf(quote.exact); j !== -1; j = text.indexOf(quote.exact, j + 1)) {
          const before = text.slice(Math.max(0, j - quote.prefix.length), j);
          const score = similarity([...before].reverse().join(''), [...quote.prefix].reverse().join(''))
            + similarity(text.slice(j + quote.exact.length), quote.suffix);
          if (score > best) { best = score; start = j; end = j + quote.exact.length; }
        }
      }
      if (start < 0) return;
      const range = document.createRange();
      const [sn, so] = locate(start, false);
      const [en, eo] = locate(end, true);
      range.setStart(sn, so);
      range.setEnd(en, eo);
      groups[i % groups.length].push(range);
      anchored++;
    });
    groups.forEach((ranges, i) => CSS.highlights.set(`bench-${i}`, new Highlight(...ranges)));
    syncTimes.push(performance.now() - t0);
    await painted();
    times.push(performance.now() - t0);
  }
  return {times, syncTimes, anchored, textLength};
}
"""

WIDGET_PROBE = r"""
(() => {
  const marks = window.__benchAnchor = {events: 0, detail: null, at: null, painted: null};
  const expected = __EXPECTED__;
  document.addEventListener('trial-notes:anchored', (event) => {
    marks.events += 1;
    // The first anchoring is of no notes (before the notes arrive): wait for all of them.
    if (marks.detail !== null || event.detail.notes < expected) return;
    marks.detail = event.detail;
    marks.at = performance.now();
    requestAnimationFrame(() => setTimeout(() => { marks.painted = performance.now(); }, 0));
  });
})();
"""


def _browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)


def _wait_for_paint(page: Any, timeout: float = 30.0) -> dict[str, Any]:
    # Polled from Python: wait_for_function evaluates a string, which the page's CSP forbids.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        marks = page.evaluate("() => window.__benchAnchor")
        if marks and marks["painted"] is not None:
            return marks
        time.sleep(0.02)
    raise TimeoutError(f"no frame with every highlight drawn within {timeout:.0f} s: {marks}")


def measure_inpage(page_url: str, selectors: list[list[dict[str, Any]]], runs: int) -> dict[str, Any]:
    """Anchor and draw the selectors with the in-page script `runs` times; median and all."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            page = browser.new_page()
            page.goto(page_url, wait_until="load")
            result = page.evaluate(INPAGE_SCRIPT, {"selectors": selectors, "runs": runs + 1})
            version = browser.version
        finally:
            browser.close()
    # The first run pays for compiling the script: it is shown, not counted.
    times, sync_times = result["times"][1:], result["syncTimes"][1:]
    return {
        "method": "in-page script, Custom Highlight API (anchoring alone, without the widget)",
        "median_ms": round(statistics.median(times), 2),
        "runs_ms": [round(t, 2) for t in times],
        "first_run_ms": round(result["times"][0], 2),
        "sync_median_ms": round(statistics.median(sync_times), 2),
        "anchored": result["anchored"],
        "highlights": len(selectors),
        "text_length": result["textLength"],
        "chromium": version,
    }


def measure_widget(page_url: str, origin: str, token: str, expected: int, runs: int) -> dict[str, Any]:
    """Load the page with the real widget and a notebook of `expected` notes, `runs` times after a
    warm-up load; the widget's `trial-notes:anchored` event times it."""
    from playwright.sync_api import sync_playwright

    spans, own, anchored = [], [], []
    first = None
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            for run in range(runs + 1):
                context = browser.new_context()
                # The widget's own localStorage key for this API origin (widget/src/token-store.js tokenKey).
                context.add_init_script(
                    f"localStorage.setItem({json.dumps('trial-notes:token:' + origin)}, {json.dumps(token)});"
                )
                context.add_init_script(WIDGET_PROBE.replace("__EXPECTED__", str(expected)))
                page = context.new_page()
                page.goto(page_url, wait_until="load")
                marks = _wait_for_paint(page)
                context.close()
                span = marks["detail"]["ms"] + (marks["painted"] - marks["at"])
                if run == 0:  # compiles the bundle and warms the caches: shown, not counted
                    first = span
                    continue
                spans.append(span)
                own.append(marks["detail"]["ms"])
                anchored.append(marks["detail"]["anchored"])
        finally:
            browser.close()
    return {
        "method": "real widget, its trial-notes:anchored event (detail.ms) plus the wait for the next painted frame",
        "median_ms": round(statistics.median(spans), 2),
        "runs_ms": [round(t, 2) for t in spans],
        "first_run_ms": round(first, 2) if first is not None else None,
        "event_ms_median": round(statistics.median(own), 2),
        "anchored": min(anchored),
        "highlights": expected,
    }
