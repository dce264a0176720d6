"""FHIR import (app.fhir.inbound): the Synthea bundles, re-imports, team edits, ended items,
sensitive plans, a Bundle with one bad entry, and hostile input. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.caregivers.models import Scope
from app.careplan.goals.models import Goal
from app.careplan.items.models import FlagKind, ItemKind, ItemStatus, PlanFlag, PlanItem
from app.careplan.models import ChangeKind, PlanChange
from app.core.audit import AuditEvent
from app.core.privacy import Sensitivity
from app.extensions import db
from app.fhir.inbound import ImportRejected, import_data, load_json, sensitivity_of
from app.fhir.sources import FhirSource
from app.patients.models import Patient
from app.team.models import CareTeamAssignment, Organization
from tests.fixtures.browser import signed_in

SHARED = Path(__file__).resolve().parents[3] / "shared" / "fhir-examples"
SYNTHEA = SHARED / "synthea"
needs_synthea = pytest.mark.skipif(not SYNTHEA.is_dir(), reason="../shared/fhir-examples absent")


def synthea(name: str) -> dict:
    return json.loads(next(SYNTHEA.glob(f"{name}_*.json")).read_text())


def counts() -> dict:
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Patient, PlanItem, Goal, FhirSource, PlanChange, CareTeamAssignment)
    }


def run(data: dict, coordinator=None):
    report = import_data(copy.deepcopy(data), coordinator=coordinator)
    db.session.commit()
    return report


# ------------------------------------------------------------------ a small Bundle of our own

PATIENT = "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-000000000001"
CLINIC = "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-000000000002"


def bundle(*extra: dict, kind: str = "transaction", plan_activities=None, meds=None) -> dict:
    """Ana Quispe at Salem Family Clinic: a plan with two activities, a medicine, a goal."""
    entries = [
        {
            "fullUrl": CLINIC,
            "resource": {
                "resourceType": "Organization",
                "id": "org-salem",
                "identifier": [{"system": "https://salem.example/org", "value": "salem"}],
                "name": "Salem Family Clinic",
            },
        },
        {
            "fullUrl": PATIENT,
            "resource": {
                "resourceType": "Patient",
                "id": "pat-ana",
                "identifier": [
                    {"system": "https://salem.example/mrn", "value": "MRN-1"},
                    {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-11-2222"},
                ],
                "name": [{"family": "Quispe", "given": ["Ana"]}],
                "birthDate": "1970-02-03",
                "communication": [
                    {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}},
                    {
                        "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es-MX"}]},
                        "preferred": True,
                    },
                ],
            },
        },
        {
            "fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-000000000003",
            "resource": {
                "resourceType": "CarePlan",
                "id": "plan-1",
                "status": "active",
                "intent": "plan",
                "subject": {"reference": PATIENT},
                "category": [{"text": "Diabetes self management plan"}],
                "activity": plan_activities
                if plan_activities is not None
                else [
                    {"detail": {"status": "in-progress", "code": {"text": "Walk after dinner"}}},
                    {"detail": {"status": "not-started", "code": {"text": "Check your feet"}}},
                ],
            },
        },
        *(
            meds
            if meds is not None
            else [
                {
                    "fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-000000000004",
                    "resource": {
                        "resourceType": "MedicationRequest",
                        "id": "med-1",
                        "status": "active",
                        "intent": "order",
                        "subject": {"reference": PATIENT},
                        "medicationCodeableConcept": {
                            "coding": [
                                {
                                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                    "code": "860975",
                                }
                            ],
                            "text": "Metformin 500 MG Oral Tablet",
                        },
                        "requester": {"display": "Dr. Rivera"},
                        "dosageInstruction": [{"text": "1 tablet twice a day"}],
                    },
                }
            ]
        ),
        {
            "fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-000000000005",
            "resource": {
                "resourceType": "Goal",
                "id": "goal-1",
                "lifecycleStatus": "active",
                "description": {"text": "A1c below 7"},
                "subject": {"reference": PATIENT},
                "expressedBy": {"reference": PATIENT},
            },
        },
        {
            "fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-000000000006",
            "resource": {"resourceType": "Observation", "id": "obs-1", "status": "final"},
        },
        *extra,
    ]
    return {
        "resourceType": "Bundle",
        "type": kind,
        "meta": {"source": "https://salem.example/fhir"},
        "entry": entries,
    }


def items_of(patient_id: int) -> dict[str, PlanItem]:
    rows = db.session.scalars(sa.select(PlanItem).where(PlanItem.patient_id == patient_id))
    return {item.title: item for item in rows}


def ana() -> Patient:
    return db.session.scalar(sa.select(Patient).where(Patient.family_name == "Quispe"))


def test_a_bundle_becomes_a_patient_with_plan_goal_and_coordinator(app, make_member):
    nurse = make_member()
    report = run(bundle(), coordinator=nurse)
    patient = ana()
    assert patient.language == "es"  # the preferred language, not the first listed
    assert set(items_of(patient.id)) == {
        "Walk after dinner",
        "Check your feet",
        "Metformin 500 MG Oral Tablet",
    }
    med = items_of(patient.id)["Metformin 500 MG Oral Tablet"]
    assert med.kind is ItemKind.MEDICATION and med.ingredients == ["metformin"]
    assert med.dose == "1 tablet twice a day" and med.prescriber_name == "Dr. Rivera"
    assert db.session.get(Organization, med.source_organization_id).name == "Salem Family Clinic"
    goal = db.session.scalar(sa.select(Goal).where(Goal.patient_id == patient.id))
    assert goal.description == "A1c below 7" and goal.expressed_by_capacity == "patient"
    coordinator = db.session.scalar(
        sa.select(CareTeamAssignment).where(CareTeamAssignment.patient_id == patient.id)
    )
    assert coordinator.member_id == nurse.id and coordinator.is_coordinator
    assert report.skipped["Observation"] == 1
    assert report.created["Patient"] == 1 and report.created["CarePlan.activity"] == 2
    # No government ids kept; the record's own identifier is, to match the patient next time.
    kept = set(db.session.scalars(sa.select(FhirSource.fhir_id)))
    assert "MRN-1" in kept and "999-11-2222" not in kept
    # Each new item is on "What changed" and in the audit trail, like a manual entry.
    added = db.session.scalar(
        sa.select(sa.func.count(PlanChange.id)).where(
            PlanChange.patient_id == patient.id, PlanChange.change == ChangeKind.ADDED
        )
    )
    assert added == 4  # three items and the goal
    assert db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.patient_id == patient.id)
    )


def test_the_same_bundle_twice_leaves_one_copy(app):
    run(bundle())
    before = counts()
    report = run(bundle())
    assert counts() == before
    assert not report.created and not report.updated
    assert report.unchanged["Patient"] == 1 and report.unchanged["CarePlan.activity"] == 2


def test_a_patient_known_by_identifier_is_matched_from_another_source(app):
    run(bundle())
    other = bundle()
    other["meta"]["source"] = "https://another-ehr.example"
    other["entry"][1]["resource"]["id"] = "somebody-else-s-id"
    run(other)
    assert db.session.scalar(sa.select(sa.func.count(Patient.id))) == 1


def test_a_changed_item_updates_and_says_what_changed(app):
    run(bundle())
    patient = ana()
    changed = bundle()
    changed["entry"][3]["resource"]["dosageInstruction"] = [{"text": "2 tablets twice a day"}]
    report = run(changed)
    med = items_of(patient.id)["Metformin 500 MG Oral Tablet"]
    assert med.dose == "2 tablets twice a day"
    assert report.updated["MedicationRequest"] == 1
    change = db.session.scalar(
        sa.select(PlanChange).where(
            PlanChange.subject_id == med.id, PlanChange.change == ChangeKind.CHANGED
        )
    )
    assert change.fields == ["dose"]


def test_an_activity_the_plan_drops_is_ended_not_deleted(app):
    run(bundle())
    patient = ana()
    report = run(
        bundle(
            plan_activities=[
                {"detail": {"status": "in-progress", "code": {"text": "Walk after dinner"}}}
            ]
        )
    )
    items = items_of(patient.id)
    assert report.ended == 1
    assert items["Check your feet"].status is ItemStatus.CANCELLED  # still there, ended
    assert items["Walk after dinner"].status is ItemStatus.ACTIVE
    assert db.session.scalar(
        sa.select(PlanChange).where(
            PlanChange.subject_id == items["Check your feet"].id,
            PlanChange.change == ChangeKind.STOPPED,
        )
    )


def test_a_team_edit_is_kept_and_flagged_when_the_source_disagrees(
    app, make_member, assign, new_browser
):
    nurse = make_member()
    run(bundle(), coordinator=nurse)
    patient = ana()
    med = items_of(patient.id)["Metformin 500 MG Oral Tablet"]
    med.dose = "1 tablet at night"  # the team's edit
    db.session.commit()
    changed = bundle()
    changed["entry"][3]["resource"]["dosageInstruction"] = [{"text": "2 tablets twice a day"}]
    changed["entry"][3]["resource"]["status"] = "on-hold"
    run(changed)
    db.session.refresh(med)
    assert med.dose == "1 tablet at night"  # kept
    assert med.status is ItemStatus.ON_HOLD  # what the team did not touch follows the source
    page = signed_in(new_browser, _user(nurse)).page(f"/patients/{patient.id}/plan/items/{med.id}")
    assert "Salem Family Clinic" in page
    assert "The source record now says Dose: 2 tablets twice a day" in page


def _user(member):
    from app.auth.models import User

    return db.session.get(User, member.user_id)


def test_the_item_and_goal_pages_say_where_they_came_from(app, make_user, new_browser):
    run(bundle())
    patient = ana()
    user = make_user(Role.PATIENT)
    patient.user_id = user.id
    db.session.commit()
    browser = signed_in(new_browser, user)
    med = items_of(patient.id)["Metformin 500 MG Oral Tablet"]
    page = browser.page(f"/patients/{patient.id}/plan/items/{med.id}")
    assert "From Salem Family Clinic's record, updated Today" in page
    assert "The source record now says" not in page  # the team's note, not the patient's
    goal = db.session.scalar(sa.select(Goal).where(Goal.patient_id == patient.id))
    page = browser.page(f"/patients/{patient.id}/goals/{goal.id}")
    assert "From Salem Family Clinic's record" in page


def test_a_duplicate_medicine_is_flagged_on_import(app):
    second = {
        "fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-000000000009",
        "resource": {
            "resourceType": "MedicationRequest",
            "id": "med-2",
            "status": "active",
            "intent": "order",
            "subject": {"reference": PATIENT},
            "medicationCodeableConcept": {"text": "Metformin 1000 MG Extended Release Tablet"},
            "requester": {"display": "Dr. Okafor"},
        },
    }
    run(bundle(second))
    flag = db.session.scalar(sa.select(PlanFlag).where(PlanFlag.patient_id == ana().id))
    assert flag is not None and flag.kind is FlagKind.SAME_INGREDIENT
    assert flag.detail == "metformin"


# ------------------------------------------------------------------ all or nothing


def test_a_bundle_with_one_invalid_entry_writes_nothing(app):
    bad = bundle()
    bad["entry"][3]["resource"]["status"] = {"not": "a code"}
    before = counts()
    with pytest.raises(ImportRejected) as rejected:
        import_data(bad)
    db.session.rollback()
    assert counts() == before
    problem = rejected.value.outcome["issue"][0]
    assert rejected.value.status == 400
    assert "Bundle.entry[3]" in problem["diagnostics"]
    assert "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-000000000004" in problem["diagnostics"]
    assert "MedicationRequest.status" in problem["diagnostics"]


def test_a_transaction_whose_patient_cannot_be_taken_writes_nothing(app):
    bad = bundle()
    del bad["entry"][1]["resource"]["birthDate"]
    before = counts()
    with pytest.raises(ImportRejected) as rejected:
        import_data(bad)
    db.session.rollback()
    assert counts() == before
    assert rejected.value.status == 422
    assert any("date of birth" in i["diagnostics"] for i in rejected.value.issues)


def test_a_batch_refuses_only_the_entry_it_cannot_take(app):
    orphan = {
        "fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-00000000000a",
        "resource": {
            "resourceType": "Goal",
            "id": "goal-orphan",
            "lifecycleStatus": "active",
            "description": {"text": "Somebody else's goal"},
            "subject": {"reference": "Patient/not-here"},
        },
    }
    report = run(bundle(orphan, kind="batch"))
    assert report.refused["Goal"] == 1 and report.created["Goal"] == 1
    statuses = [entry["response"]["status"] for entry in report.response_bundle()["entry"]]
    assert statuses[-1].startswith("422") and statuses[1] == "201 Created"


# ------------------------------------------------------------------ sensitive categories


def counseling_plan() -> dict:
    return {
        "fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-00000000000b",
        "resource": {
            "resourceType": "CarePlan",
            "id": "plan-mh",
            "status": "active",
            "intent": "plan",
            "subject": {"reference": PATIENT},
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "718347000",
                            "display": "Mental health care plan",
                        }
                    ]
                }
            ],
            "activity": [
                {"detail": {"status": "in-progress", "code": {"text": "Weekly session with Sam"}}}
            ],
        },
    }


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"meta": {"security": [{"code": "PSY"}]}}, Sensitivity.BEHAVIORAL_HEALTH),
        ({"meta": {"security": [{"code": "ETH"}]}}, Sensitivity.SUBSTANCE_USE),
        ({"meta": {"security": [{"code": "HIV"}]}}, Sensitivity.SEXUAL_REPRODUCTIVE),
        ({"meta": {"security": [{"code": "SDV"}]}}, Sensitivity.CONFIDENTIAL),
        ({"meta": {"security": [{"code": "R"}, {"code": "PSY"}]}}, Sensitivity.CONFIDENTIAL),
        ({"meta": {"security": [{"code": "N"}]}}, None),
    ],
)
def test_security_labels_map_onto_categories(resource, expected):
    assert sensitivity_of(resource) is expected


def test_codes_and_words_map_onto_categories():
    icd = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F11.20"}]}
    assert sensitivity_of({}, icd) is Sensitivity.SUBSTANCE_USE
    assert sensitivity_of({}, {"text": "Depression follow-up"}) is Sensitivity.BEHAVIORAL_HEALTH
    assert sensitivity_of({}, {"text": "Wound care"}) is None


def test_an_imported_counseling_plan_is_hidden_from_a_caregiver_without_the_category(
    app, make_user, grant, new_browser
):
    run(bundle(counseling_plan()))
    patient = ana()
    session = items_of(patient.id)["Weekly session with Sam"]
    assert session.sensitivity is Sensitivity.BEHAVIORAL_HEALTH
    helper = make_user(Role.CAREGIVER)
    grant(patient, helper, scopes=[Scope.PLAN.value])
    browser = signed_in(new_browser, helper)
    plan = browser.page(f"/patients/{patient.id}/plan")
    assert "Walk after dinner" in plan  # the caregiver does see the plan ...
    assert "Weekly session with Sam" not in plan  # ... but not the counseling
    assert browser.get(f"/patients/{patient.id}/plan/items/{session.id}").status_code == 404
    changes = browser.page(f"/patients/{patient.id}/plan/changes")
    assert "Weekly session with Sam" not in changes
    # The patient (and a caregiver with the category) see it.
    user = make_user(Role.PATIENT)
    patient.user_id = user.id
    db.session.commit()
    assert "Weekly session with Sam" in signed_in(new_browser, user).page(
        f"/patients/{patient.id}/plan"
    )


# ------------------------------------------------------------------ Synthea


@needs_synthea
def test_the_synthea_bundles_import_with_plans_goals_and_languages(app, make_member, new_browser):
    nurse = make_member()
    for name in ("Antonio_Castellanos", "Clemente_Kreiger", "Denny_Bins", "Lupe_Little"):
        report = run(synthea(name), coordinator=nurse)
        assert report.skipped["Observation"] > 0 and report.created["Patient"] == 1
    by_name = {p.given_name: p for p in db.session.scalars(sa.select(Patient))}
    assert by_name["Antonio"].language == "es"
    assert by_name["Clemente"].language == "zh"
    assert by_name["Denny"].language == "en"
    lupe_goals = db.session.scalar(
        sa.select(sa.func.count(Goal.id)).where(Goal.patient_id == by_name["Lupe"].id)
    )
    assert lupe_goals == 5
    browser = signed_in(new_browser, _user(nurse))
    panel = browser.page("/team/patients")
    for full in ("Antonio Castellanos", "Clemente Kreiger", "Denny Bins", "Lupe Little"):
        assert full in panel
    plan = browser.page(f"/patients/{by_name['Antonio'].id}/plan?show=all")
    assert "Hydrochlorothiazide 25 MG" in plan
    assert "Dressing change management" in plan
    summary = browser.page(f"/patients/{by_name['Antonio'].id}")
    assert "Isaac Upton" in summary  # the prescriber is on his care team
    goals = browser.page(f"/patients/{by_name['Lupe'].id}/goals")
    assert "A1c" in goals or "Hemoglobin A1c" in goals


@needs_synthea
def test_a_synthea_bundle_twice_leaves_one_copy(app):
    run(synthea("Lupe_Little"))
    before = counts()
    report = run(synthea("Lupe_Little"))
    assert counts() == before
    assert not report.created and not report.updated


# ------------------------------------------------------------------ hostile input


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff\xfe",
        b'{"resourceType": "Patient", "id": "a\\u0000b"}',
        b'{"resourceType": "Patient", "id": "a\x00b"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
        b"[1, 2, 3]",
        b'{"no": "resourceType"}',
    ],
    ids=[
        "text",
        "not-utf8",
        "nul-escape",
        "nul-byte",
        "deep-list",
        "deep-object",
        "list",
        "no-type",
    ],
)
def test_hostile_input_is_a_clear_400(raw):
    with pytest.raises(ImportRejected) as rejected:
        load_json(raw)
    assert rejected.value.status == 400
    assert rejected.value.outcome["resourceType"] == "OperationOutcome"


def test_a_bundle_with_too_many_entries_is_refused_before_any_work(app):
    from app.fhir import inbound

    huge = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"resource": {"resourceType": "Observation"}}] * (inbound.MAX_ENTRIES + 1),
    }
    with pytest.raises(ImportRejected) as rejected:
        import_data(huge)
    assert rejected.value.status == 413


def test_a_bundle_of_unknown_types_only_is_counted_and_writes_nothing(app):
    before = counts()
    report = run(
        {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"resource": {"resourceType": "Claim", "id": str(n)}} for n in range(500)],
        }
    )
    assert report.skipped["Claim"] == 500
    assert counts() == before
