"""Devices and link codes through the API: each browser its own token and slot, codes used once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support import Owner, interrupt_once, postgresql_only, run_until_blocked

from notes_service import registry
from notes_service.clock import utcnow
from notes_service.devices import service
from notes_service.devices.models import Device, LinkCode
from notes_service.extensions import db
from notes_service.notes import service as notes
from notes_service.notes.models import KeySlot, Notebook

REFUSED = service.CODE_REFUSED


def link(owner: Owner) -> dict:
    response = owner.client.post("/api/v1/notebooks/me/link-codes", headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def redeem(client, code: str, name: str | None = None):
    body = {"code": code} if name is None else {"code": code, "device_name": name}
    return client.post("/api/v1/link-codes/redeem", json=body)


def linked(owner: Owner, name: str = "Phone") -> Owner:
    """A second device of `owner`'s notebook, by a link code."""
    answer = redeem(owner.client, link(owner)["code"], name)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["notebook_id"] == owner.notebook_id
    return Owner(owner.api, body["notebook_id"], body["token"])


def devices(owner: Owner) -> list[dict]:
    response = owner.client.get("/api/v1/notebooks/me/devices", headers=owner.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["devices"]


def count(app, model, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        total = db.session.scalar(query)
        db.session.remove()
        return int(total or 0)


def test_a_new_notebook_has_one_device_the_current_one(owner):
    (device,) = devices(owner)
    assert device["current"] is True and device["name"] == "First browser"
    assert set(device) == {"id", "name", "created_at", "last_used_at", "current"}


def test_a_link_code_is_twenty_crockford_symbols_in_groups_and_its_url_keeps_it_in_the_fragment(owner):
    issued = link(owner)
    groups = issued["code"].split("-")
    assert [len(group) for group in groups] == [4] * 5
    assert set("".join(groups)) <= set(service.CROCKFORD)
    assert issued["url"].endswith("/link#code=" + issued["code"])
    assert "?" not in issued["url"]


def test_a_linked_device_reads_and_edits_the_same_notes_with_its_own_token(owner):
    note = owner.add_note(body="<p>asked at the clinic</p>")
    phone = linked(owner, "Firefox on Android")
    assert phone.token != owner.token
    assert [n["body"] for n in phone.notes()] == ["<p>asked at the clinic</p>"]
    changed = phone.client.patch(
        f"/api/v1/notes/{note['id']}", json={"body": "edited on the phone"}, headers=phone.headers
    )
    assert changed.status_code == 200
    assert [n["body"] for n in owner.notes()] == ["edited on the phone"]
    listed = devices(phone)
    assert [(d["name"], d["current"]) for d in listed] == [("First browser", False), ("Firefox on Android", True)]


def test_a_code_works_once_and_every_refusal_is_the_same_404(app, owner):
    code = link(owner)["code"]
    assert redeem(owner.client, code).status_code == 201
    refusals = [
        redeem(owner.client, code),  # used
        redeem(owner.client, "7Q2M-X9KD-0B4T-PW8R-H3NZ"),  # unknown
        redeem(owner.client, "not a code"),  # mistyped
    ]
    assert {r.status_code for r in refusals} == {404}
    assert {r.get_json()["detail"] for r in refusals} == {REFUSED}
    assert all(r.mimetype == "application/problem+json" for r in refusals)
    # The used code took its slot with it, in the redeem's own transaction.
    assert count(app, LinkCode) == 0
    assert count(app, KeySlot, notebook_id=owner.notebook_id) == 2  # the two devices' slots


def test_an_expired_code_is_refused_alike_and_makes_no_device(app, owner):
    code = link(owner)["code"]
    registry.of(app).clock = lambda: utcnow() + service.LINK_CODE_LIFETIME + timedelta(seconds=1)
    answer = redeem(owner.client, code)
    assert answer.status_code == 404 and answer.get_json()["detail"] == REFUSED
    assert count(app, Device, notebook_id=owner.notebook_id) == 1


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: code.replace("-", " "),
        lambda code: code.replace("-", ""),
        lambda code: "  " + code.replace("0", "o").replace("1", "I") + " ",
        lambda code: code.replace("1", "l"),
    ],
    ids=["lower case", "spaces", "no dashes", "O and I for 0 and 1", "l for 1"],
)
def test_a_typed_code_is_read_as_generated(owner, typed):
    code = link(owner)["code"]
    assert redeem(owner.client, typed(code)).status_code == 201


def test_a_device_name_is_made_plain_text_within_60_characters(owner):
    phone = linked(owner, "\u202eevil\u200b\x00 name\n" + "x" * 100)
    name = next(d["name"] for d in devices(phone) if d["current"])
    # Each control or format character became a space, the spaces folded, the rest cut at 60.
    assert name == "evil name " + "x" * 50


