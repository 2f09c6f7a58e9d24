"""A pseudo-locale run: every word a page shows comes from the catalog, whole sentences at a time.

Each catalog entry is replaced by its English, accented and bracketed ("⟦Śéáŕçħ⟧"), in a catalog
of its own for the test (Esperanto's code, `eo`, stands in: Babel knows its plural rule). A word
on the page that is plain ASCII outside the brackets was never translated; two bracketed pieces
run together inside one sentence were concatenated, which no translator can put in their order.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from support import SEED

from notes_service import i18n

from .test_catalogs import KEYWORDS, METHODS, TEMPLATES

PSEUDO = "eo"
ACCENTS = str.maketrans("aceinorsuyzACEINORSUYZ", "áçéíñóřšúýžÁÇÉÍÑÓŘŠÚÝŽ")
PLACEHOLDER = re.compile(r"(%\(\w+\)s)")


def pseudo(text: str) -> str:
    """English made visibly foreign, its placeholders kept."""
    parts = PLACEHOLDER.split(text)
    return "⟦" + "".join(p if PLACEHOLDER.fullmatch(p) else p.translate(ACCENTS) for p in parts) + "⟧"


@pytest.fixture
def pseudo_app(app, tmp_path, monkeypatch):
    catalog = Catalog(locale=PSEUDO)
    for _file, _line, message, _comments, _context in extract_from_dir(
        TEMPLATES, METHODS, keywords=KEYWORDS, options_map={"**.html": {}}
    ):
        if isinstance(message, str):
            catalog.add(message, pseudo(message))
        else:
            catalog.add(tuple(message), tuple(pseudo(m) for m in message))
    folder = tmp_path / PSEUDO / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as f:
        write_mo(f, catalog)
    app.extensions["babel"].translation_directories.insert(0, str(tmp_path))
    monkeypatch.setitem(i18n.LANGUAGES, PSEUDO, "Pseŭdo")
    return app


# Elements that end a run of text: a sentence with a link or <code> inside is one run.
BLOCKS = frozenset(
    [
        "p",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "div",
        "section",
        "article",
        "aside",
        "nav",
        "header",
        "footer",
        "main",
        "blockquote",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "td",
        "th",
        "label",
        "button",
        "form",
        "title",
        "summary",
        "details",
        "figcaption",
    ]
)
VOID = frozenset({"meta", "link", "input", "br", "img", "hr"})


class _Shown(HTMLParser):
    """The runs of text a reader sees in the page's own language (not in a lang="..." of their own)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: whether it is in another language or hidden
        self.texts: list[str] = []
        self.run: list[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self.run).split())
        if text:
            self.texts.append(text)
        self.run = []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS:
            self._flush()
        names = dict(attrs)
        inherited = bool(self.stack and self.stack[-1])
        own = (tag != "html" and "lang" in names) or tag in {"script", "style", "title"}
        if tag not in VOID:
            self.stack.append(inherited or own)

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self._flush()
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.run.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def problems(html: str) -> list[str]:
    parser = _Shown()
    parser.feed(html)
    parser.close()
    found = []
    for text in parser.texts:
        outside = re.sub(r"⟦.*?⟧", " ", text, flags=re.S)
        outside = re.sub(r"NCT\d{8}", " ", outside)
        if re.search(r"[A-Za-z]{2,}", outside):
            found.append(f"untranslated: {text!r}")
        if re.search(r"[^.!?:;)\s]\s*⟧[^⟦]*⟦", text):
            found.append(f"concatenated: {text!r}")
    return found


@pytest.mark.parametrize("path", ["/", "/?q=lupus", f"/?q={SEED}", "/?q=zzzzqqq", f"/trials/{SEED}", "/link"])
def test_every_word_of_the_page_is_from_the_catalog(pseudo_app, path):
    client = pseudo_app.test_client()
    sep = "&" if "?" in path else "?"
    response = client.get(f"{path}{sep}lang={PSEUDO}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{PSEUDO}"' in html
    assert problems(html) == []


def test_an_error_page_has_only_its_problem_words_left(pseudo_app):
    # Problem titles and details are the errors' own English (not in the catalogs yet).
    response = pseudo_app.test_client().get(f"/trials/NCT00000000?lang={PSEUDO}")
    assert response.status_code == 404
    left = problems(response.get_data(as_text=True))
    assert left and all("NCT00000000" in p or "not found" in p.lower() or "trial" in p.lower() for p in left), left


def test_the_check_finds_english_and_concatenation():
    assert problems("<p>⟦Śéáŕçħ⟧</p><p lang='en'>Phase 1</p>") == []
    assert problems("<p>Search</p>") == ["untranslated: 'Search'"]
    assert problems("<p>⟦Móřé ŧħáñ⟧ 5 ⟦ŧříáłš⟧</p>") == ["concatenated: '⟦Móřé ŧħáñ⟧ 5 ⟦ŧříáłš⟧'"]
    assert problems("<p>⟦Óñé.⟧ ⟦Ťwó.⟧</p>") == []
