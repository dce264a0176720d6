"""One way to write to a person: their language (`recipient_locale`), public links
(`public_url_for`), and every email a template with a subject and a body."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.auth.models import Role, User
from app.core.i18n import recipient_locale
from app.core.mail import send_template
from app.core.urls import public_url, public_url_for
from app.extensions import db

APP = Path(__file__).resolve().parents[2] / "app"
EMAIL_TEMPLATES = sorted(
    str(p.relative_to(p.parents[2])) for p in APP.glob("**/templates/*/email/*.txt")
)


def test_a_patient_is_written_to_in_their_own_accounts_language_then_their_care_language(
    app, make_patient
):
    patient = make_patient(language="es")
    user = db.session.get(User, patient.user_id)
    assert recipient_locale(patient) == "es"  # no interface language chosen: care language
    user.locale = "en"
    assert recipient_locale(patient) == "en"  # they chose English for CareCircle
    user.locale = None
    patient.language = "vi"  # every care language is an interface language now
    assert recipient_locale(patient) == "vi"
    patient.language = "tl"  # one we do not ship (Tagalog): English
    assert recipient_locale(patient) == "en"
    assert recipient_locale(None) == "en"


def test_an_account_is_written_to_in_its_language(app, make_user):
    assert recipient_locale(make_user(Role.CAREGIVER, locale="es")) == "es"
    assert recipient_locale(make_user(Role.CAREGIVER, locale=None)) == "en"


def test_public_links_come_from_the_public_base_url_even_in_a_job(app):
    assert public_url("/r/abc") == "http://carecircle.test/r/abc"
    assert public_url_for("caregivers.people") == "http://carecircle.test/caregivers/"
    assert (
        public_url_for("messaging.thread", patient_id=3, thread_id=9)
        == "http://carecircle.test/patients/3/messages/9"
    )


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_every_email_is_a_template_with_a_subject_and_a_body(app, template):
    found = app.jinja_env.get_template(template)
    assert {"subject", "body"} <= set(found.blocks), template


def test_an_email_is_rendered_in_the_recipients_language(app, make_user):
    maria = make_user(Role.PATIENT, name="María López", locale="es")
    email = send_template(
        "auth/email/invitation.txt",
        maria,
        user=maria,
        link="http://carecircle.test/welcome/x",
        hours=72,
        cco_name="Willamette Valley Care Partners",
    )
    assert email.subject == "Le invitamos a CareCircle"
    assert email.to_address == maria.email and email.user_id == maria.id
    assert email.body.startswith("Hola, María López:")
    assert "http://carecircle.test/welcome/x" in email.body
