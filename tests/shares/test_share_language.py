"""A share's language: chosen when sharing, changed by PATCH, the page's unless the reader picks another."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from support import SEED

from notes_service.extensions import db
from notes_service.i18n import LANGUAGES
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
