"""Our pages in each language on a phone: axe-core clean (Arabic's right-to-left included), nothing clipped.

The share pages too, in the language the patient chose when sharing: the passcode form, a wrong
passcode, the notes with a reply written there, a revoked and an unknown link, with no English
control left (screenshots in /tmp/i18n-shots, to look at).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser.test_share_page_phone import IMMUNODEFICIENCY, PASSCODE, PHONE
from playwright.sync_api import expect
from support import CIRRHOSIS, SEED, new_owner

LANGS = ("en", "es", "ar")
PAGES = ("/?q=lupus", f"/trials/{SEED}", "/trials/NCT00000000")


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_each_page_in_each_language_reads_on_a_phone(live, phone, axe, lang):
    for path in PAGES:
        sep = "&" if "?" in path else "?"
        phone.goto(f"{live.url}{path}{sep}lang={lang}")
        assert phone.evaluate("document.documentElement.lang") == lang
        assert phone.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
        violations = axe.run(phone).response["violations"]
        assert [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations] == [], path
        # No word runs off the screen: nothing scrolls sideways.
        assert phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


def test_the_language_switch_keeps_the_reader_on_the_page(live, phone):
    phone.goto(f"{live.url}/trials/{SEED}")
    phone.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    # A click does not wait for the navigation it starts: wait for the page it leads to.
    expect(phone).to_have_url(re.compile(rf"/trials/{SEED}\?lang=es$"))
    expect(phone.get_by_role("link", name="Todos los estudios")).to_be_visible()
    # Remembered: the next page is Spanish without asking again.
    phone.get_by_role("link", name="Todos los estudios").click()
    expect(phone).to_have_url(f"{live.url}/")
    expect(phone.locator("html")).to_have_attribute("lang", "es")


# -- The share page, in the language the patient chose ---------------------------------------

# Controls a reader meets on the share pages, in English: none may be left in Spanish or Arabic.
ENGLISH_CONTROLS = (
    "Passcode",
    "Show passcode",
    "Open the notes",
    "Reply",
    "Your reply",
    "Your name",
    "Send reply",
    "Show in the trial text",
    "Skip to content",
    "Next notes",
)
# Every control's visible words and accessible name on the page.
CONTROL_WORDS = """
() => [...document.querySelectorAll('a[href], button, summary, label, input, textarea, [role=alert], h1, h2')]
  .filter(el => el.getClientRects().length || el.closest('details'))
  .flatMap(el => [el.textContent, el.getAttribute('aria-label') || '', el.value || ''])
  .map(words => words.trim()).filter(Boolean)
"""
REPLY = {"es": ("¿Le preguntamos al médico el jueves?", "Lucía"), "ar": ("هل نسأل الطبيب يوم الخميس؟", "ليلى")}
SHOTS = Path("/tmp/i18n-shots")


def english_left(page) -> list[str]:
    words = page.evaluate(CONTROL_WORDS)
    return [control for control in ENGLISH_CONTROLS if any(re.search(rf"\b{control}\b", w) for w in words)]


def check_share_state(page, axe, lang: str, state: str) -> None:
    assert page.evaluate("document.documentElement.lang") == lang, state
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr"), state
    violations = axe.run(page).response["violations"]
    assert [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations] == [], state
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0, state
    assert english_left(page) == [], state
    # The language switch stays on every share page.
    assert page.get_by_role("navigation", name=LANGUAGE_NAV[lang]).is_visible(), state
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"share-{lang}-{state}.png"), full_page=state != "opened")


LANGUAGE_NAV = {"es": "Idioma", "ar": "اللغة"}


@pytest.mark.parametrize("lang", ["es", "ar"])
def test_a_share_made_in_a_language_opens_reads_and_answers_in_it(live, phone, axe, lang):
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body=f"<p>{REPLY[lang][0]}</p>", color="purple")
    owner.add_note(exact=IMMUNODEFICIENCY, body="<li>Does her condition count?", color="blue")
    share = owner.share(passcode=PASSCODE, sender_name="María" if lang == "es" else "مريم", language=lang)
    path = "/s/" + share["url"].rsplit("/s/", 1)[1]
    phone.set_extra_http_headers({"Accept-Language": "en-US,en;q=0.9"})  # the share's language wins over it

    phone.goto(live.url + path)
    check_share_state(phone, axe, lang, "form")
    phone.fill("#passcode", "not the passcode")
    phone.locator("button[type=submit]").tap()
    expect(phone.locator("#passcode-error")).to_be_visible()
    check_share_state(phone, axe, lang, "wrong-passcode")

    phone.fill("#passcode", PASSCODE)
    phone.locator("button[type=submit]").tap()
    expect(phone.locator("h1")).to_contain_text("ALLO-329")
    reply, name = REPLY[lang]
    form = phone.locator("#note-1 details.reply-form")
    form.locator("summary").tap()
    form.locator("textarea").fill(reply)
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").tap()
    expect(phone.locator("#note-1 .reply-body")).to_have_text(reply)
    phone.locator("#note-2 details.reply-form summary").tap()  # an open form is checked too
    # Each note is whole: the second one's bare list item stays inside it.
    assert phone.locator("li.shared-note").count() == 2
    phone.locator("#note-1").scroll_into_view_if_needed()
    check_share_state(phone, axe, lang, "opened")
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=str(SHOTS / f"share-{lang}-opened-top.png"))
    phone.set_viewport_size({"width": 1280, "height": 900})  # the same page on a computer
    assert phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    phone.screenshot(path=str(SHOTS / f"share-{lang}-opened-1280.png"))
    phone.set_viewport_size(PHONE["viewport"])

    owner.call("DELETE", f"/api/v1/shares/{share['id']}")
    phone.goto(live.url + path)
    check_share_state(phone, axe, lang, "revoked")
    phone.goto(f"{live.url}/s/no-such-link?lang={lang}")
    check_share_state(phone, axe, lang, "unknown")


def test_the_reader_switches_a_shared_page_to_another_language(live, phone):
    owner = new_owner(live.app.test_client())
    owner.add_note()
    share = owner.share(passcode=PASSCODE, language="ar")
    phone.goto(share["url"].replace("http://localhost", live.url))
    phone.get_by_role("navigation", name="اللغة").get_by_role("link", name="Español").tap()
    expect(phone.get_by_label("Código de acceso")).to_be_visible()
    phone.fill("#passcode", PASSCODE)
    phone.get_by_role("button", name="Abrir las notas").tap()
    expect(phone.locator("#shared-notes-heading")).to_have_text("1 nota compartida")
    assert phone.evaluate("document.documentElement.dir") == "ltr"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_show_passcode_keeps_its_box_apart_from_its_words_either_way(live, phone, lang):
    owner = new_owner(live.app.test_client())
    owner.add_note()
    share = owner.share(passcode=PASSCODE, language=lang)
    phone.goto(share["url"].replace("http://localhost", live.url))
    box = phone.locator("#show-passcode").bounding_box()
    words = phone.locator("label[for=show-passcode]").bounding_box()
    field = phone.locator("#passcode").bounding_box()
    # The box starts the line where the field starts, its words a small gap after it, as the line reads.
    if lang == "ar":
        gap, edge = box["x"] - (words["x"] + words["width"]), (field["x"] + field["width"]) - (box["x"] + box["width"])
    else:
        gap, edge = words["x"] - (box["x"] + box["width"]), box["x"] - field["x"]
    assert gap >= 6 and abs(edge) <= 1, (gap, edge)
