"""The XSS corpus, server side: stored through the API, fetched, rendered, parsed like a browser.

Bodies: every vector is stored as a note body through the API; the API returns and keeps
the sanitized form; the share page (after the passcode form) with every note at once,
and the share API, hold no executable markup, judged by html5lib (the WHATWG parsing
algorithm browsers implement): no element outside the page's own template (no script,
iframe, object, embed, svg, math, style, base, form ... from a body), no on* or style
attribute, no javascript:/data:/vbscript: URL in any attribute, and inside each note
body only the policy's tags.

Quotes: a quote must occur in the trial's text. On the shipped trial every vector is
refused with 422, and the refusal does not echo it. Then a hostile trial record whose
text *contains* the vectors is loaded into the store, so quotes anchor for real: the
notes on it, its trial page, its share page and the index stay inert. Real trials' own
quotes with < > & (from the shipped records) go the same way.
"""

from __future__ import annotations

import copy
import html
import json
import re
from urllib.parse import urlsplit

import html5lib
import pytest
from security.xss_corpus import CATEGORIES, VECTORS
from support import CIRRHOSIS, SEED, Owner, new_owner

from notes_service.notes.anchoring import fold_whitespace
from notes_service.notes.sanitize import ALLOWED_TAGS, sanitize_body
from notes_service.trials.reader import shipped_data_dir

PASSCODE = "family-code-xss"
HOSTILE_NCT = "NCT99999999"
# Never in a page because of a note or a trial, whatever the template holds.
FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "style",
    "base",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "option",
    "noscript",
    "template",
    "img",
    "video",
    "audio",
    "source",
    "isindex",
    "marquee",
    "details",
    "keygen",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
    "image",
    "use",
    "foreignobject",
    "set",
    "animate",
    "meta",
    "link",
    "body",
    "head",
    "html",
}
DANGEROUS = re.compile(r"^(javascript|data|vbscript):")
CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200d\ufeff]")


def local(tag: object) -> str | None:
    """An element's name without its namespace ({svg-ns}svg -> svg); None for comments."""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else None


def parse(page: str):
    return html5lib.parse(page, namespaceHTMLElements=False)


def reply_form_elements(root) -> set[int]:
    """The elements of the share page's own Reply forms (one per note).

    They repeat with the notes, so they are left out of the tag counts (their attributes are
    still checked). A note body cannot pose as one: it keeps no class attribute. They are
    found by class, not by place, so a body that broke the page's structure could not move
    them out of the count (the share-page test checks that structure too).
    """
    ours: set[int] = set()
    for details in root.iter():
        if local(details.tag) == "details" and details.attrib.get("class") == "reply-form":
            ours |= {id(element) for element in details.iter()}
    return ours


def executable_markup(root, template_tags: dict[str, int]) -> list[str]:
    """What in a parsed page could run or restyle it, beyond what the template itself holds."""
    found = []
    counts: dict[str, int] = {}
    ours = reply_form_elements(root)
    for element in root.iter():
        name = local(element.tag)
        if name is None:
            continue
        if id(element) not in ours:
            counts[name] = counts.get(name, 0) + 1
        for attribute, value in element.attrib.items():
            attr = local(attribute) or ""
            if attr.startswith("on") or attr in {"style", "srcdoc", "formaction"}:
                found.append(f"<{name} {attr}=...>")
            if DANGEROUS.match(CONTROL_OR_SPACE.sub("", html.unescape(value)).lower()):
                found.append(f"<{name} {attr}={value[:30]!r}>")
    for name, count in counts.items():
        allowed = template_tags.get(name, 0)
        # Tags a note body may hold can repeat; anything else may appear no more often than in the template.
        if name in FORBIDDEN_TAGS and count > allowed:
            found.append(f"<{name}> x{count - allowed} beyond the template")
        elif name not in template_tags and name not in ALLOWED_TAGS:
            found.append(f"<{name}> not in the template")
    return found


def body_violations(fragment_root) -> list[str]:
    """Inside a note body: only the policy's tags; links only http(s)/mailto with href and rel."""
    found = []
    for element in fragment_root.iter():
        name = local(element.tag)
        if name is None or element is fragment_root:
            continue
        if name not in ALLOWED_TAGS:
            found.append(f"<{name}> in a note body")
        if name == "a":
            if set(element.attrib) - {"href", "rel"}:
                found.append(f"<a> with {sorted(element.attrib)}")
            scheme = urlsplit(element.attrib.get("href", "")).scheme.lower()
            if scheme not in {"http", "https", "mailto"}:
                found.append(f"<a href> with scheme {scheme!r}")
        elif element.attrib:
            found.append(f"<{name}> with attributes {sorted(element.attrib)}")
    return found


