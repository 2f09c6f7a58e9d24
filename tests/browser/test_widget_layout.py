"""The widget never covers the text being read: the panel docks beside the text column at 1280 px
and is a bottom sheet at 390 px, the launcher moves out of the selection's way; "All trials" finds
every note again, and a note's link opens its trial page at the passage."""

from __future__ import annotations

from collections.abc import Callable

from browser.page_tools import deep_active, select_text, wait_for_highlights, widget_catalog
from browser.test_widget_languages import OVERFLOWS, SHADOW_TEXT, english_words
from playwright.sync_api import Page, Route, expect
from support import CIRRHOSIS, SEED, http_owner

AR = widget_catalog("ar")

OTHER = "NCT04360941"
OTHER_QUOTE = "Palbociclib"

# The selected passage's client rects and the widget's boxes (viewport coordinates).
BOXES = """
() => {
  const box = (r) => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  const sel = getSelection();
  const rects = sel.rangeCount ? [...sel.getRangeAt(0).getClientRects()] : [];
  const passage = rects.filter((r) => r.width && r.height).map(box);
  const shadow = document.querySelector('trial-notes-widget').shadowRoot;
  const panel = shadow.querySelector('dialog.panel');
  return {
    passage,
    launcher: box(shadow.querySelector('.launcher').getBoundingClientRect()),
    panel: panel.open ? box(panel.getBoundingClientRect()) : null,
    root: box(document.querySelector('[data-notes-root]').getBoundingClientRect()),
    width: document.documentElement.clientWidth,
    height: innerHeight,
  };
}
"""

OVERLAPS = "(a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom"

# Every word of three letters or more in `root`, as a range, in document order (the snippets below).
WORD_RANGES = """
function* wordRanges(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/[A-Za-z]{3,}/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      yield range;
    }
  }
}
"""

# Select the first word of the notes root drawn under the launcher, scrolling text there first.
SELECT_UNDER_LAUNCHER = (
    """() => {"""
    + WORD_RANGES
    + """
  const l = document.querySelector('trial-notes-widget').shadowRoot.querySelector('.launcher').getBoundingClientRect();
  for (const range of wordRanges(document.querySelector('[data-notes-root]'))) {
    const r = range.getBoundingClientRect();
    if (r.right > l.left && r.left < l.right && r.top > 0) {
      // Scroll this word's line to the launcher's height.
      scrollBy(0, r.top - (l.top + l.height / 2 - r.height / 2));
      const again = range.getBoundingClientRect();
      const one = range.getClientRects().length === 1;
      if (one && again.right > l.left && again.left < l.right && again.bottom > l.top && again.top < l.bottom) {
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        return range.toString();
      }
    }
  }
  return null;
}"""
)


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def clear_of(boxes: dict, *names: str) -> None:
    """None of the named widget boxes intersects a rect of the selected passage."""
    assert boxes["passage"], "nothing is selected"
    for name in names:
        widget = boxes[name]
        assert widget is not None, f"no {name}"
        hits = [rect for rect in boxes["passage"] if overlaps(widget, rect)]
        assert not hits, f"the {name} {widget} covers the selected passage at {hits}"


def drag_grip(page, name: str, to_y: float) -> None:
    """Drag the bottom sheet's grip (named `name`) from its middle up or down to `to_y`."""
    box = page.get_by_role("button", name=name).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, to_y, steps=5)
    page.mouse.up()


