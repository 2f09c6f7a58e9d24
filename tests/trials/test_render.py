from __future__ import annotations

import copy
import hashlib
import json

import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import text_of

from notes_service.trials import ctgov
from notes_service.trials.ctgov import RecordError
from notes_service.trials.presenter import Mark, render_sections
from notes_service.trials.reader import shipped_data_dir
from notes_service.trials.render import (
    Trial,
    format_ages,
    format_phase,
    parse_text_blocks,
    render_trial,
    split_criteria,
    unescape,
)

SHIPPED = sorted(shipped_data_dir().glob("NCT*.json"))


def parse_study(record: object) -> Trial:
    """The parser, then the renderer: what a load does with each record."""
    return render_trial(ctgov.parse_study(record))


def seed() -> dict:
    return json.loads((shipped_data_dir() / "NCT07085104.json").read_text())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_record_renders_and_html_text_is_canonical(path):
    trial = parse_study(json.loads(path.read_text()))
    assert trial.nct_id == path.stem
    assert trial.sections[0].id == "title"
    assert text_of(render_sections(trial.sections)) == trial.canonical_text


def test_seed_sections_in_patient_order():
    trial = parse_study(seed())
    ids = [s.id for s in trial.sections]
    assert ids == [
        "title",
        "facts",
        "overview",
        "eligibility",
        "inclusion",
        "exclusion",
        "conditions",
        "sponsor",
        "identifiers",
    ]
    facts = trial.sections[1].text
    assert facts == "Status: Recruiting\nAges: 18-69 years\nSex: All\nPhase: Phase 1"
    exclusion = next(s for s in trial.sections if s.id == "exclusion")
    assert len(exclusion.blocks) == 13
    assert exclusion.blocks[5].text == "6. Child-Pugh Class B or C cirrhosis."


def test_marks_wrap_passages_without_changing_text():
    trial = parse_study(seed())
    text = trial.canonical_text
    start = text.index("Child-Pugh Class B or C cirrhosis")
    marks = [Mark(start, start + 33, "n1", "green"), Mark(start - 3, start + 60, "n2")]
    html = str(render_sections(trial.sections, marks))
    assert text_of(html) == text
    assert '<mark class="hl hl-green" data-notes="n1 n2">' in html or 'data-notes="n2 n1"' in html


def test_marks_never_inject_markup():
    trial = parse_study(seed())
    html = str(render_sections(trial.sections, [Mark(0, 5, '"><script>x</script>', "<b>")]))
    assert "<script>" not in html and "<b>" not in html


def test_unescape_markdown():
    assert unescape(r"glucose \<126 mg/dl and \>200 \[HCQ\]") == "glucose <126 mg/dl and >200 [HCQ]"


def test_nested_bullets_and_numbers():
    blocks = parse_text_blocks("* Active disease\n\n  * BASDAI \\>= 4\n1. First\n2) Second\nPlain")
    assert [(b.kind, b.text, b.level) for b in blocks] == [
        ("item", "Active disease", 0),
        ("item", "BASDAI >= 4", 1),
        ("item", "1. First", 0),
        ("item", "2) Second", 0),
        ("p", "Plain", 0),
    ]


@pytest.mark.parametrize(
    ("text", "headings"),
    [
        (
            "Inclusion Criteria:\n\n* a\n\nExclusion Criteria:\n\n* b",
            ["Eligibility", "Inclusion Criteria", "Exclusion Criteria"],
        ),
        (
            "Key Inclusion Criteria:\n* a\nKey Exclusion Criteria:\n* b",
            ["Eligibility", "Key Inclusion Criteria", "Key Exclusion Criteria"],
        ),
        (
            "Inclusion Criteria (Families):\n* a\nExclusion Criteria (Families):\n* b\n"
            "Inclusion Criteria (Controls):\n* c",
            [
                "Eligibility",
                "Inclusion Criteria (Families)",
                "Exclusion Criteria (Families)",
                "Inclusion Criteria (Controls)",
            ],
        ),
        ("* adults only\n* no smokers", ["Eligibility", "Eligibility criteria"]),
    ],
)
def test_criteria_headers_vary(text, headings):
    assert [s.heading for s in split_criteria(text)] == headings


@pytest.mark.parametrize(
    ("minimum", "maximum", "expected"),
    [
        ("18 Years", "69 Years", "18-69 years"),
        ("18 Years", None, "18 years and older"),
        (None, "65 Years", "Up to 65 years"),
        ("6 Months", "17 Years", "6 months to 17 years"),
        (None, None, ""),
    ],
)
def test_ages(minimum, maximum, expected):
    assert format_ages(minimum, maximum) == expected


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        (["PHASE1", "PHASE2"], "Phase 1/Phase 2"),
        (["EARLY_PHASE1"], "Early Phase 1"),
        (["NA"], "Not applicable"),
        (None, ""),
    ],
)
def test_phases(phases, expected):
    assert format_phase(phases) == expected