def fragment(body: str):
    return html5lib.parseFragment(body, container="div", namespaceHTMLElements=False)


def tag_counts(page: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    root = parse(page)
    ours = reply_form_elements(root)
    for element in root.iter():
        name = local(element.tag)
        if name and id(element) not in ours:
            counts[name] = counts.get(name, 0) + 1
    return counts


def open_share_pages(app, share: dict) -> list[str]:
    """The share pages as family sees them: the passcode form, then every page of notes (by its "Next notes" link)."""
    client = app.test_client()
    path = "/s/" + share["url"].rsplit("/s/", 1)[1]
    assert client.post(path, data={"passcode": PASSCODE}).status_code == 303
    pages = []
    while path:
        page = client.get(path)
        assert page.status_code == 200
        pages.append(page.get_data(as_text=True))
        found = re.search(r'<a href="([^"]+)" rel="next">', pages[-1])
        path = html.unescape(found.group(1)) if found else None
    return pages


def open_share_page(app, share: dict) -> str:
    """The first share page as family sees it."""
    return open_share_pages(app, share)[0]


def reply_to_every_note_with_the_corpus(app, share: dict) -> None:
    """One reply per vector (as its body and as its writer's name), each to the next note of the share."""
    client = app.test_client()
    token = share["url"].rsplit("/s/", 1)[1]
    session = client.post(f"/api/v1/shared/{token}", json={"passcode": PASSCODE}).get_json()["session"]
    for note_id, vector in zip(share["note_ids"], VECTORS, strict=False):
        sent = client.post(
            f"/api/v1/shared/{token}/notes/{note_id}/replies",
            json={"session": session, "body": "reply: " + vector, "name": vector[:60]},
        )
        assert sent.status_code == 201, sent.get_json()
        assert body_violations(fragment(sent.get_json()["body"])) == []


def note_bodies(page: str) -> list:
    root = parse(page)
    return [
        div
        for div in root.iter()
        if local(div.tag) == "div" and div.attrib.get("class", "") in {"note-body", "reply-body"}
    ]


BENIGN = '<p>benign <b>bold</b> <a href="https://example.com/" rel="noopener noreferrer nofollow">link</a></p>'


@pytest.fixture(scope="module")
def benign_pages(module_app) -> dict[str, str]:
    """Benign pages: what the templates themselves put on a page."""
    owner = new_owner(module_app.test_client())
    assert owner.add_note(body=BENIGN)["body"] == BENIGN
    share = owner.share(passcode=PASSCODE)
    client = module_app.test_client()
    token = share["url"].rsplit("/s/", 1)[1]
    session = client.post(f"/api/v1/shared/{token}", json={"passcode": PASSCODE}).get_json()["session"]
    replied = client.post(
        f"/api/v1/shared/{token}/notes/{share['note_ids'][0]}/replies",
        json={"session": session, "body": "<p>a benign reply</p>", "name": "Rose"},
    )
    assert replied.status_code == 201
    return {
        "share": open_share_page(module_app, share),
        "trial": client.get(f"/trials/{SEED}").get_data(as_text=True),
        "index": client.get("/").get_data(as_text=True),
    }


@pytest.fixture(scope="module")
def template(benign_pages) -> dict[str, dict[str, int]]:
    """Tag counts of the benign pages."""
    return {name: tag_counts(page) for name, page in benign_pages.items()}


@pytest.fixture(scope="module")
def writer(module_app) -> Owner:
    return new_owner(module_app.test_client())


def test_corpus_is_big_and_varied():
    assert len(VECTORS) >= 100
    assert all(isinstance(vector, str) and vector for vector in VECTORS)
    assert len(set(VECTORS)) == len(VECTORS)
    assert all(len(vectors) >= 8 for vectors in CATEGORIES.values())
    print(f"xss corpus: {len(VECTORS)} vectors in {len(CATEGORIES)} categories")


def page_flags(page: str, template_tags: dict[str, int]) -> list[str]:
    return executable_markup(parse(page), template_tags) + [
        problem for div in note_bodies(page) for problem in body_violations(div)
    ]


def test_the_checks_see_unsanitized_vectors(benign_pages, template):
    # Were a body shown unsanitized, these checks would see it: the tests below can fail.
    assert page_flags(benign_pages["share"], template["share"]) == []
    inert_in_html = (
        set(CATEGORIES["template injection"])
        | set(CATEGORIES["Unicode tricks"])
        | {
            "[click me](javascript:alert(1))",  # markdown: text in HTML
            '<a href="https://ok.example.com/&quot;><script>alert(1)</script>">x</a>',  # all inside the href
            "<p><b><i>unclosed",
            "< script>alert(1)</ script>",  # not a tag to a browser
        }
    )
    missed = [
        vector
        for vector in VECTORS
        if vector not in inert_in_html
        and not page_flags(benign_pages["share"].replace(BENIGN, vector), template["share"])
    ]
    assert missed == []


@pytest.mark.parametrize("vector", VECTORS)
def test_body_is_stored_sanitized_and_read_back_inert(module_app, writer, vector):
    client = module_app.test_client()
    created = client.post(
        f"/api/v1/trials/{SEED}/notes",
        headers=writer.headers,
        json={"target": {"selector": [{"type": "TextQuoteSelector", "exact": CIRRHOSIS}]}, "body": vector},
    )
    assert created.status_code == 201
    body = created.get_json()["body"]
    assert body == sanitize_body(vector)  # sanitized on the way in: the stored form is the safe one
    assert body_violations(fragment(body)) == []
    fetched = client.get(f"/api/v1/notes/{created.get_json()['id']}", headers=writer.headers)
    assert fetched.status_code == 200 and fetched.get_json()["body"] == body
    if "7*7" in vector:
        assert "7*7" in html.unescape(body)  # shown as typed, never evaluated


def test_share_page_with_every_vector_holds_no_executable_markup(module_app, template):
    owner = new_owner(module_app.test_client())
    for vector in VECTORS:
        owner.add_note(body=vector)
    share = owner.share(passcode=PASSCODE)
    reply_to_every_note_with_the_corpus(module_app, share)
    pages = open_share_pages(module_app, share)
    replies_seen = sum(page.count('class="reply-body"') for page in pages)
    assert replies_seen == len(VECTORS)
    bodies = []
    for page in pages:
        assert page_flags(page, template["share"]) == []
        bodies += note_bodies(page)
    assert len(bodies) == 2 * len(VECTORS)  # each note's body and the reply to it
    # Each body stays inside its note: a bare <li> in one does not end the note's own item.
    items = [element for page in pages for element in parse(page).iter() if local(element.tag) == "li"]
    notes = [item for item in items if item.attrib.get("class") == "shared-note"]
    assert len(notes) == len(VECTORS)
    for note in notes:
        inside = [local(element.tag) + "." + element.attrib.get("class", "") for element in note.iter()]
        assert inside.count("div.note-body") == 1 and inside.count("p.note-number") == 1, inside[:8]
        assert inside.count("div.replies") == 1
    for div in bodies:
        assert body_violations(div) == [], html.escape("".join(div.itertext()))[:200]
    text = "".join("".join(parse(page).itertext()) for page in pages)
    assert "{{7*7}}" in text and "${7*7}" in text  # template syntax in a body stays text

    shared = module_app.test_client().post(
        "/api/v1/shared/" + share["url"].rsplit("/s/", 1)[1], json={"passcode": PASSCODE}
    )
    assert shared.status_code == 200
    for note in shared.get_json()["notes"]:
        assert body_violations(fragment(note["body"])) == []
    print(f"xss: {len(VECTORS)} hostile bodies stored, read back and rendered on one share page")


@pytest.mark.parametrize("vector", VECTORS)
def test_quote_not_in_the_trial_is_refused_without_echo(module_app, writer, vector):
    client = module_app.test_client()
    target = {"selector": [{"type": "TextQuoteSelector", "exact": vector}]}
    created = client.post(f"/api/v1/trials/{SEED}/notes", headers=writer.headers, json={"target": target})
    note = writer.add_note()
    patched = client.patch(f"/api/v1/notes/{note['id']}", headers=writer.headers, json={"target": target})
    for response in (created, patched):
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        assert vector not in text and json.dumps(vector)[1:-1] not in text


# The store refuses a record holding NUL (PostgreSQL text cannot), so those vectors stay out of the trial.
TEXT_VECTORS = [vector for vector in VECTORS if "\x00" not in vector]


def hostile_record() -> dict:
    """The seed record with every vector written into its text fields (as CT.gov text, one per line)."""
    record = copy.deepcopy(json.loads((shipped_data_dir() / f"{SEED}.json").read_text()))
    protocol = record["protocolSection"]
    protocol["identificationModule"]["nctId"] = HOSTILE_NCT
    protocol["identificationModule"]["briefTitle"] = TEXT_VECTORS[0] + " " + TEXT_VECTORS[1]
    protocol["identificationModule"]["officialTitle"] = " ".join(TEXT_VECTORS[2:6])
    protocol["descriptionModule"]["briefSummary"] = "\n\n".join(TEXT_VECTORS[:40])
    protocol["eligibilityModule"]["eligibilityCriteria"] = (
        "Inclusion Criteria:\n\n"
        + "\n".join(f"* {vector}" for vector in TEXT_VECTORS[40:])
        + "\n\nExclusion Criteria:\n\n"
        + "\n".join(f"{n}. {vector}" for n, vector in enumerate(TEXT_VECTORS, 1))
    )
    protocol["conditionsModule"]["conditions"] = TEXT_VECTORS[6:12]
    protocol["sponsorCollaboratorsModule"]["leadSponsor"]["name"] = TEXT_VECTORS[12]
    return record


def test_hostile_trial_text_and_quotes_render_inert(module_app, template, tmp_path):
    path = tmp_path / f"{HOSTILE_NCT}.json"
    path.write_text(json.dumps(hostile_record()), encoding="utf-8")
    loaded = module_app.test_cli_runner().invoke(args=["trials", "load", str(path)])
    assert loaded.exit_code == 0, loaded.output
    client = module_app.test_client()
    text = client.get(f"/api/v1/trials/{HOSTILE_NCT}").get_json()["text"]
    owner = new_owner(client)
    accepted = 0
    for vector in VECTORS:
        response = client.post(
            f"/api/v1/trials/{HOSTILE_NCT}/notes",
            headers=owner.headers,
            json={"target": {"selector": [{"type": "TextQuoteSelector", "exact": vector}]}, "body": vector},
        )
        if response.status_code == 201:
            accepted += 1
            assert fold_whitespace(response.get_json()["target"]["selector"][0]["exact"]) == fold_whitespace(vector)
        else:
            # Only a vector the trial text does not hold as typed (a line break, a backslash escape) is refused.
            assert response.status_code == 422 and fold_whitespace(vector) not in fold_whitespace(text)
            assert vector not in response.get_data(as_text=True)
    assert accepted >= 100
    share = owner.share(trial_id=HOSTILE_NCT, passcode=PASSCODE)
    pages = {
        "share": open_share_page(module_app, share),
        "trial": client.get(f"/trials/{HOSTILE_NCT}").get_data(as_text=True),
        "index": client.get("/").get_data(as_text=True),
    }
    for name, page in pages.items():
        assert executable_markup(parse(page), template[name]) == [], name
    share_text = "".join(parse(pages["share"]).itertext())
    for vector in VECTORS[:5]:
        assert fold_whitespace(vector) in fold_whitespace(share_text)  # the quotes show as the text they are
    print(f"xss: {accepted} of {len(VECTORS)} vectors anchored as quotes in a hostile trial and rendered inert")


REAL_QUOTES = [  # real trial text with < > &, from the shipped CT.gov records
    ("NCT00763412", "fasting blood glucose <126 mg/dl"),
    ("NCT06207734", "Women <50 years of age"),
    ("NCT04360941", "Parts A & B"),
    ("NCT02552212", "score >= 4"),
]


@pytest.mark.parametrize(("nct", "quote"), REAL_QUOTES)
def test_real_quotes_with_markup_characters_round_trip(module_app, template, nct, quote):
    owner = new_owner(module_app.test_client())
    note = owner.add_note(exact=quote, trial=nct, body="check this")
    assert note["target"]["selector"][0]["exact"] == quote
    page = open_share_page(module_app, owner.share(trial_id=nct, passcode=PASSCODE))
    assert executable_markup(parse(page), template["share"]) == []
    quotes = [el for el in parse(page).iter() if local(el.tag) == "blockquote"]
    assert [fold_whitespace("".join(el.itertext())) for el in quotes] == [f"\u201c{quote}\u201d"]