def test_at_1280_px_the_panel_docks_beside_the_text_and_covers_no_selected_passage(live, page: Page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live.url}/trials/{SEED}")
    # A passage near the text column's right edge and one at its left.
    for phrase in (CIRRHOSIS, "Inclusion Criteria"):
        select_text(page, phrase)
        page.get_by_role("button", name="My notes").click()
        panel = page.get_by_role("dialog", name="My notes")
        expect(panel).to_be_visible()
        boxes = page.evaluate(BOXES)
        clear_of(boxes, "panel", "launcher")
        # Docked: the whole height, beside the text column, inside the viewport.
        assert boxes["panel"]["left"] >= boxes["root"]["right"] and boxes["panel"]["right"] <= boxes["width"]
        assert boxes["panel"]["right"] - boxes["panel"]["left"] >= 240
        assert boxes["panel"]["top"] == 0 and boxes["panel"]["bottom"] == boxes["height"]
        page.screenshot(path="/tmp/wn-layout-1280.png")
        page.get_by_role("button", name="Hide panel").click()
        expect(panel).to_be_hidden()
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_at_390_px_the_launcher_moves_off_the_selection_and_the_panel_is_a_sheet_to_drag(live, page: Page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/trials/{SEED}")
    page.wait_for_selector("trial-notes-widget", state="attached")
    # The launcher's usual place is over the text at this width: select the words under it.
    page.wait_for_function("() => document.querySelector('trial-notes-widget')?.shadowRoot.querySelector('.tabs')")
    assert page.evaluate(SELECT_UNDER_LAUNCHER), "no text under the launcher"
    page.wait_for_function(
        f"() => {{ const b = ({BOXES})(); return b.passage.every((r) => !({OVERLAPS})(b.launcher, r)); }}"
    )
    boxes = page.evaluate(BOXES)
    clear_of(boxes, "launcher")
    page.screenshot(path="/tmp/wn-layout-390-selected.png")

    page.get_by_role("button", name="My notes").click()
    panel = page.get_by_role("dialog", name="My notes")
    expect(panel).to_be_visible()
    boxes = page.evaluate(BOXES)
    # A bottom sheet across the screen, the selected passage in sight above it.
    assert boxes["panel"]["left"] == 0 and boxes["panel"]["right"] == boxes["width"]
    assert boxes["panel"]["bottom"] == boxes["height"] and boxes["panel"]["top"] > boxes["height"] / 3
    clear_of(boxes, "panel")
    page.screenshot(path="/tmp/wn-layout-390-sheet.png")

    # Dragging the grip up makes the sheet taller; down to the bottom closes it.
    drag_grip(page, "Resize the notes panel", 200)
    taller = page.evaluate(BOXES)["panel"]
    assert abs(taller["top"] - 200) <= 2, taller
    drag_grip(page, "Resize the notes panel", 830)
    expect(panel).to_be_hidden()
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_all_trials_lists_every_note_by_trial_searches_them_and_links_to_the_passage(live, page: Page):
    owner = http_owner(live.url)
    owner.add_note(exact=CIRRHOSIS, body="Ask the liver doctor")
    owner.add_note(exact="Inclusion Criteria", body="Check my age")
    owner.add_note(trial=OTHER, exact=OTHER_QUOTE, body="Breast cancer drug")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live.url}/trials/{SEED}")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.goto(f"{live.url}/trials/{OTHER}")
    wait_for_highlights(page, 1)
    page.get_by_role("button", name="My notes").click()
    page.get_by_role("button", name="All trials").click()
    section = page.get_by_role("region", name="All trials")
    expect(section.locator("section.trial")).to_have_count(2)
    # The last edited trial first, with its title, count and last edit; this trial said so.
    groups = section.locator("section.trial")
    expect(groups.nth(0)).to_have_attribute("data-trial", OTHER)
    expect(groups.nth(0).locator("p.muted").first).to_contain_text("1 note · last edited")
    expect(groups.nth(0).locator("p.muted").first).to_contain_text("this trial")
    expect(groups.nth(1).locator("p.muted").first).to_contain_text("2 notes · last edited")
    expect(groups.nth(1).get_by_role("heading")).not_to_be_empty()
    page.screenshot(path="/tmp/wn-all-trials-1280.png")

    # Searching what was fetched: accents and case do not matter; every word must occur.
    search = page.get_by_role("searchbox", name="Search my notes")
    search.fill("LÏVER")
    expect(section.get_by_role("status")).to_have_text("1 note of 3 matches.")
    expect(section.get_by_role("link", name=f"Go to note: {CIRRHOSIS}")).to_be_visible()
    expect(groups.nth(0)).to_be_hidden()
    search.fill("nothing like this")
    expect(section.get_by_role("status")).to_have_text("No note matches your search.")
    search.fill("")

    # A note on another trial opens that trial's page at its passage, flashed and selected.
    link = section.get_by_role("link", name=f"Go to note: {CIRRHOSIS}")
    href = link.get_attribute("href")
    assert href is not None and href.startswith(f"{live.url}/trials/{SEED}#trial-note=")
    assert "liver" not in href.lower() and owner.token not in href
    link.click()
    page.wait_for_url(f"**/trials/{SEED}#trial-note=*")
    page.wait_for_function(f"() => getSelection().toString() === {CIRRHOSIS!r}")
    # Scrolled into view (smoothly, so waited for) and marked as the focused note, which then fades.
    page.wait_for_function(
        "() => { const r = getSelection().getRangeAt(0).getBoundingClientRect(); "
        "return r.top >= 0 && r.bottom <= innerHeight; }"
    )
    page.wait_for_function("() => CSS.highlights.get('trial-notes-focused')?.size === 1")
    page.screenshot(path="/tmp/wn-note-link-1280.png")
    page.wait_for_function("() => CSS.highlights.get('trial-notes-focused')?.size === 0", timeout=10_000)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_the_index_marks_the_trials_holding_my_notes_without_the_token_in_any_url(live, page: Page):
    owner = http_owner(live.url)
    owner.add_note(body="one")
    owner.add_note(exact="Inclusion Criteria", body="two")
    owner.add_note(trial=OTHER, exact=OTHER_QUOTE, body="three")
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(f"{live.url}/")
    expect(page.locator(".my-notes")).to_have_count(0)  # no notebook in this browser yet
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live.url}/")
        expect(page.locator(f'.trial-card[data-nct="{SEED}"] .my-notes')).to_have_text("You have 2 notes on this trial")
        expect(page.locator(f'.trial-card[data-nct="{OTHER}"] .my-notes')).to_have_text("You have 1 note on this trial")
        expect(page.locator(".my-notes")).to_have_count(2)
        page.locator(f'.trial-card[data-nct="{SEED}"]').scroll_into_view_if_needed()
        page.screenshot(path=f"/tmp/wn-index-{width}.png")
    page.goto(f"{live.url}/?lang=es")
    expect(page.locator(f'.trial-card[data-nct="{SEED}"] .my-notes')).to_have_text("Tiene 2 notas en este estudio")
    expect(page.locator(f'.trial-card[data-nct="{OTHER}"] .my-notes')).to_have_text("Tiene 1 nota en este estudio")
    assert not [url for url in urls if owner.token in url]
    assert page.js_errors == []  # type: ignore[attr-defined]


