"""The largest notebook the limits allow: every list, export and share page stays bounded.

5,000 notes (NOTES_MAX_NOTES), each of the largest stored size: a body of 10,000 emoji (the
body limit on the stored form; an emoji is 4 bytes of UTF-8 at rest and a 12-byte surrogate
pair in JSON, the costliest character there is) on a passage of 2,000 emoji (the quote
limit), in the longest colour. One note is made through the API; the other 4,999 are the
same payload sealed for their own rows with the notebook's real data key and inserted in
bulk (5,000 HTTP calls would take minutes), so every row decrypts exactly as a real one.
A share holds all 5,000, and 19 more like it make the largest share list page.

Each request's response size must stay within 4 MiB and its peak of newly allocated
Python memory (tracemalloc, from just before the request to the end of reading the
response) within 64 MiB. Each list is measured on its first page, one from the middle and
its last (every page holds the same kind of note; walking all pages is tested on small
notebooks), and so are both ways of opening the share with its passcode (the share page's
form and the API's, whose next pages come through its session). Run with -s for the figures.
"""

from __future__ import annotations

import copy
import gc
import html
import json
import re
import time
import tracemalloc
import uuid
from datetime import timedelta

from sqlalchemy import insert, select
from support import SEED, new_owner

from notes_service import crypto, registry
from notes_service.extensions import db
from notes_service.notes import service
from notes_service.notes.models import Note, Notebook
from notes_service.paging import RESPONSE_LIMIT, encode_cursor
from notes_service.shares.models import Share, share_notes
from notes_service.trials.reader import shipped_data_dir

EMOJI = "\U0001f600"
QUOTE = EMOJI * 2_000
BODY = EMOJI * 10_000
MEMORY_LIMIT = 64 * 1024 * 1024
PASSCODE = "family-code-1"
MiB = 1024 * 1024


def load_emoji_trial(app, tmp_path) -> None:
    """The seed trial with a 2,000-emoji passage in its summary, so the longest quote is costliest too."""
    record = copy.deepcopy(json.loads((shipped_data_dir() / f"{SEED}.json").read_text()))
    record["protocolSection"]["descriptionModule"]["briefSummary"] = f"Before. {QUOTE} After."
    path = tmp_path / f"{SEED}.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    loaded = app.test_cli_runner().invoke(args=["trials", "load", str(path)])
    assert loaded.exit_code == 0, loaded.output


