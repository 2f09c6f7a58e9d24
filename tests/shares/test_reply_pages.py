"""The share page's side of sender names and replies: no script, the form posts, the reply shows."""

from __future__ import annotations

import html
import logging
import re

import pytest
from support import new_owner

from notes_service.shares.schemas import MAX_REPLY_CHARS

PASSCODE = "family-code-1"


def open_page(client, **options):
    """A share of one note opened in `client` (its cookie set); the owner, the share and its path."""
    owner = new_owner(client)
    note = owner.add_note(body="<p>Ask about <strong>liver</strong> tests</p>")
    share = owner.share(passcode=PASSCODE, **options)
    path = "/s/" + share["url"].rsplit("/s/", 1)[1]
    assert client.post(path, data={"passcode": PASSCODE}).status_code == 303
    return owner, note, share, path


def test_the_passcode_form_names_the_sender_and_nothing_else(client):
    owner = new_owner(client)
    owner.add_note(body="<p>Private-question-words</p>")
    share = owner.share(passcode=PASSCODE, sender_name="Maria", label="For Mom")
    path = "/s/" + share["url"].rsplit("/s/", 1)[1]
    form = client.get(path).get_data(as_text=True)
    assert "Maria</span> shared notes with you" in form
    # Inside a sentence, the name is isolated (site.css: unicode-bidi) like the heading's.
    assert 'type the passcode <span class="sender-name-inline">Maria</span> told you' in form
    assert "For Mom" not in form and "Private-question" not in form and "NCT" not in form
    wrong = client.post(path, data={"passcode": "not-it"})
    assert wrong.status_code == 401 and "Maria</span> shared notes with you" in wrong.get_data(as_text=True)


def test_without_a_sender_name_the_form_is_neutral(client):
    owner = new_owner(client)
    owner.add_note()
    share = owner.share(passcode=PASSCODE)
    form = client.get("/s/" + share["url"].rsplit("/s/", 1)[1]).get_data(as_text=True)
    assert "<h1>Private notes shared with you</h1>" in form and "Someone" not in form


def test_a_hostile_sender_name_is_inert(client):
    owner = new_owner(client)
    owner.add_note()
    share = owner.share(passcode=PASSCODE, sender_name='Maria<img src=x onerror="alert(1)">"><b>x</b>')
    form = client.get("/s/" + share["url"].rsplit("/s/", 1)[1]).get_data(as_text=True)
    assert "<img" not in form and "onerror" not in form and "<b>" not in form
    assert re.search(r'<span class="sender-name">Maria&#34;&gt;x</span>', form)
    assert '<span class="sender-name-inline">Maria&#34;&gt;x</span>' in form


def test_reply_without_javascript_goes_back_to_the_note_and_shows_there(client):
    _owner, note, _share, path = open_page(client)
    page = client.get(path).get_data(as_text=True)
    assert "<summary>Reply</summary>" in page and "<script" not in page
    assert f'action="{path}/notes/{note["id"]}/replies"' in page
    sent = client.post(
        f"{path}/notes/{note['id']}/replies", data={"body": "Ask the doctor", "name": "Rose", "number": "1"}
    )
    assert sent.status_code == 303 and sent.headers["Location"] == f"{path}#note-1"
    assert sent.headers["Referrer-Policy"] == "no-referrer"
    page = client.get(path).get_data(as_text=True)
    assert '<span class="reply-name">Rose</span>' in page and "Ask the doctor" in page and "1 reply" in page


