"""A share's sender name, label and replies switch: given at creation, changed by PATCH, sealed at rest."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support import SEED

from notes_service.extensions import db
from notes_service.shares.models import Share
from notes_service.shares.schemas import MAX_LABEL_CHARS, MAX_SENDER_CHARS


def test_a_share_carries_its_sender_name_label_and_replies_switch(client, owner):
    owner.add_note()
    share = owner.share(passcode="123456", sender_name="Maria", label="For Mom", replies_allowed=False)
    assert (share["sender_name"], share["label"], share["replies_allowed"]) == ("Maria", "For Mom", False)
    assert (share["reply_count"], share["unread_replies"]) == (0, 0)
    read = client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    listed = client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"][0]
    for seen in (read, listed):
        assert (seen["sender_name"], seen["label"], seen["replies_allowed"]) == ("Maria", "For Mom", False)


def test_without_details_a_share_takes_replies_and_names_nobody(owner):
    owner.add_note()
    share = owner.share(passcode="123456")
    assert (share["sender_name"], share["label"], share["replies_allowed"]) == (None, None, True)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("<b>Maria</b>", "Maria"),
        ("<script>alert(1)</script>Maria", "Maria"),
        ('<img src=x onerror="alert(1)">Maria', "Maria"),
        ("  Maria \n\t Rose ", "Maria Rose"),
        ("Ann <3 & Bob", "Ann <3 & Bob"),
        ("<script>alert(1)</script>", None),
        ("   ", None),
    ],
)
def test_names_and_labels_are_plain_text(owner, typed, stored):
    owner.add_note()
    share = owner.share(passcode="123456", sender_name=typed, label=typed)
    assert share["sender_name"] == stored and share["label"] == stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sender_name": "x" * (MAX_SENDER_CHARS + 1)}, "sender_name"),
        ({"label": "x" * (MAX_LABEL_CHARS + 1)}, "label"),
        ({"sender_name": 7}, "sender_name"),
        ({"replies_allowed": "yes"}, "replies_allowed"),
    ],
)
def test_bad_details_are_422_and_make_no_share(client, owner, body, field):
    owner.add_note()
    response = client.post("/api/v1/shares", headers=owner.headers, json={"trial_id": SEED, **body})
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert "x" * 20 not in response.get_data(as_text=True)
    assert client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"] == []


def test_patch_turns_replies_off_and_changes_or_removes_the_label(client, owner):
    owner.add_note()
    share = owner.share(passcode="123456", sender_name="Maria", label="For Mom")
    url = f"/api/v1/shares/{share['id']}"
    off = client.patch(url, headers=owner.headers, json={"replies_allowed": False})
    assert off.status_code == 200 and off.get_json()["replies_allowed"] is False
    assert off.get_json()["label"] == "For Mom"
    relabelled = client.patch(url, headers=owner.headers, json={"label": "<i>For Dad</i>"}).get_json()
    assert relabelled["label"] == "For Dad" and relabelled["sender_name"] == "Maria"
    assert relabelled["replies_allowed"] is False
    removed = client.patch(url, headers=owner.headers, json={"label": None, "replies_allowed": True}).get_json()
    assert removed["label"] is None and removed["sender_name"] == "Maria" and removed["replies_allowed"] is True


@pytest.mark.parametrize(
    "body", [{}, {"replies_allowed": None}, {"replies_allowed": 1}, {"label": "x" * 81}, {"state": "revoked"}, []]
)
def test_a_bad_patch_is_422_and_changes_nothing(client, owner, body):
    owner.add_note()
    share = owner.share(passcode="123456", label="For Mom")
    response = client.patch(f"/api/v1/shares/{share['id']}", headers=owner.headers, json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    after = client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    assert after["label"] == "For Mom" and after["replies_allowed"] is True


def test_another_owners_share_is_404_to_patch(client, owner, other):
    owner.add_note()
    share = owner.share(passcode="123456", label="For Mom")
    response = client.patch(f"/api/v1/shares/{share['id']}", headers=other.headers, json={"replies_allowed": False})
    assert response.status_code == 404
    after = client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    assert after["replies_allowed"] is True
    unauthenticated = client.patch(f"/api/v1/shares/{share['id']}", json={"replies_allowed": False})
    assert unauthenticated.status_code == 401


def test_sender_name_and_label_are_only_ciphertext_at_rest(app, owner):
    owner.add_note()
    share = owner.share(passcode="123456", sender_name="Marialuisa", label="For Grandmother Rose")
    with app.app_context():
        row = db.session.scalar(select(Share).where(Share.id == share["id"]))
        assert row.owner_sealed is not None and row.sender_sealed is not None
        stored = row.owner_sealed + row.sender_sealed
    assert b"Marialuisa" not in stored and b"Grandmother" not in stored
