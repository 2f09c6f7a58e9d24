"""One notebook on two browsers: a link code from A, B sees and edits A's notes, A removes B."""

from __future__ import annotations

import re

from browser.page_tools import wait_for_highlights
from browser.test_journey import add_note
from playwright.sync_api import expect
from support import CIRRHOSIS, SEED, new_owner

REMOVED = "This browser\u2019s access to the notebook was removed"


def token_of(page, live) -> str | None:
    return page.evaluate("(k) => localStorage.getItem(k)", f"trial-notes:token:{live.url}")


def link_code(page) -> tuple[str, object]:
    """On a browser with notes: My notes, Link another device; the code shown and its dialog."""
    page.get_by_role("button", name="My notes").click()
    page.get_by_role("button", name="Link another device").click()
    dialog = page.get_by_role("dialog", name="Link another device")
    expect(dialog.get_by_role("timer")).to_have_text(re.compile(r"Expires in (10:00|9:\d\d)"))
    code = dialog.get_by_role("textbox", name="Link code").input_value()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", code), code
    expect(dialog.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    return code, dialog


def use_link_code(page, code: str) -> None:
    page.get_by_role("button", name="My notes").click()
    page.get_by_role("button", name="Use a link code").click()
    page.get_by_role("textbox", name="Link code").fill(code)
    page.get_by_role("button", name="Link this browser").click()


def test_link_a_second_browser_edit_there_then_remove_it(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "asked on the laptop")
    code, dialog = link_code(page)
    dialog.get_by_role("button", name="Close").click()

    phone_context = browser.new_context()
    phone = phone_context.new_page()
    phone.goto(f"{live.url}/trials/{SEED}")
    use_link_code(phone, code.lower().replace("-", " "))  # typed loosely on a phone
    assert wait_for_highlights(phone, 1) == [CIRRHOSIS]
    assert token_of(phone, live) != token_of(page, live), "each device has its own token"

    # B edits A's note; A sees the edit.
    phone.get_by_role("dialog", name="My notes").get_by_role("button", name=re.compile("^Open note")).click()
    phone.get_by_role("dialog", name="Your note").get_by_role("button", name="Edit").click()
    phone.get_by_role("textbox", name="Note").fill("answered on the phone")
    phone.get_by_role("button", name="Save", exact=True).click()
    expect(phone.get_by_role("dialog", name="Edit note")).to_be_hidden()
    page.reload()
    wait_for_highlights(page, 1)
    page.get_by_role("button", name="My notes").click()
    expect(page.get_by_role("dialog", name="My notes").get_by_text("answered on the phone")).to_be_visible()

    # A's devices: two, A marked as this browser; A removes B, after a question.
    page.get_by_role("button", name="Devices", exact=True).click()
    devices = page.get_by_role("dialog", name="Your devices")
    expect(devices.get_by_role("listitem")).to_have_count(2)
    expect(devices.get_by_role("listitem").filter(has_text="this browser")).to_have_count(1)
    other = devices.get_by_role("listitem").filter(has_not_text="this browser")
    expect(other).to_contain_text("Chrome")  # the name B's browser gave
    other.get_by_role("button", name=re.compile("^Remove")).click()
    expect(devices.get_by_text(re.compile(r"It can no longer open your notes"))).to_be_visible()
    devices.get_by_role("button", name="Yes, remove").click()
    expect(devices.get_by_role("listitem")).to_have_count(1)

    # B is told its access ended, and offered a way back.
    phone.reload()
    toast = phone.get_by_role("alert").filter(has_text=REMOVED)
    expect(toast).to_be_visible()
    expect(phone.get_by_role("button", name="Use a link code")).to_be_visible()
    expect(phone.get_by_role("button", name="Use another recovery key")).to_be_visible()
    assert phone.evaluate("CSS.highlights.get('trial-notes-yellow')?.size ?? 0") == 0
    phone_context.close()
    assert page.js_errors == []


def test_a_code_works_once(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "mine")
    code, _dialog = link_code(page)
    contexts = [browser.new_context() for _ in range(2)]
    first, second = (c.new_page() for c in contexts)
    for other in (first, second):
        other.goto(f"{live.url}/trials/{SEED}")
    use_link_code(first, code)
    wait_for_highlights(first, 1)
    use_link_code(second, code)
    dialog = second.get_by_role("dialog", name="Use a link code")
    expect(dialog.get_by_role("alert")).to_contain_text("Make a new one on your other device")
    assert token_of(second, live) is None, "a refused code changes nothing"
    for c in contexts:
        c.close()


def test_the_qr_code_url_links_on_the_link_page_with_one_click_and_leaves_no_code_in_the_address(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "scanned")
    code, _dialog = link_code(page)
    context = browser.new_context()
    phone = context.new_page()
    url = f"{live.url}/link#code={code}"
    phone.goto(url)
    linked = phone.get_by_role("dialog", name="Use a link code")
    expect(linked.get_by_role("textbox", name="Link code")).to_have_value(code)
    # A browser with no notes of its own is warned of nothing; the one click is the reader's.
    expect(linked.get_by_text(re.compile("has notes of its own"))).to_be_hidden()
    button = linked.get_by_role("button", name="Link this browser")
    expect(button).to_be_focused()
    button.click()
    expect(linked.get_by_text("This browser is linked to your notebook.")).to_be_visible()
    assert phone.evaluate("location.hash") == ""
    assert code not in phone.evaluate("location.href")
    phone.goto(f"{live.url}/trials/{SEED}")
    assert wait_for_highlights(phone, 1) == [CIRRHOSIS]
    context.close()


def test_removing_this_browser_asks_in_plain_words_and_forgets_its_token(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "only here")
    page.get_by_role("button", name="My notes").click()
    page.get_by_role("button", name="Devices", exact=True).click()
    devices = page.get_by_role("dialog", name="Your devices")
    devices.get_by_role("button", name=re.compile("^Remove")).click()
    expect(devices.get_by_text(re.compile("the notebook and all its notes are deleted for good"))).to_be_visible()
    devices.get_by_role("button", name="Keep it").click()
    expect(devices.get_by_role("button", name="Yes, remove")).to_be_hidden()
    devices.get_by_role("button", name=re.compile("^Remove")).click()
    devices.get_by_role("button", name="Yes, remove").click()
    expect(devices).to_be_hidden()
    assert token_of(page, live) is None
    wait_for_highlights(page, 0)


def test_linking_a_browser_that_has_notes_of_its_own_moves_them_in(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "from the laptop")
    code, _dialog = link_code(page)
    context = browser.new_context()
    phone = context.new_page()
    phone.goto(f"{live.url}/trials/{SEED}")
    add_note(phone, "Systemic Sclerosis", "from the phone, before linking")
    phone.get_by_role("button", name="Not now").click()
    phone_own = token_of(phone, live)
    use_link_code(phone, code)
    dialog = phone.get_by_role("dialog", name="Use a link code")
    expect(dialog).to_be_hidden()
    assert sorted(wait_for_highlights(phone, 2)) == sorted([CIRRHOSIS, "Systemic Sclerosis"])
    assert token_of(phone, live) != phone_own
    page.reload()
    assert len(wait_for_highlights(page, 2)) == 2, "the phone's own note moved into the shared notebook"
    context.close()


def test_a_link_whose_notes_cannot_move_changes_nothing(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "from the laptop")
    code, dialog = link_code(page)
    dialog.get_by_role("button", name="Close").click()
    context = browser.new_context()
    phone = context.new_page()
    phone.goto(f"{live.url}/trials/{SEED}")
    add_note(phone, "Systemic Sclerosis", "the phone's own")
    phone.get_by_role("button", name="Not now").click()
    phone_own = token_of(phone, live)
    problem = {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": "Try again soon."}
    phone.route("**/api/v1/notebooks/me/imports", lambda route: route.fulfill(status=503, json=problem))
    use_link_code(phone, code)
    expect(phone.get_by_role("dialog", name="Use a link code").get_by_role("alert")).to_contain_text("Try again soon.")
    assert token_of(phone, live) == phone_own, "the phone stays on its own notebook"
    assert wait_for_highlights(phone, 1) == ["Systemic Sclerosis"]
    page.get_by_role("button", name="Devices", exact=True).click()
    devices = page.get_by_role("dialog", name="Your devices")
    expect(devices.get_by_role("listitem")).to_have_count(1)  # the half-made device was taken back
    context.close()


def test_linking_a_browser_already_on_that_notebook_just_links(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "one notebook")
    key = token_of(page, live)
    code, _dialog = link_code(page)
    context = browser.new_context()
    other = context.new_page()
    other.goto(f"{live.url}/trials/{SEED}")
    other.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", key])
    other.reload()
    wait_for_highlights(other, 1)
    use_link_code(other, code)
    expect(other.get_by_role("dialog", name="Use a link code")).to_be_hidden()
    assert token_of(other, live) != key, "its own device token now, not the laptop's"
    assert wait_for_highlights(other, 1) == [CIRRHOSIS]
    context.close()


def test_a_link_someone_else_sent_only_fills_the_code_and_warns_before_the_click(live, page):
    # Opening `/link#code=…` with their code must not link this browser to their notebook (moving
    # its notes there, deleting its own) without a word: the code fills the form, the warning that
    # this browser's notes move shows above the button, and nothing happens until it is pressed.
    client = live.app.test_client()
    mine = new_owner(client)
    mine.add_note(exact=CIRRHOSIS, body="my own diagnosis")
    theirs = new_owner(client)
    status, made = theirs.call("POST", "/api/v1/notebooks/me/link-codes", {})
    assert status == 201, made
    page.goto(f"{live.url}/trials/{SEED}")  # not /link: going there with a fragment added would not reload it
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", mine.token])
    page.goto(f"{live.url}/link#code={made['code']}")
    dialog = page.get_by_role("dialog", name="Use a link code")
    expect(dialog.get_by_role("textbox", name="Link code")).to_have_value(made["code"])
    warning = dialog.get_by_text(re.compile("has notes of its own already"))
    expect(warning).to_be_visible()
    button = dialog.get_by_role("button", name="Link this browser")
    expect(button).to_be_focused()
    expect(button).to_have_accessible_description(re.compile("moved into the notebook you link to"))
    assert page.evaluate("location.hash") == ""
    page.wait_for_timeout(1000)  # time enough for a redeem and a move, were one sent
    assert theirs.notes() == []
    assert [n["body"] for n in mine.notes()] == ["my own diagnosis"]
    assert token_of(page, live) == mine.token
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert theirs.notes() == [] and token_of(page, live) == mine.token

    # A code in the fragment of any other page of the service opens nothing.
    page.goto(f"{live.url}/trials/{SEED}#code={made['code']}")
    wait_for_highlights(page, 1)
    expect(page.get_by_role("dialog", name="Use a link code")).to_be_hidden()
    assert theirs.notes() == []
    assert page.js_errors == []


def test_the_link_page_asks_for_no_replies_and_shows_no_error(live, page):
    # The /link page has no trial: the widget loads no notes and asks for no trial's replies.
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="kept elsewhere")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/api/" in request.url else None)
    page.goto(f"{live.url}/link")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.reload()
    expect(page.get_by_role("button", name="My notes")).to_be_visible()
    page.wait_for_timeout(1500)  # the replies module comes after the (empty) first draw
    assert not [url for url in asked if "/replies" in url], asked
    toast = page.evaluate(
        "document.querySelector('trial-notes-widget').shadowRoot.querySelector('.toast .alert').textContent"
    )
    assert toast == ""
    assert page.js_errors == []