def served_with_lang(lang: str) -> Callable[[Route], None]:
    """A route handler serving the page as the service answers it, its <html lang="ar"> made `lang`."""

    def handle(route: Route) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, body=answer.text().replace('<html lang="ar"', f'<html lang="{lang}"', 1))

    return handle


def test_the_index_marks_agree_with_their_count_in_arabic_even_under_a_lang_intl_refuses(live, page: Page):
    # Two, few (3-10) and many (11-99) are three forms of the noun in Arabic, two spelled out.
    owner = http_owner(live.url)
    for _ in range(5):
        owner.add_note(body="few")
    for _ in range(11):
        owner.add_note(trial=OTHER, exact=OTHER_QUOTE, body="many")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/?lang=ar")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    digits = page.evaluate("(ns) => ns.map((n) => new Intl.NumberFormat('ar').format(n))", [5, 11])
    seed, other = (page.locator(f'.trial-card[data-nct="{trial}"] .my-notes') for trial in (SEED, OTHER))
    for lang in ("ar", "ar_EG"):  # "ar_EG" makes Intl throw a RangeError: the script takes "ar"
        page.route(f"{live.url}/?lang=ar", served_with_lang(lang))
        page.goto(f"{live.url}/?lang=ar")
        assert page.evaluate("document.documentElement.lang") == lang
        expect(seed).to_have_text(f"لديك {digits[0]} ملاحظات على هذه الدراسة")
        expect(other).to_have_text(f"لديك {digits[1]} ملاحظة على هذه الدراسة")
        page.unroute(f"{live.url}/?lang=ar")
    for note in owner.notes()[:3]:  # two left on the seed trial
        assert owner.call("DELETE", f"/api/v1/notes/{note['id']}")[0] == 204
    page.goto(f"{live.url}/?lang=ar")
    expect(seed).to_have_text("لديك ملاحظتان على هذه الدراسة")
    seed.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wn-index-ar-390.png")
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_a_first_visit_hint_near_the_top_of_the_text_goes_for_good_when_dismissed(live, page: Page):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{live.url}/trials/{SEED}")
        hint = page.get_by_role("complementary", name="How to add a note")
        expect(hint).to_contain_text("Select any text to add a private note.")
        box, root = hint.bounding_box(), page.locator("[data-notes-root]").bounding_box()
        assert box is not None and root is not None
        # Beside the top of the text on a wide screen (not over it), just above it on a phone.
        assert abs(box["y"] - root["y"]) < 80 or 0 <= root["y"] - (box["y"] + box["height"]) < 80, (box, root)
        if width == 1280:
            assert box["x"] >= root["x"] + root["width"]
        page.screenshot(path=f"/tmp/wn-hint-{width}.png")
    hint.get_by_role("button", name="Got it").click()
    expect(hint).to_be_hidden()
    page.reload()
    page.wait_for_function("() => document.querySelector('trial-notes-widget')?.shadowRoot.querySelector('.tabs')")
    expect(page.get_by_role("complementary", name="How to add a note")).to_have_count(0)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_the_hint_goes_for_good_once_the_reader_saves_a_note(live, page: Page):
    page.goto(f"{live.url}/trials/{SEED}")
    hint = page.get_by_role("complementary", name="How to add a note")
    expect(hint).to_be_visible()
    select_text(page, CIRRHOSIS)
    page.get_by_role("button", name="Add note").click()
    page.get_by_role("textbox", name="Note").fill("my first")
    page.get_by_role("button", name="Save").click()
    expect(hint).to_have_count(0)
    page.reload()
    wait_for_highlights(page, 1)
    expect(page.get_by_role("complementary", name="How to add a note")).to_have_count(0)


