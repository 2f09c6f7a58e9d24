"""A share's language: chosen when sharing, changed by PATCH, the page's unless the reader picks another."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from support import SEED, new_owner

from notes_service.extensions import db
from notes_service.i18n import LANGUAGES
from notes_service.notes.schemas import PALETTE
from notes_service.shares.pages import highlight_names
from notes_service.shares.schemas import SHARE_LANGUAGES


def test_a_share_language_is_one_of_the_languages_shipped():
    assert set(SHARE_LANGUAGES) == set(LANGUAGES)


def test_a_share_keeps_the_language_it_was_made_in(client, owner):
    owner.add_note()
    share = owner.share(passcode="123456", language="ar")
    assert share["language"] == "ar"
    read = client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    listed = client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"][0]
    assert read["language"] == listed["language"] == "ar"
    assert owner.share(passcode="123456")["language"] is None
    assert owner.share(passcode="123456", language=None)["language"] is None


def test_patch_changes_or_removes_the_language_and_nothing_else(client, owner):
    owner.add_note()
    share = owner.share(passcode="123456", label="For Mom", language="es")
    url = f"/api/v1/shares/{share['id']}"
    changed = client.patch(url, headers=owner.headers, json={"language": "ar"}).get_json()
    assert (changed["language"], changed["label"], changed["replies_allowed"]) == ("ar", "For Mom", True)
    kept = client.patch(url, headers=owner.headers, json={"replies_allowed": False}).get_json()
    assert kept["language"] == "ar"
    removed = client.patch(url, headers=owner.headers, json={"language": None}).get_json()
    assert removed["language"] is None and removed["label"] == "For Mom"


@pytest.mark.parametrize("language", ["fr", "EN", "es-MX", "", 1, ["es"]])
def test_a_language_we_do_not_ship_is_422_and_changes_nothing(client, owner, language):
    owner.add_note()
    made = client.post(
        "/api/v1/shares", headers=owner.headers, json={"trial_id": SEED, "passcode": "123456", "language": language}
    )
    assert made.status_code == 422 and made.mimetype == "application/problem+json"
    assert made.get_json()["errors"] == {"language": made.get_json()["errors"]["language"]}
    assert client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"] == []
    share = owner.share(passcode="123456", language="es")
    patched = client.patch(f"/api/v1/shares/{share['id']}", headers=owner.headers, json={"language": language})
    assert patched.status_code == 422 and "language" in patched.get_json()["errors"]
    assert client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()["language"] == "es"


def test_the_database_refuses_a_language_we_do_not_ship(app, owner):
    owner.add_note()
    share = owner.share(passcode="123456")
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE shares SET language = 'fr' WHERE id = :id"), {"id": share["id"]})
            db.session.commit()
        db.session.rollback()
        db.session.execute(text("UPDATE shares SET language = 'es' WHERE id = :id"), {"id": share["id"]})
        db.session.commit()


def shared(client, owner, **options):
    owner.add_note()
    share = owner.share(passcode="family-code-1", **options)
    return share, "/s/" + share["url"].rsplit("/s/", 1)[1]


@pytest.mark.parametrize(
    ("language", "accept", "shown"),
    [("es", "en-US,en", "es"), ("ar", "es", "ar"), (None, "es-MX,es", "es"), (None, "fr", "en")],
)
def test_the_share_page_is_in_the_share_language_over_the_browser(client, owner, language, accept, shown):
    _, path = shared(client, owner, language=language)
    form = client.get(path, headers={"Accept-Language": accept})
    assert f'<html lang="{shown}"' in form.get_data(as_text=True)
    assert "Set-Cookie" not in form.headers  # the share's language is not remembered as the reader's choice
    wrong = client.post(path, data={"passcode": "wrong"}, headers={"Accept-Language": accept})
    assert wrong.status_code == 401 and f'<html lang="{shown}"' in wrong.get_data(as_text=True)
    client.post(path, data={"passcode": "family-code-1"})
    page = client.get(path, headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{shown}"' in page


def test_the_readers_choice_wins_over_the_share_language(client, owner):
    _, path = shared(client, owner, language="ar")
    chosen = client.get(f"{path}?lang=es")
    html = chosen.get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html and "Código de acceso" in html
    assert chosen.headers["Set-Cookie"].startswith("lang=es;")
    # Remembered: the next visit, with no ?lang, stays in the reader's choice.
    assert '<html lang="es"' in client.get(path).get_data(as_text=True)
    assert '<html lang="en"' in client.get(f"{path}?lang=en").get_data(as_text=True)


def test_the_share_pages_keep_the_language_switch_and_it_leads_to_the_share(client, owner):
    share, path = shared(client, owner, language="ar")
    form = client.get(path).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in form and "رمز المرور" in form
    for code in ("en", "es"):
        assert f'href="{path}?lang={code}" lang="{code}" hreflang="{code}"' in form
    client.post(path, data={"passcode": "family-code-1"})
    # A reply that cannot be taken is shown at the form's POST address: the switch leads back to the page.
    refused = client.post(f"{path}/notes/{share['note_ids'][0]}/replies", data={"body": " ", "number": "1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "لم يُرسَل ردّك" in html
    assert f'href="{path}?lang=es" lang="es" hreflang="es"' in html and "/replies?lang=" not in html


def test_a_closed_share_says_so_in_its_language(client, owner):
    share, path = shared(client, owner, language="es")
    owner.call("DELETE", f"/api/v1/shares/{share['id']}")
    gone = client.get(path, headers={"Accept-Language": "en"})
    html = gone.get_data(as_text=True)
    assert gone.status_code == 410 and '<html lang="es"' in html
    assert "Este enlace ya no funciona" in html and "La persona que creó este enlace lo ha revocado." in html
    unknown = client.get("/s/no-such-link?lang=ar").get_data(as_text=True)
    assert "لا توجد مشاركة على هذا العنوان." in unknown and 'href="/s/no-such-link?lang=es"' in unknown


def test_every_colour_of_the_palette_is_named_in_each_language(app):
    for lang in LANGUAGES:
        with app.test_request_context(f"/?lang={lang}"):
            names = highlight_names()
        assert set(names) == set(PALETTE) and len(set(names.values())) == len(PALETTE)
        assert (names["yellow"] == "Yellow highlight") == (lang == "en")


def test_a_share_page_refused_before_its_view_is_in_its_language_too(make_app):
    # The rate limits are checked before the view finds the share: their page was in English.
    app = make_app(NOTES_SHARE_RATE_LIMIT="1 per minute", NOTES_REPLY_RATE_LIMIT="1 per minute")
    client = app.test_client()
    owner = new_owner(client)
    note = owner.add_note()
    share = owner.share(passcode="family-code-1", language="ar")
    path = "/s/" + share["url"].rsplit("/s/", 1)[1]
    assert client.post(path, data={"passcode": "family-code-1"}).status_code == 303
    limited = client.post(path, data={"passcode": "family-code-1"})
    assert limited.status_code == 429 and '<html lang="ar" dir="rtl">' in limited.get_data(as_text=True)
    assert client.post(f"{path}/notes/{note['id']}/replies", data={"body": "first"}).status_code == 303
    limited = client.post(f"{path}/notes/{note['id']}/replies", data={"body": "second"})
    page = limited.get_data(as_text=True)
    assert limited.status_code == 429 and '<html lang="ar" dir="rtl">' in page
    # Its language switch leads to the share's page, not to the address that only takes a POST.
    assert f'href="{path}?lang=es"' in page
