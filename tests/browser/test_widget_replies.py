"""The family's replies seen by the patient in the widget, in Chromium: the round trip from the
share page on a phone to the widget (count, unread marker, seen, deleted), and hostile markup in
names and replies inert."""

from __future__ import annotations

import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from browser.page_tools import wait_for_highlights, widget_catalog
from browser.test_hostile_notes import EXECUTABLE, FLAG_VECTORS, watch
from playwright.sync_api import expect
from support import CIRRHOSIS, SEED, Owner, new_owner

SHOTS = Path("/tmp/fw-shots")
PASSCODE = "family-code-1"


def token_of(share: dict) -> str:
    return share["url"].rsplit("/s/", 1)[1]


def widget_with(page, live, owner: Owner, notes: int = 1) -> None:
    page.goto(f"{live.url}/trials/{SEED}")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.reload()
    wait_for_highlights(page, notes)


def family_replies_on_a_phone(browser, live, share: dict, text: str, name: str) -> None:
    """The family opens the link on a phone and answers the note on the share page."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    family = context.new_page()
    family.goto(f"{live.url}/s/{token_of(share)}")
    family.get_by_label("Passcode", exact=True).fill(PASSCODE)
    family.get_by_role("button", name="Open the notes").click()
    family.get_by_text("Reply", exact=True).first.tap()
    family.get_by_label("Your reply").first.fill(text)
    family.get_by_label("Your name").first.fill(name)
    family.get_by_role("button", name="Send reply").first.tap()
    expect(family.locator(".reply-body").first).to_have_text(text)
    context.close()


def reply_through_the_api(owner: Owner, share: dict, note_id: str, body: str, name: str) -> None:
    """What the share page's form does, through the family's JSON API."""
    token = token_of(share)
    status, opened = owner.api.call("POST", f"/api/v1/shared/{token}", body={"passcode": PASSCODE})
    assert status == 200, opened
    status, answer = owner.api.call(
        "POST",
        f"/api/v1/shared/{token}/notes/{note_id}/replies",
        body={"session": opened["session"], "body": body, "name": name},
    )
    assert status == 201, answer


def replies_button(page):
    return page.get_by_role("dialog", name="My notes").get_by_role("button", name=re.compile(r"^Replies"))


def test_the_patient_sees_a_reply_after_a_reload_opens_it_and_deletes_it(live, page, browser):
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="Does this exclude me?")
    share = owner.share(passcode=PASSCODE)
    widget_with(page, live, owner)
    page.get_by_role("button", name="My notes").click()
    expect(replies_button(page)).to_have_count(0)  # none yet

    family_replies_on_a_phone(browser, live, share, "Ask the doctor about the liver tests", "Mom")

    page.reload()
    wait_for_highlights(page, 1)
    page.get_by_role("button", name="My notes").click()
    button = replies_button(page)
    expect(button).to_have_accessible_name("Replies: 1 reply, 1 new")
    expect(button.locator(".new")).to_have_text("1 new")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "replies-marker-1280.png"))
    button.click()
    dialog = page.get_by_role("dialog", name="Replies (1)")
    expect(dialog).to_contain_text("Mom")
    expect(dialog).to_contain_text("Ask the doctor about the liver tests")
    expect(dialog).to_contain_text(CIRRHOSIS)
    page.screenshot(path=str(SHOTS / "replies-dialog-1280.png"))
    dialog.get_by_role("button", name="Close").click()
    expect(replies_button(page)).to_have_accessible_name("Replies: 1 reply")  # seen: the marker is gone
    expect(replies_button(page).locator(".new")).to_have_count(0)

    page.reload()  # seen on the service, not only on this screen
    wait_for_highlights(page, 1)
    page.get_by_role("button", name="My notes").click()
    expect(replies_button(page)).to_have_accessible_name("Replies: 1 reply")
    replies_button(page).click()
    dialog = page.get_by_role("dialog", name=re.compile(r"^Replies \("))
    expect(dialog).to_have_accessible_name("Replies (1)")
    dialog.get_by_role("button", name="Delete reply from Mom").click()
    expect(dialog.get_by_role("button", name="Yes, delete reply")).to_be_visible()
    status, listed = owner.call("GET", f"/api/v1/trials/{SEED}/replies")
    assert status == 200 and len(listed["replies"]) == 1  # asked, not yet deleted
    dialog.get_by_role("button", name="Yes, delete reply").click()
    expect(dialog).to_contain_text("No replies left on this note.")
    expect(dialog).to_have_accessible_name("Replies (0)")
    assert owner.call("GET", f"/api/v1/trials/{SEED}/replies")[1]["replies"] == []
    dialog.get_by_role("button", name="Close").click()
    expect(replies_button(page)).to_have_count(0)
    assert page.js_errors == []


def test_replies_on_a_phone_fit_the_screen(live, browser):
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="Does this exclude me?")
    share = owner.share(passcode=PASSCODE)
    family_replies_on_a_phone(browser, live, share, ("We can ask on Tuesday. " * 8).strip(), "Grandma Rose")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    widget_with(phone, live, owner)
    phone.get_by_role("button", name="My notes").click()
    replies_button(phone).click()
    dialog = phone.get_by_role("dialog", name="Replies (1)")
    expect(dialog).to_contain_text("Grandma Rose")
    phone.screenshot(path=str(SHOTS / "replies-dialog-390.png"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    dialog.get_by_role("button", name="Close").tap()
    # The note's own dialog (a tap on the highlight, or "Open note") has the button too.
    phone.get_by_role("dialog", name="My notes").get_by_role("button", name="Open note").tap()
    note = phone.get_by_role("dialog", name="Your note")
    note.get_by_role("button", name="Replies: 1 reply").tap()
    expect(phone.get_by_role("dialog", name="Replies (1)")).to_contain_text("Grandma Rose")
    phone.screenshot(path=str(SHOTS / "replies-from-note-390.png"))
    phone.get_by_role("dialog", name="Replies (1)").get_by_role("button", name="Close").tap()
    expect(note.get_by_role("button", name="Replies: 1 reply")).to_be_focused()  # focus goes back
    context.close()


def test_in_arabic_the_new_replies_take_the_form_of_their_own_count(live, browser):
    # "Replies: 5 replies, 1 new": "new" agrees with 1, the replies with 5 (three Arabic forms apart).
    ar = widget_catalog("ar")
    owner = new_owner(live.app.test_client())
    note = owner.add_note(exact=CIRRHOSIS, body="هل يستبعدني هذا؟")
    share = owner.share(passcode=PASSCODE)
    for index in range(4):
        reply_through_the_api(owner, share, note["id"], f"رد {index}", "Mom")
    status, listed = owner.call("GET", f"/api/v1/trials/{SEED}/replies")
    seen = [reply["id"] for reply in listed["replies"]]
    assert status == 200 and len(seen) == 4
    assert owner.call("POST", f"/api/v1/trials/{SEED}/replies/seen", {"reply_ids": seen})[0] in (200, 204)
    reply_through_the_api(owner, share, note["id"], "رد جديد", "Mom")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(f"{live.url}/trials/{SEED}?lang=ar")
    phone.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    phone.reload()
    wait_for_highlights(phone, 1)
    phone.get_by_role("button", name=ar["myNotes"]).tap()
    five = phone.evaluate("new Intl.NumberFormat('ar').format(5)")
    button = phone.get_by_role("dialog", name=ar["myNotes"]).get_by_role("button", name=re.compile("^الردود"))
    expect(button).to_have_accessible_name(f"الردود: {five} ردود، واحد جديد")
    expect(button.locator(".new")).to_have_text("واحد جديد")
    button.scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "replies-marker-ar-390.png"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_hostile_markup_in_names_and_replies_is_inert_in_the_widget(live, page):
    owner = new_owner(live.app.test_client())
    note = owner.add_note(exact=CIRRHOSIS, body="plain")
    share = owner.share(passcode=PASSCODE)
    # Names are plain text on the service: an escaped tag arrives as the characters of a tag.
    hostile_name = "&lt;img src=x onerror=window.__pwned=1&gt;"
    for index, vector in enumerate(FLAG_VECTORS[:4]):
        reply_through_the_api(owner, share, note["id"], f"reply {index} {vector} ends", hostile_name)
    reply_through_the_api(owner, share, note["id"], "&lt;script&gt;window.__pwned=1&lt;/script&gt;", "Mom")
    dialogs = watch(page)
    widget_with(page, live, owner)
    page.get_by_role("button", name="My notes").click()
    replies_button(page).click()
    dialog = page.get_by_role("dialog", name="Replies (5)")
    expect(dialog.get_by_text("<img src=x onerror=window.__pwned=1>").first).to_be_visible()  # shown literally
    expect(dialog.get_by_text("<script>window.__pwned=1</script>")).to_be_visible()
    assert dialogs == []
    assert page.evaluate("window.__pwned === undefined")
    assert page.evaluate(EXECUTABLE, "widget") == []
    assert dialog.locator("img, script, svg, iframe, a").count() == 0


def test_my_shares_and_replies_have_no_axe_violation(live, page, browser):
    """axe-core (which looks inside the widget's open shadow root) on each new state."""
    axe = Axe()
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="Does this exclude me?")
    share = owner.share(passcode=PASSCODE, label="For Mom", sender_name="Maria")
    family_replies_on_a_phone(browser, live, share, "Ask the doctor", "Mom")
    owner.share(passcode=PASSCODE)  # an open link beside the locked one
    for _ in range(10):
        if owner.api.call("POST", f"/api/v1/shared/{token_of(share)}", body={"passcode": "wrong-code"})[0] == 423:
            break
    widget_with(page, live, owner)
    page.get_by_role("button", name="My notes").click()
    expect(replies_button(page).locator(".new")).to_have_count(1)
    states = {"My notes with a Replies marker": violations(axe, page)}
    replies_button(page).click()
    expect(page.get_by_role("dialog", name="Replies (1)")).to_be_visible()
    states["Replies"] = violations(axe, page)
    page.get_by_role("dialog", name="Replies (1)").get_by_role("button", name="Delete reply from Mom").click()
    states["Delete reply asked"] = violations(axe, page)
    page.keyboard.press("Escape")
    page.get_by_role("dialog", name="My notes").get_by_role("button", name="Share").click()
    dialog = page.get_by_role("dialog", name="Share notes")
    expect(dialog.get_by_role("button", name="Unlock")).to_be_visible()
    states["My shares, locked and open"] = violations(axe, page)
    dialog.get_by_role("button", name="Revoke").first.click()
    states["Revoke asked"] = violations(axe, page)
    assert states == {name: [] for name in states}


def violations(axe: Axe, page) -> list[str]:
    found = axe.run(page).response["violations"]
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in found]
