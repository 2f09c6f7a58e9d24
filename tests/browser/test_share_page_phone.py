"""The family's share page on a phone, in Chromium: every state accessible, tappable, readable.

Each state of the page (the passcode form, a wrong passcode, the notes on their first and
a later page, a paused, a revoked and an unknown link) is checked the same way on a 390 px
phone (touch, device scale 3): axe-core finds no violation, every link, button and field
in the page is a tap target of at least 44 by 44 CSS px, and nothing scrolls sideways at
320 px with the text at 200 %. The notes page also: a passage jumped to lands below the top
edge with room above, the 30-minute notice is not printed. A double tap on "Open the notes"
opens them once, with the production Argon2.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from support import CIRRHOSIS, SEED, new_owner

from notes_service import registry

PASSCODE = "Grandma Rose 1950"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
MIN_TARGET = 44
IMMUNODEFICIENCY = "Any form of primary, inherited immunodeficiency"

# Links, buttons and fields in the page; the skip link sits off screen until focused, and a
# checkbox is tapped through its label (checked on its own).
SMALL_TARGETS = """
(min) => [...document.querySelectorAll('a[href], button, input:not([type=checkbox]):not([type=hidden])')]
  .filter(el => !el.classList.contains('skip-link') && el.getClientRects().length)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([, box]) => box.width < min || box.height < min)
  .map(([el, box]) => `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 30)}" `
                      + `${Math.round(box.width)}x${Math.round(box.height)}`)
