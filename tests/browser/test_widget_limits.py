"""Friendly limits in the widget (Chromium): a character counter near the service's limit, and
the service's own reason, in plain text, when it refuses a note."""

from __future__ import annotations

import json

import pytest
from browser.page_tools import select_text, widget_catalog
from playwright.sync_api import expect
from support import CIRRHOSIS, SEED

from notes_service.notes.schemas import MAX_BODY_CHARS

SENTENCE = "Does the liver rule exclude me? Ask Dr. Lee at the next visit.\n"
OVER_RED = "rgb(130, 7, 30)"  # the alert's text colour
SHADOW_HAS_MARKUP = "() => document.querySelector('trial-notes-widget').shadowRoot.querySelector('img, b') !== null"


def note_of(length: int) -> str:
    """A note of exactly `length` characters (code points), as a patient might paste it."""
    return (SENTENCE * (length // len(SENTENCE) + 1))[:length]


def grouped(n: int) -> str:
    return f"{n:,}"


def open_editor(page):
    page.goto(f"{page.live_url}/trials/{SEED}")
    select_text(page, CIRRHOSIS)
    page.get_by_role("button", name="Add note").click()
    editor = page.get_by_role("dialog", name="New note")
    expect(editor).to_be_visible()
    return editor


@pytest.fixture
def widget_page(live, browser, request):
    """A page at the width asked for (desktop by default), with the live service's URL on it."""
    width = getattr(request, "param", 1280)
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 600 else 844})
    page = context.new_page()
    page.live_url = live.url  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.mark.parametrize("widget_page", [1280, 390], indirect=True, ids=["1280px", "390px"])
