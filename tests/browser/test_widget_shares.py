"""'My shares' in the widget, in Chromium: each link's notes as text, Unlock, Revoke and Delete asked first, paging."""

from __future__ import annotations

from pathlib import Path

from browser.page_tools import wait_for_highlights
from playwright.sync_api import expect
from support import CIRRHOSIS, SEED, Owner, new_owner

SHOTS = Path("/tmp/fw-shots")


def token_of(share: dict) -> str:
    return share["url"].rsplit("/s/", 1)[1]


def lock(owner: Owner, share: dict) -> None:
    """Wrong passcodes through the API until the share is locked."""
    for _ in range(10):
        status, _ = owner.api.call("POST", f"/api/v1/shared/{token_of(share)}", body={"passcode": "not-the-code"})
        if status == 423:
            return
    raise AssertionError("ten wrong passcodes did not lock the share")


def open_my_shares(page, live, owner: Owner, notes: int):
    page.goto(f"{live.url}/trials/{SEED}")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.reload()
    wait_for_highlights(page, notes)
    page.get_by_role("button", name="My notes").click()
    page.get_by_role("button", name="Share").click()
    dialog = page.get_by_role("dialog", name="Share notes")
    expect(dialog.locator(".shares > li").first).not_to_have_text("Loading…")
    return dialog


def family_opens(browser, live, share: dict, passcode: str, text: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    family = context.new_page()
    family.goto(f"{live.url}/s/{token_of(share)}")
    family.get_by_label("Passcode", exact=True).fill(passcode)
    family.get_by_role("button", name="Open the notes").click()
    expect(family.get_by_text(text)).to_be_visible()
    context.close()


def family_can_reply(browser, link: str, passcode: str) -> bool:
    """Whether the share page offers the family a Reply form (the page needs no script)."""
    context = browser.new_context(java_script_enabled=False)
    family = context.new_page()
    family.goto(link)
    expect(family.get_by_text("Maria shared notes with you")).to_be_visible()  # the sender name, before the passcode
    family.get_by_label("Passcode", exact=True).fill(passcode)
    family.get_by_role("button", name="Open the notes").click()
    expect(family.get_by_text("Ask Dr. Lee")).to_be_visible()
    offered = family.get_by_text("Reply", exact=True).count() > 0  # the summary that opens the form
    context.close()
    return offered


def test_a_locked_link_is_unlocked_from_the_widget_and_opens_again(live, page, browser):
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="Ask Dr. Lee about the liver tests")
    share = owner.share(passcode="family-code-1")
    lock(owner, share)
    dialog = open_my_shares(page, live, owner, 1)
    item = dialog.locator(".shares > li").first
    expect(item).to_contain_text("Locked after too many wrong passcodes")
    expect(item).to_contain_text("Ask Dr. Lee about the liver tests")  # the note's text, not a number
    expect(item).to_contain_text(CIRRHOSIS)
    expect(item).to_contain_text("0 views")
    page.set_viewport_size({"width": 1280, "height": 900})
    item.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "shares-locked-1280.png"))
    item.get_by_role("button", name="Unlock").click()
    expect(item).to_contain_text("Open: they can read it with the passcode")
    expect(item.get_by_role("button", name="Unlock")).to_have_count(0)
    expect(dialog.get_by_role("status")).to_have_text("Link unlocked: the passcode works again.")
    assert owner.call("GET", f"/api/v1/shares/{share['id']}")[1]["state"] == "active"
    family_opens(browser, live, share, "family-code-1", "Ask Dr. Lee about the liver tests")
    assert page.js_errors == []


