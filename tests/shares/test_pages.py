from __future__ import annotations

import html
import re
from datetime import timedelta

from support import CIRRHOSIS, new_owner

from notes_service.clock import utcnow
from notes_service.extensions import db
from notes_service.shares.models import Share


def setup_share(client, **options):
    owner = new_owner(client)
    owner.add_note(body="<p>Ask about <strong>liver</strong> tests</p><script>alert(1)</script>")
    share = owner.share(passcode="family-code-1", **options)
    return owner, share, "/s/" + share["url"].rsplit("/s/", 1)[1]


def assert_share_headers(response):
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp.replace("default-src 'none'", "")
    assert "'unsafe-inline'" not in csp


def test_form_then_notes_without_javascript(client):
    _, _, path = setup_share(client)
    form = client.get(path)
    assert form.status_code == 200
    assert_share_headers(form)
    html = form.get_data(as_text=True)
    assert 'name="passcode"' in html and "<script" not in html
    wrong = client.post(path, data={"passcode": "not-it"})
    assert wrong.status_code == 401
    assert "not right" in wrong.get_data(as_text=True)
    assert_share_headers(wrong)
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


def test_a_bad_page_cursor_is_a_friendly_400_page(client):
    _, _, path = setup_share(client)
    client.post(path, data={"passcode": "family-code-1"})
    response = client.get(path + "?cursor=not-ours")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "cursor" in response.get_data(as_text=True)
    assert_share_headers(response)
