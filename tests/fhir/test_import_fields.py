"""The import reads the standard fields another EHR fills (notes, comment, payload, display-only
participants) and CareCircle's own extensions, and a re-import changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from app.careplan.goals.models import Goal
from app.careplan.items.models import Area, ReferralNeed, ReferralStatus, Schedule
from app.careplan.models import PlanChange
from app.extensions import db
from tests.fhir.test_import import PATIENT, ana, bundle, items_of, run

CC = "https://fhir.carecircle.org"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


def entry(n: int, resource: dict) -> dict:
    return {"fullUrl": f"urn:uuid:0f6c3a3e-6d55-4a8c-9a61-1000000000{n:02d}", "resource": resource}


def area(code: str) -> dict:
    return {
        "url": f"{CC}/StructureDefinition/area-of-life",
        "valueCodeableConcept": {
            "coding": [{"system": f"{CC}/CodeSystem/area-of-life", "code": code}]
        },
    }


EXTRA = [
    entry(
        1,
        {
            "resourceType": "Appointment",
            "id": "appt-1",
            "status": "booked",
            "description": "Eye exam",
            "start": "2027-01-05T17:00:00Z",
            "comment": "Bring your glasses",
            "patientInstruction": "Do not drive after",
            "participant": [
                {"actor": {"reference": PATIENT}, "status": "accepted"},
                {
                    "type": [{"coding": [{"system": PARTICIPATION, "code": "LOC"}]}],
                    "actor": {"display": "Salem Eye Center, room 4"},
                    "status": "accepted",
                },
                {"actor": {"display": "Dr. Okafor"}, "status": "accepted"},
            ],
        },
    ),
    entry(
        2,
        {
            "resourceType": "Task",
            "id": "task-1",
            "status": "requested",
            "intent": "plan",
            "description": "Weigh yourself",
            "for": {"reference": PATIENT},
            "extension": [
                area("physical_health"),
                {
                    "url": f"{CC}/StructureDefinition/task-timing",
                    "valueTiming": {
                        "repeat": {
                            "frequency": 1,
                            "period": 1,
                            "periodUnit": "wk",
                            "dayOfWeek": ["tue"],
                        }
                    },
                },
            ],
        },
    ),
    entry(
        3,
        {
            "resourceType": "CommunicationRequest",
            "id": "cr-1",
            "status": "active",
            "subject": {"reference": PATIENT},
            "payload": [
                {"contentString": "Eating well with diabetes"},
                {"contentString": "Read this before your next visit."},
                {"contentAttachment": {"url": "https://example.org/diabetes-food"}},
            ],
        },
    ),
    entry(
        4,
        {
            "resourceType": "ServiceRequest",
            "id": "sr-1",
            "status": "active",
            "intent": "order",
            "subject": {"reference": PATIENT},
            "code": {"text": "Food bank"},
            "category": [
                {"coding": [{"system": f"{CC}/CodeSystem/referral-need", "code": "food"}]}
            ],
            "performer": [{"display": "Marion Food Share"}],
            "note": [{"text": "Ask for the Tuesday box"}],
            "extension": [
                area("home_food_transport"),
                {"url": f"{CC}/StructureDefinition/referral-status", "valueCode": "contacted"},
            ],
        },
    ),
    entry(
        5,
        {
            "resourceType": "Goal",
            "id": "goal-2",
            "lifecycleStatus": "active",
            "description": {"text": "Walk to church"},
            "subject": {"reference": PATIENT},
            "note": [{"text": "I want to see my friends on Sunday"}],
        },
    ),
]


def test_standard_fields_and_own_extensions_come_in_and_a_reimport_changes_nothing(app):
    data = bundle(*EXTRA)
    run(data)
    items = items_of(ana().id)
    eye = items["Eye exam"]
    assert eye.location == "Salem Eye Center, room 4" and eye.with_whom == "Dr. Okafor"
    assert eye.details == "Bring your glasses" and eye.preparation == "Do not drive after"
    weigh = items["Weigh yourself"]
    assert weigh.area is Area.PHYSICAL_HEALTH
    assert weigh.schedule is Schedule.WEEKLY and weigh.weekday == 1  # Tuesday
    read = items["Eating well with diabetes"]
    assert read.details == "Read this before your next visit."
    assert read.resource_url == "https://example.org/diabetes-food"
    food = items["Food bank"]
    assert food.referral_need is ReferralNeed.FOOD
    assert food.referral_status is ReferralStatus.CONTACTED
    assert food.area is Area.HOME_FOOD_TRANSPORT and food.details == "Ask for the Tuesday box"
    goal = db.session.scalar(sa.select(Goal).where(Goal.description == "Walk to church"))
    assert goal.why_it_matters == "I want to see my friends on Sunday"

    changes = db.session.scalar(sa.select(sa.func.count(PlanChange.id)))
    report = run(data)
    assert db.session.scalar(sa.select(sa.func.count(PlanChange.id))) == changes
    assert not report.updated and not report.created


def test_a_hostile_link_or_timing_is_not_taken(app):
    hostile = [
        entry(
            3,
            {
                "resourceType": "CommunicationRequest",
                "id": "cr-2",
                "status": "active",
                "subject": {"reference": PATIENT},
                "payload": [
                    {"contentString": "Click here"},
                    {"contentAttachment": {"url": "javascript:alert(1)"}},
                ],
            },
        ),
        entry(
            2,
            {
                "resourceType": "Task",
                "id": "task-2",
                "status": "requested",
                "intent": "plan",
                "description": "Stretch",
                "for": {"reference": PATIENT},
                "extension": [
                    {
                        "url": f"{CC}/StructureDefinition/task-timing",
                        "valueTiming": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}},
                    },
                    area("not_an_area"),
                ],
            },
        ),
    ]
    run(bundle(*hostile))
    items = items_of(ana().id)
    assert items["Click here"].resource_url is None
    assert items["Stretch"].schedule is None and items["Stretch"].area is not None


def test_a_care_teams_roles_fill_new_members_and_name_the_coordinator(app):
    from app.team.models import CareRole, CareTeamAssignment, CareTeamMember, Discipline

    practitioner = entry(
        6,
        {"resourceType": "Practitioner", "id": "pr-1", "name": [{"text": "Lena Ortiz"}]},
    )
    team = entry(
        7,
        {
            "resourceType": "CareTeam",
            "id": "team-1",
            "subject": {"reference": PATIENT},
            "participant": [
                {
                    "role": [
                        {
                            "coding": [
                                {"system": f"{CC}/CodeSystem/discipline", "code": "nursing"},
                                {
                                    "system": f"{CC}/CodeSystem/care-role",
                                    "code": "care_coordinator",
                                },
                            ],
                            "text": "RN Care Coordinator",
                        },
                        {"text": "care coordinator"},
                    ],
                    "member": {"reference": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-100000000006"},
                }
            ],
        },
    )
    run(bundle(practitioner, team))
    (assignment,) = db.session.scalars(
        sa.select(CareTeamAssignment).where(CareTeamAssignment.patient_id == ana().id)
    )
    member = db.session.get(CareTeamMember, assignment.member_id)
    assert assignment.is_coordinator
    assert member.discipline is Discipline.NURSING and member.role is CareRole.CARE_COORDINATOR
    assert member.title == "RN Care Coordinator"
