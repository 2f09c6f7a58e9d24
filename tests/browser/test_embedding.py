"""The widget on other sites: CORS, hostile host CSS, keyboard alone, failures said aloud."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser.conftest import serve
from browser.page_tools import deep_active, select_text, wait_for_highlights
from browser.test_journey import add_note, family_reads, share_all
from playwright.sync_api import expect
from support import CIRRHOSIS, SEED, new_owner

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trial finder</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' {api};
 connect-src 'self' {api}; style-src 'self' 'unsafe-inline'">
{style}</head>
<body><header><nav><a href="/">Trial finder</a></nav></header>
<main><h1>A Study of ALLO-329</h1>
<article data-notes-root>{article}</article></main>
<footer>Powered by a third party</footer>
<script src="{api}/widget.js" data-trial="{trial}" defer></script>
</body></html>
"""
HOSTILE_CSS = "<style>* {display:block !important; color: transparent} button {display:none !important}</style>"


def trial_article(live) -> str:
    """The seed trial's text as another site would show it (its own markup around the same words)."""
    sections = live.app.test_client().get(f"/api/v1/trials/{SEED}").get_json()["sections"]
    parts = []
    for section in sections:
        parts.append(f"<h2>{section['heading']}</h2>")
        parts.extend(f"<p>{line}</p>" for line in section["text"].split("\n") if line)
    return (
        "\n".join(parts)
        .replace("<", "&lt;")
        .replace("&lt;h2>", "<h2>")
        .replace("&lt;/h2>", "</h2>")
        .replace("&lt;p>", "<p>")
        .replace("&lt;/p>", "</p>")
    )


def write_host_page(root: Path, live, name: str = "trial.html", style: str = "") -> None:
    (root / name).write_text(HOST_PAGE.format(api=live.url, trial=SEED, article=trial_article(live), style=style))


@pytest.fixture
def cross_origin(make_app, host_site):
    """The service on 127.0.0.1 allowing the host site on localhost (another origin)."""
    host_url, root = host_site
    server = serve(make_app(NOTES_ALLOWED_ORIGINS=host_url))
    write_host_page(root, server)
    yield server, host_url, root
    server.stop()


def test_journey_from_another_origin(cross_origin, page, browser):
    live, host_url, _root = cross_origin
    page.goto(f"{host_url}/trial.html")
    add_note(page, CIRRHOSIS, "asked on the finder site")
    assert wait_for_highlights(page, 1) == [CIRRHOSIS]
    page.reload()
    assert wait_for_highlights(page, 1) == [CIRRHOSIS]
    link, passcode = share_all(page)
    assert link.startswith(f"{live.url}/s/")
    family_reads(browser, link, passcode, "asked on the finder site")
    token_key = f"trial-notes:token:{live.url}"
    assert page.evaluate("(k) => localStorage.getItem(k)", token_key)


def test_hostile_host_css_does_not_break_the_ui(make_app, host_site, page):
    host_url, root = host_site
    live = serve(make_app(NOTES_ALLOWED_ORIGINS=host_url))
    try:
        write_host_page(root, live, "hostile.html", HOSTILE_CSS)
        page.goto(f"{host_url}/hostile.html")
        add_note(page, CIRRHOSIS, "still works")
        assert wait_for_highlights(page, 1) == [CIRRHOSIS]
        button = page.get_by_role("button", name="My notes")
        expect(button).to_be_visible()
        assert button.evaluate("b => getComputedStyle(b).color") != "rgba(0, 0, 0, 0)"
        button.click()
        expect(page.get_by_role("button", name="Go to highlight").first).to_be_visible()
    finally:
        live.stop()


