"""A patient with a full record, built through the same services the app uses.

Every piece of clinical text carries the patient's tag (e.g. "Bravo"), so a test can tell whose
words leaked where. Setup runs outside a request, so it writes no audit events: any audit event
about the patient after setup was caused by the test's requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import (
    CaregiverGrant,
    CaregiverInvitation,
    GrantKind,
    Scope,
)
from app.careplan.decisions import services as decision_service
from app.careplan.decisions.models import Decision, DecisionOption
from app.careplan.goals import services as goal_service
from app.careplan.goals.models import Goal, GoalCheckIn
from app.careplan.items.models import (
    Area,
    FlagKind,
    ItemKind,
    OwnerKind,
    PlanFlag,
    PlanItem,
    ReferralNeed,
)
from app.core.privacy import GRANTABLE_NAMES, Capacity
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Message, Thread, Topic
from app.patients.models import Patient, PatientPreferences
from app.team.models import CareTeamMember, Discipline, Organization, OrganizationKind
from app.texting.models import OutboundSms
from app.texting.outbox import queue_sms
from tests.careplan.factories import add

#: Tuesday 10 March 2026, 11:00 in Oregon (after the switch to summer time on the 8th).
NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)  # the patients' calendar day at NOW

ALL_SCOPES = [s.value for s in Scope]
ALL_CATEGORIES = list(GRANTABLE_NAMES)


@dataclass
class Record:
    """One patient, the people around them, and one of everything in their record."""

    tag: str
    patient: Patient
    user: User
    member: CareTeamMember
    member_user: User
    caregiver: User
    grant: CaregiverGrant
    #: Every grant on the record: the helper's, and a parent's for a minor.
    grants: list[CaregiverGrant]
    orgs: list[Organization]
    items: dict[str, PlanItem]
    goal: Goal
    check_in: GoalCheckIn
    decision: Decision
    options: list[DecisionOption]
    thread: Thread
    messages: list[Message]
    flag: PlanFlag
    invitation: CaregiverInvitation
    texts: list[OutboundSms]
    #: Words only the patient's circle may read: titles, notes, questions, message bodies.
    clinical: list[str] = field(default_factory=list)

    @property
    def item_ids(self) -> list[int]:
        return [item.id for item in self.items.values()]


def build_record(
    tag: str,
    *,
    make_patient,
    make_user,
    make_member,
    make_org,
    assign,
    grant,
    phone: str,
    caregiver_phone: str,
    dob: date = date(1980, 5, 17),
) -> Record:
    """A full record for a new patient, and a helper with every scope and category; a minor
    (by `dob`) also gets a parent with a guardian grant set up by the care team."""
    patient = make_patient(
        given=tag,
        family="Testpatient",
        dob=dob,
        mobile_phone=phone,
        timezone="America/Los_Angeles",
    )
    db.session.add(
        PatientPreferences(
            patient_id=patient.id,
            contact_channels=["sms", "portal"],
            reminder_lead_hours=[48, 2],
            quiet_start=time(21, 0),
            quiet_end=time(8, 0),
            what_matters_most=f"{tag} wants to keep gardening",
            preferred_pharmacy=f"{tag} Corner Pharmacy",
        )
    )
    user = db.session.get(User, patient.user_id)
    clinic = make_org(OrganizationKind.PRIMARY_CARE, name=f"{tag} Family Clinic")
    specialist = make_org(OrganizationKind.SPECIALTY, name=f"{tag} Heart Center")
    member = make_member(Discipline.NURSING, org=clinic, name=f"{tag} Nurse")
    member_user = db.session.get(User, member.user_id)
    assign(patient, member, coordinator=True)
    caregiver = make_user(Role.CAREGIVER, name=f"{tag} Helper")
    caregiver.mobile_phone = caregiver_phone
    caregiver.mobile_phone_verified_at = NOW - timedelta(days=30)
    access = grant(patient, caregiver, scopes=ALL_SCOPES)
    access.sensitive_categories = list(ALL_CATEGORIES)
    grants = [access]
    age = TODAY.year - dob.year - ((TODAY.month, TODAY.day) < (dob.month, dob.day))
    if age < 18:
        parent = make_user(Role.CAREGIVER, name=f"{tag} Parent")
        grants.append(
            grant(
                patient,
                parent,
                scopes=ALL_SCOPES,
                relationship_label="mother",
                kind=GrantKind.GUARDIAN,
                legal_authority="parent of a minor",
                document_reference=f"{tag}-birth-certificate",
                granted_by_id=member_user.id,
            )
        )
    db.session.commit()

    items = add_items(tag, patient, clinic, specialist, member)
    goal, check_in = add_goal(tag, patient, user)
    decision = add_decision(tag, patient, member_user, user)
    thread, messages = add_thread(tag, patient, user, member_user, items["appointment"])
    invitation = CaregiverInvitation(
        patient_id=patient.id,
        invited_by_id=user.id,
        name=f"{tag} Neighbor",
        email=f"{tag.lower()}.neighbor@example.test",
        relationship_label="neighbor",
        scopes=[Scope.PLAN.value],
        sensitive_categories=[],
        expires_at=NOW + timedelta(days=2),
        secret_hash=f"{tag.lower():0<64}"[:64],
    )
    db.session.add(invitation)
    text = queue_sms(
        patient=patient,
        to=phone,
        user_id=user.id,
        purpose="team_replied",
        locale="en",
        body="CareCircle: you have a new message. https://carecircle.test/m",
        now=NOW,
    )
    db.session.commit()

    flag = db.session.scalar(
        sa.select(PlanFlag).where(
            PlanFlag.patient_id == patient.id, PlanFlag.kind == FlagKind.DUPLICATE_TEST
        )
    )
    assert flag is not None, "the two lab tests should have raised a duplicate-test flag"
    texts = list(
        db.session.scalars(sa.select(OutboundSms).where(OutboundSms.patient_id == patient.id))
    )
    assert text in texts
    options = list(
        db.session.scalars(
            sa.select(DecisionOption)
            .where(DecisionOption.decision_id == decision.id)
            .order_by(DecisionOption.position)
        )
    )
    clinical = [
        *(item.title for item in items.values()),
        items["task"].details,
        items["medication"].medication_name,
        items["appointment"].location,
        items["appointment"].preparation,
        items["referral"].referred_to,
        goal.description,
        goal.why_it_matters,
        check_in.note,
        decision.question,
        decision.background,
        *(option.title for option in options),
        thread.subject,
        *(message.body for message in messages),
    ]
    return Record(
        tag=tag,
        patient=patient,
        user=user,
        member=member,
        member_user=member_user,
        caregiver=caregiver,
        grant=access,
        grants=grants,
        orgs=[clinic, specialist],
        items=items,
        goal=goal,
        check_in=check_in,
        decision=decision,
        options=options,
        thread=thread,
        messages=messages,
        flag=flag,
        invitation=invitation,
        texts=texts,
        clinical=clinical,
    )


def add_items(tag, patient, clinic, specialist, member) -> dict[str, PlanItem]:
    common = {"details": f"{tag} details nobody else may read"}
    items = {
        "medication": add(
            patient,
            clinic,
            kind=ItemKind.MEDICATION,
            title=f"Take {tag}pril every morning",
            medication_name=f"{tag}pril",
            dose="10 mg",
            ingredients=[f"{tag.lower()}pril"],
            prescriber_member_id=member.id,
            area=Area.MEDICINES,
            discipline=Discipline.PRIMARY_CARE,
            **common,
        ),
        "appointment": add(
            patient,
            specialist,
            kind=ItemKind.APPOINTMENT,
            title=f"{tag} heart rhythm check",
            starts_at=NOW + timedelta(days=5),
            location=f"{tag} Heart Center room 4",
            with_whom="Dr. Walsh",
            preparation=f"{tag} bring the heart monitor",
            area=Area.PHYSICAL_HEALTH,
            discipline=Discipline.SPECIALTY,
            owner_kind=OwnerKind.ORGANIZATION,
            owner_organization_id=specialist.id,
            **common,
        ),
        "referral": add(
            patient,
            clinic,
            kind=ItemKind.REFERRAL,
            title=f"{tag} food box program",
            referral_need=ReferralNeed.FOOD,
            referred_to=f"{tag} Community Pantry",
            area=Area.HOME_FOOD_TRANSPORT,
            discipline=Discipline.SOCIAL_SERVICES,
            owner_kind=OwnerKind.TEAM_MEMBER,
            owner_member_id=member.id,
            **common,
        ),
        "task": add(patient, clinic, title=f"{tag} walk after dinner", **common),
        "education": add(
            patient,
            clinic,
            kind=ItemKind.EDUCATION,
            title=f"Read about {tag} blood pressure",
            resource_url="https://example.test/bp",
            **common,
        ),
        "test": add(
            patient,
            clinic,
            kind=ItemKind.TEST,
            title=f"{tag} A1c blood test",
            code="4548-4",
            code_system="LOINC",
            ordered_on=TODAY - timedelta(days=3),
            ordering_provider_name="Dr. Okafor",
            **common,
        ),
        "test_again": add(
            patient,
            specialist,
            kind=ItemKind.TEST,
            title=f"{tag} A1c again",
            code="4548-4",
            code_system="LOINC",
            ordered_on=TODAY - timedelta(days=1),
            ordering_provider_name="Dr. Walsh",
            **common,
        ),
    }
    return items


def add_goal(tag, patient, user) -> tuple[Goal, GoalCheckIn]:
    goal = goal_service.create_goal(
        patient.id,
        goal_service.GoalInput(
            description=f"{tag} walks to the park and back",
            why_it_matters=f"{tag} wants to play with the grandchildren",
            target_value=5000,
            target_unit="steps",
            higher_is_better=True,
        ),
        today=TODAY - timedelta(days=7),
        actor_id=user.id,
        capacity=Capacity.PATIENT,
    )
    check_in = goal_service.add_check_in(
        goal,
        value=3200,
        note=f"{tag} made it halfway today",
        actor_id=user.id,
        capacity=Capacity.PATIENT,
        recorded_at=NOW - timedelta(days=1),
    )
    db.session.commit()
    return goal, check_in


def add_decision(tag, patient, member_user, user) -> Decision:
    decision = decision_service.open_decision(
        patient.id,
        decision_service.DecisionInput(
            question=f"How should {tag} treat the knee pain",
            background=f"{tag} knee hurts on the stairs",
            options=[
                decision_service.OptionInput(
                    f"{tag} physical therapy", "Stronger knee.", "Sore days.", "Two visits a week."
                ),
                decision_service.OptionInput(
                    f"{tag} knee injection", "Quick relief.", "Wears off.", "One short visit."
                ),
            ],
        ),
        author_id=member_user.id,
    )
    decision_service.ask_question(
        decision, f"{tag} asks how long therapy takes", author_id=user.id, capacity="patient"
    )
    db.session.commit()
    return decision


def add_thread(tag, patient, user, member_user, item) -> tuple[Thread, list[Message]]:
    thread = messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.APPOINTMENT,
        subject=f"{tag} question about the heart check",
        body=f"{tag} asks if fasting is needed",
        author_id=user.id,
        capacity="patient",
        plan_item=item,
        now=NOW - timedelta(hours=3),
    )
    messaging.add_message(
        thread,
        body=f"{tag} note for the team only",
        author_id=member_user.id,
        capacity="care_team",
        internal=True,
        now=NOW - timedelta(hours=2),
    )
    db.session.commit()
    messages = list(db.session.scalars(sa.select(Message).where(Message.thread_id == thread.id)))
    return thread, messages


# ------------------------------------------------------------------ database state


#: What signing in and opening pages legitimately touch (sessions, the audit trail, the
#: sign-in bookkeeping on accounts); everything else must be exactly as it was after a probe.
VOLATILE_TABLES = frozenset({"user_sessions", "audit_events"})
VOLATILE_COLUMNS = {"users": frozenset({"last_login_at", "failed_logins", "updated_at"})}


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (but the volatile parts), in a comparable form."""
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name in VOLATILE_TABLES:
            continue
        skip = VOLATILE_COLUMNS.get(table.name, frozenset())
        columns = [c for c in table.columns if c.name not in skip]
        rows = db.session.execute(sa.select(*columns)).all()
        state[table.name] = sorted((tuple(map(repr, row)) for row in rows), key=repr)
    return state


def differences(before: dict, after: dict) -> list[str]:
    found = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            gone = [r for r in old if r not in new]
            added = [r for r in new if r not in old]
            found.append(f"{name}: removed {gone[:3]} added {added[:3]}")
    return found
