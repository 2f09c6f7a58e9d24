"""The widget in Spanish and Arabic, in Chromium: the panel and each dialog at 390 and 1280 px.

Every visible word comes from the language's catalog (no English sentence of the widget left on
screen), nothing is clipped or runs out of its box or the viewport, Arabic is right to left, and
the share dialog sends the language the family will read the share in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser.conftest import serve
from browser.page_tools import select_text, wait_for_highlights, widget_catalog
from browser.test_embedding import HOST_PAGE, trial_article
from browser.test_overlaps import click_on_text
from browser.test_widget_replies import PASSCODE, reply_through_the_api, violations
from playwright.sync_api import Locator, Page, expect
from support import CIRRHOSIS, MOVED, SEED, new_owner

SHOTS = Path("/tmp/fw-shots")

# Everything drawn inside the widget's shadow root that is cut off or sticks out: an element wider
# than its box that hides the rest, or one past the viewport's or its dialog's sides.
OVERFLOWS = """
() => {
  const root = document.querySelector('trial-notes-widget').shadowRoot;
  const bad = [];
  for (const el of root.querySelectorAll('*')) {
    // Form fields scroll their own text; .sr is the screen readers' line, clipped to nothing on purpose.
    const field = ['INPUT', 'TEXTAREA', 'SELECT', 'OPTION'].includes(el.tagName);
    if (!el.checkVisibility() || field || el.closest('.sr')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    const name = `${el.tagName.toLowerCase()}.${el.className}: ${el.textContent.trim().slice(0, 40)}`;
    const style = getComputedStyle(el);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    if (!scrolls && el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'visible') bad.push(`clipped ${name}`);
    if (r.left < -1 || r.right > innerWidth + 1) bad.push(`outside the viewport ${name}`);
    const box = el.closest('dialog');
    if (box && box !== el) {
      const b = box.getBoundingClientRect();
      if (r.left < b.left - 1 || r.right > b.right + 1) bad.push(`outside its dialog ${name}`);
    }
  }
  return bad;
}
"""

SHADOW_TEXT = "() => document.querySelector('trial-notes-widget').shadowRoot.textContent"


def english_words(lang: str) -> list[str]:
    """The English catalog's sentences (their longest run between placeholders) the language says otherwise."""
    english, other = widget_catalog("en"), widget_catalog(lang)
    found = []
    for key, message in english.items():
        for category, text in message.items() if isinstance(message, dict) else [("", message)]:
            theirs = other[key] if isinstance(message, str) else other[key].get(category, "")
            run = max(re.split(r"\{\w+\}", text), key=len).strip()
            if len(run) >= 8 and run not in json.dumps(other[key], ensure_ascii=False) and run != theirs:
                found.append(run)
    return found


def no_english_and_nothing_cut(
    page: Page, lang: str, english: list[str], axe: dict[str, list[str]], where: str, width: int
) -> None:
    page.screenshot(path=str(SHOTS / f"widget-{lang}-{where}-{width}.png"))
    shown = page.evaluate(SHADOW_TEXT)
    assert [words for words in english if words in shown] == [], where
    assert page.evaluate(OVERFLOWS) == [], f"{where}: {page.evaluate(OVERFLOWS)}"
    if width == 390:  # axe-core looks inside the open shadow root; once per state is enough
        axe[where] = violations(Axe(), page)


def close(dialog: Locator, name: str) -> None:
    dialog.get_by_role("button", name=name, exact=True).last.click()
    expect(dialog).to_be_hidden()


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "es",
            {
                "my": "Mis notas",
                "open": "Abrir nota",
                "edit": "Editar",
                "cancel": "Cancelar",
                "share": "Compartir",
                "close": "Cerrar",
                "note": "Tu nota",
                "editor": "Editar nota",
                "sharing": "Compartir notas",
                "key": "Clave de recuperación",
                "your_key": "Tu clave de recuperación",
                "restore": "Usar otra clave de recuperación",
                "link": "Vincular otro dispositivo",
                "redeem": "Usar un código de vinculación",
                "devices": "Dispositivos",
                "your_devices": "Tus dispositivos",
                "loading": "Cargando…",
                "notes": "2 notas",
            },
        ),
        (
            "ar",
            {
                "my": "ملاحظاتي",
                "open": "فتح الملاحظة",
                "edit": "تعديل",
                "cancel": "إلغاء",
                "share": "مشاركة",
                "close": "إغلاق",
                "note": "ملاحظتك",
                "editor": "تعديل الملاحظة",
                "sharing": "مشاركة الملاحظات",
                "key": "مفتاح الاسترداد",
                "your_key": "مفتاح الاسترداد الخاص بك",
                "restore": "استخدام مفتاح استرداد آخر",
                "link": "ربط جهاز آخر",
                "redeem": "استخدام رمز ربط",
                "devices": "الأجهزة",
                "your_devices": "أجهزتك",
                "loading": "جارٍ التحميل…",
                "notes": "ملاحظتان",
            },
        ),
    ],
)
def test_the_panel_and_each_dialog_in_the_readers_language(live, page, lang, words, width):
    SHOTS.mkdir(exist_ok=True)
    owner = new_owner(live.app.test_client())
    owner.add_note(exact=CIRRHOSIS, body="Ask Dr. Lee about the liver tests")
    owner.add_note(exact=MOVED, body="")
    owner.share(passcode="family-code-1", label="Para mamá")
    english = english_words(lang)
    axe: dict[str, list[str]] = {}  # axe-core's violations by state, at 390 px
    sent: list[dict] = []
    page.on(
        "request",
        lambda r: (
            sent.append(json.loads(r.post_data or "{}")) if r.method == "POST" and r.url.endswith("/shares") else None
        ),
    )
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    # Our trial page in the language (?lang=): <html lang> says it, and the widget follows.
    page.goto(f"{live.url}/trials/{SEED}?lang={lang}")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.reload()
    wait_for_highlights(page, 2)
    host = page.locator("trial-notes-widget")
    expect(host).to_have_attribute("lang", lang)
    expect(host).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")

    page.get_by_role("button", name=words["my"]).click()
    panel = page.get_by_role("dialog", name=words["my"])
    expect(panel).to_be_visible()
    direction = panel.evaluate("el => getComputedStyle(el).direction")
    assert direction == ("rtl" if lang == "ar" else "ltr")
    if width == 1280:  # the panel docks at the end of the line: the right in Spanish, the left in Arabic
        box = panel.bounding_box()
        assert box is not None
        assert (box["x"] < 10) if lang == "ar" else (box["x"] + box["width"] > width - 10)
    no_english_and_nothing_cut(page, lang, english, axe, "panel", width)

    # "Your note", then its editor.
    panel.get_by_role("button", name=words["open"]).first.click()
    note = page.get_by_role("dialog", name=words["note"])
    expect(note).to_be_visible()
    no_english_and_nothing_cut(page, lang, english, axe, "note", width)
    note.get_by_role("button", name=words["edit"], exact=True).click()
    editor = page.get_by_role("dialog", name=words["editor"])
    expect(editor).to_be_visible()
    no_english_and_nothing_cut(page, lang, english, axe, "editor", width)
    close(editor, words["cancel"])

    # "Share notes" with "My shares": the family's language is the widget's by default, and sent.
    if not panel.is_visible():
        page.get_by_role("button", name=words["my"]).click()
    panel.get_by_role("button", name=words["share"], exact=True).click()
    sharing = page.get_by_role("dialog", name=words["sharing"])
    expect(sharing.locator(".shares > li").first).to_contain_text("Para mamá")
    expect(sharing.locator("select").last).to_have_value(lang)
    expect(sharing.locator(".shares > li").first).to_contain_text(words["notes"])
    sharing.locator(".shares > li").first.scroll_into_view_if_needed()
    no_english_and_nothing_cut(page, lang, english, axe, "share", width)
    sharing.locator("button[type=submit]").click()
    expect(sharing.locator("input[readonly]").first).to_have_value(re.compile("/s/"))
    no_english_and_nothing_cut(page, lang, english, axe, "shared", width)
    # (A service without the share's language refuses the field by name; the widget then asks again
    # without it: the first request is the one that says what the patient chose.)
    assert sent and sent[0]["language"] == lang
    close(sharing, words["close"])

    # The recovery key and device dialogs (their modules load on demand).
    for opener, title, where in [
        (words["key"], words["your_key"], "recovery"),
        (words["restore"], words["restore"], "restore"),
        (words["link"], words["link"], "link"),
        (words["redeem"], words["redeem"], "redeem"),
        (words["devices"], words["your_devices"], "devices"),
    ]:
        if not panel.is_visible():
            page.get_by_role("button", name=words["my"]).click()
        panel.get_by_role("button", name=opener, exact=True).click()
        dialog = page.get_by_role("dialog", name=title, exact=True)
        expect(dialog).to_be_visible()
        expect(dialog).not_to_contain_text(words["loading"])
        # "Link another device" fetches its code as it opens, its "new code" button dimmed (busy)
        # until it comes: axe judges the dialog after (on a loaded machine it met a dimmed button).
        expect(dialog.locator("[aria-busy=true]")).to_have_count(0)
        no_english_and_nothing_cut(page, lang, english, axe, where, width)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
    assert axe == {where: [] for where in axe}
    assert page.js_errors == []  # type: ignore[attr-defined]