def add_largest_note(client, owner) -> dict:
    target = {"selector": [{"type": "TextQuoteSelector", "exact": QUOTE}]}
    body = json.dumps({"target": target, "body": BODY, "color": "purple"}, ensure_ascii=False).encode()
    response = client.post(
        f"/api/v1/trials/{SEED}/notes", headers=owner.headers, data=body, content_type="application/json"
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fill_notebook(app, owner, first_id: str, count: int) -> None:
    """`count` more notes like the first, each sealed for its own row."""
    notebook_id = owner.notebook_id
    with app.app_context():
        notebook = db.session.get(Notebook, notebook_id)
        notebook.token = owner.token  # the owner slot opens with the notebook token only
        dek = service.data_key(notebook)
        first = db.session.get(Note, first_id)
        version = first.format_version  # each note is sealed under its own key (HKDF of the DEK)
        plaintext = crypto.open_sealed(
            crypto.note_key(dek, notebook_id, first_id),
            first.ciphertext,
            crypto.note_aad(notebook_id, first_id, version),
        )
        rows = []
        for i in range(1, count + 1):
            note_id = uuid.uuid4().hex
            when = first.created_at + timedelta(milliseconds=i)
            rows.append(
                {
                    "id": note_id,
                    "notebook_id": notebook_id,
                    "trial_id": first.trial_id,
                    "format_version": first.format_version,
                    "anchored_version": first.anchored_version,
                    "created_at": when,
                    "updated_at": when,
                    "ciphertext": crypto.seal(
                        crypto.note_key(dek, notebook_id, note_id),
                        plaintext,
                        crypto.note_aad(notebook_id, note_id, version),
                    ),
                }
            )
            if len(rows) == 250:
                db.session.execute(insert(Note), rows)
                db.session.commit()
                rows = []
        if rows:
            db.session.execute(insert(Note), rows)
            db.session.commit()
        db.session.remove()


def copy_share(app, share_id: str, copies: int) -> None:
    """`copies` more shares holding the same notes (each with its own id and token)."""
    with app.app_context():
        share = db.session.get(Share, share_id)
        note_ids = list(db.session.scalars(select(share_notes.c.note_id).where(share_notes.c.share_id == share_id)))
        columns = {attr.columns[0].name: getattr(share, attr.key) for attr in Share.__mapper__.column_attrs}
        for i in range(1, copies + 1):
            new_id = uuid.uuid4().hex
            row = {
                **columns,
                "id": new_id,
                "token_hash": crypto.hash_token(crypto.new_token(32)),
                "created_at": share.created_at + timedelta(milliseconds=i),
            }
            db.session.execute(insert(Share), [row])
            db.session.execute(insert(share_notes), [{"share_id": new_id, "note_id": n} for n in note_ids])
            db.session.commit()
        db.session.remove()


class Meter:
    """Response sizes and tracemalloc peaks per kind of request."""

    def __init__(self) -> None:
        self.figures: dict[str, list[tuple[int, int]]] = {}

    def get(self, client, kind: str, url: str, **kwargs):
        return self.open(client, kind, "GET", url, **kwargs)

    def open(self, client, kind: str, method: str, url: str, *, status: int = 200, **kwargs):
        gc.collect()  # costly on a large heap: only before a measured request
        tracemalloc.start()
        response = client.open(url, method=method, **kwargs)
        data = response.get_data()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert response.status_code == status, (url, response.status_code)
        self.figures.setdefault(kind, []).append((len(data), peak))
        assert len(data) <= RESPONSE_LIMIT, f"{kind}: {len(data):,} bytes"
        assert peak <= MEMORY_LIMIT, f"{kind}: {peak / MiB:.1f} MiB allocated"
        return response

    def report(self) -> str:
        lines = []
        for kind, rows in self.figures.items():
            largest = max(size for size, _ in rows)
            peak = max(peak for _, peak in rows)
            lines.append(
                f"{kind}: {len(rows)} requests, largest {largest / MiB:.2f} MiB, peak memory {peak / MiB:.1f} MiB"
            )
        return "\n".join(lines)


def test_largest_notebook_keeps_every_list_within_4_mib_and_64_mib(app, client, tmp_path):
    started = time.monotonic()
    load_emoji_trial(app, tmp_path)
    owner = new_owner(client)
    first = add_largest_note(client, owner)
    assert len(first["body"]) == 10_000  # stored at the body limit
    limit = registry.of(app).settings.max_notes_per_notebook
    fill_notebook(app, owner, first["id"], limit - 1)
    full = client.post(
        f"/api/v1/trials/{SEED}/notes", headers=owner.headers, json={"target": first["target"], "body": "one more"}
    )
    assert full.status_code == 422  # the notebook is as large as the limits allow
    share = owner.share(passcode=PASSCODE)
    assert share["note_count"] == limit
    copy_share(app, share["id"], 19)
    built = time.monotonic() - started
    meter = Meter()

    with app.app_context():
        keys = db.session.execute(
            select(Note.trial_id, Note.created_at, Note.id)
            .where(Note.notebook_id == owner.notebook_id)
            .order_by(Note.trial_id, Note.created_at, Note.id)
        ).all()
    # Each list on its first page, a page from the middle and the last page (one trial, so the
    # export's order is the list's). The cursors are the ones the pages before would give.
    starts = (0, limit // 2, limit - 20)

    for index in starts:
        cursor = f"&cursor={encode_cursor(keys[index - 1][1:])}" if index else ""
        body = meter.get(
            client, "notes list", f"/api/v1/trials/{SEED}/notes?limit=100{cursor}", headers=owner.headers
        ).get_json()
        assert [note["id"] for note in body["notes"]] == [key[2] for key in keys[index : index + len(body["notes"])]]
        assert all(note["readable"] for note in body["notes"]) and len(body["notes"]) >= 20
    assert body["next"] is None

    collection = meter.get(client, "export", "/api/v1/notebooks/me/export?limit=100", headers=owner.headers).get_json()
    assert collection["total"] == limit and collection["first"]["items"]
    for index in starts[1:]:
        cursor = encode_cursor((*keys[index - 1], index))
        page = meter.get(
            client, "export", f"/api/v1/notebooks/me/export?limit=100&cursor={cursor}", headers=owner.headers
        ).get_json()
        assert page["type"] == "AnnotationPage" and page["startIndex"] == index and page["items"]
    assert "next" not in page

    # The share list: 20 shares of 5,000 notes each.
    shares = meter.get(client, "share list", "/api/v1/shares", headers=owner.headers).get_json()
    assert len(shares["shares"]) == 20 and shares["shares"][0]["note_count"] == limit
    # One share of 5,000 notes read alone: its note ids load without the notes' payloads.
    one = meter.get(client, "share read", f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()
    assert one["note_count"] == limit

    # The share page: its passcode form (it verifies and counts the view, loading no note, then
    # redirects), then its first, middle and last page.
    token = share["url"].rsplit("/s/", 1)[1]
    path = f"/s/{token}"
    meter.open(client, "share page passcode POST", "POST", path, status=303, data={"passcode": PASSCODE})
    page = meter.get(client, "share page", path).get_data(as_text=True)
    assert page.count('class="shared-note"') == 25 and 'rel="next"' in page
    for index in (limit // 2, limit - 25):
        cursor = encode_cursor((keys[index - 1][1], keys[index - 1][2], index))
        page = meter.get(client, "share page", f"{path}?cursor={cursor}").get_data(as_text=True)
        assert f'id="note-{index + 1}"' in page and f'id="mark-note-{index + 1}"' in page
    assert 'rel="next"' not in page and html.unescape(re.sub(r"<[^>]+>", "", page)).count(QUOTE) >= 25

    # The API's opening: the trial and the first page under the budget, with a session; then
    # a page from the middle and the last through the session (cursors as the pages before give).
    opened = meter.open(
        client, "shared API passcode POST", "POST", f"/api/v1/shared/{token}", json={"passcode": PASSCODE}
    ).get_json()
    assert [note["id"] for note in opened["notes"]] == [key[2] for key in keys[: len(opened["notes"])]]
    assert len(opened["notes"]) >= 20 and opened["next"] and QUOTE in opened["trial"]["text"]
    views = client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()["views"]
    for index in (len(opened["notes"]), limit // 2, limit - 20):
        cursor = encode_cursor(keys[index - 1][1:])
        body = meter.open(
            client,
            "shared API next page",
            "POST",
            f"/api/v1/shared/{token}/notes",
            json={"session": opened["session"], "cursor": cursor},
        ).get_json()
        assert [note["id"] for note in body["notes"]] == [key[2] for key in keys[index : index + len(body["notes"])]]
        assert len(body["notes"]) >= 20
    assert body["next"] is None
    assert client.get(f"/api/v1/shares/{share['id']}", headers=owner.headers).get_json()["views"] == views

    print(
        f"\nlargest notebook: {limit} notes of {len(BODY)} emoji on a {len(QUOTE)}-emoji passage, "
        f"20 shares of all of them; built in {built:.1f} s, measured in {time.monotonic() - started - built:.1f} s"
    )
    print(meter.report())
