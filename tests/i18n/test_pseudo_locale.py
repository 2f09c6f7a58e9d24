"""A pseudo-locale run: every word a page shows comes from the catalog, whole sentences at a time.

Each catalog entry is replaced by its English, accented and bracketed ("⟦Śéáŕçħ⟧"), in a catalog
of its own for the test (Esperanto's code, `eo`, stands in: Babel knows its plural rule). A word
on the page that is plain ASCII outside the brackets was never translated; two bracketed pieces
run together inside one sentence were concatenated, which no translator can put in their order.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from support import DELETED, EDITED, SEED, changed_seed, new_owner

from notes_service import i18n

from .test_catalogs import page_messages, problem_messages

PSEUDO = "eo"
ACCENTS = str.maketrans("aceinorsuyzACEINORSUYZ", "áçéíñóřšúýžÁÇÉÍÑÓŘŠÚÝŽ")
# Kept as they are: placeholders, markup inside a message, entities.
PLACEHOLDER = re.compile(r"(%\(\w+\)[sr]|<[^>]*>|&\w+;)")


def pseudo(text: str) -> str:
    """English made visibly foreign, its placeholders kept."""
    parts = PLACEHOLDER.split(text)
    return "⟦" + "".join(p if PLACEHOLDER.fullmatch(p) else p.translate(ACCENTS) for p in parts) + "⟧"


@pytest.fixture
def pseudo_app(app, tmp_path, monkeypatch):
    catalog = Catalog(locale=PSEUDO)
    for message in page_messages() | problem_messages():
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
        # A moment (a reply's) is a value of its own, written by its own catalog sentence.
        "time",
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


def test_an_error_page_is_all_from_the_catalog_its_problem_words_too(pseudo_app):
    response = pseudo_app.test_client().get(f"/trials/NCT00000000?lang={PSEUDO}")
    assert response.status_code == 404
    assert problems(response.get_data(as_text=True)) == []


def test_a_problem_answer_is_all_from_the_catalog(pseudo_app):
    client = pseudo_app.test_client()
    owner = new_owner(client)
    answers = [
        client.post(
            f"/api/v1/shares?lang={PSEUDO}",
            json={"trial_id": SEED, "language": "fr", "expires_in_days": 0, "max_views": "2", "colour": 1},
            headers=owner.headers,
        ),
        client.get(f"/api/v1/shares/{'0' * 32}?lang={PSEUDO}", headers=owner.headers),
        client.get(f"/api/v1/shares?lang={PSEUDO}"),
        client.put(f"/api/v1/notebooks?lang={PSEUDO}"),
    ]
    assert [answer.status_code for answer in answers] == [422, 404, 401, 405]
    for answer in answers:
        problem = answer.get_json()
        assert problem["type"].startswith("https://trial-notes.example/problems/")
        assert not re.search(r"[À-ž⟦]", problem["type"])  # the type stays the English slug
        for words in [problem["title"], problem["detail"], *problem.get("errors", {}).values()]:
            assert words.startswith("⟦"), words
            assert not re.search(r"[A-Za-z]{2,}", re.sub(r"⟦.*?⟧", " ", words)), words
    assert set(answers[0].get_json()["errors"]) == {"language", "expires_in_days", "max_views", "colour"}


# Japanese, so that the notes', names' and replies' own words (never translated) pass the check.
NOT_LATIN = "医師に聞くこと"


def shared_pages(pseudo_app, runner, tmp_path) -> list[tuple[str, str]]:
    """Every state of a share page in the pseudo-locale: (what, html)."""
    client = pseudo_app.test_client()
    owner = new_owner(client)
    kept = owner.add_note(body=f"<p>{NOT_LATIN}</p>")
    owner.add_note(exact=EDITED, body=f"<p>{NOT_LATIN}</p>", color="green")
    owner.add_note(exact=DELETED, body=f"<ul><li>{NOT_LATIN}</li></ul>", color="purple")
    share = owner.share(passcode="family-code-1", sender_name="マリア", language="es")
    path = "/s/" + share["url"].rsplit("/s/", 1)[1]
    study = tmp_path / "seed-v2.json"
    study.write_text(json.dumps(changed_seed()))
    assert runner.invoke(args=["trials", "load", str(study)]).exit_code == 0
    pages = [("passcode form", client.get(f"{path}?lang={PSEUDO}"))]  # the lang cookie keeps it from here
    pages.append(("wrong passcode", client.post(path, data={"passcode": "not-it"})))
    assert client.post(path, data={"passcode": "family-code-1"}).status_code == 303
    reply = f"{path}/notes/{kept['id']}/replies"
    assert client.post(reply, data={"body": NOT_LATIN, "name": "エレナ", "number": "1"}).status_code == 303
    assert client.post(reply, data={"body": NOT_LATIN, "number": "1"}).status_code == 303
    pages.append(("opened, with replies and changed passages", client.get(path)))
    pages.append(("a reply that was not sent", client.post(reply, data={"body": " ", "number": "1"})))
    owner.call("PATCH", f"/api/v1/shares/{share['id']}", {"replies_allowed": False})
    pages.append(("replies turned off", client.post(reply, data={"body": NOT_LATIN, "number": "1"})))
    pages.append(("unknown link", client.get("/s/no-such-token")))
    owner.call("DELETE", f"/api/v1/shares/{share['id']}")
    pages.append(("revoked", client.get(path)))
    return [(what, response.get_data(as_text=True)) for what, response in pages]


def test_every_word_of_the_share_pages_is_from_the_catalog(pseudo_app, runner, tmp_path):
    pages = shared_pages(pseudo_app, runner, tmp_path)
    shown = "".join(html for _what, html in pages)
    for marker in ("note-change", "reply-name", "passcode-error", "reply-error-1", "sender-name", "note-body"):
        assert marker in shown, marker  # every template of the share pages is in the run
    for what, html in pages:
        assert f'<html lang="{PSEUDO}"' in html, what
        assert problems(html) == [], what


def test_the_check_finds_english_and_concatenation():
    assert problems("<p>⟦Śéáŕçħ⟧</p><p lang='en'>Phase 1</p>") == []
    assert problems("<p>Search</p>") == ["untranslated: 'Search'"]
    assert problems("<p>⟦Móřé ŧħáñ⟧ 5 ⟦ŧříáłš⟧</p>") == ["concatenated: '⟦Móřé ŧħáñ⟧ 5 ⟦ŧříáłš⟧'"]
    assert problems("<p>⟦Óñé.⟧ ⟦Ťwó.⟧</p>") == []
