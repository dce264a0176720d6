"""`flask fhir import`: the Synthea bundles into the demo, onto the nurse coordinator's "My
patients" with their plans, goals and care team; a re-run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.careplan.items.models import PlanItem
from app.demo.accounts import DEMO_PASSWORD
from app.extensions import db
from app.patients.models import Patient

SYNTHEA = Path(__file__).resolve().parents[3] / "shared" / "fhir-examples" / "synthea"
pytestmark = pytest.mark.skipif(not SYNTHEA.is_dir(), reason="../shared/fhir-examples absent")
NAMES = ("Antonio Castellanos", "Clemente Kreiger", "Denny Bins", "Lupe Little")


def patient(given: str) -> Patient:
    return db.session.scalar(sa.select(Patient).where(Patient.given_name == given))


def test_the_synthea_directory_lands_on_the_nurse_coordinators_list(seeded, runner, new_browser):
    result = runner.invoke(args=["fhir", "import", str(SYNTHEA)])
    assert result.exit_code == 0, result.output
    assert "files: 4, rejected: 0, patients: 4" in result.output
    assert "skipped by type:" in result.output and "Observation" in result.output
    assert patient("Antonio").language == "es"
    assert patient("Clemente").language == "zh"

    nurse = new_browser()
    nurse.login("nurse@demo.carecircle.test", DEMO_PASSWORD)
    panel = nurse.page("/team/patients")
    for name in NAMES:
        assert name in panel
    lupe = patient("Lupe")
    assert "Diabetic diet" in nurse.page(f"/patients/{lupe.id}/plan")
    goals = nurse.page(f"/patients/{lupe.id}/goals")
    assert "Glucose [Mass/volume] in Blood &lt; 108" in goals
    assert "Maintain blood pressure below 140/90 mmHg" in goals
    summary = nurse.page(f"/patients/{patient('Antonio').id}")
    assert "Nina Patel" in summary and "Isaac Upton" in summary  # the care team

    again = runner.invoke(args=["fhir", "import", str(SYNTHEA)])
    assert again.exit_code == 0, again.output
    assert "created: 0" in again.output and "updated: 0" in again.output
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Patient.id)).where(
                Patient.family_name.in_([n.split()[1] for n in NAMES])
            )
        )
        == 4
    )


def test_an_unknown_coordinator_is_refused(seeded, runner):
    result = runner.invoke(
        args=["fhir", "import", str(SYNTHEA), "--coordinator", "nobody@example.test"]
    )
    assert result.exit_code != 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count(PlanItem.id))
            .join(Patient, Patient.id == PlanItem.patient_id)
            .where(Patient.family_name == "Castellanos")
        )
        == 0
    )