def test_in_arabic_the_hint_the_docked_panel_the_sheet_and_all_trials_are_mirrored(live, page: Page):
    english = english_words("ar")
    # The hint first: a notebook with notes on this page takes it away (the reader knows how).
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{live.url}/trials/{SEED}?lang=ar")
        hint = page.get_by_role("complementary", name=AR["hintLabel"])
        expect(hint).to_contain_text(AR["hint"])
        box, root = hint.bounding_box(), page.locator("[data-notes-root]").bounding_box()
        assert box is not None and root is not None
        if width == 1280:  # beside the top of the text, at its left: where the panel docks
            assert box["x"] + box["width"] <= root["x"] and abs(box["y"] - root["y"]) < 80, (box, root)
        else:  # just above the text, at the start of its lines: the right edge
            assert 0 <= root["y"] - (box["y"] + box["height"]) < 80, (box, root)
            assert abs(box["x"] + box["width"] - min(root["x"] + root["width"], width - 8)) <= 1, (box, root)
        assert page.evaluate(OVERFLOWS) == []
        page.screenshot(path=f"/tmp/wm-hint-ar-{width}.png")

    owner = http_owner(live.url)
    owner.add_note(exact=CIRRHOSIS, body="Ask the liver doctor")
    owner.add_note(exact="Inclusion Criteria", body="Check my age")
    owner.add_note(trial=OTHER, exact=OTHER_QUOTE, body="Breast cancer drug")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{live.url}/trials/{SEED}?lang=ar")
        wait_for_highlights(page, 2)
        expect(page.get_by_role("complementary", name=AR["hintLabel"])).to_have_count(0)
        if width == 390:
            # The launcher sits bottom left; over the selected words it moves away.
            page.wait_for_function(
                "() => document.querySelector('trial-notes-widget')?.shadowRoot.querySelector('.tabs')"
            )
            launcher = page.evaluate(BOXES)["launcher"]
            assert launcher["left"] < 40, launcher
            assert page.evaluate(SELECT_UNDER_LAUNCHER), "no text under the launcher"
            page.wait_for_function(
                f"() => {{ const b = ({BOXES})(); return b.passage.every((r) => !({OVERLAPS})(b.launcher, r)); }}"
            )
        else:
            select_text(page, CIRRHOSIS)
        page.get_by_role("button", name=AR["myNotes"]).click()
        panel = page.get_by_role("dialog", name=AR["myNotes"])
        expect(panel).to_be_visible()
        boxes = page.evaluate(BOXES)
        clear_of(boxes, "panel")
        if width == 1280:  # docked at the left of the text, the whole height
            assert boxes["panel"]["left"] < 10 and boxes["panel"]["right"] <= boxes["root"]["left"], boxes
            assert boxes["panel"]["top"] == 0 and boxes["panel"]["bottom"] == boxes["height"]
        else:  # a bottom sheet across the screen, its grip resizing it
            assert boxes["panel"]["left"] == 0 and boxes["panel"]["right"] == boxes["width"]
            assert boxes["panel"]["bottom"] == boxes["height"] and boxes["panel"]["top"] > boxes["height"] / 3
            drag_grip(page, AR["resizePanel"], 300)
            assert abs(page.evaluate(BOXES)["panel"]["top"] - 300) <= 2

        page.get_by_role("button", name=AR["allTrials"]).click()
        section = page.get_by_role("region", name=AR["allTrials"])
        groups = section.locator("section.trial")
        expect(groups).to_have_count(2)
        expect(groups.nth(0)).to_have_attribute("data-trial", OTHER)
        expect(groups.nth(0).locator("p.muted").first).to_contain_text(AR["notes"]["one"])
        expect(groups.nth(1).locator("p.muted").first).to_contain_text(AR["notes"]["two"])
        expect(groups.nth(1).locator("p.muted").first).to_contain_text(AR["trialHere"])
        expect(groups.nth(1).locator("p.muted").first).to_contain_text(AR["lastEdited"].split("{")[0].strip())
        assert section.evaluate("el => getComputedStyle(el).direction") == "rtl"
        page.get_by_role("searchbox", name=AR["searchMyNotes"]).fill("LÏVER")
        expect(section.get_by_role("status")).to_contain_text(AR["notesMatch"]["one"].split("{")[0].strip())
        page.get_by_role("searchbox", name=AR["searchMyNotes"]).fill("")
        shown = page.evaluate(SHADOW_TEXT)
        assert [words for words in english if words in shown] == []
        assert page.evaluate(OVERFLOWS) == []
        page.screenshot(path=f"/tmp/wm-all-trials-ar-{width}.png")
    assert page.js_errors == []  # type: ignore[attr-defined]