def test_removing_a_device_stops_its_token_at_once_and_erases_its_slot(app, owner):
    owner.add_note(body="kept")
    phone = linked(owner)
    phone_id = next(d["id"] for d in devices(phone) if d["current"])
    assert owner.client.delete(f"/api/v1/notebooks/me/devices/{phone_id}", headers=owner.headers).status_code == 204
    answer = phone.client.get("/api/v1/notebooks/me/devices", headers=phone.headers)
    assert answer.status_code == 401 and answer.mimetype == "application/problem+json"
    assert count(app, KeySlot, device_id=phone_id) == 0
    assert [n["body"] for n in owner.notes()] == ["kept"]


def test_another_notebooks_device_is_404_and_stays(app, owner, other):
    theirs = devices(other)[0]["id"]
    answer = owner.client.delete(f"/api/v1/notebooks/me/devices/{theirs}", headers=owner.headers)
    assert answer.status_code == 404
    assert owner.client.delete("/api/v1/notebooks/me/devices/nothex", headers=owner.headers).status_code == 404
    assert len(devices(other)) == 1


def test_a_device_may_remove_itself_and_the_other_keeps_the_notes(owner):
    owner.add_note(body="still here")
    phone = linked(owner)
    mine = next(d["id"] for d in devices(owner) if d["current"])
    assert owner.client.delete(f"/api/v1/notebooks/me/devices/{mine}", headers=owner.headers).status_code == 204
    assert owner.client.get("/api/v1/notebooks/me/devices", headers=owner.headers).status_code == 401
    assert [n["body"] for n in phone.notes()] == ["still here"]


def test_removing_a_device_deletes_every_pending_code_so_it_keeps_no_way_back(app, owner):
    owner.add_note(body="<p>private</p>")
    phone = linked(owner)
    phone_id = next(d["id"] for d in devices(phone) if d["current"])
    phones_code = link(phone)["code"]  # made by the phone before it is lost
    owners_code = link(owner)["code"]
    assert owner.client.delete(f"/api/v1/notebooks/me/devices/{phone_id}", headers=owner.headers).status_code == 204
    # A code does not say which device made it: every pending code of the notebook went, with its slot.
    assert count(app, LinkCode, notebook_id=owner.notebook_id) == 0
    assert count(app, KeySlot, notebook_id=owner.notebook_id) == 1  # the owner's device's
    assert redeem(owner.client, phones_code).status_code == 404
    assert redeem(owner.client, owners_code).status_code == 404
    assert redeem(owner.client, link(owner)["code"]).status_code == 201  # the owner makes a new one


@postgresql_only
def test_a_device_removed_while_it_makes_a_link_code_gets_no_code(app, owner, monkeypatch):
    phone = linked(owner)
    phone_id = next(d["id"] for d in devices(phone) if d["current"])

    def removal() -> None:
        app.test_client().delete(f"/api/v1/notebooks/me/devices/{phone_id}", headers=owner.headers)

    # The phone's request has read its token and is opening its slot when the owner removes it.
    interrupt_once(monkeypatch, notes, "data_key", lambda: run_until_blocked(app, removal).join())
    answer = phone.client.post("/api/v1/notebooks/me/link-codes", headers=phone.headers)
    assert answer.status_code == 401, answer.get_json()
    assert count(app, Device, notebook_id=owner.notebook_id) == 1
    assert count(app, LinkCode, notebook_id=owner.notebook_id) == 0


def test_removing_the_last_device_of_an_unvouched_notebook_deletes_the_notebook(app, owner):
    owner.add_note(body="gone with the last device")
    code = link(owner)["code"]  # a pending code goes too: nothing is left that opens the notebook
    (only,) = devices(owner)
    assert owner.client.delete(f"/api/v1/notebooks/me/devices/{only['id']}", headers=owner.headers).status_code == 204
    assert count(app, Notebook, id=owner.notebook_id) == 0
    assert count(app, KeySlot, notebook_id=owner.notebook_id) == 0
    assert redeem(owner.client, code).status_code == 404


def test_last_used_is_written_at_most_once_per_step(app, owner):
    def last_used() -> str:
        return devices(owner)[0]["last_used_at"]

    first = last_used()
    assert owner.client.get("/api/v1/trials/NCT07085104/notes", headers=owner.headers).status_code == 200
    assert last_used() == first  # reads within the step write nothing
    later = utcnow() + timedelta(minutes=6)
    registry.of(app).clock = lambda: later
    assert owner.client.get("/api/v1/trials/NCT07085104/notes", headers=owner.headers).status_code == 200
    assert last_used() != first


