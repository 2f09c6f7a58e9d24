"""The patient's journey in Chromium: select, note, reload, share, and the family reads it."""

from __future__ import annotations

from browser.page_tools import select_text, wait_for_highlights
from playwright.sync_api import expect
from support import CIRRHOSIS, SEED


def add_note(page, phrase: str, text: str) -> None:
    select_text(page, phrase)
    page.get_by_role("button", name="Add note").click()
    page.get_by_role("textbox", name="Note").fill(text)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog", name="New note")).to_be_hidden()


def share_all(page) -> tuple[str, str]:
    page.get_by_role("button", name="My notes").click()
    page.get_by_role("button", name="Share").click()
    page.get_by_role("button", name="Create link").click()
    link = page.get_by_role("textbox", name="Link").input_value()
    passcode = page.get_by_role("textbox", name="Passcode").input_value()
    return link, passcode


def family_reads(browser, link: str, passcode: str, note_text: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    family = context.new_page()
    family.goto(link)
    family.get_by_label("Passcode", exact=True).fill(passcode)
    family.get_by_role("button", name="Open the notes").click()
    expect(family.get_by_text(note_text)).to_be_visible()
    expect(family.locator("mark.hl").first).to_have_text(CIRRHOSIS)
    context.close()


def test_whole_journey_on_our_trial_page(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    expect(page.locator("trial-notes-widget")).to_have_count(1)
    add_note(page, CIRRHOSIS, "Does this exclude me? Ask Dr. Lee.")
    assert wait_for_highlights(page, 1) == [CIRRHOSIS]
    page.reload()
    assert wait_for_highlights(page, 1) == [CIRRHOSIS]
    link, passcode = share_all(page)
    assert f"{live.url}/s/" in link and len(passcode) >= 6
    family_reads(browser, link, passcode, "Does this exclude me? Ask Dr. Lee.")
    assert page.js_errors == []


def test_clicking_a_highlight_opens_its_note(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "liver question")
    wait_for_highlights(page, 1)
    box = page.locator("article li", has_text=CIRRHOSIS).bounding_box()
    marker = page.locator("article li", has_text=CIRRHOSIS).locator(".marker").bounding_box()
    page.mouse.click(marker["x"] + marker["width"] + 30, box["y"] + box["height"] / 2)
    dialog = page.get_by_role("dialog", name="Your note")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("liver question")).to_be_visible()
    dialog.get_by_role("button", name="Edit").click()
    page.get_by_role("textbox", name="Note").fill("liver question, answered")
    page.get_by_role("radio", name="Green").check()
    page.get_by_role("button", name="Save").click()
    # Saved once drawn in its new colour: a reload before that (a busy machine) left the old note.
    page.wait_for_function("() => CSS.highlights.get('trial-notes-green')?.size === 1")
    page.reload()
    wait_for_highlights(page, 1)
    assert page.evaluate("CSS.highlights.get('trial-notes-green').size") == 1


def test_widget_announces_each_anchoring_to_the_host_page(live, page):
    page.add_init_script(
        "window.__anchored = []; document.addEventListener('trial-notes:anchored', "
        "(event) => window.__anchored.push(event.detail));"
    )
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "timed")
    page.reload()
    wait_for_highlights(page, 1)
    page.wait_for_function("window.__anchored.some((d) => d.notes === 1)")
    detail = page.evaluate("window.__anchored.find((d) => d.notes === 1)")
    assert detail["anchored"] == 1 and 0 <= detail["ms"] < 5000


def test_host_dom_is_never_modified(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    before = page.evaluate("document.querySelector('[data-notes-root]').innerHTML")
    body_before = page.evaluate("[...document.body.children].map(e => e.tagName)")
    add_note(page, CIRRHOSIS, "note")
    add_note(page, "Systemic Sclerosis", "another")
    wait_for_highlights(page, 2)
    page.get_by_role("button", name="My notes").click()
    assert page.evaluate("document.querySelector('[data-notes-root]').innerHTML") == before
    body_after = page.evaluate("[...document.body.children].map(e => e.tagName)")
    assert body_after == [*body_before, "TRIAL-NOTES-WIDGET"] or body_after == body_before
    assert page.evaluate("document.querySelector('trial-notes-widget').shadowRoot.mode") == "open"


def test_my_notes_lists_in_page_order_and_jumps_to_passage(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, "Systemic Sclerosis", "later in the page")
    add_note(page, CIRRHOSIS, "earlier in the page")
    wait_for_highlights(page, 2)
    page.get_by_role("button", name="My notes").click()
    panel = page.get_by_role("dialog", name="My notes")
    names = panel.get_by_role("button", name="Go to highlight").all_inner_texts()
    assert len(names) == 2 and "Child-Pugh" in names[0]
    panel.get_by_role("button", name="Go to highlight").first.click()
    assert page.evaluate("getSelection().toString()") == CIRRHOSIS


def test_screen_readers_hear_where_a_highlight_starts_and_ends(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "spoken note")
    wait_for_highlights(page, 1)
    select_text(page, "Pugh")  # the caret moves into the highlighted passage
    status = page.get_by_role("status").filter(has_text="Highlighted passage")
    expect(status).to_contain_text("spoken note")
    select_text(page, "Symptomatic airway")  # and out of it
    expect(page.get_by_role("status").filter(has_text="End of highlighted passage")).to_have_count(1)


def test_touch_screen_journey(live, browser):
    context = browser.new_context(
        has_touch=True, is_mobile=True, viewport={"width": 390, "height": 844}, device_scale_factor=2
    )
    page = context.new_page()
    page.goto(f"{live.url}/trials/{SEED}")
    select_text(page, CIRRHOSIS)
    add = page.get_by_role("button", name="Add note")
    expect(add).to_be_visible()
    box = add.bounding_box()
    assert box["y"] + box["height"] >= 844 - 120, "a bar at the bottom of the screen on touch devices"
    add.tap()
    page.get_by_role("textbox", name="Note").fill("from my phone")
    page.get_by_role("button", name="Save").tap()
    assert wait_for_highlights(page, 1) == [CIRRHOSIS]
    item = page.locator("article li", has_text=CIRRHOSIS)
    item.scroll_into_view_if_needed()
    marker = item.locator(".marker").bounding_box()
    line = item.bounding_box()
    page.touchscreen.tap(marker["x"] + marker["width"] + 20, line["y"] + 10)
    expect(page.get_by_role("dialog", name="Your note")).to_be_visible()
    context.close()
