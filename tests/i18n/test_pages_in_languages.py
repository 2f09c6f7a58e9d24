"""Our pages in the reader's language: chosen by link, remembered, or from Accept-Language."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from babel import Locale
from support import SEED

from notes_service.i18n import COOKIE, plural_samples, record_date


def page(client, path: str = "/", **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "lang", "direction", "heading"),
    [
        ("en-US,en;q=0.9", "en", "ltr", "Clinical trials"),
        ("es-MX,es;q=0.9,en;q=0.5", "es", "ltr", "Estudios clínicos"),
        ("ar-EG,ar;q=0.9", "ar", "rtl", "الدراسات السريرية"),
        ("fr-FR,fr;q=0.9", "en", "ltr", "Clinical trials"),
    ],
)
def test_the_browser_language_is_used(client, accept, lang, direction, heading):
    html = page(client, "/", **{"Accept-Language": accept})
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert f"<h1>{heading}</h1>" in html


def test_a_language_link_is_remembered_without_tracking(client):
    response = client.get("/?lang=es", headers={"Accept-Language": "en"})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=es;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Later pages, with no lang in the address, stay in the reader's choice.
    assert '<html lang="es"' in page(client, f"/trials/{SEED}", **{"Accept-Language": "en"})
    assert '<html lang="ar"' in page(client, "/?lang=ar")


@pytest.mark.parametrize("value", ["xx", "../../etc", "es-ES-x", ""])
def test_an_unknown_language_changes_nothing(client, value):
    response = client.get(f"/?lang={value}", headers={"Accept-Language": "en"})
    assert "Set-Cookie" not in response.headers
    assert '<html lang="en"' in response.get_data(as_text=True)
    client.set_cookie(COOKIE, value or "zz")
    assert '<html lang="en"' in page(client, "/", **{"Accept-Language": "en"})


def test_the_switch_names_each_language_in_itself_and_keeps_the_search(client):
    html = page(client, "/?q=lupus&lang=es")
    assert '<span aria-current="true" lang="es">Español</span>' in html
    assert 'href="/?q=lupus&amp;lang=ar" lang="ar" hreflang="ar">العربية</a>' in html
    assert 'href="/?q=lupus&amp;lang=en" lang="en" hreflang="en">English</a>' in html


def test_the_trial_text_stays_as_registered_and_says_so(client):
    html = page(client, f"/trials/{SEED}?lang=ar")
    assert '<article class="trial" lang="en" dir="ltr" data-notes-root' in html
    assert "يُعرض نص الدراسة كما سُجّل، بلغته الأصلية (الإنجليزية)." in html
    assert "original language" not in page(client, f"/trials/{SEED}?lang=en")


def test_the_index_keeps_each_trials_english_left_to_right_in_an_arabic_page(client):
    # Isolated inline, so a title's closing full stop stays at its end, on the card's own side.
    html = page(client, "/?lang=ar")
    assert f'<a href="/trials/{SEED}" lang="en" dir="ltr">' in html
    assert '<p class="conditions"><span lang="en" dir="ltr">' in html
    assert '<span class="badge" lang="en" dir="ltr">' in html


@pytest.mark.parametrize(
    ("lang", "day", "month"),
    [
        ("en", "August 7, 2025", "August 2025"),
        ("es", "7 de agosto de 2025", "agosto de 2025"),
        ("ar", "7 أغسطس 2025", "أغسطس 2025"),
    ],
)
def test_record_dates_are_written_for_the_language(app, lang, day, month):
    with app.test_request_context(f"/?lang={lang}"):
        assert record_date("2025-08-07") == day
        assert record_date("2025-08") == month
        assert record_date("Summer 2025") == "Summer 2025"  # not a date: as the record has it
        assert record_date(None) is None


def test_counts_take_the_language_plural(client):
    one = page(client, f"/?q={SEED}&lang=es")
    assert "1 estudio coincide con «" in one
    arabic = page(client, f"/?q={SEED}&lang=ar")
    assert "دراسة واحدة تطابق «" in arabic


class _MarkWords(HTMLParser):
    """The index's #my-notes-mark template: its words per plural category."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "template" and names.get("id") == "my-notes-mark":
            self.forms = {name.removeprefix("data-words-"): v for name, v in attrs if name.startswith("data-words-")}


# The count each mark says, as index-marks.js picks its words: the CLDR category of the count
# (Intl.PluralRules in the browser, the same rules as Babel's), its `{count}` filled.
MARKS = {
    "ar": {
        0: "ليست لديك ملاحظات على هذه الدراسة",
        1: "لديك ملاحظة واحدة على هذه الدراسة",
        2: "لديك ملاحظتان على هذه الدراسة",
        5: "لديك 5 ملاحظات على هذه الدراسة",
        11: "لديك 11 ملاحظة على هذه الدراسة",
        100: "لديك 100 ملاحظة على هذه الدراسة",
        103: "لديك 103 ملاحظات على هذه الدراسة",
    },
    "es": {
        0: "Tiene 0 notas en este estudio",
        1: "Tiene 1 nota en este estudio",
        2: "Tiene 2 notas en este estudio",
        5: "Tiene 5 notas en este estudio",
        11: "Tiene 11 notas en este estudio",
        100: "Tiene 100 notas en este estudio",
        1_000_000: "Tiene 1000000 de notas en este estudio",
    },
    "en": {
        0: "You have 0 notes on this trial",
        1: "You have 1 note on this trial",
        5: "You have 5 notes on this trial",
    },
}


@pytest.mark.parametrize("lang", sorted(MARKS))
def test_the_index_gives_its_mark_in_every_plural_form_of_the_language(client, lang):
    parser = _MarkWords()
    parser.feed(page(client, f"/?lang={lang}"))
    rule = Locale.parse(lang).plural_form
    assert set(parser.forms) == {*rule.tags, "other"}  # zero, one, two, few, many and other in Arabic
    said = {n: parser.forms[rule(n)].replace("{count}", str(n)) for n in MARKS[lang]}
    assert said == MARKS[lang]


def test_plural_samples_name_a_count_of_each_category_in_cldr_order(app):
    with app.test_request_context("/?lang=ar"):
        assert plural_samples() == [("zero", 0), ("one", 1), ("two", 2), ("few", 3), ("many", 11), ("other", 100)]
    with app.test_request_context("/?lang=es"):
        assert plural_samples() == [("one", 1), ("many", 1_000_000), ("other", 0)]
    with app.test_request_context("/?lang=en"):
        assert plural_samples() == [("one", 1), ("other", 0)]


def test_an_error_page_is_in_the_language_too(client):
    response = client.get("/trials/NCT00000000?lang=es")
    assert response.status_code == 404
    assert "Ir a la lista de estudios" in response.get_data(as_text=True)