def browser_text_of(html: str) -> str:
    """The text content a browser gives a fragment: html5lib parses as the WHATWG spec says (a
    carriage return, alone or before a line feed, reads as one line feed)."""
    return "".join(html5lib.parseFragment(html, namespaceHTMLElements=False).itertext())


def test_one_line_fields_with_carriage_returns_and_tabs_keep_the_page_text_canonical():
    # A browser reads "\r\n" in the page as "\n": the notes root's text was shorter than the
    # canonical text, so the widget's positions drifted from the server's after such a field,
    # and a condition holding a line break came back from the listing as two.
    study = seed()
    protocol = study["protocolSection"]
    protocol["identificationModule"]["briefTitle"] = "A title\r\nover two lines"
    protocol["identificationModule"]["orgStudyIdInfo"] = {"id": "ID\r42"}
    protocol["conditionsModule"]["conditions"] = ["Liver\r\ncancer", "Cirrhosis\t(B)"]
    protocol["conditionsModule"]["keywords"] = ["one\r\ntwo"]
    protocol["sponsorCollaboratorsModule"]["leadSponsor"]["name"] = "Sponsor\r\nInc."
    protocol["sponsorCollaboratorsModule"]["collaborators"] = [{"name": "Helper\r\nLtd"}]
    protocol["statusModule"]["startDateStruct"] = {"date": "Spring\r\n2025"}
    trial = parse_study(study)
    assert browser_text_of(render_sections(trial.sections)) == trial.canonical_text
    assert "\r" not in trial.canonical_text and "\t" not in trial.canonical_text
    assert trial.title == "A title over two lines" and trial.sections[0].heading == trial.title
    assert trial.conditions == ("Liver cancer", "Cirrhosis (B)") and trial.sponsor == "Sponsor Inc."


def test_missing_fields_are_not_invented():
    study = seed()
    del study["protocolSection"]["eligibilityModule"]
    del study["protocolSection"]["designModule"]
    trial = parse_study(study)
    assert trial.phase == ""
    assert "Ages" not in trial.canonical_text and "Phase" not in trial.sections[1].text
    assert "inclusion" not in [s.id for s in trial.sections]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda s: s["protocolSection"]["identificationModule"].pop("nctId"),
            "protocolSection.identificationModule.nctId",
        ),
        (
            lambda s: s["protocolSection"]["identificationModule"].update(nctId="NCT123"),
            "protocolSection.identificationModule.nctId",
        ),
        (
            lambda s: s["protocolSection"]["identificationModule"].pop("briefTitle"),
            "protocolSection.identificationModule.briefTitle",
        ),
        (
            lambda s: s["protocolSection"]["conditionsModule"].update(conditions="lupus"),
            "protocolSection.conditionsModule.conditions",
        ),
        (
            lambda s: s["protocolSection"]["conditionsModule"].update(conditions=["a", 3]),
            "protocolSection.conditionsModule.conditions[1]",
        ),
        (lambda s: s.update(protocolSection=[]), "protocolSection"),
    ],
)
def test_malformed_records_name_the_field(mutate, field):
    study = copy.deepcopy(seed())
    mutate(study)
    with pytest.raises(RecordError) as info:
        parse_study(study)
    assert info.value.field == field


def test_version_changes_with_content():
    a = parse_study(seed())
    study = seed()
    study["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    assert parse_study(study).version != a.version
    assert parse_study(seed()).version == a.version


def standard_json(value: object) -> str:
    """What the stored content versions hash: the standard library's canonical JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Where orjson and the standard library could part: floats (tiny ones, exponents, NaN and
# infinities), integers past 64 bits, escapes, lone surrogates, key order past the BMP.
NUMBERS = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([1e-5, 1.5e-7, -2.5e-5, 9.999e-5, 1e-4, 1e16, 1e22, 5e-324, -0.0, 2**63, 2**64])
)
KEYS = st.text(st.characters(codec=None), max_size=6) | st.sampled_from(["null", "0.00001", "1e-5", "\ud800"])
STRINGS = st.text(st.characters(codec=None), max_size=12) | st.sampled_from(
    ["\ud800", "\udfff", "\x00", "\x1f", "\x7f", "\u2028", "null", "0.0000", "3e-5", "\\", '"', "\U0001f600"]
)
VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | STRINGS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(value=VALUES)
def test_canonical_json_is_exactly_the_standard_librarys(value):
    assert ctgov.canonical_json({"v": value}) == standard_json({"v": value})


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(value=VALUES)
def test_a_records_version_hashes_the_standard_canonical_json(value):
    record = seed()
    record["extra"] = value
    try:
        study = ctgov.parse_study(record)
    except RecordError:
        return  # a lone surrogate or a NUL: refused by either encoder's path
    canonical = standard_json(record)
    assert study.record_json == canonical
    assert study.version == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_the_shipped_records_keep_their_versions():
    for path in SHIPPED:
        record = json.loads(path.read_text())
        expected = hashlib.sha256(standard_json(record).encode("utf-8")).hexdigest()
        assert ctgov.parse_study(record).version == expected == ctgov.content_version(record)
