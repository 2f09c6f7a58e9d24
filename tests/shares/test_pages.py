from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from conftest import BACKEND
from support import CIRRHOSIS, delete_before_payloads_are_read, new_owner

from notes_service.clock import utcnow
from notes_service.extensions import db
from notes_service.shares.models import Share


def setup_share(client, **options):
    owner = new_owner(client)
    owner.add_note(body="<p>Ask about <strong>liver</strong> tests</p><script>alert(1)</script>")
    share = owner.share(passcode="family-code-1", **options)
    return owner, share, "/s/" + share["url"].rsplit("/s/", 1)[1]


def assert_share_headers(response, *, form: bool = False):
    """The share page's headers; only the passcode form (no note on it) may run a script, ours."""
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    scripts = re.findall(r"script-src [^;]*", csp)
    assert scripts == (["script-src 'self'"] if form else [])
    assert "'unsafe-inline'" not in csp


def only_our_script(html: str) -> bool:
    """The passcode form's one script is the "Show passcode" switch, from our static files."""
    return re.findall(r"<script[^>]*>", html) == ['<script src="/static/share-form.js" defer>']


def test_form_then_notes_without_javascript(client):
    _, _, path = setup_share(client)
    form = client.get(path)
    assert form.status_code == 200
    assert_share_headers(form, form=True)
    html = form.get_data(as_text=True)
    assert 'name="passcode"' in html and only_our_script(html)
    wrong = client.post(path, data={"passcode": "not-it"})
    assert wrong.status_code == 401
    assert "not right" in wrong.get_data(as_text=True)
    assert_share_headers(wrong, form=True)
    opened = client.post(path, data={"passcode": "family-code-1"})
    assert opened.status_code == 303
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={path}" in cookie
    assert "Max-Age=1800" in cookie
    page = client.get(path)
    assert page.status_code == 200
    assert_share_headers(page)
    html = page.get_data(as_text=True)
    assert "<strong>liver</strong>" in html and "<script" not in html
    assert '<mark class="hl hl-yellow" id="mark-note-1"' in html
    assert CIRRHOSIS in html


def test_cookie_is_scoped_to_its_share(client):
    _, _, first = setup_share(client)
    _, _, second = setup_share(client)
    client.post(first, data={"passcode": "family-code-1"})
    assert "passcode" in client.get(second).get_data(as_text=True)


def test_secure_cookie_behind_https(client):
    _, _, path = setup_share(client)
    response = client.post(path, data={"passcode": "family-code-1"}, base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_state_pages_in_plain_words(app, client):
    owner, share, path = setup_share(client)
    assert client.get("/s/unknown-token").status_code == 404
    for _ in range(5):
        client.post(path, data={"passcode": "wrong"})
    locked = client.get(path)
    assert locked.status_code == 423 and "paused" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0
    client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers)
    revoked = client.get(path)
    assert revoked.status_code == 410 and "revoked" in revoked.get_data(as_text=True)
    assert_share_headers(revoked)

    _, share2, path2 = setup_share(client)
    with app.app_context():
        db.session.get(Share, share2["id"]).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    expired = client.get(path2)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)


def test_revoking_closes_an_open_page(client):
    owner, share, path = setup_share(client)
    client.post(path, data={"passcode": "family-code-1"})
    assert client.get(path).status_code == 200
    client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers)
    assert client.get(path).status_code == 410


def test_page_is_printable_and_phone_ready(client):
    _, _, path = setup_share(client)
    client.post(path, data={"passcode": "family-code-1"})
    html = client.get(path).get_data(as_text=True)
    assert 'name="viewport"' in html
    css = client.get("/static/site.css").get_data(as_text=True)
    assert "@media print" in css


