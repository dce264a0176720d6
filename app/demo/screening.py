"""Demo: María answered the social needs questions in Spanish and said she worries about
losing her home (the rent): the screening found a housing need and suggested a referral to
her community health worker, Lupe, who finds it under "Suggested referrals" in her inbox.

Idempotent: a patient who has answered before is left alone. Adds and flushes only.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.privacy import Actor, Capacity, acting_as
from app.demo.accounts import Demo
from app.extensions import db
from app.screening import services
from app.screening.models import ScreeningResponse
from app.screening.questions import NEVER_TRUE, NO

#: Answers that find nothing: a steady place, no problems with it, food lasts, rides and
#: utilities fine, the safety questions "Never" (the demo's history starts from these too).
NOTHING_FOUND = {
    "71802-3": ["LA31993-1"],
    "96778-6": ["LA9-3"],
    "88122-7": [NEVER_TRUE.code],
    "88123-5": [NEVER_TRUE.code],
    "93030-5": [NO.code],
    "96779-4": [NO.code],
    "95618-5": ["LA6270-8"],
    "95617-7": ["LA6270-8"],
    "95616-9": ["LA6270-8"],
    "95615-1": ["LA6270-8"],
}
#: María's answers: a place to live today, but worried about losing it; nothing else.
MARIA_ANSWERS = {**NOTHING_FOUND, "71802-3": ["LA31994-9"]}


def seed(demo: Demo) -> None:
    maria = demo.patients["maria"]
    answered = db.session.scalar(
        sa.select(ScreeningResponse.id).where(ScreeningResponse.patient_id == maria.id).limit(1)
    )
    if answered is not None:
        return
    user = demo.users["maria"]
    with acting_as(Actor(user_id=user.id, capacity=Capacity.PATIENT, patient=maria)):
        services.record_screening(
            maria, services.ScreeningInput(answers=dict(MARIA_ANSWERS), language="es")
        )
    db.session.flush()
