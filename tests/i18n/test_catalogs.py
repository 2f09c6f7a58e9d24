"""The catalogs hold every string of the pages and every problem's words, translated, and none is left outside them."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from notes_service.i18n import DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "notes_service"
TEMPLATES = SOURCES / "templates"
TRANSLATIONS = SOURCES / "translations"
METHODS = [("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
# The Python sources: problem titles (marked N_, translated when shown) and details and field
# messages (gettext and ngettext where they are raised), as `make catalogs-update` reads them.
PYTHON_METHODS = [("**/translations/**", "ignore"), ("**.py", "python")]


def page_messages() -> set[str | tuple[str, str]]:
    """Every msgid the page templates ask gettext for (a plural as its pair)."""
    return _extracted(TEMPLATES, METHODS, KEYWORDS)


def problem_messages() -> set[str | tuple[str, str]]:
    """Every msgid of the Python sources: the problems' titles, details and field messages."""
    return _extracted(SOURCES, PYTHON_METHODS, DEFAULT_KEYWORDS)


def _extracted(folder: Path, methods, keywords) -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(folder, methods, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {DEFAULT}))
@pytest.mark.parametrize("where", ["pages", "problems"])
def test_every_string_is_translated(lang, where):
    messages = catalog(lang)
    missing = []
    wanted = page_messages() if where == "pages" else problem_messages()
    assert len(wanted) > 50  # the extraction found the strings (a wrong folder or keyword finds none)
    for message in wanted:
        key = message if isinstance(message, str) else message[0]
        entry = messages.get(key)
        strings = () if entry is None else (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if not strings or not all(strings) or (entry is not None and entry.fuzzy):
            missing.append(key)
    assert missing == [], f"not translated in {lang}: {missing}"


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {DEFAULT}))
def test_plural_strings_have_every_form_of_the_language(lang):
    messages = catalog(lang)
    for message in messages:
        if message.pluralizable and message.id:
            assert len(message.string) == messages.num_plurals, message.id


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {DEFAULT}))
def test_translations_keep_their_placeholders(lang):
    for message in catalog(lang):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(re.findall(r"%\((\w+)\)s", " ".join(ids)))
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            # A plural form may leave the count out ("one trial"), never add or rename one.
            assert set(re.findall(r"%\((\w+)\)s", text)) <= wanted, (message.id, text)
            if not message.pluralizable:
                assert set(re.findall(r"%\((\w+)\)s", text)) == wanted, (message.id, text)


class _Words(HTMLParser):
    """Text and wordy attributes of a template with its Jinja taken out."""

    WORDY = frozenset({"aria-label", "title", "alt", "placeholder", "aria-description"})

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.words += [value for name, value in attrs if name in self.WORDY and value]

    def handle_data(self, data):
        self.words.append(data)


def loose_words(source: str) -> list[str]:
    """Words a reader would see that no gettext call or trans block holds."""
    source = re.sub(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", " ", source, flags=re.S)
    source = re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", " ", source, flags=re.S)
    parser = _Words()
    parser.feed(source)
    return [w.strip() for w in parser.words if re.search(r"[A-Za-z]{2,}", w)]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_page_words_outside_the_catalog(template):
    assert loose_words((TEMPLATES / template).read_text()) == []


def test_the_check_finds_a_loose_word():
    # The check itself: English left in markup is found, words inside gettext are not.
    assert loose_words('<p>Hello</p><p aria-label="Close">{{ _("Kept") }}</p>') == ["Hello", "Close"]
    assert loose_words("{% trans n=1 %}One{% pluralize %}Many{% endtrans %}") == []


# What raises or answers a problem, and which of its arguments are words: (position, keyword).
PROBLEM_CALLS = {
    **{name: (0, "detail") for name in ("BadRequest", "Unauthorized", "NotFound", "Gone", "Invalid", "Locked")},
    **{name: (0, "detail") for name in ("Closed", "Busy", "DomainError")},
    "refuse": (1, "words"),
}
PROBLEM_RESPONSES = {"problem", "respond"}  # (status, title, detail): the title marked N_, the detail gettext'd


def loose_problem_words(source: str) -> list[str]:
    """Problem words written as a bare string (or f-string) where gettext, ngettext or N_ belongs."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        name = node.func.id
        words: list[ast.expr] = []
        if name in PROBLEM_CALLS:
            position, keyword = PROBLEM_CALLS[name]
            words += node.args[position : position + 1] + [k.value for k in node.keywords if k.arg == keyword]
        elif name in PROBLEM_RESPONSES:
            words += node.args[1:3] + [k.value for k in node.keywords if k.arg in {"title", "detail"}]
        else:
            continue
        for k in node.keywords:
            if k.arg == "errors" and isinstance(k.value, ast.Dict):
                words += [value for value in k.value.values if value is not None]
        found += [
            f"line {word.lineno}: {name}(...)"
            for word in words
            if isinstance(word, ast.JoinedStr) or (isinstance(word, ast.Constant) and isinstance(word.value, str))
        ]
    return found


@pytest.mark.parametrize(
    "module", sorted(str(p.relative_to(SOURCES)) for p in SOURCES.rglob("*.py") if "translations" not in p.parts)
)
def test_no_problem_words_outside_the_catalog(module):
    assert loose_problem_words((SOURCES / module).read_text()) == []


def test_the_check_finds_loose_problem_words():
    source = """
raise NotFound("No such thing.")
raise Invalid(gettext("Fine."), errors={"body": f"at most {n}"})
raise Locked(ngettext("one", "many", n), retry_after=3)
problem(503, "Not ready", gettext("Fine."))
problem(503, N_("Not ready"), wrong)
raise refuse("kind", "must be text")
raise refuse("kind", gettext("must be text"))
"""
    assert loose_problem_words(source) == [
        "line 2: NotFound(...)",
        "line 3: Invalid(...)",
        "line 5: problem(...)",
        "line 7: refuse(...)",
    ]