def test_keyboard_only(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    # The reader's selection (made with caret browsing or a screen reader), then keys only.
    select_text(page, CIRRHOSIS)
    page.keyboard.press("Alt+n")
    editor = page.get_by_role("dialog", name="New note")
    expect(editor).to_be_visible()
    assert deep_active(page) is not None
    page.keyboard.type("typed with keys only")
    page.keyboard.press("Control+Enter")
    expect(editor).to_be_hidden()
    assert wait_for_highlights(page, 1) == [CIRRHOSIS]
    page.evaluate("getSelection().removeAllRanges()")
    for _ in range(60):
        page.keyboard.press("Tab")
        if (deep_active(page) or "").startswith("My notes"):
            break
    assert (deep_active(page) or "").startswith("My notes")
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="My notes")
    expect(panel).to_be_visible()
    for _ in range(20):
        if (deep_active(page) or "").startswith("Go to highlight"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("getSelection().toString()") == CIRRHOSIS
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert (deep_active(page) or "").startswith("My notes"), "focus returns to the control that opened the panel"


def test_network_failure_is_said_in_plain_words(make_app, page):
    live = serve(make_app())
    page.goto(f"{live.url}/trials/{SEED}")
    select_text(page, CIRRHOSIS)
    page.get_by_role("button", name="Add note").click()
    page.get_by_role("button", name="Cancel").click()  # the dialogs' module is here now
    live.stop()
    select_text(page, CIRRHOSIS)
    page.get_by_role("button", name="Add note").click()
    page.get_by_role("textbox", name="Note").fill("offline")
    page.get_by_role("button", name="Save").click()
    alert = page.get_by_role("dialog", name="New note").get_by_role("alert")
    expect(alert).to_have_text("Can't reach the notes service. Check your connection and try again.")


def test_offline_before_the_dialogs_loaded_is_said_in_plain_words(make_app, page):
    # The dialogs load the first time one opens: a reader offline by then is told so at once.
    live = serve(make_app())
    page.goto(f"{live.url}/trials/{SEED}")
    page.wait_for_load_state("networkidle")  # the widget's start-up modules and words are here
    select_text(page, CIRRHOSIS)
    live.stop()
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("alert").first).to_have_text(
        "Can't reach the notes service. Check your connection and try again."
    )
    expect(page.get_by_role("dialog", name="New note")).to_have_count(0)


def test_orphaned_note_is_listed_not_dropped(live, page, make_app):
    client = live.app.test_client()
    owner = new_owner(client)
    owner.add_note(body="placed")
    orphan = owner.add_note(exact="Lupus Nephritis", body="orphan")
    from notes_service.extensions import db
    from notes_service.notes import service
    from notes_service.notes.models import Note, Notebook

    with live.app.app_context():
        notebook = db.session.get(Notebook, owner.notebook_id)
        notebook.token = owner.token  # what a request with the token carries: the owner slot opens
        note = db.session.get(Note, orphan["id"])
        view = service.open_note(service.data_key(notebook), note)
        gone = [{"type": "TextQuoteSelector", "exact": "words that are nowhere on this page"}]
        service.reseal(
            notebook,
            note,
            view,
            selectors=gone,
            anchor="orphaned",
            version=note.anchored_version,
            dek=service.data_key(notebook),
        )
        db.session.commit()
    page.goto(f"{live.url}/trials/{SEED}")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.reload()
    wait_for_highlights(page, 1)
    page.get_by_role("button", name="My notes").click()
    panel = page.get_by_role("dialog", name="My notes")
    expect(panel.get_by_role("heading", name="Could not find on this page")).to_be_visible()
    expect(panel.get_by_role("button", name="Open note: words that are nowhere")).to_be_visible()


def test_the_shipped_demo_host_page_works(make_app, host_site, page):
    host_url, root = host_site
    live = serve(make_app(NOTES_ALLOWED_ORIGINS=host_url))
    try:
        demo = (Path(__file__).parents[2] / "examples" / "embed-demo.html").read_text()
        (root / "demo.html").write_text(demo.replace("http://127.0.0.1:5000", live.url))
        page.goto(f"{host_url}/demo.html")
        add_note(page, CIRRHOSIS, "from the demo page")
        assert wait_for_highlights(page, 1) == [CIRRHOSIS]
        assert page.js_errors == []
    finally:
        live.stop()