def test_a_large_share_shows_in_pages_of_25_linked_without_script(client):
    owner = new_owner(client)
    for i in range(30):
        owner.add_note(body=f"<p>question {i}</p>")
    share = owner.share(passcode="family-code-1")
    path = "/s/" + share["url"].rsplit("/s/", 1)[1]
    client.post(path, data={"passcode": "family-code-1"})
    first = client.get(path).get_data(as_text=True)
    assert first.count('class="shared-note"') == 25 and "question 24<" in first and "question 25<" not in first
    assert "30 shared notes" in first and "Notes 1 to 25 of 30" in first and "<script" not in first
    next_link = re.search(r'<a href="([^"]+)" rel="next">Next notes</a>', first)
    assert next_link and next_link.group(1).startswith(path + "?cursor=")
    second = client.get(html.unescape(next_link.group(1)))
    assert second.status_code == 200
    assert_share_headers(second)
    page = second.get_data(as_text=True)
    # Numbered across pages; the trial text is there with this page's passages marked.
    assert page.count('class="shared-note"') == 5 and 'id="note-26"' in page and "question 29<" in page
    assert 'id="mark-note-26"' in page and 'id="mark-note-1"' not in page and CIRRHOSIS in page
    assert 'rel="next"' not in page and f'<a href="{path}">First notes</a>' in page


@pytest.mark.skipif(BACKEND != "postgresql", reason="SQLite reads a page of a share in one snapshot")
def test_a_page_whose_notes_are_deleted_while_read_still_links_to_the_notes_after_it(app, client, monkeypatch):
    owner = new_owner(client)
    second = [owner.add_note(body=f"<p>question {i}</p>")["id"] for i in range(3)][1]
    share = owner.share(passcode="family-code-1")
    path = "/s/" + share["url"].rsplit("/s/", 1)[1]
    client.post(path, data={"passcode": "family-code-1"})
    first_page = client.get(path + "?limit=1").get_data(as_text=True)
    assert "question 0<" in first_page and "question 1<" not in first_page
    deleted = delete_before_payloads_are_read(monkeypatch, app, owner, [second])

    next_link = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', first_page).group(1))
    emptied = client.get(next_link + "&limit=1")

    assert deleted == [204] and emptied.status_code == 200  # was a 500: no note to take the cursor from
    page = emptied.get_data(as_text=True)
    assert 'class="shared-note"' not in page
    assert '<p class="share-pages">' not in page  # no "Notes 2 to 1 of 3" for a page left empty
    last = client.get(html.unescape(re.search(r'<a href="([^"]+)" rel="next">', page).group(1)))
    assert "question 2<" in last.get_data(as_text=True) and 'rel="next"' not in last.get_data(as_text=True)


def test_a_bad_page_cursor_is_a_friendly_400_page(client):
    _, _, path = setup_share(client)
    client.post(path, data={"passcode": "family-code-1"})
    response = client.get(path + "?cursor=not-ours")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "cursor" in response.get_data(as_text=True)
    assert_share_headers(response)


def test_a_wrong_passcode_says_in_plain_words_how_many_tries_are_left(client):
    _, _, path = setup_share(client)
    said = [client.post(path, data={"passcode": f"wrong-{i}"}).get_data(as_text=True) for i in range(4)]
    assert [("4 more tries" in said[0]), ("3 more tries" in said[1]), ("2 more tries" in said[2])] == [True] * 3
    assert "You have 1 more try before the link pauses" in said[3] and "1 more tries" not in said[3]
    paused = client.post(path, data={"passcode": "wrong-5"})
    assert paused.status_code == 423 and "This link is paused" in paused.get_data(as_text=True)


def test_the_notes_page_is_headed_by_the_trial_and_says_its_30_minutes_calmly(client):
    _, _, path = setup_share(client)
    client.post(path, data={"passcode": "family-code-1"})
    page = client.get(path).get_data(as_text=True)
    heading = re.search(
        r'<h1 id="trial-heading" lang="en" dir="ltr">([^<]+)</h1>\s*<p class="nct-id">(NCT\d+)</p>', page
    )
    assert heading and "ALLO-329" in heading[1] and heading[2] == "NCT07085104"
    assert '<p class="session-note">For privacy, this page asks for the passcode again after 30 minutes.</p>' in page
    assert "closes after" not in page
    assert '<h2 id="shared-notes-heading">1 shared note</h2>' in page
