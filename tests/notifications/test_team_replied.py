"""When the care team answers, the patient side hears that a message is waiting (never what it
says): a text and an email to the patient as they chose, an email to each caregiver who may read
that conversation, each in their own language."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.core.db import utcnow
from app.extensions import db
from app.messaging import services
from app.messaging.models import Topic
from app.patients.models import PatientPreferences
from app.team.models import Discipline
from app.texting.models import OutboundSms
from tests.fixtures.mail import outbox_emails

SECRET = "Your A1c is 9.1"


@pytest.fixture
def family(make_patient, make_member, make_user, assign, grant):
    patient = make_patient(
        given="María", family="López", mobile_phone="+15035550101", language="es"
    )
    patient_user = db.session.get(User, patient.user_id)
    patient_user.locale = "es"
    now = utcnow().time().replace(second=0, microsecond=0)
    db.session.add(
        PatientPreferences(
            patient_id=patient.id,
            contact_channels=["sms", "email", "portal"],
            quiet_start=now,
            quiet_end=now,
        )
    )
    nurse = make_member(Discipline.NURSING, name="Nina Patel")
    assign(patient, nurse, coordinator=True)
    reader = make_user(Role.CAREGIVER, name="Rita Reader", locale="en")
    grant(patient, reader, scopes=["messages"])
    planner = make_user(Role.CAREGIVER, name="Pat Planner")
    grant(patient, planner, scopes=["plan"])
    db.session.commit()
    return {"patient": patient, "nurse": nurse, "reader": reader, "planner": planner}


def _thread(patient, *, private: bool = False):
    thread = services.start_thread(
        patient_id=patient.id,
        topic=Topic.SYMPTOMS,
        subject="Tengo sed",
        body="Tengo mucha sed.",
        author_id=patient.user_id,
        capacity="patient",
        private=private,
    )
    db.session.commit()
    return thread


def _answer(thread, nurse):
    services.add_message(thread, body=SECRET, author_id=nurse.user_id, capacity="care_team")
    db.session.commit()


def _texts():
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(OutboundSms).where(OutboundSms.purpose == "team_replied"))
    )


def test_the_team_answer_is_told_to_everyone_who_may_read_it(family):
    thread = _thread(family["patient"])
    assert _texts() == [] and outbox_emails() == []  # the patient's own message: no notice

    _answer(thread, family["nurse"])

    [text] = _texts()
    assert text.to_number == "+15035550101" and text.locale == "es"
    assert text.body.startswith("CareCircle: su equipo") and SECRET not in text.body
    emails = {e.to_address: e for e in outbox_emails()}
    patient_email = db.session.get(User, family["patient"].user_id).email
    assert set(emails) == {patient_email, family["reader"].email}  # not the plan-only helper
    assert emails[patient_email].subject == "Tiene un mensaje nuevo en CareCircle"
    assert emails[family["reader"].email].subject == "You have a new message in CareCircle"
    assert all(SECRET not in e.body and "sed" not in e.body for e in emails.values())


def test_an_internal_note_tells_nobody(family):
    thread = _thread(family["patient"])
    services.add_message(
        thread,
        body="Call her",
        author_id=family["nurse"].user_id,
        capacity="care_team",
        internal=True,
    )
    db.session.commit()
    assert _texts() == [] and outbox_emails() == []


def test_a_private_thread_is_never_told_to_a_caregiver(family):
    thread = _thread(family["patient"], private=True)
    _answer(thread, family["nurse"])
    addresses = {e.to_address for e in outbox_emails()}
    assert family["reader"].email not in addresses
    assert db.session.get(User, family["patient"].user_id).email in addresses
