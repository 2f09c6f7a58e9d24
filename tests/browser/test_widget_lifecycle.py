"""The widget's life on a page: its dialogs load on demand, and destroy() takes away all it added."""

from __future__ import annotations

import re

from browser.page_tools import select_text, wait_for_highlights
from browser.test_journey import add_note
from browser.test_recovery import open_recovery_key
from playwright.sync_api import expect
from support import CIRRHOSIS, EDITED, EDITED_NOW, SEED, new_owner

TRACES = """
() => ({
  hosts: document.querySelectorAll('trial-notes-widget').length,
  highlights: [...CSS.highlights.keys()].filter((name) => name.startsWith('trial-notes-')).sort(),
  sheets: document.adoptedStyleSheets.length,
})
"""


def listener_types(page) -> dict[str, list[str]]:
    """The event listeners on the page's document and window, as DevTools lists them."""
    cdp = page.context.new_cdp_session(page)
    try:
        found = {}
        for name in ("document", "window"):
            target = cdp.send("Runtime.evaluate", {"expression": name})["result"]["objectId"]
            listeners = cdp.send("DOMDebugger.getEventListeners", {"objectId": target})["listeners"]
            found[name] = sorted(listener["type"] for listener in listeners)
        return found
    finally:
        cdp.detach()


def test_dialogs_load_when_first_opened(live, page):
    modules: list[str] = []
    page.on("request", lambda request: modules.append(request.url) if "/static/widget/" in request.url else None)
    page.goto(f"{live.url}/trials/{SEED}")
    expect(page.get_by_role("button", name="My notes")).to_be_visible()
    assert modules and not any("/dialogs-" in url for url in modules)
    add_note(page, CIRRHOSIS, "loaded on demand")
    assert wait_for_highlights(page, 1) == [CIRRHOSIS]
    assert any("/dialogs-" in url for url in modules)
    assert page.js_errors == []


def test_destroy_takes_away_everything_it_added(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "to be taken away")
    wait_for_highlights(page, 1)
    before = listener_types(page)
    assert {"click", "keydown", "pointerdown", "selectionchange", "trial-notes:destroy"} <= set(before["document"])
    assert {"resize", "scroll"} <= set(before["window"])
    traces = page.evaluate(TRACES)
    # Five colours, the focused note and the changed passages (dashed).
    assert traces["hosts"] == 1 and len(traces["highlights"]) == 7 and traces["sheets"] == 1

    page.evaluate("document.dispatchEvent(new Event('trial-notes:destroy'))")

    assert page.evaluate(TRACES) == {"hosts": 0, "highlights": [], "sheets": 0}
    after = listener_types(page)
    assert after["document"] == []
    # Playwright's own listeners on the window (added for its clicks) stay; the widget's go.
    theirs = list(before["window"])
    for kind in ("resize", "scroll") * 2:  # the selection's (selection.js) and the layout's (layout.js)
        theirs.remove(kind)
    theirs.remove("online")  # app.js: modules that could not be fetched are asked for again
    assert after["window"] == theirs
    # Its observers are gone too: a root that changes (or is replaced) is not anchored again.
    anchored_again = page.evaluate("""() => new Promise((resolve) => {
      let count = 0;
      document.addEventListener('trial-notes:anchored', () => count++);
      const root = document.querySelector('[data-notes-root]');
      root.append(' new words');
      root.replaceWith(root.cloneNode(true));
      // Past the widget's 200 ms re-anchoring delay: had an observer been left, it would have fired.
      setTimeout(() => resolve(count), 600);
    })""")
    assert anchored_again == 0
    assert page.js_errors == []


def test_destroy_with_the_recovery_key_open_leaves_the_page_printable(live, page):
    # The open "Your recovery key" adds a print rule to the page that shows only its sheet; a
    # widget taken away meanwhile gets no "close" event from the dialog, and takes the rule too.
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "printed with the page")
    wait_for_highlights(page, 1)
    open_recovery_key(page)
    assert page.evaluate("document.adoptedStyleSheets.length") == 2
    page.evaluate("document.dispatchEvent(new Event('trial-notes:destroy'))")
    assert page.evaluate(TRACES) == {"hosts": 0, "highlights": [], "sheets": 0}
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('main')).display") != "none"
    assert page.js_errors == []