"""


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def no_violations(axe: Axe, page: Page) -> list[str]:
    results = axe.run(page)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in results.response["violations"]]


def sideways_at_200_percent(page: Page) -> int:
    """How far the page scrolls sideways at 320 px with the text at 200 % (0 when it does not)."""
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.evaluate("document.documentElement.style.fontSize = ''")
    page.set_viewport_size(size)
    return overflow


def check_state(axe: Axe, page: Page) -> None:
    assert no_violations(axe, page) == []
    assert page.evaluate(SMALL_TARGETS, MIN_TARGET) == []
    assert sideways_at_200_percent(page) == 0


def make_share(live, notes: int = 2, passcode: str = PASSCODE) -> tuple[object, str, str]:
    owner = new_owner(live.app.test_client())
    ids = [
        owner.add_note(exact=CIRRHOSIS, body="<p>Ask the <b>hepatologist</b> about Mom's scan.</p>", color="purple")[
            "id"
        ],
        owner.add_note(exact=IMMUNODEFICIENCY, body="Does her condition count?", color="blue")["id"],
    ]
    ids += [owner.add_note(body=f"question {i}")["id"] for i in range(notes - 2)]
    share = owner.share(note_ids=ids, passcode=passcode)
    return owner, share["url"].rsplit("/s/", 1)[1], share["id"]


@pytest.fixture
def phone(browser: Browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    context.close()


def test_the_family_journey_on_a_phone(live, phone, axe):
    _, token, _ = make_share(live, notes=27)
    phone.goto(f"{live.url}/s/{token}")
    # The form: the passcode can be shown as typed, then hidden again.
    check_state(axe, phone)
    field = phone.locator("#passcode")
    phone.fill("#passcode", "wrong guess")
    assert field.get_attribute("type") == "password"
    label = phone.locator("label[for=show-passcode]")
    assert label.bounding_box()["height"] >= MIN_TARGET
    label.tap()
    assert field.get_attribute("type") == "text" and field.input_value() == "wrong guess"
    label.tap()
    assert field.get_attribute("type") == "password"
    # A wrong passcode says how many tries are left, in words.
    phone.click("button[type=submit]")
    expect(phone.locator(".notice")).to_contain_text("You have 4 more tries before the link pauses")
    check_state(axe, phone)
    phone.fill("#passcode", PASSCODE)
    phone.click("button[type=submit]")
    # The notes: the trial's title, its NCT number beneath, the notice calm and not printed.
    expect(phone.locator("h1")).to_contain_text("ALLO-329")
    assert phone.locator(".nct-id").inner_text() == SEED
    expect(phone.locator(".shared-notes > li")).to_have_count(25)
    assert phone.locator(".color-label").first.inner_text() == "Purple highlight"
    check_state(axe, phone)
    phone.emulate_media(media="print")
    expect(phone.locator(".session-note")).to_be_hidden()
    phone.emulate_media(media="screen")
    expect(phone.locator(".session-note")).to_be_visible()
    # Jumping to a passage and back to its note: each lands with room above it, fully in view.
    phone.locator("#note-2 .show-in-text").tap()
    expect(phone).to_have_url(f"{live.url}/s/{token}#mark-note-2")
    mark = phone.locator("#mark-note-2").bounding_box()
    assert 40 <= mark["y"] <= 844 / 2
    phone.locator("a.note-ref[href='#note-2']").tap()
    assert 40 <= phone.locator("#note-2").bounding_box()["y"] <= 844 / 2
    # The next page and back.
    phone.get_by_role("link", name="Next notes").tap()
    expect(phone.locator(".shared-notes > li")).to_have_count(2)
    check_state(axe, phone)
    phone.get_by_role("link", name="First notes").tap()
    expect(phone.locator("#note-1")).to_be_visible()


def test_every_other_state_of_the_link_is_accessible_on_a_phone(live, phone, axe):
    _, paused, _ = make_share(live)
    for _ in range(5):
        phone.goto(f"{live.url}/s/{paused}")
        phone.fill("#passcode", "not the code")
        phone.click("button[type=submit]")
    expect(phone.locator("h1")).to_have_text("This link is paused")
    check_state(axe, phone)
    revoked_owner, revoked, share_id = make_share(live)
    assert revoked_owner.client.delete(f"/api/v1/shares/{share_id}", headers=revoked_owner.headers).status_code == 204
    phone.goto(f"{live.url}/s/{revoked}")
    expect(phone.locator("h1")).to_have_text("This link no longer works")
    check_state(axe, phone)
    phone.goto(f"{live.url}/s/no-such-link-{'x' * 20}")
    expect(phone.locator("h1")).to_have_text("There is nothing at this link")
    check_state(axe, phone)


def test_without_javascript_the_form_opens_the_notes(live, browser: Browser):
    _, token, _ = make_share(live)
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live.url}/s/{token}")
        expect(page.locator(".show-passcode")).to_be_hidden()  # the switch needs the script
        page.fill("#passcode", PASSCODE)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_contain_text("ALLO-329")
        expect(page.locator(".shared-notes > li")).to_have_count(2)
    finally:
        context.close()


@pytest.mark.parametrize(
    "typed",
    [
        "grandma rose 1950",  # case
        "GrandmaRose1950",  # spaces
        "grandma-rose-1950",  # dashes for spaces
        # Full-width letters and digits, as some phone keyboards type (NFKC folds them).
        "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in "Grandma Rose 1950"),
    ],
)
def test_a_passcode_read_aloud_opens_however_it_is_typed(live, browser: Browser, typed):
    _, token, _ = make_share(live)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live.url}/s/{token}")
    page.locator("#passcode").press_sequentially(typed)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("ALLO-329")
    context.close()


def test_a_different_passcode_is_wrong_and_says_the_tries_left(live, phone):
    _, token, _ = make_share(live)
    phone.goto(f"{live.url}/s/{token}")
    phone.locator("#passcode").press_sequentially("Grandma Rose 1951")
    phone.click("button[type=submit]")
    expect(phone.locator(".notice")).to_contain_text("You have 4 more tries before the link pauses")


def test_a_double_tap_on_open_the_notes_opens_them_once(live, phone):
    # Production Argon2: the first check still runs when the second tap arrives, and the
    # gate's one place per client would answer that second POST "Service busy" (503).
    registry.of(live.app).password_hasher = PasswordHasher()
    owner, token, share_id = make_share(live)
    posts: list[str] = []
    phone.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    phone.goto(f"{live.url}/s/{token}")
    phone.fill("#passcode", PASSCODE)
    # Two touches on the button as a thumb makes them: the second lands once the first POST
    # is on its way (Playwright's own tap would wait for that navigation to end).
    box = phone.locator("button[type=submit]").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    phone.touchscreen.tap(x, y)
    phone.wait_for_timeout(50)
    phone.touchscreen.tap(x, y)
    expect(phone.locator("h1")).to_contain_text("ALLO-329")
    expect(phone.locator(".shared-notes > li")).to_have_count(2)
    assert posts == [f"{live.url}/s/{token}"]
    share = owner.client.get(f"/api/v1/shares/{share_id}", headers=owner.headers).get_json()
    assert share["views"] == 1


SENT = """
() => {
  const form = document.querySelector('form.passcode-form');
  const button = form.querySelector('button[type=submit]');
  return {busy: form.getAttribute('aria-busy'), marked: button.getAttribute('aria-disabled'),
          enabled: !button.disabled};
}
"""


def test_a_second_submit_is_ignored_until_the_page_comes_back_from_the_cache(live, phone):
    _, token, _ = make_share(live)
    phone.goto(f"{live.url}/s/{token}")
    phone.fill("#passcode", PASSCODE)
    # Listening on the window, after the page's own listener: note whether each submit went
    # through, then keep the page here as if the answer had not come yet.
    phone.evaluate(
        "window.prevented = []; window.addEventListener('submit', e => "
        "{ window.prevented.push(e.defaultPrevented); e.preventDefault(); })"
    )
    button = phone.locator("button[type=submit]")
    button.click()
    button.click(force=True)  # Playwright waits for an aria-disabled button; a thumb does not
    assert phone.evaluate("window.prevented") == [False, True]
    assert phone.evaluate(SENT) == {"busy": "true", "marked": "true", "enabled": True}
    # Back from the next page out of the back/forward cache: the form as it was, working again.
    phone.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    assert phone.evaluate(SENT) == {"busy": None, "marked": None, "enabled": True}
    button.click()
    assert phone.evaluate("window.prevented") == [False, True, False]
