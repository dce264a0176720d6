"""Shared helpers of the FHIR export tests: a full record (tests.fixtures.records), clients
with tokens, a request helper and fhir.resources validation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fhir.resources.R4B import get_fhir_model_class

from app.core.privacy import Sensitivity
from app.extensions import db
from app.fhir import clients as fhir_clients
from tests.fixtures.plan import add
from tests.fixtures.records import NOW, Record, build_record

BH = Sensitivity.BEHAVIORAL_HEALTH


def validate(resource: dict) -> None:
    """Parse with the fhir.resources R4B model of its type: a bad field or value raises."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class FhirWorld:
    bravo: Record
    charlie: Record
    bh_item_title: str
    bh_goal_description: str
    client: object
    token: str
    clients: dict


def make_world(app, frozen_clock, make_patient, make_user, make_member, make_org, assign, grant):
    from app.careplan.goals.models import Goal, GoalLifecycle
    from app.team.models import Discipline

    frozen_clock(NOW)
    common = dict(
        make_patient=make_patient,
        make_user=make_user,
        make_member=make_member,
        make_org=make_org,
        assign=assign,
        grant=grant,
    )
    bravo = build_record("Bravo", phone="+15035550181", caregiver_phone="+15035550182", **common)
    charlie = build_record(
        "Charlie", phone="+15035550183", caregiver_phone="+15035550184", **common
    )
    # A counseling item and goal: behavioral health, hidden from a helper without the category.
    clinic = bravo.orgs[0]
    add(
        bravo.patient,
        clinic,
        title="Bravo counseling every Tuesday",
        sensitivity=BH,
        discipline=Discipline.BEHAVIORAL_HEALTH,
    )
    db.session.add(
        Goal(
            patient_id=bravo.patient.id,
            description="Bravo sleeps through the night without worry",
            lifecycle_status=GoalLifecycle.ACTIVE,
            expressed_by_id=bravo.user.id,
            expressed_by_capacity="patient",
            sensitivity=BH,
        )
    )
    db.session.commit()
    reader, token = fhir_clients.create("bravo-reader", ["read"], patient_ids=[bravo.patient.id])
    db.session.commit()
    return FhirWorld(
        bravo=bravo,
        charlie=charlie,
        bh_item_title="Bravo counseling every Tuesday",
        bh_goal_description="Bravo sleeps through the night without worry",
        client=reader,
        token=token,
        clients={},
    )


@pytest.fixture
def fhir_world(app, frozen_clock, make_patient, make_user, make_member, make_org, assign, grant):
    return make_world(
        app, frozen_clock, make_patient, make_user, make_member, make_org, assign, grant
    )