def test_hostile_markup_in_a_reply_and_its_name_is_inert_on_the_page(client):
    _owner, note, _share, path = open_page(client)
    client.post(
        f"{path}/notes/{note['id']}/replies",
        data={
            "body": '<p onmouseover="alert(1)">Hi <a href="javascript:alert(2)">there</a></p><script>alert(3)</script>'
            '<iframe src="https://example.org"></iframe><style>body{display:none}</style>',
            "name": '<svg onload="alert(4)"></svg>"><script>alert(5)</script>Rose',
        },
    )
    page = client.get(path).get_data(as_text=True)
    replies = page[page.index('class="reply-list"') :]
    assert "alert" not in replies and "<iframe" not in replies and "<style" not in replies and "<svg" not in replies
    assert '<span class="reply-name">&#34;&gt;Rose</span>' in replies
    assert "<p>Hi there</p>" in replies


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"body": ""}, 422, "Write a reply"),
        ({"body": "<script>x</script>"}, 422, "Write a reply"),
        ({"body": "y" * (MAX_REPLY_CHARS + 1)}, 422, "at most"),
        ({"body": "ok", "name": "n" * 61}, 422, "at most"),
    ],
)
def test_a_reply_the_page_cannot_take_shows_the_form_again_with_why(client, fields, status, words):
    owner, note, _share, path = open_page(client)
    response = client.post(f"{path}/notes/{note['id']}/replies", data={"number": "1", **fields})
    assert response.status_code == status and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Your reply was not sent" in page and words in html.unescape(page)
    assert '<details class="reply-form" open>' in page
    assert client.get(f"/api/v1/trials/{note['trial_id']}/replies", headers=owner.headers).get_json()["replies"] == []


def test_replies_off_show_no_reply_control_and_refuse_a_form(client):
    owner, note, share, path = open_page(client)
    client.patch(f"/api/v1/shares/{share['id']}", headers=owner.headers, json={"replies_allowed": False})
    page = client.get(path).get_data(as_text=True)
    assert "Reply</summary>" not in page and "Send reply" not in page
    refused = client.post(f"{path}/notes/{note['id']}/replies", data={"body": "hello"})
    assert refused.status_code == 409 and "turned replies off" in refused.get_data(as_text=True)


def test_a_reply_form_without_the_cookie_is_the_passcode_form(client, app):
    _owner, note, _share, path = open_page(client)
    stranger = app.test_client()
    response = stranger.post(f"{path}/notes/{note['id']}/replies", data={"body": "from another site"})
    assert response.status_code == 401 and 'name="passcode"' in response.get_data(as_text=True)


def test_a_revoked_share_takes_no_reply_from_its_page(client):
    owner, note, share, path = open_page(client)
    client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers)
    response = client.post(f"{path}/notes/{note['id']}/replies", data={"body": "too late"})
    assert response.status_code == 410 and "no longer works" in response.get_data(as_text=True)


