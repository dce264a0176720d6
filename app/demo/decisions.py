"""Demo shared decisions for `flask demo seed`: one open decision each for James and Leo, and
one that María and her team already made (in Spanish, her language).

Idempotent: a patient who already has decisions gets none added. Adds and flushes only; the
caller commits. Histories are spread over the past days so the timeline reads naturally.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.careplan import changes
from app.careplan.decisions.models import (
    Decision,
    DecisionEntry,
    DecisionEntryKind,
    DecisionOption,
    DecisionStatus,
)
from app.careplan.models import ChangeKind, ChangeSubject
from app.core.db import utcnow
from app.demo.accounts import Demo
from app.extensions import db

CARE_TEAM = "care_team"
PATIENT = "patient"
CAREGIVER = "caregiver"


def _has_decisions(patient) -> bool:
    return (
        db.session.scalar(sa.select(Decision.id).where(Decision.patient_id == patient.id).limit(1))
        is not None
    )


def _open(patient, opener, at: datetime, question: str, background: str, options) -> Decision:
    decision = Decision(
        patient_id=patient.id,
        question=question,
        background=background,
        status=DecisionStatus.OPEN,
        opened_by_id=opener.id,
        created_at=at,
        updated_at=at,
        options=[
            DecisionOption(position=i, title=t, benefits=b, risks=r, day_to_day=d)
            for i, (t, b, r, d) in enumerate(options)
        ],
    )
    db.session.add(decision)
    db.session.flush()
    _entry(decision, DecisionEntryKind.OPENED, opener, CARE_TEAM, at)
    _change(decision, ChangeKind.ADDED, opener, CARE_TEAM, at)
    return decision


def _entry(decision, kind, author, capacity, at, text=None, option=None) -> None:
    db.session.add(
        DecisionEntry(
            decision_id=decision.id,
            kind=kind,
            text=text,
            option_id=option.id if option is not None else None,
            author_id=author.id,
            capacity=capacity,
            created_at=at,
        )
    )
    decision.updated_at = at


def _change(decision, change, actor, capacity, at) -> None:
    row = changes.record(
        patient_id=decision.patient_id,
        subject=ChangeSubject.DECISION,
        subject_id=decision.id,
        change=change,
        title=decision.question,
        actor_id=actor.id,
        capacity=capacity,
    )
    row.occurred_at = at


def _james(patient, users, now: datetime) -> None:
    doctor, james, ana = users["doctor"], users["james"], users["ana"]
    opened = now - timedelta(days=9, hours=3)
    decision = _open(
        patient,
        doctor,
        opened,
        "How do you want to treat your knee pain?",
        "The X-ray shows arthritis in your right knee. The pain makes walking and gardening "
        "hard. There is more than one good way to treat it. We want to choose together.",
        [
            (
                "Physical therapy",
                "Makes the muscles around your knee stronger. Many people have less pain "
                "after 6 to 8 weeks. No surgery and no new medicine.",
                "Your knee may be sore for a day after exercises. It works slowly, and only if "
                "you keep doing the exercises.",
                "Two visits a week for 6 weeks, plus 15 minutes of exercises at home each day.",
            ),
            (
                "A steroid injection",
                "A shot in the knee can ease the pain within a few days. It is done in the "
                "clinic in about 15 minutes.",
                "The relief often lasts only 2 to 3 months. It can raise your blood sugar for "
                "a few days. A small risk of infection.",
                "One short visit. Rest the knee for a day or two. You can have up to 3 or 4 "
                "shots a year.",
            ),
            (
                "Knee replacement surgery",
                "Replaces the worn parts of the knee. Most people have much less pain for 15 "
                "years or more.",
                "A big operation with risks such as blood clots and infection. Recovery is "
                "hard and takes time.",
                "2 to 3 days in the hospital, a walker for a few weeks, and about 3 months of "
                "rehab before you are back to gardening.",
            ),
        ],
    )
    _entry(
        decision,
        DecisionEntryKind.WHAT_MATTERS,
        james,
        PATIENT,
        opened + timedelta(days=2, hours=5),
        "I want to keep gardening. I do not want to stay in a hospital if I can avoid it.",
    )
    _entry(
        decision,
        DecisionEntryKind.QUESTION,
        ana,
        CAREGIVER,
        opened + timedelta(days=4, hours=1),
        "Can Dad do physical therapy at home? Driving to the clinic twice a week is hard for us.",
    )
    _entry(
        decision,
        DecisionEntryKind.ANSWER,
        doctor,
        CARE_TEAM,
        opened + timedelta(days=5, hours=2),
        "Yes. A therapist can come to the house for the first visits and show him the "
        "exercises. After that, most of it is done at home.",
    )
    _change(decision, ChangeKind.CHANGED, doctor, CARE_TEAM, opened + timedelta(days=5, hours=2))


def _maria(patient, users, now: datetime) -> None:
    doctor, maria, pharmacist = users["doctor"], users["maria"], users["pharmacist"]
    opened = now - timedelta(days=30, hours=2)
    decision = _open(
        patient,
        doctor,
        opened,
        "¿Cómo quiere bajar su azúcar en la sangre?",
        "Su A1c salió en 8.4 %. La meta es menos de 7 %. Con la metformina sola no es "
        "suficiente. Hay varias maneras de bajarla y queremos decidir con usted.",
        [
            (
                "Agregar una pastilla más",
                "Una pastilla al día junto con la metformina. Baja el azúcar en unos 3 meses. "
                "Puede ayudar a bajar un poco de peso.",
                "Puede causar infecciones de orina. Hay que tomar suficiente agua.",
                "Una pastilla cada mañana. Un análisis de sangre en 3 meses.",
            ),
            (
                "Empezar insulina",
                "Es la forma más fuerte y rápida de bajar el azúcar.",
                "Puede causar bajones de azúcar y subir de peso. Hay que aprender a inyectarse.",
                "Una inyección cada noche y medir el azúcar en casa todos los días.",
            ),
            (
                "Cambiar la comida primero",
                "Sin medicinas nuevas. Una nutricionista le ayuda a planear comidas que le gustan.",
                "Puede no ser suficiente. Si en 3 meses el azúcar sigue alto, hay que agregar "
                "una medicina.",
                "Cuatro citas con la nutricionista y cambios en lo que come cada día.",
            ),
        ],
    )
    pill, _insulin, _food = decision.options
    _entry(
        decision,
        DecisionEntryKind.WHAT_MATTERS,
        maria,
        PATIENT,
        opened + timedelta(days=1, hours=4),
        "Trabajo limpiando casas. No quiero bajones de azúcar en el trabajo, y me dan miedo "
        "las agujas.",
    )
    _entry(
        decision,
        DecisionEntryKind.QUESTION,
        maria,
        PATIENT,
        opened + timedelta(days=1, hours=5),
        "¿La pastilla nueva es cara?",
    )
    _entry(
        decision,
        DecisionEntryKind.ANSWER,
        pharmacist,
        CARE_TEAM,
        opened + timedelta(days=2, hours=1),
        "Su seguro la cubre. Paga lo mismo que por la metformina.",
    )
    _change(
        decision, ChangeKind.CHANGED, pharmacist, CARE_TEAM, opened + timedelta(days=2, hours=1)
    )
    preferred_at = opened + timedelta(days=3, hours=2)
    decision.preferred_option_id = pill.id
    _entry(
        decision,
        DecisionEntryKind.PREFERENCE,
        maria,
        PATIENT,
        preferred_at,
        "Prefiero la pastilla. Es fácil y no necesito agujas.",
        option=pill,
    )
    _change(decision, ChangeKind.CHANGED, maria, PATIENT, preferred_at)
    decided_at = opened + timedelta(days=7, hours=1)
    decision.status = DecisionStatus.DECIDED
    decision.final_option_id = pill.id
    decision.decided_by_id = doctor.id
    decision.decided_at = decided_at
    _entry(
        decision,
        DecisionEntryKind.FINAL,
        doctor,
        CARE_TEAM,
        decided_at,
        "Empezamos con la pastilla nueva. Revisamos la A1c en 3 meses.",
        option=pill,
    )
    _change(decision, ChangeKind.COMPLETED, doctor, CARE_TEAM, decided_at)


def _leo(patient, users, now: datetime) -> None:
    dentist = users["dentist"]
    opened = now - timedelta(days=3, hours=6)
    _open(
        patient,
        dentist,
        opened,
        "How do you want to protect your back teeth from cavities?",
        "Leo's back teeth have deep grooves where food gets stuck. There are no cavities yet. "
        "We can protect the teeth in more than one way.",
        [
            (
                "Sealants",
                "A thin coating fills the grooves so food cannot stay there. It protects for "
                "years.",
                "The coating can chip and may need fixing. Some people do not like how it feels "
                "at first.",
                "One visit of about 30 minutes. No shots and no drilling. Eat as usual after.",
            ),
            (
                "Fluoride varnish",
                "Makes the teeth stronger against cavities. Quick and painless.",
                "It does not fill the grooves. It has to be done again every 6 months.",
                "A few minutes at each cleaning. Do not eat or drink for 30 minutes after.",
            ),
            (
                "Wait and check at the next visit",
                "Nothing is done now.",
                "A cavity could start before the next visit and need a filling.",
                "Brush twice a day and floss. Next check in 6 months.",
            ),
        ],
    )


def seed(demo: Demo) -> None:
    """Add the demo decisions for patients who have none yet (the caller commits)."""
    now = utcnow()
    builders = {"james": _james, "maria": _maria, "leo": _leo}
    for key, build in builders.items():
        patient = demo.patients.get(key)
        if patient is None or _has_decisions(patient):
            continue
        build(patient, demo.users, now)
    db.session.flush()
