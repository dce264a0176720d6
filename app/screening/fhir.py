"""The answers as a FHIR R4 QuestionnaireResponse (kept whole in `screening_responses.response`).

Each item is a question (linkId: its LOINC code, text: as it was shown), each answer a
valueCoding (LOINC answer code and the words shown); a skipped question has no item. When any
safety question was answered, a calculated item carries the safety score (95614-4).
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.screening.questions import (
    BY_LINK,
    CANONICAL,
    LOINC,
    QUESTIONS,
    SAFETY_SCORE_LINK,
    safety_score,
)


def _reference(kind: str, row_id: int | None, display: str | None = None) -> dict:
    found: dict = {}
    if row_id is not None:
        found["reference"] = f"{kind}/{row_id}"
    if display:
        found["display"] = display
    return found


def questionnaire_response(
    *,
    patient_id: int,
    answers: dict[str, list[str]],
    authored: datetime,
    language: str,
    answered_as: str,
    author_id: int | None,
    author_name: str | None,
) -> dict:
    """The QuestionnaireResponse for these answers (link id -> answer codes, already checked).
    The author is the patient (Patient), a team member (Practitioner: their member id) or a
    caregiver (RelatedPerson, by name: the record keeps no RelatedPerson of its own)."""
    subject = _reference("Patient", patient_id)
    if answered_as == "patient":
        author = subject
    elif answered_as == "care_team":
        author = _reference("Practitioner", author_id, author_name)
    else:
        author = _reference("RelatedPerson", None, author_name)
    items = []
    for question in QUESTIONS:
        codes = answers.get(question.link_id)
        if not codes:
            continue
        items.append(
            {
                "linkId": question.link_id,
                "text": str(question.text),
                "answer": [
                    {
                        "valueCoding": {
                            "system": LOINC,
                            "code": code,
                            "display": str(BY_LINK[question.link_id].option(code).text),
                        }
                    }
                    for code in codes
                ],
            }
        )
    score = safety_score(answers)
    if score is not None:
        items.append({"linkId": SAFETY_SCORE_LINK, "answer": [{"valueInteger": score}]})
    response = {
        "resourceType": "QuestionnaireResponse",
        "language": language,
        "questionnaire": CANONICAL,
        "status": "completed",
        "subject": subject,
        "authored": authored.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "author": author,
        "source": author,
        "item": items,
    }
    return response


def answers_of(response: dict) -> dict[str, list[str]]:
    """Link id -> answer codes, read back from a stored response (known questions only)."""
    found: dict[str, list[str]] = {}
    for item in response.get("item") or []:
        link = item.get("linkId")
        if link not in BY_LINK:
            continue
        found[link] = [
            a["valueCoding"]["code"] for a in item.get("answer") or [] if "valueCoding" in a
        ]
    return found
