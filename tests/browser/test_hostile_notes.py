"""Hostile note bodies and quotes shown by the widget and on the share page in Chromium: none runs."""

from __future__ import annotations

from browser.page_tools import wait_for_highlights
from playwright.sync_api import expect
from security.xss_corpus import VECTORS
from support import SEED, new_owner

from notes_service.extensions import db
from notes_service.notes import service
from notes_service.notes.models import Note, Notebook

# Every vector that would run sets this flag or opens a dialog; both are watched.
FLAG_VECTORS = [
    '<img src=x onerror="window.__pwned=1">',
    '<svg onload="window.__pwned=1"></svg>',
    '<a href="javascript:window.__pwned=1">click</a>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    '<noscript><p title="</noscript><img src=x onerror=window.__pwned=1>">',
]
QUOTES_TRUE = ["Child-Pugh Class B or C cirrhosis", "Systemic Sclerosis", "Lupus Nephritis"]


def store_hostile_notes(live, bodies: list[str]):
    """Notes with hostile bodies (through the API) and hostile quotes (as orphans, sealed directly)."""
    owner = new_owner(live.app.test_client())
    for index, body in enumerate(bodies):
        owner.add_note(exact=QUOTES_TRUE[index % len(QUOTES_TRUE)], body=body)
    with live.app.app_context():
        notebook = db.session.get(Notebook, owner.notebook_id)
        notebook.token = owner.token  # what a request with the token carries: the owner slot opens
        dek = service.data_key(notebook)
        notes = db.session.query(Note).filter_by(notebook_id=notebook.id).limit(20).all()
        for note, quote in zip(notes, VECTORS, strict=False):
            view = service.open_note(dek, note)
            selectors = [{"type": "TextQuoteSelector", "exact": quote}]
            service.reseal(
                notebook, note, view, selectors=selectors, anchor="orphaned", version=note.anchored_version, dek=dek
            )
        db.session.commit()
    return owner


EXECUTABLE = """
(root) => {
  const found = [];
  const scope = root === 'widget' ? document.querySelector('trial-notes-widget').shadowRoot : document;
  for (const el of scope.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['script', 'iframe', 'object', 'embed', 'svg', 'math', 'base', 'frame'].includes(tag)) found.push(tag);
    for (const attr of el.attributes) {
      const value = attr.value.trim().toLowerCase();
      if (attr.name.startsWith('on')) found.push(tag + '[' + attr.name + ']');
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(attr.name)
          && /^(javascript|data|vbscript):/.test(value.replace(/[\\s\u0000-\u001f]/g, ''))) {
        found.push(tag + '[' + attr.name + '=' + value.slice(0, 20) + ']');
      }
    }
  }
  return found;
}
"""


def watch(page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def test_hostile_notes_never_run_in_the_widget(live, page):
    bodies = FLAG_VECTORS + list(VECTORS)
    owner = store_hostile_notes(live, bodies)
    dialogs = watch(page)
    page.goto(f"{live.url}/trials/{SEED}")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [f"trial-notes:token:{live.url}", owner.token])
    page.reload()
    wait_for_highlights(page, len(bodies) - 20)
    page.get_by_role("button", name="My notes").click()
    panel = page.get_by_role("dialog", name="My notes")
    expect(panel).to_be_visible()  # it opens once its stylesheet module is there
    openers = panel.get_by_role("button", name="Open note")
    assert openers.count() == len(bodies)
    for index in range(openers.count()):
        openers.nth(index).click()
        view = page.get_by_role("dialog", name="Your note")
        expect(view).to_be_visible()
        view.get_by_role("button", name="Close").click()
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("window.__pwned === undefined && window.xss === undefined")
    assert page.evaluate(EXECUTABLE, "widget") == []


def test_hostile_notes_never_run_on_the_share_page(live, browser):
    bodies = FLAG_VECTORS + list(VECTORS)
    owner = store_hostile_notes(live, bodies)
    share = owner.share(passcode="family-code-1")
    context = browser.new_context()
    page = context.new_page()
    dialogs = watch(page)
    page.goto(live.url + "/s/" + share["url"].rsplit("/s/", 1)[1])
    page.get_by_label("Passcode", exact=True).fill("family-code-1")
    page.get_by_role("button", name="Open the notes").click()
    shown = 0
    while True:  # 25 notes a page, the next through a plain link (the page has no script)
        expect(page.locator(".shared-note").first).to_be_visible()
        shown += page.locator(".shared-note").count()
        page.wait_for_timeout(300)
        assert dialogs == []
        assert page.evaluate("window.__pwned === undefined && window.xss === undefined")
        assert page.evaluate(EXECUTABLE, "document") == []
        following = page.get_by_role("link", name="Next notes")
        if following.count() == 0:
            break
        following.click()
    assert shown == len(bodies)
    context.close()
