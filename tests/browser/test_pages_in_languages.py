"""Our pages in each language on a phone: axe-core clean (Arabic's right-to-left included), nothing clipped."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from support import SEED

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
    assert phone.url.endswith(f"/trials/{SEED}?lang=es")
    assert phone.get_by_role("link", name="Todos los estudios").is_visible()
    # Remembered: the next page is Spanish without asking again.
    phone.get_by_role("link", name="Todos los estudios").click()
    assert phone.evaluate("document.documentElement.lang") == "es"
