from __future__ import annotations

import re
from html.parser import HTMLParser

from notes_service.trials.reader import shipped_data_dir


class Outline(HTMLParser):
    """Collects headings, landmarks and the text of the data-notes-root element."""

    VOID = frozenset({"meta", "link", "input", "br", "img", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.headings: list[int] = []
        self.landmarks: list[str] = []
        self.root_depth: int | None = None
        self.root_text: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            if value.startswith(("http:", "https:", "//")):
                self.external.append(value)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag in {"main", "header", "footer", "nav"}:
            self.landmarks.append(tag)
        if tag in self.VOID:
            return
        self.stack.append(tag)
        if "data-notes-root" in attributes and self.root_depth is None:
            self.root_depth = len(self.stack)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"mis-nested </{tag}> in {self.stack[-3:]}"
        if self.root_depth == len(self.stack):
            self.root_depth = -1
        self.stack.pop()

    def handle_data(self, data):
        if self.root_depth is not None and self.root_depth > 0:
            self.root_text.append(data)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    assert parser.stack == [], "unclosed elements"
    return parser


def test_seed_trial_page_has_criteria_in_notes_root(client):
    response = client.get("/trials/NCT07085104")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = outline(html)
    root = "".join(page.root_text)
    api = client.get("/api/v1/trials/NCT07085104").get_json()
    assert root == api["text"]
    assert "6. Child-Pugh Class B or C cirrhosis." in root
    for text in (
        "Recruiting",
        "18-69 years",
        "Phase 1",
        "Inclusion Criteria",
        "Exclusion Criteria",
        "Allogene Therapeutics",
        "NCT07085104",
        "7 August 2025",
        "Lupus Nephritis",
    ):
        assert text in root
    assert "Source: ClinicalTrials.gov" in html
    assert "unmodified except for formatting" in html


def test_pages_have_landmarks_ordered_headings_and_no_external_assets(client):
    for path in ["/", "/trials/NCT07085104", "/trials/NCT04360941", "/?q=diabetes"]:
        page = outline(client.get(path).get_data(as_text=True))
        assert {"main", "header", "footer", "nav"} <= set(page.landmarks)
        assert page.headings[0] == 1 and page.headings.count(1) == 1
        for previous, current in zip(page.headings, page.headings[1:], strict=False):
            assert current <= previous + 1, f"{path}: heading jumps h{previous} -> h{current}"
        assert page.external == []


def test_every_shipped_trial_page_renders(client):
    for path in sorted(shipped_data_dir().glob("NCT*.json")):
        response = client.get(f"/trials/{path.stem}")
        assert response.status_code == 200, path.stem


def test_index_lists_and_searches(client):
    html = client.get("/").get_data(as_text=True)
    assert 'role="search"' in html
    assert html.count('class="trial-card"') == len(list(shipped_data_dir().glob("NCT*.json")))
    found = client.get("/?q=lupus").get_data(as_text=True)
    assert found.count('class="trial-card"') == 1 and "ALLO-329" in found


def test_unknown_trial_is_a_friendly_page(client):
    response = client.get("/trials/NCT99999999")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Go to the list of trials" in html and "Traceback" not in html


def test_page_security_headers(client):
    response = client.get("/trials/NCT07085104")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_phone_viewport(client):
    assert 'name="viewport"' in client.get("/").get_data(as_text=True)
