"""Embedding mistakes explain themselves: one console message naming the fix, one plain sentence for the reader."""

from __future__ import annotations

import pytest
from browser.conftest import serve
from browser.page_tools import select_text
from browser.test_embedding import HOST_PAGE, trial_article
from playwright.sync_api import Page, expect
from support import CIRRHOSIS, SEED

STRICT_CONNECT = "connect-src 'self' {api};"


@pytest.fixture
def service(make_app, host_site):
    """The service allowing the host site's origin, and the host site's folder."""
    host_url, root = host_site
    server = serve(make_app(NOTES_ALLOWED_ORIGINS=host_url))
    yield server, host_url, root
    server.stop()


def console_of(page: Page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    return messages


def wait_for_message(page: Page, messages: list[str], words: str) -> str:
    """The first console message holding `words`, waiting for the widget's check to say it."""
    page.wait_for_timeout(50)
    for _ in range(200):
        found = [m for m in messages if words in m]
        if found:
            return found[0]
        page.wait_for_timeout(50)
    raise AssertionError(f"no console message with {words!r}: {messages}")


def panel_says(page: Page, sentence: str) -> None:
    page.get_by_role("button", name="My notes").click()
    expect(page.get_by_role("dialog", name="My notes").get_by_role("alert")).to_have_text(sentence)


def test_a_page_without_a_notes_root_is_told(service, page):
    server, host_url, root = service
    page_html = HOST_PAGE.format(api=server.url, trial=SEED, article=trial_article(server), style="")
    (root / "trial.html").write_text(page_html.replace("<article data-notes-root>", "<article>"))
    messages = console_of(page)
    page.goto(f"{host_url}/trial.html")
    said = wait_for_message(page, messages, "data-notes-root")
    assert said.startswith("error: Trial Notes:") and "put it on the element" in said
    panel_says(page, "Notes can't be added on this page.")


# A client-rendered page putting its notes root in after a while (within the check's grace).
LATE_ROOT = """<script>
setTimeout(() => {
  const old = document.querySelector('article');
  const root = old.cloneNode(true);
  root.setAttribute('data-notes-root', '');
  old.replaceWith(root);
}, 800);
</script></body>"""


def test_a_root_added_late_by_the_page_is_no_mistake(service, page):
    server, host_url, root = service
    page_html = HOST_PAGE.format(api=server.url, trial=SEED, article=trial_article(server), style="")
    late = page_html.replace("<article data-notes-root>", "<article>").replace("</body>", LATE_ROOT)
    (root / "trial.html").write_text(late.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"))
    messages = console_of(page)
    page.goto(f"{host_url}/trial.html")
    page.wait_for_timeout(4500)  # past the check's grace for the root
    assert not [m for m in messages if "Trial Notes" in m], messages
    select_text(page, CIRRHOSIS)
    expect(page.get_by_role("button", name="Add note")).to_be_visible()


def test_an_unknown_trial_is_told_at_load_not_at_save(service, page):
    server, host_url, root = service
    article = trial_article(server)
    (root / "trial.html").write_text(HOST_PAGE.format(api=server.url, trial="NCT00000000", article=article, style=""))
    messages = console_of(page)
    page.goto(f"{host_url}/trial.html")
    said = wait_for_message(page, messages, 'data-trial="NCT00000000"')
    assert said.startswith("error: Trial Notes:") and "flask trials load" in said
    select_text(page, CIRRHOSIS)
    page.get_by_role("button", name="Add note").click()
    # One plain sentence at once, not an editor whose Save fails.
    expect(page.get_by_role("alert").first).to_have_text("Notes can't be added to this trial yet.")
    expect(page.get_by_role("dialog", name="New note")).to_have_count(0)


def test_an_origin_the_service_refuses_is_told_instead_of_check_your_connection(make_app, host_site, page):
    host_url, root = host_site
    server = serve(make_app())  # NOTES_ALLOWED_ORIGINS not set: the host's origin is refused
    try:
        (root / "trial.html").write_text(
            HOST_PAGE.format(api=server.url, trial=SEED, article=trial_article(server), style="")
        )
        messages = console_of(page)
        page.goto(f"{host_url}/trial.html")
        said = wait_for_message(page, messages, "NOTES_ALLOWED_ORIGINS")
        assert said.startswith("error: Trial Notes:") and host_url in said
        select_text(page, CIRRHOSIS)
        page.get_by_role("button", name="Add note").click()
        expect(page.get_by_role("alert").first).to_have_text("Notes can't be used on this site yet.")
        assert not [m for m in messages if "Check your connection" in m]
        panel_says(page, "Notes can't be used on this site yet.")
    finally:
        server.stop()


def test_a_csp_that_blocks_the_service_is_told(service, page):
    server, host_url, root = service
    html = HOST_PAGE.format(api=server.url, trial=SEED, article=trial_article(server), style="")
    (root / "trial.html").write_text(html.replace(STRICT_CONNECT.format(api=server.url), "connect-src 'self';"))
    messages = console_of(page)
    page.goto(f"{host_url}/trial.html")
    said = wait_for_message(page, messages, "Content-Security-Policy")
    assert said.startswith("error: Trial Notes:") and f"add {server.url} to its connect-src" in said
    panel_says(page, "Notes can't be used on this page: it doesn't allow the notes service.")


def test_a_browser_without_the_highlight_api_is_told(live, page):
    page.add_init_script("delete window.Highlight; delete CSS.highlights;")
    messages = console_of(page)
    page.goto(f"{live.url}/trials/{SEED}")
    said = wait_for_message(page, messages, "Custom Highlight API")
    assert said.startswith("warning: Trial Notes:") and 'listed in "My notes"' in said


def test_a_well_embedded_page_hears_nothing(service, page):
    server, host_url, root = service
    (root / "trial.html").write_text(
        HOST_PAGE.format(api=server.url, trial=SEED, article=trial_article(server), style="")
    )
    messages = console_of(page)
    with page.expect_response(lambda response: "/embedding" in response.url):
        page.goto(f"{host_url}/trial.html")
    page.wait_for_timeout(300)
    assert not [m for m in messages if "Trial Notes" in m], messages


def test_our_own_trial_page_hears_nothing(live, page):
    # A same-origin request carries no Origin header: that is an allowed page, not a refused one.
    messages = console_of(page)
    with page.expect_response(lambda response: "/embedding" in response.url):
        page.goto(f"{live.url}/trials/{SEED}")
    page.wait_for_timeout(300)
    assert not [m for m in messages if "Trial Notes" in m], messages
