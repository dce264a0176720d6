"""The admin's invitation forms ask for the name once, the way the record keeps it (issue 14:
the patient form asked for given, family and full name)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db
from app.patients.models import Patient
from tests.fixtures.browser import signed_in

PATIENT = {
    "given_name": "Rosa",
    "family_name": "Díaz Ortega",
    "date_of_birth": "1970-02-03",
    "email": "rosa.diaz@example.test",
    "mobile_phone": "",
    "language": "es",
    "care_language": "es",
    "timezone": "America/Los_Angeles",
}
NAME_INPUT_RE = re.compile(r'<input[^>]*name="(full_name|given_name|family_name)"')


def name_inputs(html: str) -> list[str]:
    return NAME_INPUT_RE.findall(html)


@pytest.fixture
def admin(make_user, new_browser):
    return signed_in(new_browser, make_user(Role.ADMIN))


def test_the_patient_form_asks_for_given_and_family_name_only(admin):
    html = admin.get("/admin/invite/patient").get_data(as_text=True)
    assert name_inputs(html) == ["given_name", "family_name"]
    assert "Full name" not in html


@pytest.mark.parametrize("page", ["/admin/invite/care-team", "/admin/invite/caregiver"])
def test_the_other_forms_ask_for_one_full_name(admin, page):
    assert name_inputs(admin.get(page).get_data(as_text=True)) == ["full_name"]


def test_the_account_name_is_made_from_the_patients_names(admin):
    response = admin.post("/admin/invite/patient", PATIENT)
    assert response.status_code == 302
    patient = db.session.scalar(sa.select(Patient))
    user = db.session.get(User, patient.user_id)
    assert (patient.given_name, patient.family_name) == ("Rosa", "Díaz Ortega")
    assert user.full_name == patient.full_name == "Rosa Díaz Ortega"


def test_a_full_name_sent_anyway_is_not_taken(admin):
    """An old form, or a hand-made request: the name is the record's, never a second one."""
    response = admin.post("/admin/invite/patient", {**PATIENT, "full_name": "Someone Else"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User.full_name).where(User.role == Role.PATIENT)) == (
        "Rosa Díaz Ortega"
    )


def test_names_lose_direction_controls_and_extra_spaces(admin):
    response = admin.post(
        "/admin/invite/patient",
        {**PATIENT, "given_name": "  Ro\u202esa ", "family_name": "Díaz   Ortega\u200f"},
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User.full_name).where(User.role == Role.PATIENT)) == (
        "Rosa Díaz Ortega"
    )


@pytest.mark.parametrize(
    ("given", "family", "message"),
    [
        ("", "Díaz", "Enter a given name."),
        ("Rosa", "   ", "Enter a family name."),
        ("R" * 80, "D" * 80, "This name is too long."),  # fits each column, not the account's
        ("R" * 81, "Díaz", "Field cannot be longer than 80 characters."),
    ],
)
def test_a_missing_or_overlong_name_is_refused_and_nothing_is_written(
    admin, given, family, message
):
    response = admin.post(
        "/admin/invite/patient", {**PATIENT, "given_name": given, "family_name": family}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Patient.id))) == 0
    assert db.session.scalar(sa.select(User.id).where(User.email == PATIENT["email"])) is None


def test_a_care_team_member_is_named_once(admin, make_org):
    org = make_org(name="Riverbend Family Clinic")
    response = admin.post(
        "/admin/invite/care-team",
        {
            "full_name": "Nina  Patel",
            "email": "nina@example.test",
            "role": "care_coordinator",
            "title": "RN care coordinator",
            "discipline": "nursing",
            "organization": str(org.id),
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(
        sa.select(User.full_name).where(User.email == "nina@example.test")
    ) == ("Nina Patel")
