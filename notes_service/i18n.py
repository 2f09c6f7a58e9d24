"""The reader's language: English, Spanish or Arabic, through Flask-Babel's gettext catalogs.

Chosen, in order, by `?lang=` (a language link on our pages), the choice a reader made before
(a `lang` cookie holding only the language code: a preference, never an identifier), the page's
own language when it has one (a share's, chosen by the patient who made it) and the browser's
`Accept-Language`. Catalogs live in `notes_service/translations/<lang>/LC_MESSAGES/`:
`messages.po` is the source, committed; `messages.mo` is compiled from it by `make catalogs`
(every make target that runs the service or its tests depends on it), never committed.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlencode

import flask_babel
from babel import Locale
from babel.dates import format_skeleton
from flask import Flask, Response, g, has_request_context, request
from flask_babel import Babel, format_date, format_decimal, format_time, get_locale, refresh

DEFAULT = "en"
# The languages shipped, each named in its own language (what the switch shows).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "ar": "العربية"}
RIGHT_TO_LEFT = frozenset({"ar"})
COOKIE = "lang"
COOKIE_DAYS = 365


def gettext(text: str, **variables: object) -> str:
    """`text` in the request's language, its `%(name)s` placeholders filled (typed: flask_babel is not)."""
    return str(flask_babel.gettext(text, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """The form of the request's language for `num` (CLDR plural rules), `%(num)s` and placeholders filled.

    `%(num)s` is written as the language writes numbers (Babel: "10,000" in English, "10.000" in Spanish)
    unless the caller gives it.
    """
    # flask_babel.ngettext would fill `%(num)s` with the bare number: its form is chosen here by the
    # same catalog, and the number written for the reader.
    form = flask_babel.get_domain().get_translations().ungettext(singular, plural, num)
    return str(form % {"num": number(num), **variables})


def number(value: int | float) -> str:
    """`value` with the digits and grouping of the request's language (as is outside a request)."""
    return str(format_decimal(value)) if has_request_context() else str(value)


# CLDR's plural categories in CLDR's order, and whole numbers to find one of each among (Spanish's
# "many" is a million's).
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
_PLURAL_SAMPLES = (*range(200), 1_000_000)


def plural_samples() -> list[tuple[str, int]]:
    """Each plural category of the request's language (CLDR) with a whole number of it: [("one", 1), ("other", 0)].

    A count that only a script knows (the index's marks) cannot be given to ngettext on the server:
    the page holds ngettext's form for each category's sample, and the script picks one by
    Intl.PluralRules, the same CLDR rules.
    """
    rule = (get_locale() or Locale.parse(DEFAULT)).plural_form
    found: dict[str, int] = {}
    for n in _PLURAL_SAMPLES:
        found.setdefault(rule(n), n)
    return [(category, found[category]) for category in PLURAL_CATEGORIES if category in found]


def _asked() -> str | None:
    asked = request.args.get("lang", "")
    return asked if asked in LANGUAGES else None


def select_locale() -> str:
    """The language of this request: asked for, chosen before, the page's own, or the browser's best match."""
    if not has_request_context():  # a command or a service test: the words as written
        return DEFAULT
    kept = request.cookies.get(COOKIE, "")
    return (
        _asked()
        or (kept if kept in LANGUAGES else None)
        or g.get("page_language")
        or request.accept_languages.best_match(LANGUAGES)
        or DEFAULT
    )


def use_page_language(code: str | None, path: str) -> None:
    """Answer this request in `code` (a share's language) unless the reader chose one; None: no change.

    `path` is the page the language switch leads to: a form's answer (a POST) is shown at an
    address that only takes a POST, so the switch goes back to the page itself.
    """
    g.page_path = path
    if code in LANGUAGES:
        g.page_language = code
        refresh()  # a word translated before (an error raised early) fixed the locale: choose again


def current_language() -> str:
    """The code of the language this request is answered in."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def language_url(code: str) -> str:
    """This page in language `code`: its path and query, `lang` replaced."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{g.get('page_path') or request.path}?{urlencode([*args, ('lang', code)])}"


def record_date(value: str | None) -> str | None:
    """A record's date ("2025-08-07", "2025-08") in the reader's language; other text unchanged."""
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return str(format_date(date.fromisoformat(value), "long"))
        if re.fullmatch(r"\d{4}-\d{2}", value):
            # A month and year as the language writes them (CLDR's yMMMM: "agosto de 2025").
            return format_skeleton("yMMMM", date.fromisoformat(f"{value}-01"), locale=get_locale() or DEFAULT)
    except ValueError:
        pass
    return value


def format_moment(moment: datetime) -> str:
    """A moment (a reply's) in the reader's language, in UTC: "December 2, 2026, 14:05 UTC"."""
    return gettext("%(date)s, %(time)s UTC", date=format_date(moment, "long"), time=format_time(moment, "HH:mm"))


# The answers whose words depend on the reader's language: a cache between us and the reader must
# keep one copy per language (the JSON of a success has no words of ours and does not vary).
NEGOTIATED = frozenset({"text/html", "application/problem+json"})


def _remember_choice(response: Response) -> Response:
    if response.mimetype in NEGOTIATED:
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    asked = _asked()
    if asked and request.cookies.get(COOKIE) != asked:
        response.set_cookie(
            COOKIE,
            asked,
            max_age=COOKIE_DAYS * 86400,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def _template_context() -> dict[str, object]:
    language = current_language()
    return {
        "lang": language,
        "text_direction": "rtl" if language in RIGHT_TO_LEFT else "ltr",
        "languages": LANGUAGES,
        "language_url": language_url,
        "plural_samples": plural_samples,
    }


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our locale selector, the language cookie and the templates' context."""
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_choice)
    app.context_processor(_template_context)
    app.jinja_env.filters["number"] = format_decimal  # grouping and digits of the reader's language
