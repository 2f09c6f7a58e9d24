"""Accounts the demo host vouches for: the same notes on two browsers, sign-out forgets, notes move in."""

from __future__ import annotations

import importlib.util
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser.conftest import serve
from browser.page_tools import deep_active, select_text, wait_for_highlights
from browser.test_journey import add_note
from playwright.sync_api import expect
from support import CIRRHOSIS

HOST_SITE = Path(__file__).resolve().parents[2] / "examples" / "host_site.py"
SCLEROSIS = "Systemic Sclerosis"


class Later:
    """A WSGI app set once its server has a port: the host and the service each need the other's URL."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def load_host_site():
    spec = importlib.util.spec_from_file_location("host_site", HOST_SITE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class HeldGrants(Later):
    """The host's WSGI app with its grant URL held until `released` is set: a sign-in under way."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def around(self, site):
        """Hold `site`'s grants (a `vouched` wrap)."""
        self.app = site
        return self

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/grant":
            self.released.wait(timeout=20)
        return super().__call__(environ, start_response)


@contextmanager
def vouched(make_app, tmp_path, wrap=lambda site: site):
    """The demo host on localhost and the service on 127.0.0.1 trusting its grants: (host URL, service)."""
    host_app, service_app = Later(), Later()
    host, service = serve(host_app, host="localhost"), serve(service_app)
    site, publishers = load_host_site().create_host_app(service.url, tmp_path / "host", issuer=host.url)
    host_app.app = wrap(site)
    service_app.app = service.app = make_app(NOTES_PUBLISHERS_FILE=str(publishers), NOTES_ALLOWED_ORIGINS=host.url)
    try:
        yield host.url, service
    finally:
        host.stop()
        service.stop()


@pytest.fixture
def vouching(make_app, tmp_path):
    with vouched(make_app, tmp_path) as both:
        yield both


def sign_in(page, host: str, user: str = "alice") -> None:
    page.goto(f"{host}/")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(f"{user}-demo-pass")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{host}/trial")


def stored(page, service) -> dict[str, str | None]:
    return page.evaluate(
        "(api) => ({own: localStorage.getItem('trial-notes:token:' + api),"
        " account: localStorage.getItem('trial-notes:account:' + api)})",
        service.url,
    )


@contextmanager
def laptop_and_phone(browser, host: str, service, words: str):
    """Alice's note of `words` on CIRRHOSIS, saved signed in on a laptop, then shown on her phone."""
    contexts = browser.new_context(), browser.new_context()
    laptop, phone = (context.new_page() for context in contexts)
    try:
        sign_in(laptop, host)
        add_note(laptop, CIRRHOSIS, words)
        assert wait_for_highlights(laptop, 1) == [CIRRHOSIS]
        assert stored(laptop, service)["own"] is None, "an account's note makes no notebook of the browser's own"
        sign_in(phone, host)
        assert wait_for_highlights(phone, 1) == [CIRRHOSIS]
        yield laptop, phone
    finally:
        for context in contexts:
            context.close()


def remove_the_phone(service, laptop):
    """Remove the account's other device (the phone) from the laptop: a test client and the laptop's headers."""
    api = service.app.test_client()
    on_laptop = {"Authorization": f"Bearer {stored(laptop, service)['account']}"}
    devices = api.get("/api/v1/notebooks/me/devices", headers=on_laptop).get_json()["devices"]
    (phone_device,) = [device["id"] for device in devices if not device["current"]]
    assert api.delete(f"/api/v1/notebooks/me/devices/{phone_device}", headers=on_laptop).status_code == 204
    return api, on_laptop