def test_a_notebook_has_at_most_max_devices(app, owner, monkeypatch):
    monkeypatch.setattr(service, "MAX_DEVICES", 2)
    linked(owner)
    answer = redeem(owner.client, link(owner)["code"])
    assert answer.status_code == 422
    assert count(app, Device, notebook_id=owner.notebook_id) == 2
    assert count(app, LinkCode) == 1  # the refused redeem spent nothing: the code still works


def test_a_notebook_keeps_at_most_three_pending_codes(app, owner):
    codes = [link(owner)["code"] for _ in range(4)]
    assert count(app, LinkCode, notebook_id=owner.notebook_id) == service.MAX_PENDING_CODES
    assert redeem(owner.client, codes[0]).status_code == 404  # the oldest was replaced
    assert redeem(owner.client, codes[-1]).status_code == 201


def test_the_link_page_loads_the_widget_under_our_csp(client):
    page = client.get("/link")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "data-link-page" in page.get_data(as_text=True)


def test_one_code_redeemed_at_once_by_several_browsers_links_one(app, owner):
    import threading

    code = link(owner)["code"]
    start = threading.Barrier(4)
    statuses: list[int] = []

    def redeem_at_once() -> None:
        client = app.test_client()
        start.wait()
        statuses.append(redeem(client, code).status_code)

    threads = [threading.Thread(target=redeem_at_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 404, 404, 404]
    assert count(app, Device, notebook_id=owner.notebook_id) == 2


# -- Requests at once: the notebook's row lock orders them (PostgreSQL) ----------------------


@postgresql_only
def test_a_code_redeemed_while_the_last_device_is_removed_is_ordered_before_the_removal(app, owner, monkeypatch):
    code = link(owner)["code"]
    (only,) = devices(owner)
    removed = {}

    def removal() -> None:
        path = f"/api/v1/notebooks/me/devices/{only['id']}"
        removed["answer"] = app.test_client().delete(path, headers=owner.headers)

    # The removal comes as the redeem is about to add the device. Deleting the code's row first
    # and then the device (whose foreign key waits on the notebook's row) deadlocked with it.
    threads = []
    interrupt_once(monkeypatch, service, "device_name", lambda: threads.append(run_until_blocked(app, removal)))
    answer = redeem(app.test_client(), code)
    threads[0].join()
    assert (answer.status_code, removed["answer"].status_code) == (201, 204), answer.get_json()
    # The removal, ordered after the redeem, found the new device: the notebook lives on in it alone.
    phone = Owner(owner.api, owner.notebook_id, answer.get_json()["token"])
    assert [d["current"] for d in devices(phone)] == [True]
    assert owner.client.get("/api/v1/notebooks/me/devices", headers=owner.headers).status_code == 401
    assert count(app, LinkCode, notebook_id=owner.notebook_id) == 0
    assert count(app, KeySlot, notebook_id=owner.notebook_id) == 1


@postgresql_only
def test_codes_redeemed_at_once_stay_within_max_devices(app, owner, monkeypatch):
    monkeypatch.setattr(service, "MAX_DEVICES", 2)
    first, second = link(owner)["code"], link(owner)["code"]
    other = {}

    def redeem_second() -> None:
        other["answer"] = redeem(app.test_client(), second)

    # The second redeem comes once the first has counted the devices.
    threads = []
    interrupt_once(monkeypatch, service, "device_name", lambda: threads.append(run_until_blocked(app, redeem_second)))
    answer = redeem(app.test_client(), first)
    threads[0].join()
    assert (answer.status_code, other["answer"].status_code) == (201, 422)
    assert count(app, Device, notebook_id=owner.notebook_id) == 2


@postgresql_only
def test_codes_made_at_once_stay_within_max_pending(app, owner, monkeypatch):
    for _ in range(service.MAX_PENDING_CODES):
        link(owner)
    other = {}

    def make_another() -> None:
        other["answer"] = app.test_client().post("/api/v1/notebooks/me/link-codes", headers=owner.headers)

    # The second request comes once the first has counted the pending codes.
    threads = []
    interrupt_once(monkeypatch, service, "new_link_code", lambda: threads.append(run_until_blocked(app, make_another)))
    answer = owner.client.post("/api/v1/notebooks/me/link-codes", headers=owner.headers)
    threads[0].join()
    assert (answer.status_code, other["answer"].status_code) == (201, 201)
    assert count(app, LinkCode, notebook_id=owner.notebook_id) == service.MAX_PENDING_CODES