def host_page(
    root: Path, live, name: str, html_lang: str | None, data_lang: str | None, notes_root: bool = True
) -> None:
    """The seed trial on another site, its <html lang> and the tag's data-lang as given."""
    page = HOST_PAGE.format(api=live.url, trial=SEED, article=trial_article(live), style="")
    page = page.replace('<html lang="en">', f'<html lang="{html_lang}">' if html_lang else "<html>")
    if data_lang:
        page = page.replace(f'data-trial="{SEED}"', f'data-trial="{SEED}" data-lang="{data_lang}"')
    if not notes_root:
        page = page.replace("<article data-notes-root>", "<article>")
    (root / name).write_text(page)


@pytest.mark.parametrize(
    ("html_lang", "data_lang", "browser_locale", "spoken"),
    [
        ("ar", "es", "en-US", "es"),  # the tag's data-lang first
        ("ar-EG", None, "es-ES", "ar"),  # then the page's lang
        ("fr", None, "es-ES", "en"),  # a page in a language the widget lacks: English, not the browser's
        (None, None, "es-ES", "es"),  # a page that says nothing: the browser's languages
    ],
)
def test_the_widget_speaks_the_tag_s_then_the_page_s_then_the_browser_s_language(
    make_app, host_site, browser, html_lang, data_lang, browser_locale, spoken
):
    host_url, root = host_site
    server = serve(make_app(NOTES_ALLOWED_ORIGINS=host_url))
    try:
        host_page(root, server, "trial.html", html_lang, data_lang)
        context = browser.new_context(locale=browser_locale)
        page = context.new_page()
        page.goto(f"{host_url}/trial.html")
        my_notes = {"en": "My notes", "es": "Mis notas", "ar": "ملاحظاتي"}[spoken]
        expect(page.get_by_role("button", name=my_notes)).to_be_visible()
        host = page.locator("trial-notes-widget")
        expect(host).to_have_attribute("lang", spoken)
        expect(host).to_have_attribute("dir", "rtl" if spoken == "ar" else "ltr")
        context.close()
    finally:
        server.stop()


