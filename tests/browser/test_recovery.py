"""Recovery people keep: the visible notice after the first note, copy/download/print, the saved mark."""

from __future__ import annotations

import io
import re
from pathlib import Path

from browser.page_tools import wait_for_highlights
from browser.test_journey import add_note
from playwright.sync_api import expect
from pypdf import PdfReader
from support import CIRRHOSIS, SEED


def token_of(page, live) -> str:
    return page.evaluate("(k) => localStorage.getItem(k)", f"trial-notes:token:{live.url}")


def open_recovery_key(page):
    page.get_by_role("button", name="My notes").click()
    page.get_by_role("dialog", name="My notes").get_by_role("button", name="Recovery key", exact=True).click()
    dialog = page.get_by_role("dialog", name="Your recovery key")
    expect(dialog).to_be_visible()
    return dialog


def test_first_note_shows_where_notes_live_and_offers_the_key(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "first note")
    notice = page.get_by_role("region", name="Your notes are kept in this browser only")
    expect(notice).to_be_visible()
    notice.get_by_role("button", name="Show recovery key").click()
    dialog = page.get_by_role("dialog", name="Your recovery key")
    expect(dialog.get_by_role("textbox", name="Recovery key")).to_have_value(token_of(page, live))
    expect(dialog.get_by_text("Not saved yet")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(notice).to_be_visible()  # still not saved: the notice stays until the key is kept or dismissed
    notice.get_by_role("button", name="Not now").click()
    expect(notice).to_be_hidden()
    add_note(page, "Systemic Sclerosis", "second note")
    expect(notice).to_be_hidden()  # only after the first note
    assert page.js_errors == []


def test_download_saves_the_key_and_my_notes_says_so(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "kept")
    page.get_by_role("button", name="My notes").click()
    panel = page.get_by_role("dialog", name="My notes")
    expect(panel.get_by_text("Recovery key not saved yet")).to_be_visible()
    panel.get_by_role("button", name="Hide panel").click()
    dialog = open_recovery_key(page)
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Download").click()
    path = download.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert download.value.suggested_filename == "trial-notes-recovery-key.txt"
    assert token_of(page, live) in text.splitlines()
    assert "Use another recovery key" in text
    expect(dialog.get_by_text(re.compile(r"Saved: downloaded on"))).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(panel.get_by_text(re.compile(r"Recovery key saved \(downloaded"))).to_be_visible()
    page.reload()
    page.get_by_role("button", name="My notes").click()
    expect(panel.get_by_text(re.compile(r"Recovery key saved \(downloaded"))).to_be_visible()


def test_copy_marks_the_key_saved(live, browser):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "copied")
    dialog = open_recovery_key(page)
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_text(re.compile(r"Saved: copied on"))).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token_of(page, live)
    context.close()


def test_printed_recovery_sheet_holds_the_key_and_nothing_of_the_page(live, page):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "a private question")
    dialog = open_recovery_key(page)
    page.evaluate("window.print = () => { window.__printed = true; }")  # headless Chromium has no print dialog
    dialog.get_by_role("button", name="Print recovery sheet").click()
    assert page.evaluate("window.__printed") is True
    expect(dialog.get_by_text(re.compile(r"Saved: printed on"))).to_be_visible()
    sheet = PdfReader(io.BytesIO(page.pdf(format="A4"))).pages
    text = "\n".join(p.extract_text() for p in sheet)
    assert len(sheet) == 1
    assert token_of(page, live) in re.sub(r"\s+", "", text)
    assert "Trial Notes: your recovery key" in text and "How to use it" in text
    assert "Child-Pugh" not in text and "a private question" not in text  # the page and the notes stay off it
    assert page.locator("trial-notes-widget svg.qr").count() == 1
    # Closing the dialog takes the sheet away: printing the page prints the page again.
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(page.pdf(format="A4"))).pages)
    assert "Child-Pugh" in text and "your recovery key" not in text
    # Escape closes it natively: the sheet goes too, once its "close" event has run.
    page.get_by_role("dialog", name="My notes").get_by_role("button", name="Recovery key", exact=True).click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.wait_for_function("() => !document.querySelector('trial-notes-widget').shadowRoot.querySelector('.sheet')")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(page.pdf(format="A4"))).pages)
    assert "Child-Pugh" in text and "your recovery key" not in text


def test_restoring_with_the_key_in_another_browser(live, page, browser):
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, CIRRHOSIS, "on the laptop")
    key = token_of(page, live)
    context = browser.new_context()
    other = context.new_page()
    other.goto(f"{live.url}/trials/{SEED}")
    other.get_by_role("button", name="My notes").click()
    other.get_by_role("button", name="Use another recovery key").click()
    grouped = " ".join(key[i : i + 4] for i in range(0, len(key), 4))  # as typed from the printed sheet
    other.get_by_role("textbox", name="Paste recovery key").fill(grouped)
    other.get_by_role("button", name="Use this key").click()
    assert wait_for_highlights(other, 1) == [CIRRHOSIS]
    assert token_of(other, live) == key
    context.close()
