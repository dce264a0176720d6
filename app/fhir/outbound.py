"""CareCircle's records as FHIR R4 resources (JSON dicts), for the read API, $everything and
"Download my data".

What a reader gets is decided before anything is built: `Reader` carries the permissions the
one access policy gave this reader for this patient and the sensitive categories it hides
(`app.core.access.decide`, the same answer a web page gets). Every query here filters with
`app.core.privacy.visible`, so a hidden item, goal or thread is never loaded, let alone sent;
a care team member whose discipline alone would reveal a hidden category is left out of the
CareTeam (`team.queries.care_team`). Internal notes between team members are never exported,
to anyone.

Mapping choices (docs/fhir.md):
- one CarePlan per patient (id = the patient's id): CareCircle's point is one plan across every
  discipline; each activity's discipline and source organization stay on the activity's own
  resource (performer, requester), so splitting plans per discipline would only scatter it;
- plan items become the resource of their kind, referenced from CarePlan.activity: medicines
  MedicationRequest, appointments Appointment, referrals and tests ServiceRequest, self-care
  tasks Task, education CommunicationRequest. One resource per item (not an inline detail) so
  that a sensitive item carries its own meta.security label;
- caregiver grants become a RelatedPerson and a Consent each (same id as the grant);
- each message becomes a Communication; a thread is the chain of inResponseTo links, and every
  message of a thread shares an identifier naming the thread;
- logical ids are the row ids (each FHIR type comes from one table);
- sensitive categories are meta.security labels: PSY, ETH, SEX (v3 ActCode) and R (v3
  Confidentiality) for a patient's confidential thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa

from app.core.access import Permission
from app.core.privacy import Sensitivity, visible
from app.extensions import db

P = Permission

#: CareCircle's own code systems and extensions (stable: the import reads them back).
BASE = "https://fhir.carecircle.org"
MEMBER_NUMBER_SYSTEM = f"{BASE}/sid/member-number"
THREAD_SYSTEM = f"{BASE}/sid/message-thread"
SCOPE_SYSTEM = f"{BASE}/CodeSystem/caregiver-scope"
GRANT_KIND_SYSTEM = f"{BASE}/CodeSystem/caregiver-grant-kind"
TOPIC_SYSTEM = f"{BASE}/CodeSystem/message-topic"
AREA_SYSTEM = f"{BASE}/CodeSystem/area-of-life"
DISCIPLINE_SYSTEM = f"{BASE}/CodeSystem/discipline"
CARE_ROLE_SYSTEM = f"{BASE}/CodeSystem/care-role"
REFERRAL_NEED_SYSTEM = f"{BASE}/CodeSystem/referral-need"
ITEM_KIND_SYSTEM = f"{BASE}/CodeSystem/plan-item-kind"
EXT_AREA = f"{BASE}/StructureDefinition/area-of-life"
EXT_WHY = f"{BASE}/StructureDefinition/why-it-matters"
EXT_REFERRAL_STATUS = f"{BASE}/StructureDefinition/referral-status"
EXT_TASK_TIMING = f"{BASE}/StructureDefinition/task-timing"
EXT_SOURCE_ORG = f"{BASE}/StructureDefinition/source-organization"
EXT_INTERPRETER = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
#: Sensitive category -> meta.security label. The import (app.fhir.inbound) maps them back.
SECURITY_LABELS: dict[str, tuple[str, str, str]] = {
    Sensitivity.BEHAVIORAL_HEALTH.value: (ACT_CODE, "PSY", "psychiatry information sensitivity"),
    Sensitivity.SUBSTANCE_USE.value: (ACT_CODE, "ETH", "substance abuse information sensitivity"),
    Sensitivity.SEXUAL_REPRODUCTIVE.value: (
        ACT_CODE,
        "SEX",
        "sexuality and reproductive health information sensitivity",
    ),
    Sensitivity.CONFIDENTIAL.value: (CONFIDENTIALITY, "R", "restricted"),
}

#: What each resource type needs the reader to be allowed (the web's permissions).
TYPE_PERMISSION: dict[str, Permission] = {
    "Patient": P.VIEW_SUMMARY,
    "Organization": P.VIEW_SUMMARY,
    "Practitioner": P.VIEW_SUMMARY,
    "CareTeam": P.VIEW_SUMMARY,
    "CarePlan": P.VIEW_PLAN,
    "MedicationRequest": P.VIEW_PLAN,
    "Appointment": P.VIEW_PLAN,
    "ServiceRequest": P.VIEW_PLAN,
    "Task": P.VIEW_PLAN,
    "CommunicationRequest": P.VIEW_PLAN,
    "Goal": P.VIEW_GOALS,
    "RelatedPerson": P.VIEW_CAREGIVERS,
    "Consent": P.VIEW_CAREGIVERS,
    "Communication": P.VIEW_MESSAGES,
}
#: Types with read and search by patient. Practitioner and Organization are in $everything
#: (references resolve inside the Bundle) but not readable alone: they are nobody's record.
READ_TYPES = (
    "Patient",
    "CarePlan",
    "Goal",
    "CareTeam",
    "Communication",
    "CommunicationRequest",
    "Appointment",
    "RelatedPerson",
    "Consent",
    "MedicationRequest",
    "ServiceRequest",
    "Task",
)

#: The order of $everything: what is referred to before what refers to it.
EVERYTHING_ORDER = (
    "Patient",
    "Organization",
    "Practitioner",
    "CareTeam",
    "RelatedPerson",
    "Consent",
    "Goal",
    "MedicationRequest",
    "Appointment",
    "ServiceRequest",
    "Task",
    "CommunicationRequest",
    "CarePlan",
    "Communication",
)


#: A plan item's status as the FHIR request resources (ServiceRequest, CommunicationRequest)
#: say it.
REQUEST_STATUS = {
    "planned": "draft",
    "active": "active",
    "on_hold": "on-hold",
    "completed": "completed",
    "cancelled": "revoked",
    "stopped": "revoked",
}


@dataclass(frozen=True)
class Reader:
    """What one reader may see of one patient's record: the policy's answer."""

    permissions: frozenset[Permission]
    hidden: frozenset[str] = frozenset()

    def may(self, resource_type: str) -> bool:
        return TYPE_PERMISSION[resource_type] in self.permissions


def reader_for(user, patient) -> Reader | None:
    """Ask the one policy, permission by permission (cached per request), what `user` may
    see of `patient`; None when nothing at all (the caller answers 404)."""
    from app.core.access import decide

    permissions, hidden = set(), frozenset()
    for permission in set(TYPE_PERMISSION.values()):
        decision = decide(user, permission, patient)
        if decision is not None:
            permissions.add(permission)
            hidden = decision.hidden
    if not permissions:
        return None
    return Reader(frozenset(permissions), hidden)


# ------------------------------------------------------------------ small pieces


def instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def ref(resource_type: str, resource_id: object, display: str | None = None) -> dict:
    found = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        found["display"] = display
    return found


def coding(system: str, code: str, display: str | None = None) -> dict:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def meta(updated: datetime | None, sensitivity: str | None = None) -> dict:
    found: dict = {}
    if updated is not None:
        found["lastUpdated"] = instant(updated)
    if sensitivity:
        system, code, display = SECURITY_LABELS[str(sensitivity)]
        found["security"] = [coding(system, code, display)]
    return found


def clean(value):
    """Drop empty values (FHIR forbids empty strings, lists and objects)."""
    if isinstance(value, dict):
        cleaned = {k: clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned = [clean(v) for v in value]
        return [v for v in cleaned if v not in (None, "", [], {})]
    return value


# ------------------------------------------------------------------ the record


@dataclass
class Record:
    """One patient's record as FHIR, built type by type on demand, each type in one or two
    queries (bounded by the patient's own rows, never by the CCO)."""

    patient: object
    reader: Reader
    _cache: dict = field(default_factory=dict)
    _people: dict | None = None

    # --- public

    def resources(self, resource_type: str) -> list[dict]:
        """All resources of this type the reader may see, ordered by id."""
        if not self.reader.may(resource_type):
            return []
        if resource_type not in self._cache:
            build = getattr(self, f"_build_{resource_type}")
            self._cache[resource_type] = [clean(r) for r in build()]
        return self._cache[resource_type]

    def everything(self) -> list[dict]:
        found = []
        for resource_type in EVERYTHING_ORDER:
            found.extend(self.resources(resource_type))
        return found

    # --- who is who: users as references (the patient, a caregiver, a team member)

    def people(self) -> dict:
        """user id -> reference, for authors and goal owners: one query for the team members
        and one for the grants of this patient."""
        if self._people is not None:
            return self._people
        from app.auth.models import User
        from app.caregivers.models import CaregiverGrant
        from app.team.models import CareTeamMember

        patient = self.patient
        found: dict[int, dict] = {}
        show_caregivers = self.reader.may("RelatedPerson")
        for grant_id, caregiver_id, name in db.session.execute(
            sa.select(CaregiverGrant.id, CaregiverGrant.caregiver_id, User.full_name)
            .join(User, User.id == CaregiverGrant.caregiver_id)
            .where(CaregiverGrant.patient_id == patient.id)
            .order_by(CaregiverGrant.id)
        ):
            found[caregiver_id] = (
                ref("RelatedPerson", grant_id, name) if show_caregivers else {"display": name}
            )
        for member_id, user_id, name in db.session.execute(
            sa.select(CareTeamMember.id, CareTeamMember.user_id, User.full_name)
            .join(User, User.id == CareTeamMember.user_id)
            .where(CareTeamMember.user_id.in_(self._author_ids()))
        ):
            found[user_id] = ref("Practitioner", member_id, name)
        if patient.user_id is not None:
            found[patient.user_id] = ref("Patient", patient.id, patient.full_name)
        self._people = found
        return found

    def _author_ids(self):
        """Users who wrote or said something in this record (SQL), to find team members by."""
        from app.careplan.goals.models import Goal
        from app.messaging.models import Message, Thread

        return sa.union(
            sa.select(Goal.expressed_by_id).where(Goal.patient_id == self.patient.id),
            sa.select(Message.author_id)
            .join(Thread, Thread.id == Message.thread_id)
            .where(Thread.patient_id == self.patient.id, Message.internal.is_(False)),
        ).scalar_subquery()

    def source_ids(self, entity: str, entity_id: int) -> list[dict]:
        """The ids the record had where it was imported from (app.fhir.sources), as
        identifiers, so that system can match what it sent: one query per Record."""
        if "_sources" not in self._cache:
            from app.fhir.sources import FhirSource

            self._cache["_sources"] = source_identifiers(
                FhirSource.patient_id == self.patient.id,
                FhirSource.entity.in_(("patient", "plan_item", "goal")),
            )
        return self._cache["_sources"].get((entity, entity_id), [])

    def person(self, user_id: int | None) -> dict | None:
        if user_id is None:
            return None
        return self.people().get(user_id)

    # --- the resources

    def _build_Patient(self) -> Iterable[dict]:
        p = self.patient
        names = [{"use": "official", "family": p.family_name, "given": [p.given_name]}]
        if p.preferred_name and p.preferred_name != p.given_name:
            names.append({"use": "usual", "given": [p.preferred_name]})
        yield {
            "resourceType": "Patient",
            "id": str(p.id),
            "meta": meta(p.updated_at),
            "extension": [{"url": EXT_INTERPRETER, "valueBoolean": bool(p.interpreter_needed)}],
            "identifier": (
                [{"system": MEMBER_NUMBER_SYSTEM, "value": p.member_number}]
                if p.member_number
                else []
            )
            + self.source_ids("patient", p.id),
            "active": True,
            "name": names,
            "telecom": [{"system": "phone", "use": "mobile", "value": p.mobile_phone}]
            if p.mobile_phone
            else [],
            "birthDate": day(p.date_of_birth),
            "communication": [
                {
                    "language": {"coding": [coding("urn:ietf:bcp:47", p.language)]},
                    "preferred": True,
                }
            ],
            "managingOrganization": ref("Organization", p.organization_id)
            if p.organization_id
            else None,
        }

    def _team(self) -> list:
        if "_team" not in self._cache:
            from app.team.queries import care_team

            self._cache["_team"] = care_team(self.patient.id, self.reader.hidden)
        return self._cache["_team"]

    def _build_Organization(self) -> Iterable[dict]:
        from app.team.models import Organization

        ids = {a.member.organization_id for a in self._team()}
        if self.patient.organization_id:
            ids.add(self.patient.organization_id)
        if self.reader.may("CarePlan"):
            ids |= {i.source_organization_id for i in self._items()}
        for org in db.session.scalars(
            sa.select(Organization).where(Organization.id.in_(ids)).order_by(Organization.id)
        ):
            yield {
                "resourceType": "Organization",
                "id": str(org.id),
                "meta": meta(org.updated_at),
                "active": True,
                "type": [{"text": org.kind.value}],
                "name": org.name,
                "telecom": [{"system": "phone", "value": org.phone}] if org.phone else [],
            }

    def _build_Practitioner(self) -> Iterable[dict]:
        from app.auth.models import User
        from app.team.models import CareTeamMember

        ids = {a.member.id for a in self._team()}
        for person in self.people().values():
            reference = person.get("reference", "")
            if reference.startswith("Practitioner/"):
                ids.add(int(reference.split("/")[1]))
        if self.reader.may("CarePlan"):
            for item in self._items():
                ids |= {i for i in (item.prescriber_member_id, item.ordering_member_id) if i}
        rows = db.session.execute(
            sa.select(CareTeamMember.id, CareTeamMember.updated_at, User.full_name)
            .join(User, User.id == CareTeamMember.user_id)
            .where(CareTeamMember.id.in_(ids))
            .order_by(CareTeamMember.id)
        )
        for member_id, updated_at, name in rows:
            yield {
                "resourceType": "Practitioner",
                "id": str(member_id),
                "meta": meta(updated_at),
                "active": True,
                "name": [{"text": name}],
            }

    def _build_CareTeam(self) -> Iterable[dict]:
        p = self.patient
        participants = []
        for assignment in self._team():
            member = assignment.member
            roles = [
                {
                    "coding": [
                        coding(DISCIPLINE_SYSTEM, member.discipline.value),
                        coding(CARE_ROLE_SYSTEM, member.role.value),
                    ],
                    # The free title is optional now: the role's key in words otherwise.
                    "text": member.title or member.role.value.replace("_", " "),
                }
            ]
            if assignment.is_coordinator:
                roles.append({"text": "care coordinator"})
            participants.append(
                {
                    "role": roles,
                    "member": ref("Practitioner", member.id, member.user.full_name),
                    "onBehalfOf": ref("Organization", member.organization_id),
                    "period": {"start": instant(assignment.added_at)},
                }
            )
        yield {
            "resourceType": "CareTeam",
            "id": str(p.id),
            "status": "active",
            "name": f"{p.full_name}'s care team",
            "subject": ref("Patient", p.id),
            "participant": participants,
            "managingOrganization": [ref("Organization", p.organization_id)]
            if p.organization_id
            else [],
        }

    def _visible_rows(self, model) -> list:
        """The patient's rows of `model` this reader may see (one query, kept for the export)."""
        key = f"_rows_{model.__name__}"
        if key not in self._cache:
            self._cache[key] = list(
                db.session.scalars(
                    sa.select(model)
                    .where(
                        model.patient_id == self.patient.id,
                        visible(model.sensitivity, self.reader.hidden),
                    )
                    .order_by(model.id)
                )
            )
        return self._cache[key]

    def _items(self) -> list:
        from app.careplan.items.models import PlanItem

        return self._visible_rows(PlanItem)

    def _items_of(self, *kinds) -> list:
        return [i for i in self._items() if i.kind.value in kinds]

    def _item_common(self, item) -> dict:
        return {
            "id": str(item.id),
            "meta": meta(item.updated_at, item.sensitivity),
            "identifier": self.source_ids("plan_item", item.id),
            "extension": [
                {
                    "url": EXT_AREA,
                    "valueCodeableConcept": {"coding": [coding(AREA_SYSTEM, item.area.value)]},
                },
                {"url": EXT_WHY, "valueString": item.why_it_matters}
                if item.why_it_matters
                else None,
                {
                    "url": EXT_SOURCE_ORG,
                    "valueReference": ref("Organization", item.source_organization_id),
                }
                if item.source_organization_id
                else None,
            ],
        }

    def _build_MedicationRequest(self) -> Iterable[dict]:
        status = {
            "planned": "draft",
            "active": "active",
            "on_hold": "on-hold",
            "completed": "completed",
            "cancelled": "cancelled",
            "stopped": "stopped",
        }
        for item in self._items_of("medication"):
            dosage = {"text": item.dose}
            if item.dose_times:
                dosage["timing"] = {"repeat": {"timeOfDay": [f"{t}:00" for t in item.dose_times]}}
            requester = (
                ref("Practitioner", item.prescriber_member_id)
                if item.prescriber_member_id
                else {"display": item.prescriber_name}
                if item.prescriber_name
                else None
            )
            yield {
                "resourceType": "MedicationRequest",
                **self._item_common(item),
                "status": status[item.status.value],
                "intent": "plan",
                "medicationCodeableConcept": {"text": item.medication_name or item.title},
                "subject": ref("Patient", item.patient_id),
                "authoredOn": instant(item.created_at),
                "requester": requester,
                "note": [{"text": item.title}] + ([{"text": item.details}] if item.details else []),
                "dosageInstruction": [dosage] if item.dose or item.dose_times else [],
            }

    def _build_Appointment(self) -> Iterable[dict]:
        status = {
            "planned": "proposed",
            "active": "booked",
            "on_hold": "pending",
            "completed": "fulfilled",
            "cancelled": "cancelled",
            "stopped": "cancelled",
        }
        for item in self._items_of("appointment"):
            participants = [
                {
                    "actor": ref("Patient", item.patient_id),
                    "status": "accepted" if item.patient_confirmed_at else "needs-action",
                }
            ]
            # Display-only (no Practitioner or Location): typed, so the import tells the
            # person (primary performer) from the place.
            if item.with_whom:
                participants.append(
                    {
                        "type": [{"coding": [coding(PARTICIPATION, "PPRF")]}],
                        "actor": {"display": item.with_whom},
                        "status": "accepted",
                    }
                )
            if item.location:
                participants.append(
                    {
                        "type": [{"coding": [coding(PARTICIPATION, "LOC")]}],
                        "actor": {"display": item.location},
                        "status": "accepted",
                    }
                )
            value = status[item.status.value]
            if item.attendance is not None:
                # What happened, as the team recorded it (the no-show measure reads it back).
                value = "noshow" if item.attendance.value == "no_show" else "fulfilled"
            if item.starts_at is None and value not in ("proposed", "cancelled"):
                value = "proposed"  # FHIR: only proposed or cancelled ones may lack a time
            yield {
                "resourceType": "Appointment",
                **self._item_common(item),
                "status": value,
                "description": item.title,
                "start": instant(item.starts_at),
                "comment": item.details,
                "patientInstruction": item.preparation,
                "participant": participants,
            }

    def _build_ServiceRequest(self) -> Iterable[dict]:
        status = REQUEST_STATUS
        systems = {"loinc": "http://loinc.org", "cpt": "http://www.ama-assn.org/go/cpt"}
        for item in self._items_of("referral", "test"):
            code = {"text": item.title}
            if item.code:
                system = systems.get((item.code_system or "").lower(), item.code_system)
                code["coding"] = (
                    [{"system": system, "code": item.code}] if system else [{"code": item.code}]
                )
            resource = {
                "resourceType": "ServiceRequest",
                **self._item_common(item),
                "status": status[item.status.value],
                "intent": "order",
                "category": [{"coding": [coding(ITEM_KIND_SYSTEM, item.kind.value)]}],
                "code": code,
                "subject": ref("Patient", item.patient_id),
                "note": [{"text": item.details}] if item.details else [],
            }
            if item.kind.value == "referral":
                if item.referral_need:
                    resource["category"].append(
                        {"coding": [coding(REFERRAL_NEED_SYSTEM, item.referral_need.value)]}
                    )
                if item.referral_status:
                    resource["extension"].append(
                        {"url": EXT_REFERRAL_STATUS, "valueCode": item.referral_status.value}
                    )
                resource["performer"] = [{"display": item.referred_to}] if item.referred_to else []
                resource["authoredOn"] = instant(item.created_at)
            else:
                resource["occurrenceDateTime"] = day(item.due_date)
                resource["authoredOn"] = day(item.ordered_on)
                resource["requester"] = (
                    ref("Practitioner", item.ordering_member_id)
                    if item.ordering_member_id
                    else {"display": item.ordering_provider_name}
                    if item.ordering_provider_name
                    else None
                )
            yield resource

    def _build_Task(self) -> Iterable[dict]:
        status = {
            "planned": "requested",
            "active": "in-progress",
            "on_hold": "on-hold",
            "completed": "completed",
            "cancelled": "cancelled",
            "stopped": "cancelled",
        }
        weekdays = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        for item in self._items_of("task"):
            timing = None
            if item.schedule is not None and item.schedule.value == "daily":
                timing = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
            elif item.schedule is not None and item.schedule.value == "weekly":
                timing = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}}
                if item.weekday is not None:
                    timing["repeat"]["dayOfWeek"] = [weekdays[item.weekday]]
            resource = {
                "resourceType": "Task",
                **self._item_common(item),
                "status": status[item.status.value],
                "intent": "plan",
                "code": {"text": item.title},
                "description": item.title,
                "for": ref("Patient", item.patient_id),
                "owner": ref("Patient", item.patient_id),
                "authoredOn": instant(item.created_at),
                "restriction": {"period": {"end": day(item.due_date)}} if item.due_date else None,
                "note": [{"text": item.details}] if item.details else [],
            }
            if timing:
                resource["extension"].append({"url": EXT_TASK_TIMING, "valueTiming": timing})
            yield resource

    def _build_CommunicationRequest(self) -> Iterable[dict]:
        status = REQUEST_STATUS
        for item in self._items_of("education"):
            payload = [{"contentString": item.title}]
            if item.details:
                payload.append({"contentString": item.details})
            if item.resource_url:
                payload.append({"contentAttachment": {"url": item.resource_url}})
            yield {
                "resourceType": "CommunicationRequest",
                **self._item_common(item),
                "status": status[item.status.value],
                "subject": ref("Patient", item.patient_id),
                "recipient": [ref("Patient", item.patient_id)],
                "payload": payload,
                "authoredOn": instant(item.created_at),
            }

    def _goals(self) -> list:
        from app.careplan.goals.models import Goal

        return self._visible_rows(Goal)

    def _build_Goal(self) -> Iterable[dict]:
        achievement = "http://terminology.hl7.org/CodeSystem/goal-achievement"
        for goal in self._goals():
            target = {}
            if goal.target_value is not None:
                target["measure"] = {"text": goal.target_unit or goal.description}
                target["detailQuantity"] = {"value": goal.target_value, "unit": goal.target_unit}
            elif goal.target_text:
                target["measure"] = {"text": goal.description}
                target["detailString"] = goal.target_text
            if goal.due_date:
                target["dueDate"] = day(goal.due_date)
            notes = []
            if goal.why_it_matters:
                notes.append({"text": goal.why_it_matters})
            if goal.target_value is not None and goal.target_text:
                notes.append({"text": goal.target_text})
            yield {
                "resourceType": "Goal",
                "id": str(goal.id),
                "meta": meta(goal.updated_at, goal.sensitivity),
                "identifier": self.source_ids("goal", goal.id),
                "lifecycleStatus": goal.lifecycle_status.value,
                "achievementStatus": {
                    "coding": [coding(achievement, goal.achievement_status.value)]
                }
                if goal.achievement_status
                else None,
                "description": {"text": goal.description},
                "subject": ref("Patient", goal.patient_id),
                "startDate": day(goal.start_date),
                "target": [target] if target else [],
                "statusReason": goal.status_reason,
                "expressedBy": self.person(goal.expressed_by_id)
                or (
                    ref("Patient", goal.patient_id, self.patient.full_name)
                    if goal.expressed_by_capacity == "patient"
                    else None
                ),
                "note": notes,
            }

    def _build_CarePlan(self) -> Iterable[dict]:
        p = self.patient
        kinds = {
            "medication": "MedicationRequest",
            "appointment": "Appointment",
            "referral": "ServiceRequest",
            "test": "ServiceRequest",
            "task": "Task",
            "education": "CommunicationRequest",
        }
        updated = [i.updated_at for i in self._items()]
        goals = self._goals() if self.reader.may("Goal") else []
        updated += [g.updated_at for g in goals]
        yield {
            "resourceType": "CarePlan",
            "id": str(p.id),
            "meta": meta(max(updated) if updated else p.updated_at),
            "status": "active",
            "intent": "plan",
            "title": "Care plan",
            "subject": ref("Patient", p.id),
            "careTeam": [ref("CareTeam", p.id)],
            "goal": [ref("Goal", g.id) for g in goals],
            "activity": [
                {"reference": ref(kinds[i.kind.value], i.id, i.title)} for i in self._items()
            ],
        }

    def _grants(self) -> list:
        if "_grants" not in self._cache:
            from app.auth.models import User
            from app.caregivers.models import CaregiverGrant

            self._cache["_grants"] = list(
                db.session.execute(
                    sa.select(CaregiverGrant, User.full_name)
                    .join(User, User.id == CaregiverGrant.caregiver_id)
                    .where(CaregiverGrant.patient_id == self.patient.id)
                    .order_by(CaregiverGrant.id)
                ).all()
            )
        return self._cache["_grants"]

    def _build_RelatedPerson(self) -> Iterable[dict]:
        role = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
        legal = {"guardian": "GUARD", "legal_representative": "POWATT"}
        for grant, name in self._grants():
            relationship = [{"text": grant.relationship_label}]
            if grant.kind.value in legal:
                relationship.append({"coding": [coding(role, legal[grant.kind.value])]})
            yield {
                "resourceType": "RelatedPerson",
                "id": str(grant.id),
                "meta": meta(grant.updated_at),
                "active": grant.is_current(),
                "patient": ref("Patient", grant.patient_id),
                "relationship": relationship,
                "name": [{"text": name}],
                "period": {"start": instant(grant.starts_at), "end": instant(grant.ends_at)},
            }

    def _build_Consent(self) -> Iterable[dict]:
        for grant, name in self._grants():
            included = set(grant.sensitive_categories or [])
            labels = [
                coding(*SECURITY_LABELS[c][:2])
                for c in SECURITY_LABELS
                if c in included and c != Sensitivity.CONFIDENTIAL.value
            ]
            excluded = [
                coding(*SECURITY_LABELS[c][:2]) for c in SECURITY_LABELS if c not in included
            ]
            end = grant.revoked_at or grant.ends_at
            yield {
                "resourceType": "Consent",
                "id": str(grant.id),
                "meta": meta(grant.updated_at),
                "status": "active" if grant.is_current() else "inactive",
                "scope": {
                    "coding": [
                        coding(
                            "http://terminology.hl7.org/CodeSystem/consentscope",
                            "patient-privacy",
                        )
                    ]
                },
                "category": [{"coding": [coding("http://loinc.org", "59284-0")]}],
                "patient": ref("Patient", grant.patient_id),
                "dateTime": instant(grant.created_at),
                "performer": [ref("Patient", grant.patient_id)],
                "policyRule": {
                    "coding": [coding(ACT_CODE, "OPTIN")],
                    "text": grant.legal_authority or grant.kind.value,
                },
                "provision": {
                    "type": "permit",
                    "period": {"start": instant(grant.starts_at), "end": instant(end)},
                    "actor": [
                        {
                            "role": {
                                "coding": [
                                    coding(
                                        "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                        "IRCP",
                                    )
                                ]
                            },
                            "reference": ref("RelatedPerson", grant.id, name),
                        }
                    ],
                    "action": [
                        {
                            "coding": [
                                coding(
                                    "http://terminology.hl7.org/CodeSystem/consentaction", "access"
                                )
                            ]
                        }
                    ],
                    "class": [coding(GRANT_KIND_SYSTEM, grant.kind.value)]
                    + [coding(SCOPE_SYSTEM, s) for s in sorted(grant.scopes or [])],
                    "securityLabel": labels,
                    "provision": [{"type": "deny", "securityLabel": excluded}],
                },
            }

    def _build_Communication(self) -> Iterable[dict]:
        from app.messaging.models import Message, Thread

        rows = db.session.execute(
            sa.select(Message, Thread)
            .join(Thread, Thread.id == Message.thread_id)
            .where(
                Thread.patient_id == self.patient.id,
                visible(Thread.effective_sensitivity, self.reader.hidden),
                Message.internal.is_(False),  # internal notes: never exported
            )
            .order_by(Message.thread_id, Message.created_at, Message.id)
        ).all()
        previous: dict[int, int] = {}
        team = ref("CareTeam", self.patient.id)
        patient = ref("Patient", self.patient.id)
        for message, thread in rows:
            sender = self.person(message.author_id)
            if message.capacity == "care_team":
                recipient = patient
                if sender is None:
                    sender = {"display": "care team"}
            else:
                recipient = team
                if sender is None and message.capacity == "patient":
                    # The patient wrote it (before they had an account: imported history).
                    sender = ref("Patient", self.patient.id, self.patient.full_name)
            resource = {
                "resourceType": "Communication",
                "id": str(message.id),
                "meta": meta(message.created_at, thread.effective_sensitivity),
                "identifier": [{"system": THREAD_SYSTEM, "value": str(thread.id)}],
                "status": "completed",
                "category": [{"coding": [coding(TOPIC_SYSTEM, thread.topic.value)]}],
                "subject": patient,
                "topic": {"text": thread.subject},
                "about": [
                    ref(
                        {
                            "medication": "MedicationRequest",
                            "appointment": "Appointment",
                            "referral": "ServiceRequest",
                            "test": "ServiceRequest",
                            "task": "Task",
                            "education": "CommunicationRequest",
                        }[kind],
                        thread.plan_item_id,
                    )
                ]
                if thread.plan_item_id and (kind := self._item_kind(thread.plan_item_id))
                else [],
                "inResponseTo": [ref("Communication", previous[thread.id])]
                if thread.id in previous
                else [],
                "sent": instant(message.created_at),
                "sender": sender,
                "recipient": [recipient],
                "payload": [{"contentString": message.body}],
            }
            previous[thread.id] = message.id
            yield resource

    def _item_kind(self, item_id: int) -> str | None:
        if self.reader.may("CarePlan"):
            for item in self._items():
                if item.id == item_id:
                    return item.kind.value
        return None


