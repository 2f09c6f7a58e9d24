"""Migration 0005_attempts clears the streaks the old reservation bug left without a lock."""

from __future__ import annotations

from argon2 import PasswordHasher
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from support import CHEAP_HASHER, as_before_key_slots, new_owner

from notes_service import registry
from notes_service.extensions import db


def test_a_streak_left_without_a_lock_is_cleared_and_an_owner_lock_stays(make_app):
    app = make_app()
    registry.of(app).password_hasher = PasswordHasher(**CHEAP_HASHER)
    client = app.test_client()
    owner = new_owner(client)
    owner.add_note()
    leaked, owner_locked = owner.share(passcode="rightpasscode1"), owner.share(passcode="rightpasscode1")
    as_before_key_slots(app, owner)  # what a database of 0004's time held: a KEK-only wrap
    with app.app_context():
        downgrade(revision="0004_key_checks")
        # (A passcode the same in both normalization forms: the downgrade goes past 0007.)
        # What five requests that raised after their reservation left on 0003: a streak of
        # 5 with no lock (read as locked for ever); and a share at 20 in all (the owner lock).
        db.session.execute(
            text("UPDATE shares SET failed_streak = 5, failed_total = 5 WHERE id = :id"), {"id": leaked["id"]}
        )
        db.session.execute(
            text("UPDATE shares SET failed_streak = 5, failed_total = 20 WHERE id = :id"), {"id": owner_locked["id"]}
        )
        db.session.commit()
        upgrade()
        rows = dict(db.session.execute(text("SELECT id, failed_streak FROM shares")).all())
        db.session.remove()
    assert rows == {leaked["id"]: 0, owner_locked["id"]: 5}
    states = {s["id"]: s["state"] for s in client.get("/api/v1/shares", headers=owner.headers).get_json()["shares"]}
    assert states == {leaked["id"]: "active", owner_locked["id"]: "locked"}
    token = leaked["url"].rsplit("/s/", 1)[1]
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": "rightpasscode1"}).status_code == 200
