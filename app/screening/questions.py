"""The CMS Accountable Health Communities (AHC) Health-Related Social Needs (HRSN) screening
tool's core questions: living situation (2), food (2), transportation (1), utilities (1) and
interpersonal safety (4), with their LOINC codes, answer options and the tool's scoring rules.

The words are the tool's (a US government tool, public domain), shown in the reader's language
through the catalogs. Each question's `link_id` is its LOINC code, each answer's `code` its
LOINC answer code: the stored QuestionnaireResponse (fhir.py) carries both, so the answers mean
the same whatever language they were given in.

Scoring (the tool's own):
- housing: "worried about losing it" or "no steady place" (71802-3), or any problem with the
  place (96778-6) other than "None of the above";
- food: "Often true" or "Sometimes true" to either food question;
- transportation: "Yes";
- utilities: "Yes" or "Already shut off";
- safety: the four safety answers scored 1 (Never) to 5 (Frequently); a total of 11 or more.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

#: The questionnaire's key (the `questionnaire` column) and its canonical URL (the LOINC panel
#: "AHC HRSN screening tool core questions").
QUESTIONNAIRE = "ahc-hrsn-core"
CANONICAL = "http://loinc.org/q/96777-8"
LOINC = "http://loinc.org"
#: The safety score's own LOINC code (a calculated item in the response).
SAFETY_SCORE_LINK = "95614-4"
SAFETY_THRESHOLD = 11
#: The answer that means "I'd rather not answer this one" (never stored as an answer).
SKIP = "skip"


class Need(enum.StrEnum):
    """A need the answers found (the `needs` column, in this order)."""

    HOUSING = "housing"
    FOOD = "food"
    TRANSPORTATION = "transportation"
    UTILITIES = "utilities"
    SAFETY = "safety"


#: Needs whose answers only the patient and the care team may see: never a caregiver, never a
#: text or an email. Nobody but the patient or the team is even asked these questions.
SENSITIVE_NEEDS = frozenset({Need.SAFETY})


@dataclass(frozen=True)
class Option:
    code: str
    text: object  # lazy
    #: The safety questions' points (1..5); None elsewhere.
    score: int | None = None


@dataclass(frozen=True)
class Question:
    link_id: str
    need: Need
    text: object  # lazy
    options: tuple[Option, ...]
    #: Answers that mark the need (for the safety questions: the total score decides).
    positive: frozenset[str] = frozenset()
    #: Choose all that apply (the housing problems); the others take one answer.
    multiple: bool = False
    #: The section heading it sits under.
    section: object = None

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(o.code for o in self.options)

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


YES = Option("LA33-6", _l("Yes"))
NO = Option("LA32-8", _l("No"))
OFTEN = Option("LA28397-0", _l("Often true"))
SOMETIMES = Option("LA6729-3", _l("Sometimes true"))
NEVER_TRUE = Option("LA28398-8", _l("Never true"))
FOOD_OPTIONS = (OFTEN, SOMETIMES, NEVER_TRUE)
NONE_OF_THE_ABOVE = "LA9-3"

SAFETY_OPTIONS = (
    Option("LA6270-8", _l("Never"), 1),
    Option("LA10066-1", _l("Rarely"), 2),
    Option("LA10082-8", _l("Sometimes"), 3),
    Option("LA16644-9", _l("Fairly often"), 4),
    Option("LA6482-9", _l("Frequently"), 5),
)

SECTIONS = {
    Need.HOUSING: _l("Living situation"),
    Need.FOOD: _l("Food"),
    Need.TRANSPORTATION: _l("Transportation"),
    Need.UTILITIES: _l("Utilities"),
    Need.SAFETY: _l("Safety"),
}

QUESTIONS: tuple[Question, ...] = (
    Question(
        "71802-3",
        Need.HOUSING,
        _l("What is your living situation today?"),
        (
            Option("LA31993-1", _l("I have a steady place to live")),
            Option(
                "LA31994-9",
                _l("I have a place to live today, but I am worried about losing it in the future"),
            ),
            Option(
                "LA31995-6",
                _l(
                    "I do not have a steady place to live (I am staying with others, in a hotel, "
                    "in a shelter, outside, in a car, or in a park)"
                ),
            ),
        ),
        positive=frozenset({"LA31994-9", "LA31995-6"}),
    ),
    Question(
        "96778-6",
        Need.HOUSING,
        _l("Think about the place you live. Do you have problems with any of the following?"),
        (
            Option("LA31996-4", _l("Pests such as bugs, ants, or mice")),
            Option("LA28580-1", _l("Mold")),
            Option("LA31997-2", _l("Lead paint or pipes")),
            Option("LA31998-0", _l("Lack of heat")),
            Option("LA31999-8", _l("Oven or stove not working")),
            Option("LA32000-4", _l("Smoke detectors missing or not working")),
            Option("LA32001-2", _l("Water leaks")),
            Option(NONE_OF_THE_ABOVE, _l("None of the above")),
        ),
        positive=frozenset(
            {"LA31996-4", "LA28580-1", "LA31997-2", "LA31998-0", "LA31999-8", "LA32000-4"}
            | {"LA32001-2"}
        ),
        multiple=True,
    ),
    Question(
        "88122-7",
        Need.FOOD,
        _l(
            "Within the past 12 months, you worried that your food would run out before you got "
            "money to buy more."
        ),
        FOOD_OPTIONS,
        positive=frozenset({OFTEN.code, SOMETIMES.code}),
    ),
    Question(
        "88123-5",
        Need.FOOD,
        _l(
            "Within the past 12 months, the food you bought just didn't last and you didn't "
            "have money to get more."
        ),
        FOOD_OPTIONS,
        positive=frozenset({OFTEN.code, SOMETIMES.code}),
    ),
    Question(
        "93030-5",
        Need.TRANSPORTATION,
        _l(
            "In the past 12 months, has lack of reliable transportation kept you from medical "
            "appointments, meetings, work or from getting things needed for daily living?"
        ),
        (YES, NO),
        positive=frozenset({YES.code}),
    ),
    Question(
        "96779-4",
        Need.UTILITIES,
        _l(
            "In the past 12 months has the electric, gas, oil, or water company threatened to "
            "shut off services in your home?"
        ),
        (YES, NO, Option("LA32002-0", _l("Already shut off"))),
        positive=frozenset({YES.code, "LA32002-0"}),
    ),
    Question(
        "95618-5",
        Need.SAFETY,
        _l("How often does anyone, including family and friends, physically hurt you?"),
        SAFETY_OPTIONS,
    ),
    Question(
        "95617-7",
        Need.SAFETY,
        _l("How often does anyone, including family and friends, insult or talk down to you?"),
        SAFETY_OPTIONS,
    ),
    Question(
        "95616-9",
        Need.SAFETY,
        _l("How often does anyone, including family and friends, threaten you with harm?"),
        SAFETY_OPTIONS,
    ),
    Question(
        "95615-1",
        Need.SAFETY,
        _l("How often does anyone, including family and friends, scream or curse at you?"),
        SAFETY_OPTIONS,
    ),
)

BY_LINK = {q.link_id: q for q in QUESTIONS}


def questions_for(with_safety: bool) -> tuple[Question, ...]:
    """The questions to ask: the safety ones only of the patient, or of the team for them."""
    return tuple(q for q in QUESTIONS if with_safety or q.need not in SENSITIVE_NEEDS)


def safety_score(answers: dict[str, list[str]]) -> int | None:
    """The four safety answers' points added up; None when none was answered."""
    points = [
        BY_LINK[link].option(code).score
        for link, codes in answers.items()
        if BY_LINK[link].need is Need.SAFETY
        for code in codes
    ]
    return sum(points) if points else None


def needs_found(answers: dict[str, list[str]]) -> list[Need]:
    """The needs the answers mark, by the tool's rules, in Need order. `answers` maps a
    question's link id to the answer codes given (already checked against its options)."""
    found: set[Need] = set()
    for link, codes in answers.items():
        question = BY_LINK[link]
        if question.positive & set(codes):
            found.add(question.need)
    score = safety_score(answers)
    if score is not None and score >= SAFETY_THRESHOLD:
        found.add(Need.SAFETY)
    return [need for need in Need if need in found]
