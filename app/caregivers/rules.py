"""The rules of time and age that decide whether a caregiver grant is in force.

Applied on every request by the policy and by every query of grants, from the patient's date
of birth in their own time zone: from ADOLESCENT_AGE a parent's or guardian's grant no longer
shows the MINOR_CONFIDENTIAL_CATEGORIES, and at ADULT_AGE it stops working unless the care team
recorded a continuing legal authority. The daily sweep (`lifecycle.sweep`) only records and
tells people what these rules already decided.
"""

from __future__ import annotations

from datetime import date, datetime, time

from flask import current_app

from app.caregivers.models import CaregiverGrant, GrantKind
from app.core.db import utcnow
from app.patients.models import Patient


def adolescent_age() -> int:
    return current_app.config["ADOLESCENT_AGE"]


def adult_age() -> int:
    return current_app.config["ADULT_AGE"]


def age_at(patient: Patient, now: datetime | None = None) -> int:
    return patient.age_on(patient.today(now))


def birthday_start(patient: Patient, years: int) -> datetime:
    """The instant the patient turns `years`: midnight of that birthday in their time zone.

    Someone born on 29 February turns a year older on 1 March in common years, as
    `Patient.age_on` counts it.
    """
    dob = patient.date_of_birth
    try:
        day = dob.replace(year=dob.year + years)
    except ValueError:
        day = date(dob.year + years, 3, 1)
    return datetime.combine(day, time(0), tzinfo=patient.zone)


def is_adolescent(patient: Patient, now: datetime | None = None) -> bool:
    """Old enough for privacy from a parent, not yet an adult (ADOLESCENT_AGE..ADULT_AGE-1)."""
    return adolescent_age() <= age_at(patient, now) < adult_age()


def ended_by_age(grant: CaregiverGrant, patient: Patient, now: datetime | None = None) -> bool:
    """A parent's or guardian's access ends when the patient becomes an adult, unless the
    care team recorded a legal authority that continues (e.g. guardianship of an adult)."""
    return (
        grant.kind is GrantKind.GUARDIAN
        and not grant.continuing_authority
        and age_at(patient, now) >= adult_age()
    )


def in_force(grant: CaregiverGrant, patient: Patient, now: datetime | None = None) -> bool:
    """Current (not revoked, started, not past ends_at) and not ended by the age rules.

    `CaregiverGrant.current_at(now)` is the SQL half; `caregivers.queries.grants_in_force`
    applies both.
    """
    now = now or utcnow()
    return grant.is_current(now) and not ended_by_age(grant, patient, now)