# Each checkbox's distance from its words in the open dialog, whichever side they are on.
OPTION_GAPS = """
() => {
  const shadow = document.querySelector('trial-notes-widget').shadowRoot;
  return [...shadow.querySelectorAll('dialog[open] label.opt')].map((label) => {
    const box = label.querySelector('input').getBoundingClientRect();
    const words = document.createRange();
    words.selectNodeContents([...label.childNodes].find((n) => n.nodeName !== 'INPUT'));
    const text = words.getBoundingClientRect();
    return Math.round(text.left >= box.right ? text.left - box.right : box.left - text.right);
  });
}
"""


def test_in_arabic_each_checkbox_keeps_its_gap_from_its_words(live, page: Page):
    owner = http_owner(live.url)
    owner.add_note(exact=CIRRHOSIS, body="Ask the liver doctor")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/trials/{SEED}?lang=ar")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.reload()
    wait_for_highlights(page, 1)
    page.get_by_role("button", name=AR["myNotes"]).click()
    page.get_by_role("button", name=AR["share"], exact=True).click()
    expect(page.get_by_role("dialog", name=AR["shareNotes"])).to_be_visible()
    gaps = page.evaluate(OPTION_GAPS)
    assert len(gaps) >= 3 and min(gaps) >= 6, gaps
    page.screenshot(path="/tmp/wm-share-ar-390.png")