def test_a_note_not_in_the_share_is_a_404_page(client):
    owner, _note, _share, path = open_page(client)
    private = owner.add_note(exact="Systemic Sclerosis", body="not shared")
    response = client.post(f"{path}/notes/{private['id']}/replies", data={"body": "probe"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    # An id no note could have is not looked up (PostgreSQL refuses a NUL in text with an error).
    response = client.post(f"{path}/notes/a%00b/replies", data={"body": "probe"})
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_the_way_back_keeps_the_page_and_refuses_a_forged_cursor(client):
    _owner, note, _share, path = open_page(client)
    forged = client.post(
        f"{path}/notes/{note['id']}/replies", data={"body": "a", "number": "1", "cursor": "https://evil.example"}
    )
    assert forged.headers["Location"] == f"{path}#note-1"
    odd = client.post(f"{path}/notes/{note['id']}/replies", data={"body": "b", "number": "1#x"})
    assert odd.headers["Location"] == path


def test_no_reply_text_or_name_from_the_page_in_the_logs(client, caplog):
    _owner, note, _share, path = open_page(client)
    caplog.set_level(logging.DEBUG)
    client.post(f"{path}/notes/{note['id']}/replies", data={"body": "Saffron-page-words", "name": "Hyacinth"})
    client.post(f"{path}/notes/{note['id']}/replies", data={"body": "z" * 3000, "name": "Hyacinth"})
    client.get(path)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Saffron" not in logged and "Hyacinth" not in logged and "zzzzzzzz" not in logged


def test_a_reply_form_sent_twice_stores_one_reply(client):
    # Without a script nothing stops a second tap on "Send reply" (or a resend after a lost
    # answer): the form carries its reply's id, so the same form sent again stores nothing more.
    owner, note, _share, path = open_page(client)
    page = client.get(path).get_data(as_text=True)
    reply_id = re.search(r'<input type="hidden" name="reply_id" value="([0-9a-f]{32})">', page)[1]
    form = {"body": "Ask the doctor", "name": "Rose", "number": "1", "reply_id": reply_id}
    first = client.post(f"{path}/notes/{note['id']}/replies", data=form)
    again = client.post(f"{path}/notes/{note['id']}/replies", data=form)
    assert first.status_code == again.status_code == 303 and again.headers["Location"] == f"{path}#note-1"
    listed = client.get(f"/api/v1/trials/{note['trial_id']}/replies", headers=owner.headers).get_json()["replies"]
    assert [(r["id"], r["body"]) for r in listed] == [(reply_id, "Ask the doctor")]
    page = client.get(path).get_data(as_text=True)
    assert "1 reply" in page and reply_id not in re.findall(r'name="reply_id" value="([0-9a-f]{32})"', page)
    # Another form's id, or one no reply could have, is a reply of its own.
    client.post(f"{path}/notes/{note['id']}/replies", data={**form, "reply_id": "not-an-id"})
    listed = client.get(f"/api/v1/trials/{note['trial_id']}/replies", headers=owner.headers).get_json()["replies"]
    assert len(listed) == 2


def test_a_reply_form_without_the_cookie_to_a_closed_share_says_it_is_closed(client, app):
    # Asking for the passcode again would lead nowhere: the link no longer opens.
    owner, note, share, path = open_page(client)
    client.delete(f"/api/v1/shares/{share['id']}", headers=owner.headers)
    response = app.test_client().post(f"{path}/notes/{note['id']}/replies", data={"body": "after my half hour"})
    page = response.get_data(as_text=True)
    assert response.status_code == 410 and "no longer works" in page and 'name="passcode"' not in page


def test_the_reply_address_asked_as_a_page_leads_to_the_share(client):
    # A refused reply is shown at the form's address: reloaded from the address bar or a restored
    # tab, it was a 405 in English, whatever the share's language, its language switch a 405 again.
    _owner, note, _share, path = open_page(client, language="ar")
    response = client.get(f"{path}/notes/{note['id']}/replies")
    assert response.status_code == 303 and response.headers["Location"] == path
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # Only a share's own link goes into the Location header: anything else is the friendly 404.
    for token in ("a%0Ab", "a%3Fb", "unknown-token"):
        unknown = client.get(f"/s/{token}/notes/{note['id']}/replies")
        assert unknown.status_code == 404 and unknown.mimetype == "text/html"


def test_a_reply_to_a_note_deleted_meanwhile_keeps_what_was_typed(client):
    # The share is there, its note is not: the page of notes says why the reply was not sent and
    # gives back the text, instead of a "There is nothing at this link" page that loses it.
    owner, note, _share, path = open_page(client)
    owner.add_note(exact="Systemic Sclerosis", body="still shared")
    client.delete(f"/api/v1/notes/{note['id']}", headers=owner.headers)
    response = client.post(
        f"{path}/notes/{note['id']}/replies", data={"body": "A long answer, typed with care", "number": "1"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "There is nothing at this link" not in page and "shared note" in page
    assert "Your reply was not sent" in page and "There is no such note in this share." in page
    assert '<p class="reply-kept" dir="auto">A long answer, typed with care</p>' in page


def test_a_reply_as_long_as_the_form_allows_is_taken_whatever_its_lines(client):
    # The textarea's maxlength counts a line break as one character; the browser sends it as two
    # (CR LF): 20 lines making 2,000 characters were refused as too long, and what was kept cut.
    owner, note, _share, path = open_page(client)
    typed = "\n".join(["a" * 99] * 20) + "a"
    assert len(typed) == MAX_REPLY_CHARS
    sent = client.post(f"{path}/notes/{note['id']}/replies", data={"body": typed.replace("\n", "\r\n"), "number": "1"})
    assert sent.status_code == 303
    listed = client.get(f"/api/v1/trials/{note['trial_id']}/replies", headers=owner.headers).get_json()["replies"]
    assert len(listed) == 1 and listed[0]["body"].count("a") == 99 * 20 + 1