def test_signed_in_on_two_browsers_the_notes_are_the_same(vouching, browser):
    host, service = vouching
    with laptop_and_phone(browser, host, service, "asked as Alice on the laptop") as (laptop, phone):
        phone.get_by_role("button", name="My notes").click()
        panel = phone.get_by_role("dialog", name="My notes")
        expect(panel.get_by_text("asked as Alice on the laptop")).to_be_visible()
        expect(panel.get_by_text("kept with your account")).to_be_visible()
        # Another notebook's key or link code would go where the account's token is kept.
        for name in ("Use another recovery key", "Use a link code"):
            expect(panel.get_by_role("button", name=name, include_hidden=True)).to_have_count(1)
            expect(panel.get_by_role("button", name=name)).to_be_hidden()
        assert stored(phone, service)["account"] != stored(laptop, service)["account"], "each browser its own device"
        # Bob, on the phone after Alice signs out, sees none of Alice's notes.
        phone.get_by_role("button", name="Sign out").click()
        sign_in(phone, host, "bob")
        wait_for_highlights(phone, 0)
        phone.wait_for_function("(api) => localStorage.getItem('trial-notes:account:' + api)", arg=service.url)
        assert phone.evaluate("CSS.highlights.get('trial-notes-yellow')?.size ?? 0") == 0


def test_a_browser_removed_from_the_account_is_added_again_by_the_hosts_grant(vouching, browser):
    # The phone is removed from the account's devices on the laptop, and is still signed in on the
    # host: its next call is refused, the host's grant adds it again (a new device of the same
    # notebook), and the note is saved in the account, not in a notebook made in its place.
    host, service = vouching
    with laptop_and_phone(browser, host, service, "asked on the laptop") as (laptop, phone):
        removed = stored(phone, service)["account"]
        api, on_laptop = remove_the_phone(service, laptop)
        add_note(phone, SCLEROSIS, "asked on the phone after its removal")
        assert sorted(wait_for_highlights(phone, 2)) == sorted([CIRRHOSIS, SCLEROSIS])
        kept = stored(phone, service)
        assert kept["own"] is None and kept["account"] not in (None, removed)
        listed = api.get("/api/v1/trials/NCT07085104/notes", headers={"Authorization": f"Bearer {removed}"})
        assert listed.status_code == 401, "the removed device stays removed"
        devices = api.get("/api/v1/notebooks/me/devices", headers=on_laptop).get_json()["devices"]
        assert len(devices) == 2, "the laptop and the phone's one new device: none piled up"
        laptop.reload()
        assert sorted(wait_for_highlights(laptop, 2)) == sorted([CIRRHOSIS, SCLEROSIS]), "one notebook: the account's"


def test_a_removed_browser_the_host_cannot_vouch_for_now_is_told_to_sign_in_again(vouching, browser):
    # Removed from the account, and the host does not answer its grant URL: the refusal stands,
    # said for an account (sign in again), without the link code or recovery key a browser's own
    # notebook is offered (either would put another notebook's token where the account's is kept).
    host, service = vouching
    with laptop_and_phone(browser, host, service, "asked on the laptop") as (laptop, phone):
        api, on_laptop = remove_the_phone(service, laptop)
        phone.route(f"{host}/grant", lambda route: route.fulfill(status=503))
        phone.reload()
        toast = phone.get_by_role("alert").filter(has_text="Sign in again on this site")
        expect(toast).to_have_text(
            "This browser\u2019s access to your account\u2019s notes was removed."
            " Sign in again on this site to open them here."
        )
        for name in ("Use another recovery key", "Use a link code"):
            expect(phone.get_by_role("button", name=name)).to_be_hidden()
        assert len(api.get("/api/v1/notebooks/me/devices", headers=on_laptop).get_json()["devices"]) == 1


def test_signing_out_forgets_the_token(vouching, page):
    host, service = vouching
    sign_in(page, host)
    add_note(page, CIRRHOSIS, "Alice's")
    account = stored(page, service)["account"]
    assert account
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_function("(api) => !localStorage.getItem('trial-notes:account:' + api)", arg=service.url)
    wait_for_highlights(page, 0)
    # The token no longer opens anything: the device left the account on sign-out.
    answer = service.app.test_client().get(
        "/api/v1/trials/NCT07085104/notes", headers={"Authorization": f"Bearer {account}"}
    )
    assert answer.status_code == 401
    sign_in(page, host)
    assert wait_for_highlights(page, 1) == [CIRRHOSIS], "signing in again brings the notes back"