def test_the_hint_follows_the_text_when_the_page_reflows_above_it(live, page: Page):
    # A banner above the trial text goes away (a cookie notice dismissed) or one comes (an image
    # loads): the text moves, and the hint must stay by its top, never over the text.
    for width, change in ((390, "grow"), (390, "shrink"), (1280, "grow")):
        page.set_viewport_size({"width": width, "height": 844})
        if change == "shrink":
            page.add_init_script(
                "addEventListener('DOMContentLoaded', () => {"
                "  const b = document.createElement('div'); b.id = 'banner'; b.style.height = '240px';"
                "  document.querySelector('[data-notes-root]').before(b); })"
            )
        page.goto(f"{live.url}/trials/{SEED}")
        hint = page.get_by_role("complementary", name="How to add a note")
        expect(hint).to_be_visible()
        page.wait_for_timeout(300)
        if change == "grow":
            page.evaluate(
                "() => { const b = document.createElement('div'); b.style.height = '240px';"
                " document.querySelector('[data-notes-root]').before(b); }"
            )
        else:
            page.evaluate("() => document.getElementById('banner').remove()")
        page.wait_for_timeout(500)
        box, root = hint.bounding_box(), page.locator("[data-notes-root]").bounding_box()
        assert box is not None and root is not None
        assert abs(box["y"] - root["y"]) < 80 or 0 <= root["y"] - (box["y"] + box["height"]) < 80, (
            width,
            change,
            box,
            root,
        )
        page.screenshot(path=f"/tmp/wn-hint-reflow-{width}-{change}.png")
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_on_a_page_zoomed_with_css_zoom_add_note_sits_by_the_selection_and_the_panel_in_the_viewport(live, page: Page):
    # A text-size control on the host page zooms its body: the widget's boxes are zoomed too, so
    # viewport pixels written as CSS pixels were scaled again (the panel off the screen's edge).
    page.set_viewport_size({"width": 1600, "height": 800})
    page.add_init_script("addEventListener('DOMContentLoaded', () => { document.body.style.zoom = '1.25'; })")
    page.goto(f"{live.url}/trials/{SEED}")
    page.wait_for_function("() => document.querySelector('trial-notes-widget')?.shadowRoot.querySelector('.tabs')")
    select_text(page, CIRRHOSIS)
    adder = page.get_by_role("button", name="Add note")
    expect(adder).to_be_visible()
    boxes = page.evaluate(BOXES)
    add = adder.bounding_box()
    assert add is not None
    end = boxes["passage"][-1]
    # Just below the selection's end, not a quarter of the page further.
    assert 0 <= add["y"] - end["bottom"] < 40, (add, end)
    assert abs(add["x"] + add["width"] / 2 - end["right"]) < 40, (add, end)
    page.get_by_role("button", name="My notes").click()
    expect(page.get_by_role("dialog", name="My notes")).to_be_visible()
    boxes = page.evaluate(BOXES)
    page.screenshot(path="/tmp/wn-layout-zoomed.png")
    assert boxes["panel"]["right"] <= boxes["width"] + 1, boxes
    assert boxes["panel"]["left"] >= boxes["root"]["right"], boxes
    assert boxes["panel"]["right"] - boxes["panel"]["left"] >= 240, boxes
    assert page.js_errors == []  # type: ignore[attr-defined]


# In a root that scrolls itself: select a word drawn in the launcher's column below it (scrolled out
# of the root's box), then scroll the root (not the window) until that word is at the launcher's height.
SCROLL_SELECTION_UNDER_LAUNCHER = (
    """() => {"""
    + WORD_RANGES
    + """
  const l = document.querySelector('trial-notes-widget').shadowRoot.querySelector('.launcher').getBoundingClientRect();
  for (const range of wordRanges(document.querySelector('[data-notes-root]'))) {
    const r = range.getBoundingClientRect();
    if (range.getClientRects().length === 1 && r.right > l.left && r.left < l.right && r.top > l.bottom + 200) {
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      return [r.top - (l.top + l.height / 2 - r.height / 2), range.toString()];
    }
  }
  return null;
}"""
)


