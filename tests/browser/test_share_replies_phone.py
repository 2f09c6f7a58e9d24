"""The family answers a shared note on a phone, in Chromium, with JavaScript off and on.

On a 390 px phone: the passcode form names the sender; each note has a "Reply" control
(a <details>, so no script is needed) with "Your reply", an optional "Your name" and
"Send reply"; sending goes back to the note, which lists the reply. Each new state (the
sender's form, the open reply form, a note with replies, a reply refused, replies off)
has no axe-core violation, tap targets of at least 44 by 44 CSS px and no sideways scroll
at 320 px with the text at 200 %. Hostile markup in a name or a reply runs nothing.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser.test_share_page_phone import IMMUNODEFICIENCY, PHONE, check_state
from playwright.sync_api import Browser, Page, expect
from support import CIRRHOSIS, new_owner

PASSCODE = "Grandma Rose 1950"


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def make_share(live, **options):
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="<p>Ask the <b>hepatologist</b> about Mom's scan.</p>", color="purple")
    owner.add_note(exact=IMMUNODEFICIENCY, body="Does her condition count?", color="blue")
    share = owner.share(passcode=PASSCODE, **options)
    return owner, share


def open_share(page: Page, live, share) -> None:
    page.goto(share["url"].replace("http://localhost", live.url))
    page.fill("#passcode", PASSCODE)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("ALLO-329")


def write_reply(page: Page, note: int, text: str, name: str | None = None) -> None:
    form = page.locator(f"#note-{note} details.reply-form")
    form.locator("summary").tap()
    form.get_by_label("Your reply").fill(text)
    if name is not None:
        form.get_by_label("Your name").fill(name)
    form.get_by_role("button", name="Send reply").tap()


def phone_page(browser: Browser, javascript: bool):
    context = browser.new_context(java_script_enabled=javascript, **PHONE)
    page = context.new_page()
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.alerts = alerts  # type: ignore[attr-defined]
    return context, page


@pytest.fixture
def phone(browser: Browser):
    context, page = phone_page(browser, javascript=True)
    yield page
    context.close()


@pytest.fixture(params=[True, False], ids=["javascript on", "javascript off"])
def any_phone(request, browser: Browser):
    context, page = phone_page(browser, javascript=request.param)
    page.javascript = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


def test_the_family_replies_to_a_note_on_a_phone(live, any_phone, axe):
    phone = any_phone

    def check(page: Page) -> None:
        # axe-core runs in the page, on its timers: with JavaScript off it never finishes. The
        # markup is the same either way (no script of ours adds to it), so it is checked once.
        if page.javascript:  # type: ignore[attr-defined]
            check_state(axe, page)

    owner, share = make_share(live, sender_name="Maria", label="For Mom")
    phone.goto(share["url"].replace("http://localhost", live.url))
    expect(phone.locator("h1")).to_have_text("Maria shared notes with you")
    assert "For Mom" not in phone.content() and "ALLO-329" not in phone.content()
    check(phone)
    open_share(phone, live, share)
    note = phone.locator("#note-2")
    expect(note.locator("details.reply-form summary")).to_have_text("Reply")
    note.locator("details.reply-form summary").tap()
    expect(note.get_by_label("Your reply")).to_be_visible()
    check(phone)  # the open reply form
    note.get_by_label("Your reply").fill("Ask the doctor about this at Tuesday's visit.")
    note.get_by_label("Your name").fill("Rose")
    note.get_by_role("button", name="Send reply").tap()
    # Back on the note it answers, which now lists it.
    expect(phone).to_have_url(f"{live.url}/s/{share['url'].rsplit('/s/', 1)[1]}#note-2")
    expect(note.locator(".reply")).to_have_count(1)
    expect(note.locator(".reply-name")).to_have_text("Rose")
    expect(note.locator(".reply-body")).to_have_text("Ask the doctor about this at Tuesday's visit.")
    expect(note.locator(".replies-count")).to_have_text("1 reply")
    assert 0 <= note.bounding_box()["y"] <= 844 / 2  # the note is in view after the redirect
    check(phone)  # a note with a reply
    # A second, nameless reply.
    write_reply(phone, 2, "And bring the scan.")
    expect(note.locator(".reply")).to_have_count(2)
    expect(note.locator(".reply-name").nth(1)).to_have_text("Someone with the link")
    expect(note.locator(".replies-count")).to_have_text("2 replies")
    # The patient sees both.
    listed = owner.client.get("/api/v1/trials/NCT07085104/replies", headers=owner.headers).get_json()["replies"]
    assert [(r["name"], r["unread"]) for r in listed] == [(None, True), ("Rose", True)]


def test_a_refused_reply_keeps_what_was_typed_and_replies_off_show_no_control(live, phone, axe):
    owner, share = make_share(live)
    open_share(phone, live, share)
    write_reply(phone, 1, "<script>only()</script>")
    expect(phone.locator("#note-1 .notice")).to_contain_text("Your reply was not sent")
    expect(phone.locator("#note-1 details.reply-form")).to_have_attribute("open", "")
    assert phone.locator("#note-1 textarea").input_value() == "<script>only()</script>"
    check_state(axe, phone)  # the form again, with why
    owner.client.patch(f"/api/v1/shares/{share['id']}", headers=owner.headers, json={"replies_allowed": False})
    phone.reload()
    expect(phone.locator("details.reply-form")).to_have_count(0)
    check_state(axe, phone)  # replies off


def test_hostile_markup_in_names_and_replies_runs_nothing(live, phone, axe):
    _owner, share = make_share(live, sender_name='<img src=x onerror="alert(1)">Maria')
    phone.goto(share["url"].replace("http://localhost", live.url))
    expect(phone.locator("h1")).to_have_text("Maria shared notes with you")
    open_share(phone, live, share)
    write_reply(
        phone,
        1,
        '<img src=x onerror="alert(2)"><p onclick="alert(3)">Hi</p><script>alert(4)</script>'
        '<a href="javascript:alert(5)">link</a>',
        name='<svg onload="alert(6)"></svg>Rose',
    )
    note = phone.locator("#note-1")
    expect(note.locator(".reply-name")).to_have_text("Rose")
    expect(note.locator(".reply-body")).to_have_text("Hilink")
    assert note.locator(".reply-body img, .reply-body script, .reply-body [onclick], .reply-body a[href]").count() == 0
    note.locator(".reply-body").tap()
    assert phone.alerts == []  # type: ignore[attr-defined]
    check_state(axe, phone)


# Where the first and the last character of an element's text are drawn, left to right.
CHARACTER_EDGES = """element => {
    const text = element.firstChild;
    const at = i => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                      return r.getBoundingClientRect().left; };
    return [at(0), at(text.length - 1)];
}"""


@pytest.mark.parametrize(
    ("language", "name"), [("ar", "Maria (Mom)!"), ("en", "\u0631\u0646\u0627 (\u0623\u0645\u064a)!")]
)
def test_a_name_keeps_its_own_direction_in_a_page_of_the_other(live, phone, language, name):
    # A name is isolated and takes the direction of its first letter (as <bdi>, DESIGN's dir="auto"):
    # a Latin name's closing parenthesis and "!" stay at its end in an Arabic page, and back.
    _owner, share = make_share(live, sender_name=name, language=language)
    phone.goto(share["url"].replace("http://localhost", live.url))
    first, last = phone.locator(".sender-name").evaluate(CHARACTER_EDGES)
    assert (first < last) == (language == "ar"), (first, last)
    first, last = phone.locator(".sender-name-inline").evaluate(CHARACTER_EDGES)
    assert (first < last) == (language == "ar"), (first, last)
    phone.fill("#passcode", PASSCODE)
    phone.click("button[type=submit]")
    form = phone.locator("#note-1 details.reply-form")
    form.locator("summary").tap()
    form.locator("textarea").fill("Hi")
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").tap()
    first, last = phone.locator("#note-1 .reply-name").evaluate(CHARACTER_EDGES)
    assert (first < last) == (language == "ar"), (first, last)
