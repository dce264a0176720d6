"""The exact words of every reminder text, per language, as snapshot files; discreet texts
name nothing; texts fit one SMS segment where the language's characters allow."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.texting import bodies
from config import Config

SNAPSHOTS = Path(__file__).parent / "snapshots"
LINK = "http://carecircle.test/r/Ab3dEf9"
WHEN = datetime(2026, 12, 10, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
ZONE = "America/Los_Angeles"
SECRETS = ("Diabetes", "Okafor", "Riverbend", "metformin", "Metformin", "A1c", "glucose")


def render(purpose: str, locale: str, detailed: bool) -> str:
    common = {"locale": locale, "link": LINK}
    if purpose == "appointment":
        return bodies.appointment(
            **common,
            when_at=WHEN,
            zone=ZONE,
            detailed=detailed,
            title="Diabetes check-up with Dr. Okafor at Riverbend",
        )
    if purpose == "medication":
        return bodies.medication(**common, detailed=detailed, medicine="Metformin 500 mg")
    if purpose == "task":
        return bodies.task(**common, detailed=detailed, title="Check your blood glucose")
    if purpose == "goal":
        return bodies.goal(**common, detailed=detailed, goal="Bring my A1c under 7")
    if purpose == "caregiver_appointment":
        return bodies.for_caregiver(**common, name="Jim", when_at=WHEN, zone=ZONE)
    if purpose == "caregiver":
        return bodies.for_caregiver(**common, name="Jim")
    if purpose == "number_changed":
        return bodies.number_changed(locale=locale, help_phone="+15035550100")
    assert purpose == "team_replied"
    return bodies.team_replied(**common)


CASES = [
    (purpose, locale, detailed)
    for purpose in ("appointment", "medication", "task", "goal")
    for locale in ("en", "es")
    for detailed in (False, True)
] + [
    (purpose, locale, False)
    for purpose in ("caregiver_appointment", "caregiver", "team_replied", "number_changed")
    for locale in ("en", "es")
]


@pytest.mark.parametrize(("purpose", "locale", "detailed"), CASES)
def test_body_snapshots(app, purpose, locale, detailed):
    """Update a snapshot only after reading the new text (UPDATE_SNAPSHOTS=1 rewrites them)."""
    with app.test_request_context():
        body = render(purpose, locale, detailed)
    path = SNAPSHOTS / f"{purpose}_{locale}_{'detailed' if detailed else 'discreet'}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(body + "\n", encoding="utf-8")
    assert body == path.read_text(encoding="utf-8").rstrip("\n")
    if purpose != "number_changed":  # a notice to the old number carries no link at all
        assert LINK in body
    if not detailed:
        for secret in SECRETS:
            assert secret not in body, f"a discreet text names {secret!r}: {body}"
    if locale == "en":
        assert bodies.segments(body) == 1, body


def test_detailed_texts_shorten_a_long_name_to_stay_one_segment(app):
    with app.test_request_context():
        body = bodies.task(
            locale="en", link=LINK, detailed=True, title="Walk " + "around the block " * 12
        )
    assert bodies.segments(body) == 1
    assert "..." in body and body.endswith(LINK)


def test_segment_counting():
    assert bodies.segments("a" * 160) == 1
    assert bodies.segments("a" * 161) == 2
    assert bodies.segments("€" * 80) == 1  # extension characters count twice
    assert bodies.segments("á" * 70) == 1  # á is not GSM-7: UCS-2, 70 a segment
    assert bodies.segments("á" * 71) == 2


PURPOSES = (
    "appointment",
    "medication",
    "task",
    "goal",
    "caregiver_appointment",
    "caregiver",
    "team_replied",
    "number_changed",
)


@pytest.mark.parametrize("locale", list(Config.LANGUAGES))
def test_every_text_in_every_language_is_whole_discreet_and_within_its_budget(app, locale):
    """Every text in each shipped language: filled in (no placeholder left), the keywords
    people reply with kept in Latin letters, nothing named in a discreet text, and at most two
    segments (a language written outside GSM-7 has 70 characters a segment: UCS-2)."""
    assert locale in app.config["LANGUAGES"]
    with app.test_request_context():
        for purpose in PURPOSES:
            for detailed in (False, True) if purpose in PURPOSES[:4] else (False,):
                body = render(purpose, locale, detailed)
                assert "%(" not in body and "{" not in body, body
                assert bodies.segments(body) <= 2, (purpose, locale, len(body), body)
                if not detailed:
                    assert not any(secret in body for secret in SECRETS), body
                if purpose == "appointment":  # the letters to reply with, on their own
                    for keyword in ("C", "R"):
                        assert re.search(rf"(?<![A-Za-z]){keyword}(?![A-Za-z])", body), body
        code = bodies.code(locale=locale, code="482913", minutes=10)
        assert "482913" in code and bodies.segments(code) == 1, code
