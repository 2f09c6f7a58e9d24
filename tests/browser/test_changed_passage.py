"""A highlighted passage changes in a newer version of the trial: the patient and the family are told."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser.page_tools import select_text, wait_for_highlights
from browser.test_journey import add_note, share_all
from playwright.sync_api import expect
from support import DELETED, EDITED, EDITED_NOW, SEED, changed_seed

# Where screenshots go for a person to look at (TRIAL_NOTES_SHOTS); none by default.
SHOTS = os.environ.get("TRIAL_NOTES_SHOTS")


def load_version(app, tmp_path: Path, study: dict) -> None:
    """`flask trials load` of one record, as a host site's import would run it."""
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(study))
    result = app.test_cli_runner().invoke(args=["trials", "load", str(path)])
    assert result.exit_code == 0, result.output


def shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{page.viewport_size['width']}.png"), full_page=False)


def changed_highlights(page) -> list[str]:
    return page.evaluate("[...(CSS.highlights.get('trial-notes-changed') ?? [])].map((r) => r.toString())")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_patient_and_the_family_see_a_changed_passage(live, page, browser, tmp_path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live.url}/trials/{SEED}")
    add_note(page, EDITED, "Ask whether my heart valve counts.")
    add_note(page, DELETED, "Would the follow-up be long?")
    assert wait_for_highlights(page, 2) == sorted([EDITED, DELETED])
    assert changed_highlights(page) == []

    load_version(live.app, tmp_path, changed_seed())
    page.reload()
    # The edited criterion is drawn where it reads now, and marked as changed; the deleted one is not drawn.
    assert wait_for_highlights(page, 1) == [EDITED_NOW]
    assert changed_highlights(page) == [EDITED_NOW]
    page.get_by_role("button", name="My notes").click()
    panel = page.get_by_role("dialog", name="My notes")
    expect(panel.get_by_text("The trial\u2019s text changed here since you highlighted it.")).to_have_count(2)
    shoot(page, "changed-panel")
    panel.get_by_role("button", name="Open note").first.click()
    note = page.get_by_role("dialog", name="Your note")
    # The date in the reader's own words (the browser's locale, here en-US).
    expect(note.get_by_text("The trial\u2019s text changed here on November 30, 2026.")).to_be_visible()
    shown = note.locator("blockquote:visible")
    expect(shown).to_have_text([EDITED, EDITED_NOW])  # before, after (the usual quote is hidden)
    expect(note.get_by_text("Ask whether my heart valve counts.")).to_be_visible()
    shoot(page, "changed-note")
    note.get_by_role("button", name="Close").click()
    page.keyboard.press("Escape")  # the panel

    # Shared before accepting: the family sees the words before and after, without JavaScript.
    link, passcode = share_all(page)
    page.keyboard.press("Escape")
    family = browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 900})
    reader = family.new_page()
    reader.goto(link)
    reader.get_by_label("Passcode", exact=True).fill(passcode)
    reader.get_by_role("button", name="Open the notes").click()
    changes = reader.locator(".note-change")
    expect(changes).to_have_count(2)
    expect(changes.first).to_contain_text("The trial\u2019s text changed here on November 30, 2026.")
    expect(changes.first.locator("blockquote").first).to_have_text(f"“{EDITED}”")
    expect(changes.first.locator("blockquote").last).to_have_text(f"“{EDITED_NOW}”")
    expect(changes.last).to_contain_text("Now: this passage is no longer in the trial text.")
    expect(reader.locator("mark.hl-changed")).to_have_text(EDITED_NOW)
    # Retried: after the form's POST the page's stylesheet may still be arriving when the text is there.
    expect(reader.locator("mark.hl-changed")).to_have_css("border-bottom-style", "dashed")
    shoot(reader, "changed-share-page")
    family.close()

    # "Keep on the new text": the note is an ordinary highlight on the new words, after a reload too.
    page.reload()
    wait_for_highlights(page, 1)
    page.get_by_role("button", name="My notes").click()
    page.get_by_role("dialog", name="My notes").get_by_role("button", name="Open note").first.click()
    note.get_by_role("button", name="Keep on the new text").click()
    expect(note).to_be_hidden()
    assert changed_highlights(page) == []
    page.reload()
    assert wait_for_highlights(page, 1) == [EDITED_NOW]
    assert changed_highlights(page) == []
    select_text(page, EDITED_NOW)  # the page is still the trial's, and still works
    assert page.js_errors == []