def test_the_launcher_moves_off_a_selection_scrolled_under_it_inside_a_scrolling_text(live, page: Page):
    page.set_viewport_size({"width": 390, "height": 844})
    # The trial text in a box of its own that scrolls (as on a page with a fixed header and footer).
    page.add_init_script(
        "addEventListener('DOMContentLoaded', () => {"
        "  const root = document.querySelector('[data-notes-root]');"
        "  root.style.height = '100vh'; root.style.overflow = 'auto'; })"
    )
    page.goto(f"{live.url}/trials/{SEED}")
    page.wait_for_function("() => document.querySelector('trial-notes-widget')?.shadowRoot.querySelector('.tabs')")
    page.evaluate("() => document.querySelector('[data-notes-root]').scrollIntoView()")
    found = page.evaluate(SCROLL_SELECTION_UNDER_LAUNCHER)
    assert found, "no word above the launcher"
    page.wait_for_timeout(300)
    page.evaluate("(by) => { document.querySelector('[data-notes-root]').scrollTop += by; }", found[0])
    page.wait_for_timeout(400)
    boxes = page.evaluate(BOXES)
    page.screenshot(path="/tmp/wn-launcher-inner-scroll-390.png")
    clear_of(boxes, "launcher")
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_the_widgets_boxes_keep_their_size_on_a_page_whose_root_font_is_small(live, page: Page):
    # html{font-size:62.5%} (rem as 10 px) is a common host stylesheet: the widget's text stays
    # 15 px, so widths in rem shrank its dialogs to 340 px and wrapped the colours.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.add_init_script(
        "addEventListener('DOMContentLoaded', () => { document.documentElement.style.fontSize = '62.5%'; })"
    )
    page.goto(f"{live.url}/trials/{SEED}")
    select_text(page, CIRRHOSIS)
    page.get_by_role("button", name="Add note").click()
    editor = page.get_by_role("dialog", name="New note")
    expect(editor).to_be_visible()
    box = editor.bounding_box()
    assert box is not None and box["width"] == 544, box


def test_got_it_pressed_from_the_keyboard_leaves_the_focus_on_the_launcher(live, page: Page):
    page.goto(f"{live.url}/trials/{SEED}")
    got_it = page.get_by_role("complementary", name="How to add a note").get_by_role("button", name="Got it")
    got_it.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("complementary", name="How to add a note")).to_have_count(0)
    # The focus is not dropped onto the page's body (a screen reader would start again at the top).
    assert deep_active(page) == "My notes0"


def test_dismissing_an_error_from_the_keyboard_leaves_the_focus_on_the_launcher(live, page: Page):
    # A browser with a notebook whose notes can't be fetched: the error shows with "Dismiss".
    page.add_init_script(f"localStorage.setItem('trial-notes:token:{live.url}', 'a-token-of-this-browser')")
    page.route("**/api/v1/trials/*/notes?*", lambda route: route.abort("internetdisconnected"))
    page.goto(f"{live.url}/trials/{SEED}")
    dismiss = page.get_by_role("button", name="Dismiss")
    expect(dismiss).to_be_visible()
    dismiss.focus()
    page.keyboard.press("Enter")
    expect(dismiss).to_be_hidden()
    assert (deep_active(page) or "").startswith("My notes")


def test_not_now_on_the_recovery_notice_from_the_keyboard_leaves_the_focus_on_the_launcher(live, page: Page):
    page.goto(f"{live.url}/trials/{SEED}")
    select_text(page, CIRRHOSIS)
    page.get_by_role("button", name="Add note").click()
    page.get_by_role("textbox", name="Note").fill("my first")
    page.get_by_role("button", name="Save").click()
    notice = page.get_by_role("region", name="Your notes are kept in this browser only")
    expect(notice).to_be_visible()
    notice.get_by_role("button", name="Not now").focus()
    page.keyboard.press("Enter")
    expect(notice).to_be_hidden()
    assert (deep_active(page) or "").startswith("My notes")


def test_a_docked_panel_moves_off_the_text_when_the_text_column_widens(live, page: Page):
    # The page's layout changes with "My notes" open (a side column folds away): the text widens
    # into the space the panel docked in, and the panel must not cover it.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live.url}/trials/{SEED}")
    page.get_by_role("button", name="My notes").click()
    expect(page.get_by_role("dialog", name="My notes")).to_be_visible()
    page.evaluate(
        "() => { const r = document.querySelector('[data-notes-root]');"
        " r.style.maxWidth = 'none'; r.style.width = '1000px'; r.style.marginLeft = '0'; }"
    )
    page.wait_for_timeout(500)
    boxes = page.evaluate(BOXES)
    page.screenshot(path="/tmp/wn-dock-widened.png")
    # Docked clear of the text, else a bottom sheet (as at 390 px).
    sheet = page.evaluate(
        "() => document.querySelector('trial-notes-widget').shadowRoot"
        ".querySelector('dialog.panel').classList.contains('bottom-sheet')"
    )
    assert sheet or not overlaps(boxes["panel"], boxes["root"]), boxes
