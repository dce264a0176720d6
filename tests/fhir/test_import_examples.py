"""Every official HL7 R4 example of a type the import supports imports, or is refused with an
OperationOutcome that says why (../shared/fhir-examples/r4; skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.careplan.items.models import PlanItem
from app.extensions import db
from app.fhir.inbound import ORDER, SUPPORTED, ImportRejected, import_data
from app.patients.models import Patient
from tests.fixtures.app import ON_POSTGRES

R4 = Path(__file__).resolve().parents[3] / "shared" / "fhir-examples" / "r4"
FILES = sorted(R4.glob("*-*.json")) if R4.is_dir() else []
SUPPORTED_FILES = [p for p in FILES if p.name.split("-", 1)[0] in SUPPORTED]
OTHER_FILES = [p for p in FILES if p.name.split("-", 1)[0] not in SUPPORTED]
#: What the examples point at (their patients, organizations and practitioners), imported first
#: as `flask fhir import r4/` does by ordering the files.
FOUNDATION = [p for p in FILES if p.name.split("-", 1)[0] in ORDER[:4]]

pytestmark = [
    pytest.mark.skipif(not FILES, reason="../shared/fhir-examples absent"),
    # How each example maps is not about the database, and the suite keeps to its time budget:
    # SQLite only. Imports, re-imports, rejections and races run on both (test_import*.py).
    pytest.mark.skipif(ON_POSTGRES, reason="mapping, not the database: SQLite only"),
]


def _import(path: Path):
    report = import_data(json.loads(path.read_text()))
    db.session.commit()
    return report


@pytest.fixture
def foundation(app):
    for path in FOUNDATION:
        try:
            _import(path)
        except ImportRejected:
            db.session.rollback()


@pytest.mark.parametrize("path", SUPPORTED_FILES, ids=lambda p: p.name)
def test_each_supported_example_imports_or_is_refused_with_a_reason(foundation, path):
    resource = json.loads(path.read_text())
    report = _import(path)  # valid R4: never rejected whole
    (entry,) = report.response_bundle()["entry"]
    status = entry["response"]["status"]
    if status.startswith("2"):
        assert entry["response"]["location"] == f"{resource['resourceType']}/{resource['id']}"
        assert report.created or report.unchanged or report.updated
    else:
        assert status.startswith("422")
        (problem,) = entry["response"]["outcome"]["issue"]
        # Why, and where: "its patient (Patient/1) is neither in the Bundle nor imported ..."
        assert problem["code"] == "business-rule" and problem["expression"]
        assert any(
            words in problem["diagnostics"]
            for words in ("its patient (", "needs a given and a family name", "practitioner")
        ), problem


@pytest.mark.parametrize("path", OTHER_FILES, ids=lambda p: p.name)
def test_other_examples_are_skipped_and_counted(app, path):
    report = _import(path)
    assert report.skipped[json.loads(path.read_text())["resourceType"]] == 1
    assert not report.created


def test_an_invalid_example_is_rejected_with_the_path_of_the_error(app):
    resource = json.loads((R4 / "Goal-example.json").read_text())
    resource["lifecycleStatus"] = ["on-hold"]
    with pytest.raises(ImportRejected) as rejected:
        import_data(resource)
    (problem, *_rest) = rejected.value.issues
    assert "Goal.lifecycleStatus" in problem["diagnostics"]
    assert rejected.value.status == 400


def test_the_integrated_care_plan_brings_its_twelve_activities(app):
    """CarePlan-integrate (an integrated plan of 12 activities) with a patient for its subject."""
    plan = json.loads((R4 / "CarePlan-integrate.json").read_text())
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "http://hl7.org/fhir/Patient/1",
                "resource": {
                    "resourceType": "Patient",
                    "id": "1",
                    "name": [{"family": "Everywoman", "given": ["Eve"]}],
                    "birthDate": "1955-01-06",
                },
            },
            {"fullUrl": "http://hl7.org/fhir/CarePlan/integrate", "resource": plan},
        ],
    }
    report = import_data(bundle)
    db.session.commit()
    patient = db.session.scalar(sa.select(Patient).where(Patient.family_name == "Everywoman"))
    titles = list(
        db.session.scalars(sa.select(PlanItem.title).where(PlanItem.patient_id == patient.id))
    )
    assert len(titles) == len(plan["activity"]) == 12
    assert report.created["CarePlan.activity"] == 12
