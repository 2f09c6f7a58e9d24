"""Property tests (hypothesis) of the parts an attacker can reach with arbitrary input.

- The share lockout ladder, as a state machine over notes_service.shares.service with a
  fake clock, checked step by step against a small model of the rules (5 wrong in a row:
  a 15-minute lock, doubling each time; 20 wrong in all: locked until the owner acts),
  with Argon2 verifications counted by the hasher itself.
- Trial import (ctgov.parse_study, then render_trial) on arbitrary JSON, on the seed record with any field
  replaced by anything (Unicode, lone surrogates, NUL, huge text): a Trial or a
  RecordError, nothing else, within a time bound; an accepted record renders to HTML whose
  text is exactly its canonical text.
- Anchoring on huge texts (the small-input properties live in tests/notes/anchoring/)
  and selector parsing on arbitrary JSON.
- Sanitizing near the markup limit, and on every XSS corpus vector, is idempotent
  (tests/notes/test_sanitize.py has the general idempotence properties).
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from security.xss_corpus import VECTORS
from support import CHEAP_HASHER, new_owner, text_of

from notes_service import registry
from notes_service.clock import utcnow
from notes_service.errors import Locked, Unauthorized
from notes_service.extensions import db
from notes_service.notes.anchoring import (
    MAX_CONTEXT,
    MAX_EXACT,
    Quote,
    SelectorError,
    locate_approximate,
    locate_exact,
    selectors_to_quote,
)
from notes_service.notes.sanitize import MAX_TAGS, sanitize_body
from notes_service.shares import service as shares
from notes_service.shares.models import Share
from notes_service.trials.ctgov import RecordError, parse_study
from notes_service.trials.presenter import render_sections
from notes_service.trials.reader import shipped_data_dir
from notes_service.trials.render import Trial, render_trial

# -- The lockout ladder -----------------------------------------------------------------

RIGHT = "the-right-passcode"
WRONG = "a-wrong-passcode"


class CountingHasher(PasswordHasher):
    """Real Argon2id that counts the verifications it runs."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verifications = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.verifications += 1
        return super().verify(hash, password)


@dataclass
class Ladder:
    """The lockout rules of docs/DESIGN.md, as plainly as they can be written."""

    streak: int = 0
    total: int = 0
    locks: int = 0
    until: datetime | None = None

    def refusal(self, now: datetime) -> tuple[str, int | None] | None:
        """What a locked share answers now, or None when it takes a passcode."""
        if self.total >= 20:
            return "locked", None  # until the owner unlocks: no time to wait for
        if self.until is not None and self.until > now:
            return "locked", max(1, int((self.until - now).total_seconds()))
        return None

    def wrong(self, now: datetime) -> tuple[str, int | None]:
        self.streak += 1
        self.total += 1
        if self.total >= 20:
            return "locked", None
        if self.streak >= 5:
            duration = timedelta(minutes=15) * 2**self.locks
            self.until, self.locks, self.streak = now + duration, self.locks + 1, 0
            return "locked", int(duration.total_seconds())
        return "wrong", None

    def right(self) -> tuple[str, int | None]:
        self.streak = 0
        return "open", None

    def state(self, now: datetime) -> str:
        return "locked" if self.refusal(now) else "active"