def test_an_embedding_mistake_is_explained_to_the_reader_in_their_language(make_app, host_site, page):
    """No data-notes-root on a Spanish page: "My notes" says so in Spanish (the console stays English)."""
    host_url, root = host_site
    server = serve(make_app(NOTES_ALLOWED_ORIGINS=host_url))
    try:
        host_page(root, server, "no-root.html", "es", None, notes_root=False)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{host_url}/no-root.html")
        page.get_by_role("button", name="Mis notas").click()
        panel = page.get_by_role("dialog", name="Mis notas")
        expect(panel.get_by_role("alert")).to_have_text("No se pueden añadir notas en esta página.", timeout=10_000)
        assert any("data-notes-root" in line for line in console)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(SHOTS / "widget-es-no-root-390.png"))
    finally:
        server.stop()


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "es",
            {
                "add": "Añadir nota",
                "new": "Nueva nota",
                "cancel": "Cancelar",
                "which": "Notas en este pasaje",
                "my": "Mis notas",
                "replies": "Respuestas",
                "close": "Cerrar",
                "purple": "Morado",
            },
        ),
        (
            "ar",
            {
                "add": "إضافة ملاحظة",
                "new": "ملاحظة جديدة",
                "cancel": "إلغاء",
                "which": "الملاحظات على هذا المقطع",
                "my": "ملاحظاتي",
                "replies": "الردود",
                "close": "إغلاق",
                "purple": "بنفسجي",
            },
        ),
    ],
)
def test_adding_choosing_and_replies_in_the_readers_language(live, page, lang, words, width):
    """ "Add note" and the new note's editor, the choice where passages cross, the family's replies."""
    SHOTS.mkdir(exist_ok=True)
    owner = new_owner(live.app.test_client())
    outer = owner.add_note(exact=CIRRHOSIS, body="the whole criterion", color="blue")
    owner.add_note(exact="Class B", body="what is class B?", color="purple")
    share = owner.share(passcode=PASSCODE)
    reply_through_the_api(owner, share, outer["id"], "Ask about it on Monday", "Maria")
    english = english_words(lang)
    axe: dict[str, list[str]] = {}
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    page.goto(f"{live.url}/trials/{SEED}?lang={lang}")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.reload()
    wait_for_highlights(page, 2)
    page.wait_for_function("() => [...CSS.highlights.keys()].some((k) => k.startsWith('trial-notes-mix-'))")

    select_text(page, CIRRHOSIS)  # scrolls the passage into view
    page.evaluate("getSelection().removeAllRanges()")
    click_on_text(page, "Class B")
    chooser = page.get_by_role("dialog", name=words["which"])
    expect(chooser).to_be_visible()
    expect(chooser.get_by_role("button").first).to_contain_text(words["purple"])
    no_english_and_nothing_cut(page, lang, english, axe, "chooser", width)
    close(chooser, words["cancel"])

    page.get_by_role("button", name=words["my"]).click()
    panel = page.get_by_role("dialog", name=words["my"])
    panel.get_by_role("button", name=re.compile(f"^{words['replies']}")).click()
    replies = page.get_by_role("dialog", name=re.compile(f"^{words['replies']}"))
    expect(replies.get_by_text("Ask about it on Monday")).to_be_visible()
    no_english_and_nothing_cut(page, lang, english, axe, "replies", width)
    close(replies, words["close"])
    page.keyboard.press("Escape")  # focus is back in the panel: Escape hides it
    expect(panel).to_be_hidden()

    select_text(page, "Any form of primary")
    page.get_by_role("button", name=words["add"]).click()
    editor = page.get_by_role("dialog", name=words["new"])
    expect(editor).to_be_visible()
    no_english_and_nothing_cut(page, lang, english, axe, "new-note", width)
    close(editor, words["cancel"])
    if width == 390:
        assert axe == {where: [] for where in axe}
    assert page.js_errors == []  # type: ignore[attr-defined]