def test_notes_from_before_signing_in_move_into_the_account(vouching, browser):
    host, service = vouching
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{host}/trial")
    add_note(page, SCLEROSIS, "written before signing in")
    page.get_by_role("button", name="Not now").click()
    assert stored(page, service)["own"]
    sign_in(page, host)
    offer = page.get_by_role("region", name="Notes from before you signed in")
    expect(offer).to_contain_text("This browser has 1 note of its own")
    wait_for_highlights(page, 0)  # the account's notebook is empty so far
    offer.get_by_role("button", name="Move them into my account").click()
    expect(offer).to_be_hidden()
    assert wait_for_highlights(page, 1) == [SCLEROSIS]
    assert stored(page, service)["own"] is None, "the browser's own notebook is gone: its notes moved"
    other_context = browser.new_context()
    other = other_context.new_page()
    sign_in(other, host)
    assert wait_for_highlights(other, 1) == [SCLEROSIS]
    context.close()
    other_context.close()


def test_keeping_them_apart_loses_nothing(vouching, page):
    host, service = vouching
    page.goto(f"{host}/trial")
    add_note(page, SCLEROSIS, "mine, not the account's")
    page.get_by_role("button", name="Not now").click()
    own = stored(page, service)["own"]
    sign_in(page, host)
    offer = page.get_by_role("region", name="Notes from before you signed in")
    offer.get_by_role("button", name="Keep them apart").click()
    expect(offer).to_be_hidden()
    wait_for_highlights(page, 0)
    page.get_by_role("button", name="Sign out").click()
    assert wait_for_highlights(page, 1) == [SCLEROSIS], "signed out, the browser's own notes show again"
    assert stored(page, service)["own"] == own


def test_a_note_saved_while_signing_in_goes_into_the_account(make_app, tmp_path, page):
    # Save pressed while the host's grant is still on its way: the note waits for the sign-in,
    # and lands in the account's notebook, not in a notebook of the browser's own made meanwhile.
    held = HeldGrants()
    with vouched(make_app, tmp_path, wrap=held.around) as (host, service):
        sign_in(page, host)
        select_text(page, CIRRHOSIS)
        page.get_by_role("button", name="Add note").click()
        page.get_by_role("textbox", name="Note").fill("saved while signing in")
        page.get_by_role("button", name="Save").click()
        held.released.set()
        expect(page.get_by_role("dialog", name="New note")).to_be_hidden()
        assert wait_for_highlights(page, 1) == [CIRRHOSIS]
        kept = stored(page, service)
        assert kept["own"] is None, "no notebook of the browser's own was made for it"
        answer = service.app.test_client().get(
            "/api/v1/trials/NCT07085104/notes", headers={"Authorization": f"Bearer {kept['account']}"}
        )
        assert [note["target"]["selector"][0]["exact"] for note in answer.get_json()["notes"]] == [CIRRHOSIS]


def test_keep_them_apart_from_the_keyboard_leaves_the_focus_on_the_launcher(vouching, page):
    host, _service = vouching
    page.goto(f"{host}/trial")
    add_note(page, SCLEROSIS, "mine, not the account's")
    page.get_by_role("button", name="Not now").click()
    sign_in(page, host)
    offer = page.get_by_role("region", name="Notes from before you signed in")
    offer.get_by_role("button", name="Keep them apart").focus()
    page.keyboard.press("Enter")
    expect(offer).to_have_count(0)
    # Not dropped onto the page's body, which would send a keyboard user back to the top.
    assert (deep_active(page) or "").startswith("My notes")