def test_lockout_ladder_matches_its_model(make_app):
    app = make_app()
    hasher = CountingHasher(**CHEAP_HASHER)
    registry.of(app).password_hasher = hasher
    client = app.test_client()
    steps = [0]
    reached: set[str] = set()  # which parts of the ladder the runs got to

    class LockoutMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.owner = new_owner(client)
            self.owner.add_note()
            share = self.owner.share(passcode=RIGHT, expires_in_days=90)
            self.share_id, self.token = share["id"], share["url"].rsplit("/s/", 1)[1]
            self.now = utcnow()
            self.model = Ladder()
            self.wrong_since_lock = 0  # wrong passcodes Argon2 checked since the last lock, success or unlock
            self.wrong_since_unlock = 0

        def attempt(self, passcode: str) -> tuple[tuple[str, int | None], int]:
            before = hasher.verifications
            with app.app_context():
                try:
                    shares.open_share(self.token, passcode, now=self.now)
                    outcome: tuple[str, int | None] = ("open", None)
                except Locked as error:
                    outcome = ("locked", error.retry_after)
                except Unauthorized:
                    outcome = ("wrong", None)
                finally:
                    db.session.remove()
            steps[0] += 1
            return outcome, hasher.verifications - before

        def one_wrong_passcode(self) -> str:
            refused = self.model.refusal(self.now)
            expected = refused or self.model.wrong(self.now)
            outcome, verified = self.attempt(WRONG)
            assert outcome == expected
            assert verified == (0 if refused else 1)
            self.wrong_since_lock += verified
            self.wrong_since_unlock += verified
            if verified and outcome[0] == "locked":
                assert self.wrong_since_lock == 5 or self.wrong_since_unlock == 20
                reached.add("owner lock" if outcome[1] is None else f"lock {self.model.locks}")
                self.wrong_since_lock = 0
            elif refused:
                reached.add("refused while locked")
            return outcome[0]

        @rule(times=st.integers(1, 6))
        def wrong_passcodes(self, times: int) -> None:
            for _ in range(times):
                self.one_wrong_passcode()

        @rule(locks=st.integers(1, 4))
        def attacker_waits_out_each_lock(self, locks: int) -> None:
            # The patient guesser: wrong passcodes until locked, wait exactly until the lock ends, again.
            for _ in range(locks):
                for _ in range(5):
                    if self.one_wrong_passcode() == "locked":
                        break
                if self.model.until is not None and self.model.until > self.now:
                    self.now = self.model.until

        @rule()
        def right_passcode(self) -> None:
            refused = self.model.refusal(self.now)
            expected = refused or self.model.right()
            outcome, verified = self.attempt(RIGHT)
            assert outcome == expected
            assert verified == (0 if refused else 1)
            if not refused:
                self.wrong_since_lock = 0
                reached.add("opened after a lock" if self.model.locks else "opened")

        @rule(minutes=st.integers(0, 180))
        def time_passes(self, minutes: int) -> None:
            self.now += timedelta(minutes=minutes)

        @precondition(lambda self: self.model.until is not None and self.model.until > self.now)
        @rule(seconds=st.sampled_from([-1, 0, 1]))
        def time_reaches_the_end_of_the_lock(self, seconds: int) -> None:
            self.now = self.model.until + timedelta(seconds=seconds)

        @rule()
        def owner_unlocks(self) -> None:
            response = client.post(f"/api/v1/shares/{self.share_id}/unlock", headers=self.owner.headers)
            assert response.status_code == 200
            self.model = Ladder()
            self.wrong_since_lock = self.wrong_since_unlock = 0

        @invariant()
        def never_more_than_five_wrong_checks_between_locks(self) -> None:
            assert self.wrong_since_lock <= 5
            assert self.wrong_since_unlock <= 20

        @invariant()
        def database_agrees_with_the_model(self) -> None:
            with app.app_context():
                share = db.session.get(Share, self.share_id)
                stored = (share.failed_streak, share.failed_total, share.lock_count, share.locked_until)
                state = shares.state_of(share, self.now)
                db.session.remove()
            assert stored == (self.model.streak, self.model.total, self.model.locks, self.model.until)
            assert state == self.model.state(self.now)

    run_state_machine_as_test(
        LockoutMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(f"lockout: {steps[0]} passcode attempts checked against the model; reached {sorted(reached)}")
    assert {"lock 1", "lock 2", "lock 3", "owner lock", "refused while locked", "opened after a lock"} <= reached


# -- Trial import -------------------------------------------------------------------------

SEED_RECORD = json.loads((shipped_data_dir() / "NCT07085104.json").read_text(encoding="utf-8"))
# Every field parse_study reads, and a few it does not.
FIELDS = [
    "protocolSection.identificationModule.nctId",
    "protocolSection.identificationModule.briefTitle",
    "protocolSection.identificationModule.officialTitle",
    "protocolSection.identificationModule.orgStudyIdInfo",
    "protocolSection.identificationModule.orgStudyIdInfo.id",
    "protocolSection.statusModule",
    "protocolSection.statusModule.overallStatus",
    "protocolSection.statusModule.studyFirstPostDateStruct.date",
    "protocolSection.statusModule.startDateStruct",
    "protocolSection.statusModule.lastUpdatePostDateStruct.date",
    "protocolSection.designModule.phases",
    "protocolSection.conditionsModule.conditions",
    "protocolSection.conditionsModule.keywords",
    "protocolSection.eligibilityModule",
    "protocolSection.eligibilityModule.sex",
    "protocolSection.eligibilityModule.minimumAge",
    "protocolSection.eligibilityModule.maximumAge",
    "protocolSection.eligibilityModule.healthyVolunteers",
    "protocolSection.eligibilityModule.eligibilityCriteria",
    "protocolSection.descriptionModule.briefSummary",
    "protocolSection.descriptionModule.detailedDescription",
    "protocolSection.sponsorCollaboratorsModule.leadSponsor.name",
    "protocolSection.sponsorCollaboratorsModule.collaborators",
    "derivedSection.miscInfoModule.versionHolder",
    "derivedSection",
    "protocolSection",
    "hasResults",
]
# Text as records may hold it after json.loads: any code point, lone surrogates included
# (JSON's "\ud800" escape), NUL, controls, bidi overrides, and CT.gov's markdown escapes.
ODD = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "\x00",
        "\x0b",
        "\x1c",
        "\x85",
        "\u2028",
        "\u202e",
        "\ufeff",
        "\\<",
        "\\>",
        "\\[",
        "\\",
        "\r\n",
        "\r",
        "\n",
        "  ",
        "\t",
        "* ",
        "1. ",
        "a) ",
        "iv. ",
        "Inclusion Criteria:",
        "Exclusion Criteria",
        "PHASE2",
        "EARLY_PHASE1",
        "NA",
        "18 Years",
        "2025-02-30",
        "2025-13",
        "\U0001f600",
        "<script>",
    ]
)
TEXT = st.lists(st.one_of(ODD, st.text(max_size=12)), max_size=40).map("".join)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=30,
)
# 100,000 to 1,000,000 code points of one repeated unit: long lines, endless lists, deep indents.
HUGE_TEXT = st.builds(
    lambda unit, size: (unit * (size // len(unit) + 1))[:size],
    st.one_of(ODD, TEXT.filter(bool)),
    st.integers(100_000, 1_000_000),
)


def with_field(record: dict, path: str, value: Any) -> dict:
    changed = copy.deepcopy(record)
    node = changed
    keys = path.split(".")
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value
    return changed


def check_import(record: Any) -> Trial | None:
    """parse_study gives a Trial or a RecordError; a Trial renders to its canonical text."""
    try:
        study = parse_study(record)
        trial = render_trial(study)
    except RecordError:
        study = trial = None
    if study is not None and trial is not None:
        text = trial.canonical_text
        json.dumps(study.record, ensure_ascii=False).encode("utf-8")  # storable as it is kept
        assert "\x00" not in text  # PostgreSQL text cannot hold NUL
        assert text_of(str(render_sections(trial.sections))) == text
    return trial


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(record=JSON)
def test_import_of_arbitrary_json_never_crashes(record):
    check_import(record)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(changes=st.lists(st.tuples(st.sampled_from(FIELDS), JSON | st.lists(TEXT, max_size=6)), min_size=1, max_size=4))
def test_import_of_a_damaged_record_never_crashes(changes):
    record = SEED_RECORD
    for path, value in changes:
        record = with_field(record, path, value)
    check_import(record)


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    path=st.sampled_from(
        [field for field in FIELDS if field.endswith(("Criteria", "Summary", "Description", "briefTitle", "name"))]
    ),
    value=HUGE_TEXT,
)
def test_import_of_huge_text_is_bounded(path, value):
    check_import(with_field(SEED_RECORD, path, value))


@pytest.mark.parametrize(("conditions", "collaborators", "taken"), [(2_000, 1_000, True), (50_000, 20_000, False)])
def test_import_of_many_conditions_and_collaborators_is_bounded(conditions, collaborators, taken):
    # Thousands render; tens of thousands are more text than a trial's page may show
    # (ctgov.MAX_SHOWN_CHARS, where conditions count twice: the API lists them beside the text),
    # refused before rendering, with the reason.
    record = with_field(
        SEED_RECORD,
        "protocolSection.conditionsModule.conditions",
        [f"condition {index}" for index in range(conditions)],
    )
    record = with_field(
        record,
        "protocolSection.sponsorCollaboratorsModule.collaborators",
        [{"name": f"collaborator {index}"} for index in range(collaborators)],
    )
    assert (check_import(record) is not None) is taken
    if not taken:
        with pytest.raises(RecordError, match="characters of text to show"):
            parse_study(record)


# -- Anchoring on huge input ----------------------------------------------------------------

UNITS = st.one_of(
    st.sampled_from(["a", "ab", "a b", " \n", "\u00a0", "\U0001f600", "x\u0301", "Child-Pugh ", "\u2028"]),
    st.text(min_size=1, max_size=8),
)


@st.composite
def huge_case(draw) -> tuple[str, Quote]:
    unit = draw(UNITS)
    text = unit * (draw(st.integers(100_000, 200_000)) // len(unit))
    if draw(st.booleans()):
        text = text[: len(text) // 2] + draw(st.text(max_size=40)) + text[len(text) // 2 :]
    if draw(st.booleans()):
        start = draw(st.integers(0, len(text) - 1))
        exact = text[start : start + draw(st.integers(1, MAX_EXACT))]
    else:
        exact = draw(st.text(min_size=1, max_size=MAX_EXACT)) or "x"
    quote = Quote(
        exact,
        prefix=draw(st.text(max_size=MAX_CONTEXT)),
        suffix=draw(st.text(max_size=MAX_CONTEXT)),
        start=draw(st.none() | st.integers(-10, len(text) + 10)),
    )
    return text, quote


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(case=huge_case())
def test_anchoring_huge_input_gives_anchors_inside_the_text(case):
    # How long it takes is a bench figure (bench/micro/test_bounds.py, huge input).
    text, quote = case
    anchors = [locate_exact(text, quote), locate_approximate(text, quote, floor=0.0)]
    for anchor in anchors:
        if anchor is not None:
            assert 0 <= anchor.start < anchor.end <= len(text)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    selectors=JSON
    | st.lists(
        st.dictionaries(
            st.sampled_from(["type", "exact", "prefix", "suffix", "start", "end"]),
            JSON | st.sampled_from(["TextQuoteSelector", "TextPositionSelector"]) | st.integers(-5, 10**12),
        ),
        max_size=4,
    )
)
def test_selector_parsing_of_arbitrary_json_never_crashes(selectors):
    try:
        quote = selectors_to_quote(selectors)
    except SelectorError as error:
        assert error.field.startswith("target.selector")
    else:
        assert 0 < len(quote.exact) <= MAX_EXACT


# -- Sanitizing ----------------------------------------------------------------------------

UNITS_OF_MARKUP = st.sampled_from(
    [
        "<b>",
        "<p>x",
        "<li>",
        "<i><b>",
        "<ul><li>",
        "<em>x</em>",
        "<br>",
        '<a href="https://example.com/">x',
        "<div>",
        "</p>",
        "<!x>",
        "<b>x</b>",
    ]
)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(unit=UNITS_OF_MARKUP, count=st.integers(MAX_TAGS // 4, MAX_TAGS + 2), tail=st.text(max_size=20))
def test_sanitize_is_idempotent_near_the_markup_limit(unit, count, tail):
    # Balancing adds end tags: a body just under the limit can come out over it.
    once = sanitize_body(unit * count + tail)
    assert sanitize_body(once) == once


@pytest.mark.parametrize("vector", VECTORS)
def test_sanitize_is_idempotent_on_the_xss_corpus(vector):
    once = sanitize_body(vector)
    assert sanitize_body(once) == once
