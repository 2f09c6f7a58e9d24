"""Passcodes read aloud and typed back: one normalization when set and when checked.

NFKC, case-folded, without white space or dashes (shares/passcodes.py `normalize`). Shares
hashed before it (form 1) keep opening with what opened them, and move to the current form on
their first right passcode.
"""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from support import as_before_key_slots, new_owner

from notes_service import crypto
from notes_service.extensions import db
from notes_service.shares.models import Share
from notes_service.shares.passcodes import CURRENT_FORM, LEGACY_FORM, MIN_CHARS, normalize, passcode_problem

CHOSEN = "Grandma Rose 1950"


@pytest.mark.parametrize(
    "typed",
    [
        "Grandma Rose 1950",
        "grandma rose 1950",
        "GRANDMA ROSE 1950",
        "grandmarose1950",
        "Grandma-Rose-1950",
        "  grandma  rose 1950 ",
        "grandma\u00a0rose\u00a01950",  # no-break spaces, as phones paste them
        "grandma\u2013rose\u20141950",  # en and em dashes
        "grandma\u2212rose 1950",  # the minus sign a keyboard may type for a dash
        "\uff27\uff52\uff41\uff4e\uff44\uff4d\uff41 Rose \uff11\uff19\uff15\uff10",  # full-width letters and digits
    ],
)
def test_what_is_read_aloud_and_typed_back_is_the_same_passcode(typed):
    assert normalize(typed) == normalize(CHOSEN) == "grandmarose1950"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Straße 12", "STRASSE 12"),  # case folding, not lower-casing
        ("café-1234", "CAFE\u0301 1234"),  # a composed é and e + combining accent
        ("482-913-057", "482 913 057"),  # a generated code in groups, however it is spaced
    ],
)
def test_equal_after_normalization(one, other):
    assert normalize(one) == normalize(other)


@pytest.mark.parametrize(("one", "other"), [("grandma rose 1950", "grandma rose 1951"), ("abc-def-1", "abc-def-7")])
def test_different_passcodes_stay_different(one, other):
    assert normalize(one) != normalize(other)


def test_the_minimum_length_is_counted_after_normalization():
    assert passcode_problem("a b-c d-e") is not None  # 5 characters once spaces and dashes go
    assert "spaces, dashes and capitals do not count" in passcode_problem("- - - - - - - -")
    assert passcode_problem("a b-c d-e f") is None and len(normalize("a b-c d-e f")) == MIN_CHARS


def test_a_share_opens_with_its_passcode_typed_in_other_case_and_spacing(client):
    owner = new_owner(client)
    owner.add_note()
    share = owner.share(passcode=CHOSEN)
    token = share["url"].rsplit("/s/", 1)[1]
    for typed in ("grandma-rose-1950", "GRANDMA ROSE 1950", "grandmarose1950"):
        response = client.post(f"/api/v1/shared/{token}", json={"passcode": typed})
        assert response.status_code == 200, (typed, response.get_json())
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": "grandma rose 1951"}).status_code == 401
    form = client.post(f"/s/{token}", data={"passcode": "Grandma-rose 1950"})
    assert form.status_code == 303


def test_a_generated_passcode_stays_digits_in_groups_and_opens_without_them(client):
    owner = new_owner(client)
    owner.add_note()
    share = owner.share()
    generated = share["passcode"]
    assert len(generated) == 11 and generated[3] == generated[7] == "-" and generated.replace("-", "").isdigit()
    token = share["url"].rsplit("/s/", 1)[1]
    spaced = generated.replace("-", " ")
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": spaced}).status_code == 200
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": generated.replace("-", "")}).status_code == 200


def test_a_share_hashed_before_normalization_opens_as_before_then_moves_to_the_current_form(app, client):
    owner = new_owner(client)
    owner.add_note()
    share = owner.share(passcode="placeholder-passcode")
    token = share["url"].rsplit("/s/", 1)[1]
    with app.app_context():  # as older code stored it: the passcode trimmed, case and spaces kept
        row = db.session.get(Share, share["id"])
        row.passcode_hash, row.passcode_form = crypto.hash_passcode(CHOSEN), LEGACY_FORM
        db.session.commit()
    # In the old form, other case or spacing was another passcode (and counts as a wrong one).
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": "grandma rose 1950"}).status_code == 401
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": f"  {CHOSEN} "}).status_code == 200
    with app.app_context():
        row = db.session.get(Share, share["id"])
        assert row.passcode_form == CURRENT_FORM
        assert crypto.verify_passcode(row.passcode_hash, normalize(CHOSEN))[0]
        assert (row.failed_streak, row.views) == (0, 1)
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": "grandma-rose-1950"}).status_code == 200


def test_the_migration_marks_every_existing_share_as_hashed_in_the_old_form(make_app):
    app = make_app()
    client = app.test_client()
    owner = new_owner(client)
    owner.add_note()
    share = owner.share(passcode="placeholder-passcode")
    as_before_key_slots(app, owner)  # slots sealed for a token cannot go below 0008_key_slots
    with app.app_context():
        downgrade(revision="0006_trial_versions")
        # A share as code before this revision made it: the hash of the trimmed passcode.
        db.session.execute(
            text("UPDATE shares SET passcode_hash = :hash WHERE id = :id"),
            {"hash": crypto.hash_passcode(CHOSEN), "id": share["id"]},
        )
        db.session.commit()
        upgrade()
        forms = db.session.execute(text("SELECT passcode_form FROM shares")).scalars().all()
        db.session.remove()
    assert forms == [LEGACY_FORM]
    token = share["url"].rsplit("/s/", 1)[1]
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": CHOSEN}).status_code == 200
    assert client.post(f"/api/v1/shared/{token}", json={"passcode": "GRANDMA ROSE 1950"}).status_code == 200
