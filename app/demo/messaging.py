"""The demo's conversations: María's medicine question (answered by the pharmacist) and her
unanswered rent question, Ana's overdue message about her father's ankles, and Leo's private
thread with his therapist."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.db import utcnow
from app.demo.accounts import Demo
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Thread, Topic


def seed(demo: Demo) -> None:
    for key, builder in (("maria", _maria), ("james", _james), ("leo", _leo)):
        patient = demo.patients[key]
        has_threads = db.session.scalar(
            sa.select(Thread.id).where(Thread.patient_id == patient.id).limit(1)
        )
        if has_threads is None:
            builder(patient, demo.users)
    db.session.flush()


def _maria(patient, users):
    thread = messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.MEDICATION,
        subject="Pregunta sobre la metformina",
        body="Hola, ¿puedo tomar la metformina antes de caminar o es mejor después?",
        author_id=users["maria"].id,
        capacity="patient",
    )
    messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.SOCIAL_NEEDS,
        subject="Ayuda con la renta",
        body="Este mes no me alcanza para la renta. ¿Hay algún programa que me pueda ayudar?",
        author_id=users["maria"].id,
        capacity="patient",
        now=utcnow() - timedelta(hours=20),
    )
    messaging.add_message(
        thread,
        body="Hola María: es mejor con la comida. Caminar después de cenar está muy bien.",
        author_id=users["pharmacist"].id,
        capacity="care_team",
    )


def _james(patient, users):
    messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.SYMPTOMS,
        subject="Dad's ankles are swollen",
        body="Hi, this is Ana. Dad's ankles look more swollen than last week and he gained "
        "3 pounds since Monday. Should we come in?",
        author_id=users["ana"].id,
        capacity="caregiver",
        now=utcnow() - timedelta(hours=6),
    )


def _leo(patient, users):
    # Leo's private thread: only he and his care team see it (never Rosa).
    private = messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.OTHER,
        subject="Can I talk to someone about stress?",
        body="School and soccer are a lot right now and I can't sleep well. "
        "Can I talk to Leah without my mom reading this?",
        author_id=users["leo"].id,
        capacity="patient",
        private=True,
        now=utcnow() - timedelta(days=1, hours=3),
    )
    messaging.add_message(
        private,
        body="Hi Leo, thanks for writing. Yes: this conversation is just between you and your "
        "care team. Let's talk at your check-in, or sooner if you want.",
        author_id=users["therapist"].id,
        capacity="care_team",
        now=utcnow() - timedelta(days=1),
    )