def test_a_widget_destroyed_before_its_modules_arrive_adds_nothing_when_they_do(live, page):
    # The selection, the panel and the layout load after the first draw: a page that takes the
    # widget away meanwhile (a single-page app changing views) gets nothing back when they come.
    held = []
    page.route(re.compile(r"/static/widget/(selection|panel|layout)-[^/]*\.js$"), lambda route: held.append(route))
    page.goto(f"{live.url}/trials/{SEED}")
    expect(page.get_by_role("button", name="My notes")).to_be_visible()
    for _ in range(200):  # 10 s at most
        if len(held) >= 3:
            break
        page.wait_for_timeout(50)
    assert len(held) == 3, "the selection, panel and layout modules were asked for"
    page.evaluate("document.dispatchEvent(new Event('trial-notes:destroy'))")
    assert page.evaluate(TRACES) == {"hosts": 0, "highlights": [], "sheets": 0}
    arrived = []
    page.on("response", lambda response: arrived.append(response.url) if "/static/widget/" in response.url else None)
    for route in held:
        route.continue_()
    for _ in range(200):
        if len(arrived) >= 3:
            break
        page.wait_for_timeout(50)
    assert len(arrived) >= 3
    page.wait_for_timeout(300)  # the modules' code runs once fetched: give it its turn
    assert page.evaluate(TRACES) == {"hosts": 0, "highlights": [], "sheets": 0}
    after = listener_types(page)
    assert after["document"] == []
    assert "resize" not in after["window"] and "scroll" not in after["window"]
    assert page.js_errors == []


def test_alt_n_pressed_before_the_selection_module_came_adds_the_note_once_it_does(live, page):
    # A reader quick with the keys (or a slow network): Alt+N on a selection made while the
    # selection's module is still on its way opens the new note on that selection, not "select first".
    held = []
    page.route(re.compile(r"/static/widget/selection-[^/]*\.js$"), lambda route: held.append(route))
    page.goto(f"{live.url}/trials/{SEED}")
    for _ in range(200):  # 10 s at most
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the selection module was asked for"
    select_text(page, CIRRHOSIS)
    page.keyboard.press("Alt+n")
    page.wait_for_timeout(300)  # the note's own module comes meanwhile: nothing may open without the selection's
    expect(page.get_by_role("dialog", name="My notes")).to_have_count(0)
    held[0].continue_()
    editor = page.get_by_role("dialog", name="New note")
    expect(editor).to_be_visible()
    expect(editor).to_contain_text(CIRRHOSIS)
    assert page.js_errors == []


def test_the_layout_comes_when_the_browser_is_back_online(live, page):
    # Offline when the layout's module was asked for: the widget works without it, and asks again
    # once the browser says it is back online.
    page.route(re.compile(r"/static/widget/layout-[^/]*\.js$"), lambda route: route.abort())
    page.goto(f"{live.url}/trials/{SEED}")
    expect(page.get_by_role("button", name="My notes")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.querySelector('trial-notes-widget').shadowRoot.querySelector('.tabs')") is None
    before = listener_types(page)["window"].count("resize")
    page.unroute(re.compile(r"/static/widget/layout-[^/]*\.js$"))
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function(
        "() => document.querySelector('trial-notes-widget').shadowRoot.querySelector('.tabs') !== null",
        timeout=5000,
    )
    assert listener_types(page)["window"].count("resize") > before


def test_the_notes_found_without_the_approximate_matcher_are_drawn_while_it_is_fetched(live, page):
    # A passage edited on this page since it was highlighted needs the approximate matcher, a
    # module of its own: the other notes do not wait for it.
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="found as it was")
    owner.add_note(exact=EDITED, body="edited on the page since")
    page.goto(f"{live.url}/")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.route(
        f"{live.url}/trials/{SEED}",
        lambda route: route.fulfill(response=(r := route.fetch()), body=r.text().replace(EDITED, EDITED_NOW)),
    )
    # The matcher held, and the replies too (their arrival redraws the notes: not what is tested).
    held = []
    page.route(re.compile(r"/static/widget/(src|replies)-[^/]*\.js$"), lambda route: held.append(route))
    page.goto(f"{live.url}/trials/{SEED}")
    assert wait_for_highlights(page, 1) == [CIRRHOSIS]
    for _ in range(200):  # 10 s at most
        if any("/src-" in route.request.url for route in held):
            break
        page.wait_for_timeout(50)
    assert any("/src-" in route.request.url for route in held), "the approximate matcher was asked for"
    for route in held:
        route.continue_()
    assert wait_for_highlights(page, 2) == sorted([CIRRHOSIS, EDITED_NOW])