def test_revoke_asks_first(live, page):
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="first")
    share = owner.share(passcode="family-code-1")
    dialog = open_my_shares(page, live, owner, 1)
    item = dialog.locator(".shares > li").first
    item.get_by_role("button", name="Revoke").click()
    expect(item.get_by_role("button", name="Yes, revoke")).to_be_visible()
    assert owner.call("GET", f"/api/v1/shares/{share['id']}")[1]["state"] == "active"  # asked, not done
    item.get_by_role("button", name="Keep link").click()
    expect(item.get_by_role("button", name="Yes, revoke")).to_be_hidden()
    assert owner.call("GET", f"/api/v1/shares/{share['id']}")[1]["state"] == "active"
    item.get_by_role("button", name="Revoke").click()
    item.get_by_role("button", name="Yes, revoke").click()
    expect(item).to_contain_text("Revoked: the link no longer opens")
    expect(item.get_by_role("button", name="Revoke")).to_have_count(0)
    assert owner.call("GET", f"/api/v1/shares/{share['id']}")[1]["state"] == "revoked"
    # A revoked link can still be deleted for good, which frees its place.
    item.get_by_role("button", name="Delete").click()
    item.get_by_role("button", name="Yes, delete").click()
    expect(dialog.get_by_role("status")).to_have_text("Link deleted.")
    expect(dialog.locator(".shares > li")).to_have_text(["No links yet."])
    assert owner.call("GET", f"/api/v1/shares/{share['id']}")[0] == 404
    assert page.js_errors == []


def test_my_shares_counts_in_words_and_pages_on(live, page, browser):
    owner = new_owner(live.app.test_client())
    first = owner.add_note(exact=CIRRHOSIS, body="one")
    owner.add_note(exact="Systemic Sclerosis", body="two")
    owner.share(passcode="family-code-1", note_ids=[first["id"]])
    for _ in range(20):
        owner.share(passcode="family-code-1")
    dialog = open_my_shares(page, live, owner, 2)
    items = dialog.locator(".shares > li")
    expect(items).to_have_count(20)  # the newest page
    expect(items.first).to_contain_text("0 views")
    more = dialog.get_by_role("button", name="Show more links")
    more.click()
    expect(items).to_have_count(21)
    expect(more).to_be_hidden()
    oldest = items.last
    expect(oldest.locator(".shared-notes li")).to_have_count(1)
    expect(items.first.locator(".shared-notes li")).to_have_count(2)
    assert "note(s)" not in dialog.inner_text()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    dialog = open_my_shares(phone, live, owner, 2)
    dialog.get_by_role("textbox", name="Label for you").scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "share-form-390.png"))
    dialog.locator(".shares > li").first.scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "shares-390.png"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_a_link_with_a_name_a_label_and_no_replies_then_replies_turned_on(live, page, browser):
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="Ask Dr. Lee")
    dialog = open_my_shares(page, live, owner, 1)
    expect(dialog.get_by_text("No links yet.")).to_be_visible()
    dialog.get_by_role("textbox", name="Your name (shown to them)").fill("Maria")
    dialog.get_by_role("textbox", name="Label for you").fill("For Mom")
    reply_box = dialog.get_by_role("checkbox", name="Let them reply")
    expect(reply_box.first).to_be_checked()  # on by default
    reply_box.first.uncheck()
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.get_by_role("textbox", name="Link")).to_be_visible()
    item = dialog.locator(".shares > li").first
    expect(item.get_by_role("heading", name="For Mom")).to_be_visible()
    expect(item).to_contain_text("Shown as from Maria")
    (created,) = owner.call("GET", f"/api/v1/shares?trial_id={SEED}")[1]["shares"]
    assert created["label"] == "For Mom" and created["sender_name"] == "Maria"
    assert created["replies_allowed"] is False
    link = dialog.get_by_role("textbox", name="Link").input_value()
    passcode = dialog.get_by_role("textbox", name="Passcode").input_value()
    assert family_can_reply(browser, link, passcode) is False
    toggle = item.get_by_role("checkbox", name="Let them reply")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(dialog.get_by_role("status")).to_have_text("They can reply.")
    assert owner.call("GET", f"/api/v1/shares/{created['id']}")[1]["replies_allowed"] is True
    assert family_can_reply(browser, link, passcode) is True
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "share-form-1280.png"))