def source_identifiers(*conditions) -> dict[tuple[str, int], list[dict]]:
    """(entity, row id) -> the identifiers the rows had at their sources, in one query."""
    from app.fhir.sources import FhirSource

    found: dict[tuple[str, int], list[dict]] = {}
    rows = db.session.execute(
        sa.select(
            FhirSource.entity, FhirSource.entity_id, FhirSource.source_system, FhirSource.fhir_id
        )
        .where(
            *conditions,
            FhirSource.entity_id.is_not(None),
            ~FhirSource.resource_type.endswith(".identifier"),
        )
        .order_by(FhirSource.id)
    )
    for kind, row_id, system, fhir_id in rows:
        if ":" in system and not any(c.isspace() for c in system):
            identifier = {"system": system, "value": fhir_id}
        else:  # a source known by name only, not a URI
            identifier = {"value": fhir_id, "assigner": {"display": system}}
        found.setdefault((kind, row_id), []).append(identifier)
    return found


def patients_page(patients: list) -> list[dict]:
    """Patient resources for a search page (what the summary shows), in one query for their
    source identifiers, not one per patient."""
    from app.fhir.sources import FhirSource

    sources = source_identifiers(
        FhirSource.entity == "patient", FhirSource.entity_id.in_([p.id for p in patients])
    )
    reader = Reader(frozenset({P.VIEW_SUMMARY}))
    found = []
    for patient in patients:
        record = Record(patient, reader)
        record._cache["_sources"] = sources
        found.extend(record.resources("Patient"))
    return found


def bundle(kind: str, resources: list[dict], base: str, *, links=(), total=None) -> dict:
    """A searchset or collection Bundle with each entry's fullUrl."""
    entries = []
    for resource in resources:
        entry = {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}"}
        entry["resource"] = resource
        if kind == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    found = {
        "resourceType": "Bundle",
        "type": kind,
        "timestamp": instant(datetime.now(UTC)),
    }
    if total is not None:
        found["total"] = total
    if links:
        found["link"] = [{"relation": rel, "url": url} for rel, url in links]
    found["entry"] = entries
    return found