def test_a_pasted_17600_character_note_shows_the_counter_and_the_services_reason(widget_page, tmp_path):
    page = widget_page
    editor = open_editor(page)
    textbox = editor.get_by_role("textbox", name="Note")
    counter = editor.locator(".cnt")

    # Below 80% of the limit: no counter.
    textbox.fill(note_of(MAX_BODY_CHARS * 8 // 10 - 1))
    expect(counter).to_have_text("")
    # From 80% on: the count against the service's real limit, told to screen readers once typing pauses.
    textbox.fill(note_of(9412))
    expect(counter).to_have_text(f"9,412 / {grouped(MAX_BODY_CHARS)} characters")
    expect(editor.get_by_role("status")).to_have_text(f"9,412 / {grouped(MAX_BODY_CHARS)} characters")
    expect(textbox).to_have_attribute("aria-invalid", "false")
    expect(counter).not_to_have_css("color", OVER_RED)
    # The textbox's description includes the count, so it is read when the field is focused.
    assert "9,412" in page.evaluate(
        "() => { const r = document.querySelector('trial-notes-widget').shadowRoot;"
        " const t = r.querySelector('textarea'); return t.getAttribute('aria-describedby').split(' ')"
        ".map((id) => r.getElementById(id).textContent).join(' '); }"
    )

    # Over: 17,600 characters pasted, and the counter says by how much.
    textbox.fill(note_of(17_600))
    over = f"17,600 / {grouped(MAX_BODY_CHARS)} characters, {grouped(17_600 - MAX_BODY_CHARS)} too many"
    expect(counter).to_have_text(over)
    expect(counter).to_have_css("color", OVER_RED)
    expect(textbox).to_have_attribute("aria-invalid", "true")

    # Save anyway: the service refuses, and the widget shows the service's own reason.
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/{SEED}/notes")) as answer:
        editor.get_by_role("button", name="Save").click()
    response = answer.value
    assert response.status == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    alert = editor.get_by_role("alert")
    expect(alert).to_contain_text(problem["detail"])
    expect(alert).to_contain_text(f"Note: {problem['errors']['body']}.")
    expect(alert).not_to_contain_text("Invalid content")
    # Nothing is lost: the dialog stays open with everything the user pasted.
    expect(editor).to_be_visible()
    assert textbox.input_value() == note_of(17_600)

    width = page.viewport_size["width"]
    shot = tmp_path / f"editor-limits-{width}.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")


@pytest.mark.parametrize("widget_page", [390], indirect=True, ids=["390px"])
def test_in_arabic_the_services_reason_is_a_label_form_of_the_field(widget_page):
    # The service's words ("يجب ألا يزيد …") cannot agree with the widget's name for the field: the
    # language's own label form says them ("الملاحظة: …"), each value isolated in the sentence.
    ar = widget_catalog("ar")
    page = widget_page
    page.goto(f"{page.live_url}/trials/{SEED}?lang=ar")
    select_text(page, CIRRHOSIS)
    page.get_by_role("button", name=ar["addNote"]).click()
    editor = page.get_by_role("dialog", name=ar["newNote"])
    editor.get_by_role("textbox", name=ar["note"]).fill(note_of(17_600))
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/{SEED}/notes")) as answer:
        editor.get_by_role("button", name=ar["save"]).click()
    said = answer.value.json()["errors"]["body"]
    assert not said.isascii()  # the service answered in Arabic
    field = (
        ar["fieldSaid"].replace("{field}", f"\u2068{ar['field.body']}\u2069").replace("{said}", f"\u2068{said}\u2069")
    )
    expect(editor.get_by_role("alert")).to_contain_text(field)
    page.screenshot(path="/tmp/wn-field-ar-390.png")


def answer_with(page, status: int, problem: dict | None, headers: dict | None = None) -> None:
    """Make the service's note creation answer `problem` (None: the network fails)."""

    def handle(route):
        if route.request.method != "POST" or not route.request.url.endswith("/notes"):
            return route.continue_()
        if problem is None:
            return route.abort("internetdisconnected")
        return route.fulfill(
            status=status, content_type="application/problem+json", headers=headers or {}, body=json.dumps(problem)
        )

    page.route("**/api/v1/trials/*/notes", handle)


def save_and_read_alert(page, text: str = "A short note"):
    editor = open_editor(page)
    editor.get_by_role("textbox", name="Note").fill(text)
    editor.get_by_role("button", name="Save").click()
    alert = editor.get_by_role("alert")
    expect(alert).not_to_be_empty()
    return alert


def test_a_problems_words_are_shown_as_text_never_as_markup(widget_page):
    page = widget_page
    detail = 'Too long <img src=x onerror="window.__pwned=1"> by <b>far</b>'
    answer_with(
        page,
        422,
        {"title": "Invalid content", "status": 422, "detail": detail, "errors": {"body": "<i>must</i> be shorter"}},
    )
    alert = save_and_read_alert(page)
    expect(alert).to_have_text(f"{detail} Note: <i>must</i> be shorter.")
    assert not page.evaluate(SHADOW_HAS_MARKUP)
    assert page.evaluate("window.__pwned === undefined")


def test_rate_limited_says_when_to_try_again(widget_page):
    page = widget_page
    answer_with(
        page,
        429,
        {
            "title": "Too many requests",
            "status": 429,
            "detail": "Too many requests from this client. Wait and try again.",
        },
        {"Retry-After": "120"},
    )
    alert = save_and_read_alert(page)
    expect(alert).to_have_text("Too many requests from this client. Wait and try again. Try again in 120 seconds.")


def test_a_network_failure_keeps_its_own_message(widget_page):
    page = widget_page
    answer_with(page, 0, None)
    alert = save_and_read_alert(page)
    expect(alert).to_have_text("Can't reach the notes service. Check your connection and try again.")


def test_a_save_refused_with_401_keeps_the_note_and_makes_no_notebook_unasked(widget_page):
    # This browser's device was removed on another device while the reader typed: the note stays in
    # the editor, the ways back are offered, and Save again does not start a notebook of its own.
    page = widget_page
    answer_with(page, 401, {"title": "Unauthorized", "status": 401, "detail": "Unknown token."})
    alert = save_and_read_alert(page, "Ask about the liver rule")
    editor = page.get_by_role("dialog", name="New note")
    expect(alert).to_contain_text("access to the notebook was removed")
    for name in ("Use a link code", "Use another recovery key", "Save in a new notebook"):
        expect(editor.get_by_role("button", name=name)).to_be_visible()
    token = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.startsWith('trial-notes:token:'))?.[1]")
    made = []
    page.on("request", lambda r: made.append(r.url) if r.url.endswith("/api/v1/notebooks") else None)
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(alert).to_contain_text("access to the notebook was removed")
    page.wait_for_timeout(300)
    assert made == []
    assert token == page.evaluate(
        "() => Object.entries(localStorage).find(([k]) => k.startsWith('trial-notes:token:'))?.[1]"
    )
    assert editor.get_by_role("textbox", name="Note").input_value() == "Ask about the liver rule"
    editor.get_by_role("button", name="Use a link code").click()
    expect(page.get_by_role("dialog", name="Use a link code")).to_be_visible()


def test_a_save_whose_answer_was_lost_and_is_tried_again_keeps_one_note(widget_page):
    # The note reaches the service but its answer never comes back (the train enters a tunnel):
    # the reader is told to check the connection and presses Save again. One note, not two.
    page = widget_page
    lost = []

    def handle(route):
        if route.request.method != "POST" or not route.request.url.endswith("/notes") or lost:
            return route.continue_()
        route.fetch()  # stored by the service...
        lost.append(route.request.url)
        route.abort("internetdisconnected")  # ...its answer lost

    page.route("**/api/v1/trials/*/notes", handle)
    editor = open_editor(page)
    editor.get_by_role("textbox", name="Note").fill("Ask about the liver rule")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("alert")).not_to_be_empty()
    assert lost
    editor.get_by_role("textbox", name="Note").fill("Ask about the liver rule and the dose")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_hidden()
    expect(page.get_by_role("button", name="My notes")).to_contain_text("1")
    page.reload()
    page.wait_for_function("() => document.querySelector('trial-notes-widget')?.shadowRoot.querySelector('.tabs')")
    page.wait_for_timeout(500)
    count = page.evaluate(
        "() => document.querySelector('trial-notes-widget').shadowRoot.querySelector('.launcher .count').textContent"
    )
    assert count == "1"
    page.get_by_role("button", name="My notes").click()
    expect(page.get_by_role("dialog", name="My notes")).to_contain_text("Ask about the liver rule and the dose")
