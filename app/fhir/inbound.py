"""FHIR R4 import: a Bundle (transaction, batch or collection) or one resource, mapped onto
CareCircle's records, in one transaction, by `flask fhir import` and `POST /fhir`.

How it goes, and why:
1. Read the JSON (size, depth, NUL bytes refused before anything else) and list the entries.
2. Skip what CareCircle does not use by looking at `resourceType` in the raw dict: a Synthea
   bundle is mostly Observations, Claims and Encounters, and validating those would be most of
   the time spent. Skipped types are counted in the report.
3. Validate every supported entry with fhir.resources (R4B models read R4 data). One invalid
   entry rejects the whole Bundle with an OperationOutcome naming the entry's index, fullUrl
   and the path of the error: nothing is written.
4. Check what CareCircle itself needs (a patient's name and birth date, a subject we know). In
   a transaction one problem rejects everything (422); in a batch that entry alone is refused.
5. Write, in dependency order, matching what came before through `FhirSource` (source system,
   type, id; patients also by identifier): the same Bundle twice leaves one copy, a changed
   resource updates its row and writes "What changed" like a manual edit, an activity a
   CarePlan no longer lists is ended (never deleted), and a field the team edited since the
   last import keeps the team's value, with what the source now says kept for the item page.

Caregiver access is never granted by an import: a grant in CareCircle is the patient's own yes
(and needs the caregiver's account). A RelatedPerson is a proposal (app.fhir.proposals) that a
Consent permitting access turns into a question for the patient: Invite sends the normal
invitation. A Communication is history in the patient's threads: nobody is notified.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from app.auth.models import Role, User
from app.caregivers.labels import relation_from_words
from app.careplan import changes
from app.careplan.goals.models import Goal, GoalAchievement, GoalLifecycle
from app.careplan.items.models import (
    CLOSED_STATUSES,
    Area,
    Attendance,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanItem,
    ReferralNeed,
    ReferralStatus,
    Schedule,
)
from app.careplan.items.services import normalise_ingredients, refresh_flags
from app.careplan.models import ChangeKind, ChangeSubject
from app.core import audit
from app.core.db import utcnow
from app.core.privacy import Sensitivity
from app.core.signals import goal_changed, plan_item_changed
from app.extensions import db
from app.fhir import proposals
from app.fhir.outbound import (
    AREA_SYSTEM,
    CARE_ROLE_SYSTEM,
    DISCIPLINE_SYSTEM,
    EXT_AREA,
    EXT_REFERRAL_STATUS,
    EXT_SOURCE_ORG,
    EXT_TASK_TIMING,
    EXT_WHY,
    REFERRAL_NEED_SYSTEM,
    THREAD_SYSTEM,
    TOPIC_SYSTEM,
)
from app.fhir.sources import FhirSource
from app.messaging.models import Message, Thread, ThreadStatus, Topic
from app.messaging.services import mark_read
from app.patients.models import Patient
from app.team.models import (
    CareRole,
    CareTeamAssignment,
    CareTeamMember,
    Discipline,
    Organization,
    OrganizationKind,
)

#: What the import maps; anything else is skipped (and counted) without being validated.
SUPPORTED = frozenset(
    {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "CareTeam",
        "RelatedPerson",
        "CarePlan",
        "Goal",
        "Appointment",
        "MedicationRequest",
        "ServiceRequest",
        "Task",
        "CommunicationRequest",
        "Consent",
        "Communication",
    }
)
#: Written in this order, so what a resource points at is there before it.
ORDER = (
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Patient",
    "RelatedPerson",
    "Goal",
    "CarePlan",
    "MedicationRequest",
    "ServiceRequest",
    "Appointment",
    "Task",
    "CommunicationRequest",
    "CareTeam",
    "Consent",
    "Communication",
)
#: A Bundle bigger than this is refused (a Synthea bundle has a few hundred entries).
MAX_ENTRIES = 10_000
#: JSON nested deeper than this is refused before it is parsed (FHIR resources nest ~10 deep).
MAX_DEPTH = 64
#: Problems listed in one OperationOutcome.
MAX_ISSUES = 20
#: The audit resource of what an import writes ("Who has seen my record": registered in
#: import_api with its words).
AUDIT_RESOURCE = "fhir.import"
#: Source system when neither the Bundle nor an organization in it names one.
DEFAULT_SOURCE = "urn:carecircle:fhir-import"

#: An address an invitation can go to (the invite form checks more; this keeps out junk).
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[A-Za-z]{2,}")

#: The longest message taken (characters): a message, not a document.
MESSAGE_MAX = 20_000
#: How far ahead of our clock a message's `sent` may be (the source's clock may run fast).
FUTURE_SLACK = timedelta(days=1)

#: Identifier systems never kept (government ids: not ours to hold).
NOT_KEPT_SYSTEMS = ("http://hl7.org/fhir/sid/us-ssn", "urn:oid:2.16.840.1.113883.4.1")
NOT_KEPT_TYPES = frozenset({"SS", "SB", "DL", "PPN", "PPT"})


# ------------------------------------------------------------------ errors and the report


class ImportRejected(Exception):
    """The input cannot be imported; `outcome` says why (an OperationOutcome), `status` is the
    HTTP status to answer with (400: not FHIR we can read; 413: too big; 422: not importable)."""

    def __init__(self, status: int, issues: list[dict]):
        super().__init__(issues[0].get("diagnostics") if issues else "rejected")
        self.status = status
        self.issues = issues[:MAX_ISSUES]

    @property
    def outcome(self) -> dict:
        return {"resourceType": "OperationOutcome", "issue": self.issues}


def issue(code: str, diagnostics: str, expression: list[str] | None = None, severity="error"):
    found = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        found["expression"] = expression
    return found


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    ended: int = 0
    #: One per input entry: (status, location or None, outcome issue or None).
    responses: list[tuple[str, str | None, dict | None]] = field(default_factory=list)
    patient_ids: list[int] = field(default_factory=list)
    bundle_type: str = "batch"
    #: Why each refused entry was refused (OperationOutcome issues).
    problems: list[dict] = field(default_factory=list)

    def merge(self, other: ImportReport) -> None:
        for name in ("created", "updated", "unchanged", "skipped", "refused"):
            getattr(self, name).update(getattr(other, name))
        self.ended += other.ended
        self.problems.extend(other.problems)
        self.patient_ids.extend(p for p in other.patient_ids if p not in self.patient_ids)

    def lines(self) -> list[str]:
        def words(counter: Counter) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"

        return [
            f"created: {sum(self.created.values())} ({words(self.created)})",
            f"updated: {sum(self.updated.values())} ({words(self.updated)})",
            f"unchanged: {sum(self.unchanged.values())} ({words(self.unchanged)})",
            f"skipped by type: {sum(self.skipped.values())} ({words(self.skipped)})",
            f"refused: {sum(self.refused.values())} ({words(self.refused)})",
            f"ended: {self.ended}",
        ]

    def response_bundle(self) -> dict:
        kind = "transaction-response" if self.bundle_type == "transaction" else "batch-response"
        entries = []
        for status, location, problem in self.responses:
            response: dict = {"status": status}
            if location:
                response["location"] = location
            if problem:
                response["outcome"] = {"resourceType": "OperationOutcome", "issue": [problem]}
            entries.append({"response": response})
        return {"resourceType": "Bundle", "type": kind, "entry": entries}


# ------------------------------------------------------------------ reading the input


def _depth_ok(text: str) -> bool:
    """Nesting depth, counted on brackets outside strings, before json parses anything."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


_DEEP = re.compile(r"[\[{]\s*[\[{]\s*[\[{]\s*[\[{]\s*[\[{]\s*[\[{]\s*[\[{]\s*[\[{]")


def load_json(raw: bytes | str) -> dict:
    """The parsed resource, or ImportRejected(400) for what is not JSON we will read."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as err:
        raise ImportRejected(400, [issue("structure", "The body is not UTF-8.")]) from err
    if "\x00" in text or "\\u0000" in text:
        raise ImportRejected(400, [issue("structure", "NUL characters are not allowed.")])
    # Cheap test first: only text with long runs of brackets is walked character by character.
    if _DEEP.search(text) and not _depth_ok(text):
        raise ImportRejected(400, [issue("structure", "The JSON is nested too deeply.")])
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ImportRejected(400, [issue("structure", "The body is not valid JSON.")]) from err
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise ImportRejected(400, [issue("structure", "Expected a FHIR resource or Bundle.")])
    return data


# ------------------------------------------------------------------ small FHIR readers


def _text(concept) -> str | None:
    """The words of a CodeableConcept: its text, else its first coding's display or code."""
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"]).strip() or None
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"]).strip()
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"])
    return None


def _first_text(*concepts) -> str | None:
    for concept in concepts:
        if isinstance(concept, list):
            for one in concept:
                found = _text(one)
                if found:
                    return found
        else:
            found = _text(concept)
            if found:
                return found
    return None


def _codings(*concepts) -> list[dict]:
    found = []
    for concept in concepts:
        for one in concept if isinstance(concept, list) else [concept]:
            if isinstance(one, dict):
                found.extend(c for c in one.get("coding") or [] if isinstance(c, dict))
    return found


def _day(value) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _instant(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            found = datetime.combine(date.fromisoformat(value), time(12, 0), tzinfo=UTC)
        else:
            found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found.astimezone(UTC)


def _cut(value, length: int) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value[:length] or None


def _human_name(names) -> tuple[str | None, str | None, list[str]]:
    """(given, family, prefixes) from a HumanName list: the official or usual name first."""
    if not isinstance(names, list) or not names:
        return None, None, []
    ranked = sorted(
        (n for n in names if isinstance(n, dict)),
        key=lambda n: {"official": 0, "usual": 1}.get(n.get("use"), 2),
    )
    for name in ranked:
        given = " ".join(name.get("given") or []) or None
        family = name.get("family")
        if not (given and family) and name.get("text"):
            parts = str(name["text"]).split()
            if len(parts) >= 2:
                given, family = given or " ".join(parts[:-1]), family or parts[-1]
        if given or family:
            return given, family, list(name.get("prefix") or [])
    return None, None, []


def _extension(resource: dict, url: str) -> dict | None:
    """The resource's first extension with this url (CareCircle's own, app.fhir.outbound)."""
    return next(
        (e for e in resource.get("extension") or [] if isinstance(e, dict) and e.get("url") == url),
        None,
    )


def _own_code(enum_cls, system: str, *concepts):
    """The first coding of `system` among the concepts whose code `enum_cls` knows."""
    for c in _codings(*concepts):
        if c.get("system") == system and c.get("code") in {m.value for m in enum_cls}:
            return enum_cls(c["code"])
    return None


def _own_area(resource: dict) -> Area | None:
    """The area of life CareCircle's export wrote (its area-of-life extension)."""
    ext = _extension(resource, EXT_AREA) or {}
    return _own_code(Area, AREA_SYSTEM, ext.get("valueCodeableConcept"))


def _notes(resource: dict) -> list[str]:
    return [
        n["text"]
        for n in resource.get("note") or []
        if isinstance(n, dict) and isinstance(n.get("text"), str) and n["text"].strip()
    ]


#: CareCircle's referral-status extension (its loop: sent, contacted, enrolled, declined).
REFERRAL_STATUS = {s.value: s for s in ReferralStatus}

#: FHIR's days of the week -> CareCircle's weekday (Monday 0).
WEEKDAYS = {d: n for n, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}


def _ref(value) -> str | None:
    return value.get("reference") if isinstance(value, dict) else None


def _meta(resource: dict) -> dict:
    return resource.get("meta") if isinstance(resource.get("meta"), dict) else {}


# ------------------------------------------------------------------ sensitive categories

#: meta.security codes (v3 ActCode and Confidentiality) and what they mean here. "R" and "V"
#: (restricted) and SDV (sexual or domestic violence: the caregiver may be the one to fear)
#: map to CONFIDENTIAL, which no caregiver grant can include.
SECURITY_LABELS = {
    "PSY": Sensitivity.BEHAVIORAL_HEALTH,
    "PSYTHPN": Sensitivity.BEHAVIORAL_HEALTH,
    "MH": Sensitivity.BEHAVIORAL_HEALTH,
    "BH": Sensitivity.BEHAVIORAL_HEALTH,
    "ETH": Sensitivity.SUBSTANCE_USE,
    "ETHUD": Sensitivity.SUBSTANCE_USE,
    "SUD": Sensitivity.SUBSTANCE_USE,
    "ALCUD": Sensitivity.SUBSTANCE_USE,
    "OPIOIDUD": Sensitivity.SUBSTANCE_USE,
    "DRGIS": Sensitivity.SUBSTANCE_USE,
    "HIV": Sensitivity.SEXUAL_REPRODUCTIVE,
    "STD": Sensitivity.SEXUAL_REPRODUCTIVE,
    "SEX": Sensitivity.SEXUAL_REPRODUCTIVE,
    "REPRO": Sensitivity.SEXUAL_REPRODUCTIVE,
    "SDV": Sensitivity.CONFIDENTIAL,
    "R": Sensitivity.CONFIDENTIAL,
    "V": Sensitivity.CONFIDENTIAL,
}
#: SNOMED CT codes of sensitive care plans and activities seen in EHR data.
SNOMED_CODES = {
    "718347000": Sensitivity.BEHAVIORAL_HEALTH,  # Mental health care plan
    "401277000": Sensitivity.BEHAVIORAL_HEALTH,  # Completion of mental health crisis plan
    "304891004": Sensitivity.BEHAVIORAL_HEALTH,  # Cognitive behavioral therapy
    "385989002": Sensitivity.SUBSTANCE_USE,  # (substance misuse) care plan
    "408945001": Sensitivity.SUBSTANCE_USE,  # Alcohol abuse care plan
    "410351001": Sensitivity.SEXUAL_REPRODUCTIVE,  # Contraception care
    "736376001": Sensitivity.SEXUAL_REPRODUCTIVE,  # Infectious disease care plan (HIV)
}
#: Words in a category, code or description that mark a category (lower case, word starts).
KEYWORDS = (
    (Sensitivity.SUBSTANCE_USE, r"substance|alcohol|opioid|addiction|drug (?:use|abuse)"),
    (Sensitivity.SUBSTANCE_USE, r"buprenorphine|methadone|naltrexone|detox"),
    (Sensitivity.BEHAVIORAL_HEALTH, r"mental|behaviou?ral health|psych|depress|anxiety"),
    (Sensitivity.BEHAVIORAL_HEALTH, r"counsel+ing|bipolar|schizo|suicid|ptsd|eating disorder"),
    (Sensitivity.SEXUAL_REPRODUCTIVE, r"hiv\b|sexual|contracept|std\b|sti\b|reproductive"),
    (Sensitivity.SEXUAL_REPRODUCTIVE, r"pregnan|prenatal|abortion|family planning"),
)
_KEYWORDS = [(s, re.compile(r"\b(?:" + words + ")", re.I)) for s, words in KEYWORDS]
#: The order in which one category wins when several apply (the most protected first).
PRECEDENCE = (
    Sensitivity.CONFIDENTIAL,
    Sensitivity.SUBSTANCE_USE,
    Sensitivity.SEXUAL_REPRODUCTIVE,
    Sensitivity.BEHAVIORAL_HEALTH,
)


def _icd10(code: str) -> Sensitivity | None:
    code = code.upper()
    if re.match(r"F1\d", code):
        return Sensitivity.SUBSTANCE_USE
    if code.startswith("F"):
        return Sensitivity.BEHAVIORAL_HEALTH
    if code.startswith(("B20", "Z21", "A5", "A6", "Z30", "O")):
        return Sensitivity.SEXUAL_REPRODUCTIVE
    return None


def sensitivity_of(resource: dict, *concepts, words: tuple = ()) -> Sensitivity | None:
    """The sensitive category of a resource (and the concepts that describe it), decided from
    its security labels, then known codes, then words: one category, the most protected."""
    found: set[Sensitivity] = set()
    for label in _meta(resource).get("security") or []:
        if isinstance(label, dict) and str(label.get("code", "")).upper() in SECURITY_LABELS:
            found.add(SECURITY_LABELS[str(label["code"]).upper()])
    texts = [w for w in words if isinstance(w, str)]
    for coding in _codings(*concepts):
        system = str(coding.get("system") or "")
        code = str(coding.get("code") or "")
        if "snomed" in system and code in SNOMED_CODES:
            found.add(SNOMED_CODES[code])
        elif "icd-10" in system.lower() or "icd10" in system.lower():
            category = _icd10(code)
            if category:
                found.add(category)
        if coding.get("display"):
            texts.append(str(coding["display"]))
    for concept in concepts:
        for one in concept if isinstance(concept, list) else [concept]:
            if isinstance(one, dict) and one.get("text"):
                texts.append(str(one["text"]))
    blob = " | ".join(texts)
    for category, pattern in _KEYWORDS:
        if pattern.search(blob):
            found.add(category)
    for category in PRECEDENCE:
        if category in found:
            return category
    return None


# ------------------------------------------------------------------ values for the models


def _area(sensitivity: Sensitivity | None, *texts: str | None) -> Area:
    blob = " ".join(t for t in texts if t).lower()
    if sensitivity in (Sensitivity.BEHAVIORAL_HEALTH, Sensitivity.SUBSTANCE_USE):
        return Area.EMOTIONAL_HEALTH
    if re.search(r"dental|teeth|tooth|oral health", blob):
        return Area.TEETH
    if re.search(r"housing|food|transport|meal|utilit", blob):
        return Area.HOME_FOOD_TRANSPORT
    if re.search(r"self[- ]care|daily living|exercise|diet", blob):
        return Area.DAILY_LIVING
    return Area.PHYSICAL_HEALTH


def _discipline(*texts: str | None) -> Discipline:
    blob = " ".join(t for t in texts if t).lower()
    for pattern, discipline in (
        (r"nurs", Discipline.NURSING),
        (r"pharm", Discipline.PHARMACY),
        (r"psych|behavio|mental|counsel", Discipline.BEHAVIORAL_HEALTH),
        (r"dent", Discipline.DENTAL),
        (r"social|community health", Discipline.SOCIAL_SERVICES),
        (r"cardio|oncol|surg|specialist|neuro|derma|orthop", Discipline.SPECIALTY),
    ):
        if re.search(pattern, blob):
            return discipline
    return Discipline.PRIMARY_CARE


ACTIVITY_STATUS = {
    "not-started": ItemStatus.PLANNED,
    "scheduled": ItemStatus.PLANNED,
    "in-progress": ItemStatus.ACTIVE,
    "on-hold": ItemStatus.ON_HOLD,
    "completed": ItemStatus.COMPLETED,
    "cancelled": ItemStatus.CANCELLED,
    "stopped": ItemStatus.STOPPED,
    "entered-in-error": ItemStatus.CANCELLED,
}
REQUEST_STATUS = {  # MedicationRequest, ServiceRequest, CommunicationRequest
    "draft": ItemStatus.PLANNED,
    "active": ItemStatus.ACTIVE,
    "on-hold": ItemStatus.ON_HOLD,
    "cancelled": ItemStatus.CANCELLED,
    "revoked": ItemStatus.CANCELLED,
    "completed": ItemStatus.COMPLETED,
    "stopped": ItemStatus.STOPPED,
    "entered-in-error": ItemStatus.CANCELLED,
}
APPOINTMENT_STATUS = {
    "proposed": ItemStatus.PLANNED,
    "pending": ItemStatus.PLANNED,
    "waitlist": ItemStatus.PLANNED,
    "fulfilled": ItemStatus.COMPLETED,
    "cancelled": ItemStatus.CANCELLED,
    # A missed appointment is in the past, like an attended one: its attendance says which.
    "noshow": ItemStatus.COMPLETED,
    "entered-in-error": ItemStatus.CANCELLED,
}
#: Appointment.status -> what happened, as the team recorded it (PlanItem.attendance).
APPOINTMENT_ATTENDANCE = {"fulfilled": Attendance.ATTENDED, "noshow": Attendance.NO_SHOW}
TASK_STATUS = {
    "draft": ItemStatus.PLANNED,
    "requested": ItemStatus.PLANNED,
    "received": ItemStatus.PLANNED,
    "accepted": ItemStatus.PLANNED,
    "ready": ItemStatus.PLANNED,
    "in-progress": ItemStatus.ACTIVE,
    "on-hold": ItemStatus.ON_HOLD,
    "completed": ItemStatus.COMPLETED,
    "cancelled": ItemStatus.CANCELLED,
    "rejected": ItemStatus.CANCELLED,
    "failed": ItemStatus.CANCELLED,
    "entered-in-error": ItemStatus.CANCELLED,
}
GOAL_LIFECYCLE = {
    "proposed": GoalLifecycle.PROPOSED,
    "planned": GoalLifecycle.PROPOSED,
    "accepted": GoalLifecycle.ACCEPTED,
    "active": GoalLifecycle.ACTIVE,
    "on-hold": GoalLifecycle.ON_HOLD,
    "completed": GoalLifecycle.COMPLETED,
    "cancelled": GoalLifecycle.CANCELLED,
    "entered-in-error": GoalLifecycle.CANCELLED,
    "rejected": GoalLifecycle.REJECTED,
}
GOAL_ACHIEVEMENT = {
    "in-progress": GoalAchievement.IN_PROGRESS,
    "improving": GoalAchievement.IMPROVING,
    "worsening": GoalAchievement.WORSENING,
    "no-change": GoalAchievement.IN_PROGRESS,
    "sustaining": GoalAchievement.IN_PROGRESS,
    "no-progress": GoalAchievement.IN_PROGRESS,
    "achieved": GoalAchievement.ACHIEVED,
    "not-achieved": GoalAchievement.NOT_ACHIEVED,
    "not-attainable": GoalAchievement.NOT_ACHIEVED,
}
CODE_SYSTEMS = {"loinc": "LOINC", "snomed": "SNOMED", "cpt": "CPT", "rxnorm": "RxNorm"}

#: Words of a medicine's name that are its form, not an ingredient.
_DOSE_FORMS = frozenset(
    [
        "oral",
        "tablet",
        "tablets",
        "capsule",
        "capsules",
        "solution",
        "injection",
        "injectable",
        "suspension",
        "extended",
        "release",
        "delayed",
        "cream",
        "ointment",
        "spray",
        "inhaler",
        "patch",
        "topical",
        "chewable",
        "disintegrating",
        "film",
        "coated",
        "metered",
        "dose",
        "prefilled",
        "syringe",
        "auto-injector",
        "pen",
    ]
)


def ingredients_from_name(name: str | None) -> list[str]:
    """ "Hydrochlorothiazide 25 MG" -> ["hydrochlorothiazide"]; "24 HR Metformin ..." too.
    What RxNorm names put before the strength, each part of a "/" combination."""
    found = []
    for part in re.split(r"\s*/\s*", (name or "").lower()):
        words = []
        for word in re.sub(r"^\d+\s*hr\s+", "", part.strip()).split():
            if re.search(r"\d", word) or word in ("mg", "ml", "mcg", "unt", "%"):
                break
            if word not in _DOSE_FORMS:
                words.append(word.strip("[](),"))
        if words:
            found.append(" ".join(words))
    return normalise_ingredients(found)


def _code_and_system(concept) -> tuple[str | None, str | None]:
    for coding in _codings(concept):
        if coding.get("code"):
            system = str(coding.get("system") or "")
            name = next((v for k, v in CODE_SYSTEMS.items() if k in system.lower()), None)
            return _cut(coding["code"], 32), name or _cut(system.rsplit("/", 1)[-1], 32)
    return None, None


def _jsonable(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _digest(*parts) -> str:
    return hashlib.sha256(
        json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


# ------------------------------------------------------------------ entries


@dataclass
class Entry:
    index: int
    full_url: str | None
    type: str
    resource: dict
    #: The id the source knows it by (the resource id, else the uuid of its urn:uuid fullUrl).
    fhir_id: str

    @property
    def label(self) -> str:
        return f"Bundle.entry[{self.index}]" if self.index >= 0 else self.type

    @property
    def location(self) -> str:
        return f"{self.type}/{self.fhir_id}"


def _entries(data: dict) -> tuple[str, list[tuple[int, dict | None, str | None]]]:
    """(bundle type, [(index, resource, fullUrl)]) for a Bundle or a single resource."""
    if data["resourceType"] != "Bundle":
        return "batch", [(-1, data, None)]
    kind = data.get("type")
    if kind not in ("transaction", "batch", "collection"):
        raise ImportRejected(
            422,
            [
                issue(
                    "not-supported",
                    "Send a transaction, batch or collection Bundle.",
                    ["Bundle.type"],
                )
            ],
        )
    raw = data.get("entry") or []
    if not isinstance(raw, list):
        raise ImportRejected(400, [issue("structure", "Bundle.entry must be a list.")])
    if len(raw) > MAX_ENTRIES:
        raise ImportRejected(
            413, [issue("too-costly", f"A Bundle may have at most {MAX_ENTRIES} entries.")]
        )
    found = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ImportRejected(
                400, [issue("structure", "An entry must be an object.", [f"Bundle.entry[{index}]"])]
            )
        resource = entry.get("resource")
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        found.append((index, resource if isinstance(resource, dict) else None, full_url))
    return ("transaction" if kind == "transaction" else "batch"), found


def _known_type(resource_type) -> bool:
    """A resource type FHIR R4 defines (used by CareCircle or not)."""
    if resource_type in SUPPORTED:
        return True
    if not isinstance(resource_type, str) or not resource_type.isalpha():
        return False
    try:
        _model_class(resource_type[:64])
    except (ValueError, KeyError, AttributeError):
        return False
    return True


def _model_class(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def validate(entries: list[Entry]) -> list[dict]:
    """fhir.resources R4B validation of each entry; the problems, with entry, fullUrl and path."""
    from pydantic import ValidationError

    problems = []
    for entry in entries:
        try:
            _model_class(entry.type).model_validate(entry.resource)
        except ValidationError as err:
            for error in err.errors()[:5]:
                path = ".".join(str(part) for part in (entry.type, *error["loc"]))
                where = f"{entry.label}" + (f" ({entry.full_url})" if entry.full_url else "")
                problems.append(
                    issue(
                        "invalid",
                        f"{where}: {path}: {error['msg']}",
                        [f"{entry.label}.resource.{path}"],
                    )
                )
        except (ValueError, TypeError, RecursionError) as err:
            problems.append(issue("invalid", f"{entry.label}: {err}"[:300], [entry.label]))
        if len(problems) >= MAX_ISSUES:
            break
    return problems


# ------------------------------------------------------------------ the importer


class EntryRefused(Exception):
    """CareCircle cannot take this entry (not a FHIR error): refused in a batch, fatal in a
    transaction."""

    def __init__(self, entry: Entry, diagnostics: str, path: str | None = None):
        super().__init__(diagnostics)
        self.issue = issue(
            "business-rule",
            f"{entry.label}"
            + (f" ({entry.full_url})" if entry.full_url else "")
            + f": {diagnostics}",
            [f"{entry.label}.resource.{path}"] if path else [entry.label],
        )


class Importer:
    """One import: a Bundle or a resource, in the caller's transaction (it flushes; the caller
    commits, or rolls back when ImportRejected is raised)."""

    def __init__(
        self,
        data: dict,
        *,
        coordinator: CareTeamMember | None = None,
        source_system: str | None = None,
    ):
        self.data = data
        self.coordinator = coordinator
        self.report = ImportReport()
        self.now = utcnow()
        self.source_system = source_system
        self.entries: list[Entry] = []
        self.by_ref: dict[str, Entry] = {}
        self.sources: dict[tuple[str, str], FhirSource] = {}
        #: (type, fhir id) -> the CareCircle row made or found for it.
        self.rows: dict[tuple[str, str], object] = {}
        #: Members this run created (no one's profile yet): a CareTeam's roles may fill it.
        self.new_members: set[int] = set()
        #: (type, fhir id) of resources a CarePlan lists, -> (care plan id, its sensitivity).
        self.listed_by: dict[tuple[str, str], tuple[str, Sensitivity | None]] = {}
        self.touched_patients: set[int] = set()
        self.responses: dict[int, tuple[str, str | None, dict | None]] = {}
        #: New items and goals waiting for the one flush that gives them ids.
        self.new_rows: list[tuple[object, FhirSource, ChangeSubject]] = []
        self._default_org: Organization | None = None

    # -------------------------------------------------------------- the steps

    def run(self) -> ImportReport:
        bundle_type, raw = _entries(self.data)
        self.report.bundle_type = bundle_type
        supported = []
        unknown = [
            issue(
                "not-supported",
                (f"Bundle.entry[{index}]: " if index >= 0 else "")
                + f"{str(resource.get('resourceType'))[:40]!r} is not a FHIR R4 resource type.",
                [f"Bundle.entry[{index}].resource.resourceType" if index >= 0 else "resourceType"],
            )
            for index, resource, _url in raw
            if resource is not None and not _known_type(resource.get("resourceType"))
        ]
        if unknown:
            raise ImportRejected(400, unknown)
        for index, resource, full_url in raw:
            rtype = resource.get("resourceType") if resource else None
            if not isinstance(rtype, str) or rtype not in SUPPORTED:
                name = rtype if isinstance(rtype, str) else "(none)"
                self.report.skipped[name[:40]] += 1
                self.responses[index] = ("200 OK", None, None)
                continue
            fhir_id = resource.get("id")
            if not isinstance(fhir_id, str) and full_url and full_url.startswith("urn:uuid:"):
                fhir_id = full_url.removeprefix("urn:uuid:")
            if not isinstance(fhir_id, str) or not fhir_id:
                raise ImportRejected(
                    422,
                    [
                        issue(
                            "required",
                            f"Bundle.entry[{index}]: a resource needs an id or a urn:uuid fullUrl.",
                            [f"Bundle.entry[{index}]"],
                        )
                    ],
                )
            entry = Entry(index, full_url, rtype, resource, fhir_id[:190])
            supported.append(entry)
        problems = validate(supported)
        if problems:
            raise ImportRejected(400, problems)
        self.entries = supported
        for entry in supported:
            self.by_ref[entry.location] = entry
            if entry.full_url:
                self.by_ref[entry.full_url] = entry
                tail = "/".join(entry.full_url.rstrip("/").split("/")[-2:])
                self.by_ref.setdefault(tail, entry)
        self.source_system = self.source_system or self._source_system()
        self._load_sources()
        self._list_care_plan_members()
        refused: list[dict] = []
        for rtype in ORDER:
            of_type = [e for e in supported if e.type == rtype]
            if rtype == "Communication" and of_type:
                # Messages name the plan items they ask about: those need their ids first.
                self._finish_new()
                of_type.sort(key=lambda e: str(e.resource.get("sent") or ""))
            for entry in of_type:
                try:
                    status = getattr(self, f"_import_{rtype.lower()}")(entry)
                except EntryRefused as err:
                    if bundle_type == "transaction":
                        refused.append(err.issue)
                        continue
                    self.report.refused[rtype] += 1
                    self.report.problems.append(err.issue)
                    self.responses[entry.index] = ("422 Unprocessable Entity", None, err.issue)
                    continue
                getattr(self.report, status)[rtype] += 1
                code = {"created": "201 Created"}.get(status, "200 OK")
                self.responses[entry.index] = (code, entry.location, None)
        if refused:
            raise ImportRejected(422, refused)
        self._finish_new()
        for patient_id in sorted(self.touched_patients):
            refresh_flags(patient_id)
        db.session.flush()
        self.report.responses = [self.responses[i] for i, _r, _u in raw]
        return self.report

    def _source_system(self) -> str:
        """Whose ids these are: Bundle.meta.source, a resource's meta.source, else the first
        organization's identifier (or name)."""
        for resource in [self.data] + [e.resource for e in self.entries]:
            source = _meta(resource).get("source")
            if isinstance(source, str) and source.strip():
                return source.strip()[:200]
        for entry in self.entries:
            if entry.type == "Organization":
                for ident in entry.resource.get("identifier") or []:
                    if ident.get("system") and ident.get("value"):
                        return f"{ident['system']}|{ident['value']}"[:200]
                if entry.resource.get("name"):
                    return f"organization:{entry.resource['name']}"[:200]
        return DEFAULT_SOURCE

    def _load_sources(self) -> None:
        """Every source row this import may meet, in a few queries (by id, then the rows of the
        CarePlans it brings)."""
        ids = sorted({e.fhir_id for e in self.entries})
        plans = sorted({e.fhir_id for e in self.entries if e.type == "CarePlan"})
        found: list[FhirSource] = []
        for start in range(0, len(ids), 500):
            found.extend(
                db.session.scalars(
                    sa.select(FhirSource).where(
                        FhirSource.source_system == self.source_system,
                        FhirSource.fhir_id.in_(ids[start : start + 500]),
                    )
                )
            )
        for start in range(0, len(plans), 500):
            found.extend(
                db.session.scalars(
                    sa.select(FhirSource).where(
                        FhirSource.source_system == self.source_system,
                        FhirSource.parent_fhir_id.in_(plans[start : start + 500]),
                    )
                )
            )
        # What was not found is new: remembered as None, so looking it up costs no query.
        for entry in self.entries:
            self.sources[(entry.type, entry.fhir_id)] = None
            if entry.type == "CarePlan":
                for number in range(len(entry.resource.get("activity") or [])):
                    self.sources[("CarePlan.activity", f"{entry.fhir_id}#{number}")] = None
        for source in found:
            self.sources[(source.resource_type, source.fhir_id)] = source

    def _list_care_plan_members(self) -> None:
        for entry in self.entries:
            if entry.type != "CarePlan":
                continue
            plan_sensitivity = self._plan_sensitivity(entry.resource)
            for activity in entry.resource.get("activity") or []:
                target = self.by_ref.get(_ref(activity.get("reference")) or "")
                if target is not None:
                    self.listed_by[(target.type, target.fhir_id)] = (
                        entry.fhir_id,
                        plan_sensitivity,
                    )

    # -------------------------------------------------------------- references

    def _source(self, rtype: str, fhir_id: str) -> FhirSource | None:
        key = (rtype, fhir_id)
        if key not in self.sources:
            self.sources[key] = db.session.scalar(
                sa.select(FhirSource).where(
                    FhirSource.source_system == self.source_system,
                    FhirSource.resource_type == rtype,
                    FhirSource.fhir_id == fhir_id,
                )
            )
        return self.sources[key]

    def _resolve(self, reference: str | None, rtype: str):
        """The CareCircle row a reference leads to: made by this import, or by an earlier one
        from the same source."""
        if not reference or reference.startswith("#"):
            return None
        target = self.by_ref.get(reference)
        if target is not None:
            if target.type != rtype:
                return None
            return self.rows.get((rtype, target.fhir_id))
        parts = reference.split("/_history")[0].rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != rtype:
            return None
        source = self._source(rtype, parts[-1])
        if source is None or source.entity_id is None:
            return None
        model = {"Patient": Patient, "Organization": Organization}.get(rtype, CareTeamMember)
        row = db.session.get(model, source.entity_id)
        if row is not None:
            self.rows[(rtype, parts[-1])] = row
        return row

    def _patient_of(self, entry: Entry, *references: str | None) -> Patient:
        for reference in references:
            patient = self._resolve(reference, "Patient")
            if patient is not None:
                return patient
        named = next((r for r in references if r), None)
        raise EntryRefused(
            entry,
            f"its patient ({named or 'none given'}) is neither in the Bundle nor imported "
            "before from this source",
            "subject",
        )

    def _organization_for(self, *references: str | None) -> Organization:
        for reference in references:
            org = self._resolve(reference, "Organization")
            if org is not None:
                return org
        return self._fallback_org()

    @staticmethod
    def _source_org_ref(resource: dict) -> str | None:
        """The organization whose item it is, from CareCircle's source-organization extension
        (app.fhir.outbound): items keep their own organization through a round trip."""
        return _ref((_extension(resource, EXT_SOURCE_ORG) or {}).get("valueReference"))

    def _fallback_org(self) -> Organization:
        """The Bundle's first organization, else the coordinator's, else one named after the
        source (every plan item names the organization it came from)."""
        if self._default_org is None:
            for entry in self.entries:
                if entry.type == "Organization" and ("Organization", entry.fhir_id) in self.rows:
                    self._default_org = self.rows[("Organization", entry.fhir_id)]
                    break
        if self._default_org is None and self.coordinator is not None:
            self._default_org = db.session.get(Organization, self.coordinator.organization_id)
        if self._default_org is None:
            name = _cut(self.source_system.split("|")[0].removeprefix("organization:"), 160)
            self._default_org = self._organization_named(name or "Imported records")
        return self._default_org

    def _cco_id(self) -> int | None:
        if not hasattr(self, "_cco"):
            self._cco = db.session.scalar(
                sa.select(Organization.id)
                .where(Organization.kind == OrganizationKind.CCO)
                .order_by(Organization.id)
                .limit(1)
            )
        return self._cco

    def _organization_named(
        self, name: str, phone: str | None = None, kind: OrganizationKind | None = None
    ) -> Organization:
        org = db.session.scalar(sa.select(Organization).where(Organization.name == name))
        if org is None:
            if kind is OrganizationKind.CCO and self._cco_id() is not None:
                kind = None  # one CCO: another system's "cco" is a partner organization
            org = Organization(
                name=name,
                kind=kind or OrganizationKind.PRIMARY_CARE,
                parent_id=self._cco_id(),
                phone=phone,
            )
            db.session.add(org)
            db.session.flush()
        return org

    def _keep(
        self,
        entry: Entry,
        entity: str,
        entity_id: int | None,
        *,
        digest: str,
        patient_id: int | None = None,
        organization_id: int | None = None,
        rtype: str | None = None,
        fhir_id: str | None = None,
        parent: str | None = None,
        taken: dict | None = None,
        summary: dict | None = None,
    ) -> FhirSource:
        """Create or refresh the source row of what an entry became."""
        rtype = rtype or entry.type
        fhir_id = fhir_id or entry.fhir_id
        source = self._source(rtype, fhir_id)
        meta = _meta(entry.resource)
        if source is None:
            source = FhirSource(
                source_system=self.source_system,
                resource_type=rtype,
                fhir_id=fhir_id,
                imported_at=self.now,
            )
            db.session.add(source)
            self.sources[(rtype, fhir_id)] = source
        source.entity, source.entity_id = entity, entity_id
        source.patient_id = patient_id
        source.organization_id = organization_id
        source.parent_fhir_id = parent
        source.version_id = _cut(meta.get("versionId"), 64)
        source.last_updated = _instant(meta.get("lastUpdated"))
        source.content_digest = digest
        source.taken = taken
        source.summary = summary
        source.updated_at = self.now
        source.ended_at = None
        return source

    def _unchanged(self, rtype: str, fhir_id: str, digest: str, model=None):
        """The row an unchanged resource made earlier (None: it changed or is new)."""
        source = self._source(rtype, fhir_id)
        if source is None or source.content_digest != digest or source.ended_at is not None:
            return None
        if model is None:
            return source
        row = db.session.get(model, source.entity_id) if source.entity_id else None
        return row

    # -------------------------------------------------------------- organizations and people

    def _import_organization(self, entry: Entry) -> str:
        resource = entry.resource
        digest = _digest(resource)
        row = self._unchanged("Organization", entry.fhir_id, digest, Organization)
        if row is not None:
            self.rows[("Organization", entry.fhir_id)] = row
            return "unchanged"
        name = _cut(resource.get("name"), 160)
        if not name:
            raise EntryRefused(entry, "an organization needs a name", "name")
        phone = next(
            (t.get("value") for t in resource.get("telecom") or [] if t.get("system") == "phone"),
            None,
        )
        source = self._source("Organization", entry.fhir_id)
        org = (
            db.session.get(Organization, source.entity_id) if source and source.entity_id else None
        )
        status = "updated"
        if org is None:
            kinds = {k.value: k for k in OrganizationKind}
            kind = next(
                (kinds[t["text"]] for t in resource.get("type") or [] if t.get("text") in kinds),
                None,
            )
            org = self._organization_named(name, _cut(phone, 20), kind)
            status = "created"
        else:
            if org.name != name and not db.session.scalar(
                sa.select(Organization.id).where(Organization.name == name)
            ):
                org.name = name
            org.phone = _cut(phone, 20) or org.phone
        self.rows[("Organization", entry.fhir_id)] = org
        self._keep(entry, "organization", org.id, digest=digest, organization_id=org.id)
        return status

    def _import_practitioner(self, entry: Entry) -> str:
        resource = entry.resource
        digest = _digest(resource)
        row = self._unchanged("Practitioner", entry.fhir_id, digest, CareTeamMember)
        if row is not None:
            self.rows[("Practitioner", entry.fhir_id)] = row
            return "unchanged"
        given, family, prefixes = _human_name(resource.get("name"))
        if not (given or family):
            raise EntryRefused(entry, "a practitioner needs a name", "name")
        full_name = _cut(" ".join(p for p in (given, family) if p), 120)
        email = next(
            (
                str(t["value"]).strip().lower()
                for t in resource.get("telecom") or []
                if t.get("system") == "email" and t.get("value")
            ),
            None,
        )
        source = self._source("Practitioner", entry.fhir_id)
        member = (
            db.session.get(CareTeamMember, source.entity_id)
            if source is not None and source.entity_id
            else None
        )
        status = "updated"
        if member is None:
            member = self._member_by_identifier(resource) or self._member_by_email(email)
        if member is None:
            # No login yet: an inactive care-team account without a password, which an admin
            # can invite later. A placeholder address when the source gives none (.invalid
            # never delivers), unique per source and id.
            address = email or (
                f"fhir-{_digest(self.source_system, entry.fhir_id)[:20]}@imported.invalid"
            )
            user = db.session.scalar(sa.select(User).where(User.email == address))
            if user is None:
                user = User(
                    email=address,
                    full_name=full_name,
                    role=Role.CARE_TEAM,
                    active=False,
                    password_hash=None,
                )
                db.session.add(user)
                db.session.flush()
            member = db.session.scalar(
                sa.select(CareTeamMember).where(CareTeamMember.user_id == user.id)
            )
            if member is None:
                qualification = _first_text(
                    *[q.get("code") for q in resource.get("qualification") or []]
                )
                member = CareTeamMember(
                    user_id=user.id,
                    organization_id=self._fallback_org().id,
                    discipline=_discipline(qualification, " ".join(prefixes)),
                    title=_cut(qualification, 120) or "",
                )
                db.session.add(member)
                db.session.flush()
                self.new_members.add(member.id)
            status = "created"
        self.rows[("Practitioner", entry.fhir_id)] = member
        self._keep_identifiers(entry, "Practitioner.identifier", "member", member.id)
        self._keep(
            entry, "member", member.id, digest=digest, organization_id=member.organization_id
        )
        return status

    def _member_by_identifier(self, resource: dict) -> CareTeamMember | None:
        return self._by_identifier(resource, "Practitioner.identifier", CareTeamMember)

    def _by_identifier(self, resource: dict, kind: str, model):
        """The row an earlier import kept one of `resource`'s identifiers for (`kind`: which
        identifiers, e.g. "Patient.identifier"), or None."""
        for system, value in self._identifiers(resource):
            source = db.session.scalar(
                sa.select(FhirSource).where(
                    FhirSource.source_system == system,
                    FhirSource.resource_type == kind,
                    FhirSource.fhir_id == value,
                )
            )
            if source is not None and source.entity_id:
                return db.session.get(model, source.entity_id)
        return None

    def _member_by_email(self, email: str | None) -> CareTeamMember | None:
        if not email:
            return None
        return db.session.scalar(
            sa.select(CareTeamMember)
            .join(User, User.id == CareTeamMember.user_id)
            .where(User.email == email, User.role == Role.CARE_TEAM)
        )

    def _import_practitionerrole(self, entry: Entry) -> str:
        resource = entry.resource
        digest = _digest(resource)
        if self._unchanged("PractitionerRole", entry.fhir_id, digest) is not None:
            member = self._resolve(_ref(resource.get("practitioner")), "Practitioner")
            if member is not None:
                self.rows[("PractitionerRole", entry.fhir_id)] = member
            return "unchanged"
        member = self._resolve(_ref(resource.get("practitioner")), "Practitioner")
        if member is None:
            raise EntryRefused(entry, "its practitioner is not known", "practitioner")
        org = self._resolve(_ref(resource.get("organization")), "Organization")
        role_text = _first_text(resource.get("code"), resource.get("specialty"))
        if org is not None:
            member.organization_id = org.id
        if role_text:
            member.discipline = _discipline(role_text)
            member.title = _cut(role_text, 120) or member.title
        self.rows[("PractitionerRole", entry.fhir_id)] = member
        status = "updated" if self._source("PractitionerRole", entry.fhir_id) else "created"
        self._keep(
            entry, "member", member.id, digest=digest, organization_id=member.organization_id
        )
        return status

    @staticmethod
    def _identifiers(resource: dict) -> list[tuple[str, str]]:
        found = []
        for ident in resource.get("identifier") or []:
            if not isinstance(ident, dict) or not ident.get("system") or not ident.get("value"):
                continue
            kinds = {str(c.get("code")) for c in _codings(ident.get("type"))}
            if ident["system"] in NOT_KEPT_SYSTEMS or kinds & NOT_KEPT_TYPES:
                continue
            found.append((str(ident["system"])[:200], str(ident["value"])[:200]))
        return found

    def _keep_identifiers(self, entry: Entry, rtype: str, entity: str, entity_id: int) -> None:
        for system, value in self._identifiers(entry.resource):
            source = db.session.scalar(
                sa.select(FhirSource).where(
                    FhirSource.source_system == system,
                    FhirSource.resource_type == rtype,
                    FhirSource.fhir_id == value,
                )
            )
            if source is None:
                db.session.add(
                    FhirSource(
                        source_system=system,
                        resource_type=rtype,
                        fhir_id=value,
                        entity=entity,
                        entity_id=entity_id,
                        patient_id=entity_id if entity == "patient" else None,
                        content_digest="",
                        imported_at=self.now,
                        updated_at=self.now,
                    )
                )

    def _import_patient(self, entry: Entry) -> str:
        resource = entry.resource
        digest = _digest(resource)
        row = self._unchanged("Patient", entry.fhir_id, digest, Patient)
        if row is not None:
            self.rows[("Patient", entry.fhir_id)] = row
            self._assign_coordinator(row)
            self._note_patient(row)
            return "unchanged"
        given, family, _prefixes = _human_name(resource.get("name"))
        if not given or not family:
            raise EntryRefused(entry, "CareCircle needs a given and a family name", "name")
        born = _day(resource.get("birthDate"))
        if born is None:
            raise EntryRefused(entry, "CareCircle needs a full date of birth", "birthDate")
        source = self._source("Patient", entry.fhir_id)
        patient = (
            db.session.get(Patient, source.entity_id)
            if source is not None and source.entity_id
            else None
        )
        if patient is None:
            patient = self._patient_by_identifier(resource)
        values = {
            "given_name": _cut(given, 80),
            "family_name": _cut(family, 80),
            "date_of_birth": born,
        }
        language = self._language(resource)
        if language:
            values["language"] = language
        phone = self._mobile(resource)
        org = self._resolve(_ref(resource.get("managingOrganization")), "Organization")
        if org is not None:
            values["organization_id"] = org.id
        if patient is None:
            # A member of the CCO, like the patients it invites, unless the source names one.
            values.setdefault("organization_id", self._cco_id())
            patient = Patient(**values, mobile_phone=phone)
            db.session.add(patient)
            db.session.flush()
            status = "created"
            audit.record(action="create", resource="patient.summary", patient_id=patient.id)
        else:
            changed = [k for k, v in values.items() if getattr(patient, k) != v]
            for name in changed:
                setattr(patient, name, values[name])
            if patient.mobile_phone is None and phone:
                patient.mobile_phone, changed = phone, [*changed, "mobile_phone"]
            status = "updated"
            if changed:
                audit.record(action="update", resource="patient.summary", patient_id=patient.id)
        self.rows[("Patient", entry.fhir_id)] = patient
        self._keep_identifiers(entry, "Patient.identifier", "patient", patient.id)
        self._keep(entry, "patient", patient.id, digest=digest, patient_id=patient.id)
        self._assign_coordinator(patient)
        for reference in resource.get("generalPractitioner") or []:
            member = self._resolve(_ref(reference), "Practitioner")
            if member is not None:
                self._assign(patient, member)
        self._note_patient(patient)
        return status

    def _note_patient(self, patient: Patient) -> None:
        if patient.id not in self.report.patient_ids:
            self.report.patient_ids.append(patient.id)

    def _patient_by_identifier(self, resource: dict) -> Patient | None:
        return self._by_identifier(resource, "Patient.identifier", Patient)

    @staticmethod
    def _language(resource: dict) -> str | None:
        """The preferred language of communication (else the first), as CareCircle's code."""
        spoken = [c for c in resource.get("communication") or [] if isinstance(c, dict)]
        spoken.sort(key=lambda c: not c.get("preferred"))
        offered = current_app.config.get("LANGUAGES", {})
        for item in spoken:
            for coding in _codings(item.get("language")):
                code = str(coding.get("code") or "").lower().replace("_", "-")
                primary = code.split("-")[0]
                if code in offered:
                    return code
                if primary and 2 <= len(primary) <= 3:
                    return primary
        return None

    @staticmethod
    def _mobile(resource: dict) -> str | None:
        import phonenumbers

        for telecom in resource.get("telecom") or []:
            if telecom.get("system") != "phone" or telecom.get("use") != "mobile":
                continue
            try:
                number = phonenumbers.parse(str(telecom.get("value") or ""), "US")
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return None

    def _assign_coordinator(self, patient: Patient) -> None:
        """The coordinator the import hands its patients to (when the patient has none)."""
        if self.coordinator is None:
            return
        has_one = db.session.scalar(
            sa.select(CareTeamAssignment.id).where(
                CareTeamAssignment.patient_id == patient.id,
                CareTeamAssignment.is_coordinator.is_(True),
            )
        )
        if has_one is None:
            self._assign(patient, self.coordinator, coordinator=True)

    def _assign(self, patient: Patient, member: CareTeamMember, coordinator=False) -> bool:
        found = db.session.scalar(
            sa.select(CareTeamAssignment).where(
                CareTeamAssignment.patient_id == patient.id,
                CareTeamAssignment.member_id == member.id,
            )
        )
        if found is None:
            db.session.add(
                CareTeamAssignment(
                    patient_id=patient.id, member_id=member.id, is_coordinator=coordinator
                )
            )
            db.session.flush()
            audit.record(action="update", resource=AUDIT_RESOURCE, patient_id=patient.id)
            return True
        if coordinator and not found.is_coordinator:
            found.is_coordinator = True
            db.session.flush()
        return False

    def _import_relatedperson(self, entry: Entry) -> str:
        """A person the record says helps the patient: a proposal for the patient to answer
        (app.fhir.proposals), never access."""
        resource = entry.resource
        digest = _digest(resource)
        if self._unchanged("RelatedPerson", entry.fhir_id, digest) is not None:
            return "unchanged"
        patient = self._patient_of(entry, _ref(resource.get("patient")))
        given, family, _p = _human_name(resource.get("name"))
        name = _cut(" ".join(p for p in (given, family) if p), 120)
        if not name:
            raise EntryRefused(entry, "a related person needs a name", "name")
        words = _cut(_first_text(resource.get("relationship")), 60) or ""
        relation = next(
            (
                proposals.ROLE_CODES[str(c.get("code")).upper()]
                for c in _codings(resource.get("relationship"))
                if str(c.get("code")).upper() in proposals.ROLE_CODES
            ),
            None,
        ) or relation_from_words(words)
        email = next(
            (
                str(t["value"]).strip().lower()[:254]
                for t in resource.get("telecom") or []
                if isinstance(t, dict)
                and t.get("system") == "email"
                and EMAIL.fullmatch(str(t.get("value") or "").strip())
            ),
            None,
        )
        summary = {
            "name": name,
            "relationship": words or None,
            "telecom": [
                {"system": t.get("system"), "value": _cut(t.get("value"), 254)}
                for t in resource.get("telecom") or []
                if isinstance(t, dict) and t.get("system") in ("phone", "email")
            ][:4],
            "status": "to_confirm_with_patient",
        }
        status = "updated" if self._source("RelatedPerson", entry.fhir_id) else "created"
        source = self._keep(
            entry, "related_person", None, digest=digest, patient_id=patient.id, summary=summary
        )
        db.session.flush()
        proposals.for_related_person(
            source,
            name=name,
            relation=relation,
            relationship_label=words,
            email=email,
            phone=self._mobile(resource),
            organization_id=self._fallback_org().id,
        )
        audit.record(action="update", resource=AUDIT_RESOURCE, patient_id=patient.id)
        return status

    def _import_consent(self, entry: Entry) -> str:
        """A Consent naming related persons: when it permits access (active, a permit, not
        ended), each one's proposal is offered to the patient with its terms; when not, what
        this Consent offered is withdrawn. Never a grant."""
        resource = entry.resource
        digest = _digest(resource)
        if self._unchanged("Consent", entry.fhir_id, digest) is not None:
            return "unchanged"
        patient = self._patient_of(entry, _ref(resource.get("patient")))
        provision = resource.get("provision") or {}
        actors = [
            _ref(actor.get("reference"))
            for actor in provision.get("actor") or []
            if isinstance(actor, dict)
        ]
        terms = proposals.consent_terms(resource, self.now, _instant, SECURITY_LABELS)
        for reference in [a for a in actors if a][:10]:
            target = self.by_ref.get(reference)
            if target is not None:
                key = target.fhir_id if target.type == "RelatedPerson" else None
            else:
                parts = reference.split("/")
                key = parts[-1][:190] if len(parts) >= 2 and parts[-2] == "RelatedPerson" else None
            source = self._source("RelatedPerson", key) if key else None
            if source is not None and source.patient_id == patient.id:
                proposals.apply_consent(source, entry.fhir_id, terms)
        summary = {
            "status": resource.get("status"),
            "permit": terms.permitted,
            "actors": [a for a in actors if a][:10],
            "note": "offered to the patient to confirm; grants no access",
        }
        status = "updated" if self._source("Consent", entry.fhir_id) else "created"
        self._keep(entry, "consent", None, digest=digest, patient_id=patient.id, summary=summary)
        audit.record(action="update", resource=AUDIT_RESOURCE, patient_id=patient.id)
        return status

    def _import_careteam(self, entry: Entry) -> str:
        resource = entry.resource
        digest = _digest(resource)
        if self._unchanged("CareTeam", entry.fhir_id, digest) is not None:
            return "unchanged"
        patient = self._patient_of(entry, _ref(resource.get("subject")))
        added = 0
        for participant in resource.get("participant") or []:
            reference = _ref(participant.get("member"))
            member = self._resolve(reference, "Practitioner") or self._resolve(
                reference, "PractitionerRole"
            )
            if member is None:
                continue
            roles = [r for r in participant.get("role") or [] if isinstance(r, dict)]
            if member.id in self.new_members:
                self._fill_member(member, roles)
            if self._assign(patient, member):
                added += 1
            if any((r.get("text") or "").strip().lower() == "care coordinator" for r in roles):
                self._name_coordinator(patient, member)
        org = self._resolve(
            _ref((resource.get("managingOrganization") or [None])[0]), "Organization"
        )
        status = "updated" if self._source("CareTeam", entry.fhir_id) else "created"
        self._keep(
            entry,
            "care_team",
            None,
            digest=digest,
            patient_id=patient.id,
            organization_id=(org or self._fallback_org()).id,
        )
        return status

    @staticmethod
    def _fill_member(member: CareTeamMember, roles: list[dict]) -> None:
        """A member this import created takes its discipline, role and title from the
        CareTeam's participant.role (CareCircle's codings; the title in the text)."""
        discipline = _own_code(Discipline, DISCIPLINE_SYSTEM, roles)
        if discipline is not None:
            member.discipline = discipline
        role = _own_code(CareRole, CARE_ROLE_SYSTEM, roles)
        if role is not None:
            member.role = role
        words = next(
            (
                r["text"].strip()
                for r in roles
                if isinstance(r.get("text"), str)
                and r["text"].strip()
                and r["text"].strip().lower() != "care coordinator"
            ),
            None,
        )
        if words and words != member.role.value.replace("_", " "):
            member.title = _cut(words, 120)

    def _name_coordinator(self, patient: Patient, member: CareTeamMember) -> None:
        """The CareTeam's care coordinator, when the patient has none yet (one at most)."""
        current = db.session.scalar(
            sa.select(CareTeamAssignment.member_id).where(
                CareTeamAssignment.patient_id == patient.id,
                CareTeamAssignment.is_coordinator.is_(True),
            )
        )
        if current is None:
            self._assign(patient, member, coordinator=True)

    # -------------------------------------------------------------- messages

    def _import_communication(self, entry: Entry) -> str:
        """A message of the patient's conversation with the team, as history: into its thread
        (the thread identifier, else the thread of the message it answers), from the patient,
        a caregiver or a team member; nothing is sent to anyone, and the thread is closed (the
        source answered it). A message taken before is not written again: a conversation is
        history, and CareCircle never edits a message."""
        resource = entry.resource
        digest = _digest(resource)
        source = self._source("Communication", entry.fhir_id)
        if source is not None and source.entity_id is not None:
            return "unchanged"
        if resource.get("status") == "entered-in-error":
            raise EntryRefused(entry, "a message entered in error is not imported", "status")
        patient = self._patient_of(entry, _ref(resource.get("subject")))
        parts = [p for p in resource.get("payload") or [] if isinstance(p, dict)]
        body = "\n\n".join(
            p["contentString"].strip()
            for p in parts
            if isinstance(p.get("contentString"), str) and p["contentString"].strip()
        )
        if not body:
            raise EntryRefused(entry, "a message needs words (payload.contentString)", "payload")
        if len(body) > MESSAGE_MAX:
            raise EntryRefused(
                entry, f"a message may have at most {MESSAGE_MAX} characters", "payload"
            )
        sent = _instant(resource.get("sent")) or _instant(resource.get("received")) or self.now
        if sent > self.now + FUTURE_SLACK:
            raise EntryRefused(entry, "a message cannot be sent in the future", "sent")
        key = self._thread_key(entry)
        thread = self._thread_for(entry, key, patient, sent)
        author_id, capacity = self._sender(resource, patient)
        message = Message(
            thread_id=thread.id,
            author_id=author_id,
            capacity=capacity,
            body=body,
            internal=False,
            created_at=sent,
        )
        db.session.add(message)
        thread.created_at = min(thread.created_at, sent)
        thread.last_message_at = max(thread.last_message_at, sent)
        thread.resolved_at = thread.last_message_at
        if thread.created_by_id is None and thread.created_at == sent:
            thread.created_by_id = author_id
        db.session.flush()
        if patient.user_id is not None:
            # History the patient need not be told about: read up to its last message.
            mark_read(thread.id, patient.user_id, thread.last_message_at)
        self._keep(entry, "message", message.id, digest=digest, patient_id=patient.id, parent=key)
        return "created"

    def _thread_key(self, entry: Entry, depth: int = 0) -> str:
        """Which thread a message belongs to, as the source knows it: its thread identifier
        (CareCircle's export names the thread), else the thread of the message it answers or
        is part of (in this Bundle, or imported before), else its own id."""
        resource = entry.resource
        for ident in resource.get("identifier") or []:
            if (
                isinstance(ident, dict)
                and ident.get("system") == THREAD_SYSTEM
                and isinstance(ident.get("value"), str)
                and ident["value"].strip()
            ):
                return f"thread:{ident['value'].strip()[:180]}"
        for reference in [
            _ref(r) for r in (resource.get("inResponseTo") or []) + (resource.get("partOf") or [])
        ]:
            target = self.by_ref.get(reference or "")
            if target is not None and target.type == "Communication" and depth < 50:
                if target is not entry:
                    return self._thread_key(target, depth + 1)
                continue
            parts = (reference or "").split("/")
            if len(parts) >= 2 and parts[-2] == "Communication":
                earlier = self._source("Communication", parts[-1][:190])
                if earlier is not None and earlier.parent_fhir_id:
                    return earlier.parent_fhir_id
        return f"message:{entry.fhir_id}"

    def _thread_for(self, entry: Entry, key: str, patient: Patient, sent: datetime) -> Thread:
        source = self._source("Communication.thread", key)
        thread = db.session.get(Thread, source.entity_id) if source and source.entity_id else None
        if thread is not None:
            if thread.patient_id != patient.id:
                raise EntryRefused(entry, "its thread is another patient's", "identifier")
            return thread
        resource = entry.resource
        topic = _own_code(Topic, TOPIC_SYSTEM, resource.get("category")) or Topic.OTHER
        subject = _cut(_text(resource.get("topic")), 160)
        item = self._asked_about(resource, patient)
        sensitivity = sensitivity_of(resource, words=(subject,))
        if item is not None and sensitivity == item.sensitivity:
            sensitivity = None  # as sensitive as its item, read each time
        first_words = " ".join(
            str(p.get("contentString") or "")
            for p in resource.get("payload") or []
            if isinstance(p, dict)
        )
        thread = Thread(
            patient_id=patient.id,
            topic=topic,
            subject=subject or _cut(first_words, 60) or "Messages",
            plan_item_id=item.id if item is not None else None,
            sensitivity=sensitivity,
            status=ThreadStatus.RESOLVED,
            created_at=sent,
            last_message_at=sent,
            resolved_at=sent,
        )
        db.session.add(thread)
        db.session.flush()
        self._keep(
            entry,
            "thread",
            thread.id,
            digest="",
            patient_id=patient.id,
            rtype="Communication.thread",
            fhir_id=key,
        )
        audit.record(
            action="create", resource=AUDIT_RESOURCE, resource_id=thread.id, patient_id=patient.id
        )
        return thread

    def _asked_about(self, resource: dict, patient: Patient) -> PlanItem | None:
        """The patient's plan item a message asks about (`about`), imported now or before."""
        for about in resource.get("about") or []:
            reference = _ref(about) or ""
            target = self.by_ref.get(reference)
            if target is not None:
                key = (target.type, target.fhir_id)
            else:
                parts = reference.split("/")
                if len(parts) < 2:
                    continue
                key = (parts[-2], parts[-1][:190])
            source = self._source(*key)
            if source is None or source.entity != "plan_item" or not source.entity_id:
                continue
            item = db.session.get(PlanItem, source.entity_id)
            if item is not None and item.patient_id == patient.id:
                return item
        return None

    def _sender(self, resource: dict, patient: Patient) -> tuple[int | None, str]:
        """Who wrote it (their account, when CareCircle knows them) and in what capacity."""
        reference = _ref(resource.get("sender")) or ""
        target = self.by_ref.get(reference)
        kind = target.type if target is not None else reference.split("/")[-2:][0]
        if kind == "Patient":
            who = self._resolve(reference, "Patient")
            same = who is not None and who.id == patient.id
            return (patient.user_id if same else None), "patient"
        if kind in ("Practitioner", "PractitionerRole"):
            member = self._resolve(reference, kind)
            return (member.user_id if member is not None else None), "care_team"
        if kind == "RelatedPerson":
            fhir_id = target.fhir_id if target is not None else reference.split("/")[-1]
            return proposals.caregiver_user_id(self._source("RelatedPerson", fhir_id)), "caregiver"
        if kind in ("Organization", "CareTeam"):
            return None, "care_team"
        to_patient = False
        for recipient in resource.get("recipient") or []:
            reference = _ref(recipient) or ""
            target = self.by_ref.get(reference)
            found = target.type if target is not None else reference.split("/")[0]
            to_patient = to_patient or found == "Patient"
        return None, ("care_team" if to_patient else "patient")

    # -------------------------------------------------------------- plan items and goals

    def _plan_sensitivity(self, resource: dict) -> Sensitivity | None:
        return sensitivity_of(
            resource,
            resource.get("category"),
            words=(resource.get("title"), resource.get("description")),
        )

    def _import_goal(self, entry: Entry) -> str:
        resource = entry.resource
        patient = self._patient_of(entry, _ref(resource.get("subject")))
        description = _cut(_text(resource.get("description")), 300)
        if not description:
            raise EntryRefused(entry, "a goal needs a description", "description")
        target = (resource.get("target") or [{}])[0]
        quantity = target.get("detailQuantity") or {}
        low_high = target.get("detailRange") or {}
        target_text = _cut(target.get("detailString"), 200)
        if not target_text and low_high:
            low, high = low_high.get("low") or {}, low_high.get("high") or {}
            unit = high.get("unit") or low.get("unit") or ""
            target_text = _cut(f"{low.get('value', '')}-{high.get('value', '')} {unit}", 200)
        achievement = next(
            (
                GOAL_ACHIEVEMENT[c["code"]]
                for c in _codings(resource.get("achievementStatus"))
                if c.get("code") in GOAL_ACHIEVEMENT
            ),
            None,
        )
        lifecycle = GOAL_LIFECYCLE.get(resource.get("lifecycleStatus"), GoalLifecycle.PROPOSED)
        expressed_by_id, capacity = None, "care_team"
        said_by = _ref(resource.get("expressedBy")) or ""
        said_by_type = (
            self.by_ref[said_by].type if said_by in self.by_ref else said_by.split("/")[0]
        )
        if said_by_type == "Patient":
            capacity = "patient"
            who = self._resolve(said_by, "Patient")
            expressed_by_id = who.user_id if who is not None else None
        elif said_by_type == "RelatedPerson":
            capacity = "caregiver"
        elif said_by_type == "Practitioner":
            who = self._resolve(said_by, "Practitioner")
            expressed_by_id = who.user_id if who is not None else None
        notes = _notes(resource)
        why = notes[0] if notes else None
        if isinstance(quantity.get("value"), (int, float)) and len(notes) > 1 and not target_text:
            # CareCircle's export: why it matters, then the words of a numeric target.
            target_text = _cut(notes[1], 200)
        elif len(notes) > 1:
            why = "\n\n".join(notes)
        values = {
            "description": description,
            "why_it_matters": _cut(why, 2000),
            "target_text": target_text,
            "target_value": quantity.get("value")
            if isinstance(quantity.get("value"), (int, float))
            else None,
            "target_unit": _cut(quantity.get("unit"), 24),
            "start_date": _day(resource.get("startDate")),
            "due_date": _day(target.get("dueDate")),
            "lifecycle_status": lifecycle,
            "achievement_status": achievement,
            "sensitivity": sensitivity_of(
                resource,
                resource.get("category"),
                resource.get("description"),
                [a.get("concept") for a in resource.get("addresses") or [] if isinstance(a, dict)],
            ),
        }
        return self._upsert(
            entry,
            Goal,
            "goal",
            values,
            patient,
            self._fallback_org(),
            create_extra={"expressed_by_id": expressed_by_id, "expressed_by_capacity": capacity},
        )

    def _item_values(
        self, kind: ItemKind, title: str | None, status: ItemStatus, sensitivity, org, **extra
    ) -> dict:
        values = {
            "kind": kind,
            "title": _cut(title, 160) or kind.value.capitalize(),
            "status": status,
            "sensitivity": sensitivity,
            "source_organization_id": org.id,
            "owner_kind": OwnerKind.ORGANIZATION,
            "owner_organization_id": org.id,
        }
        values["area"] = extra.pop("area", None) or _area(sensitivity, title)
        values["discipline"] = extra.pop("discipline", None) or (
            Discipline.BEHAVIORAL_HEALTH
            if sensitivity in (Sensitivity.BEHAVIORAL_HEALTH, Sensitivity.SUBSTANCE_USE)
            else Discipline.PRIMARY_CARE
        )
        values.update(extra)
        return values

    def _listed(
        self, entry: Entry, own: Sensitivity | None
    ) -> tuple[str | None, Sensitivity | None]:
        """The CarePlan that lists this resource, and the sensitivity it inherits from it."""
        plan_id, plan_sensitivity = self.listed_by.get((entry.type, entry.fhir_id), (None, None))
        return plan_id, own or plan_sensitivity

    @staticmethod
    def _own_values(resource: dict) -> dict:
        """What CareCircle's own extensions say (app.fhir.outbound): area and why it matters."""
        why = (_extension(resource, EXT_WHY) or {}).get("valueString")
        return {
            "area": _own_area(resource),
            "why_it_matters": _cut(why, 2000) if isinstance(why, str) else None,
        }

    def _import_medicationrequest(self, entry: Entry) -> str:
        resource = entry.resource
        patient = self._patient_of(entry, _ref(resource.get("subject")))
        concept = resource.get("medicationCodeableConcept")
        medication = self.by_ref.get(_ref(resource.get("medicationReference")) or "")
        ingredients: list[str] = []
        if medication is None:
            for contained in resource.get("contained") or []:
                if contained.get("resourceType") == "Medication" and "#" + str(
                    contained.get("id")
                ) == _ref(resource.get("medicationReference")):
                    concept = contained.get("code")
                    ingredients = [
                        _text(i.get("itemCodeableConcept")) or ""
                        for i in contained.get("ingredient") or []
                    ]
        else:
            concept = medication.resource.get("code")
        name = _text(concept) or (resource.get("medicationReference") or {}).get("display")
        if not name:
            raise EntryRefused(entry, "a medicine needs a name", "medicationCodeableConcept")
        own = sensitivity_of(
            resource, concept, resource.get("category"), resource.get("reasonCode")
        )
        plan_id, sensitivity = self._listed(entry, own)
        org = self._organization_for(self._source_org_ref(resource))
        prescriber = self._resolve(_ref(resource.get("requester")), "Practitioner")
        dose = _cut(
            "; ".join(
                d.get("text") for d in resource.get("dosageInstruction") or [] if d.get("text")
            ),
            120,
        )
        own = self._own_values(resource)
        notes = _notes(resource)
        title = name
        if own["area"] is not None and notes:
            # CareCircle's export: the item's own title first, then its details.
            title, notes = notes[0], notes[1:]
        values = self._item_values(
            ItemKind.MEDICATION,
            title,
            REQUEST_STATUS.get(resource.get("status"), ItemStatus.ACTIVE),
            sensitivity,
            org,
            area=own["area"] or Area.MEDICINES,
            why_it_matters=own["why_it_matters"],
            details=_cut("\n\n".join(notes), 2000) or None,
            medication_name=_cut(name, 120),
            dose=dose,
            ingredients=normalise_ingredients(ingredients) or ingredients_from_name(name),
            prescriber_member_id=prescriber.id if prescriber is not None else None,
            prescriber_name=None
            if prescriber is not None
            else _cut((resource.get("requester") or {}).get("display"), 120),
        )
        if prescriber is not None:
            self._assign(patient, prescriber)
        return self._upsert(entry, PlanItem, "plan_item", values, patient, org, parent=plan_id)

    def _import_servicerequest(self, entry: Entry) -> str:
        resource = entry.resource
        patient = self._patient_of(entry, _ref(resource.get("subject")))
        title = _first_text(resource.get("code"), resource.get("category"))
        category = " ".join(t for t in [_first_text(resource.get("category")), title] if t).lower()
        own = sensitivity_of(
            resource, resource.get("code"), resource.get("category"), resource.get("reasonCode")
        )
        plan_id, sensitivity = self._listed(entry, own)
        status = REQUEST_STATUS.get(resource.get("status"), ItemStatus.ACTIVE)
        org = self._organization_for(self._source_org_ref(resource))
        requester = self._resolve(_ref(resource.get("requester")), "Practitioner")
        requester_name = _cut((resource.get("requester") or {}).get("display"), 120)
        if "education" in category:
            kind = ItemKind.EDUCATION
            extra: dict = {}
        elif re.search(r"lab|diagnos|imaging|test|procedure|radiol|biopsy|scopy", category):
            kind = ItemKind.TEST
            code, system = _code_and_system(resource.get("code"))
            extra = {
                "code": code,
                "code_system": system,
                "ordering_member_id": requester.id if requester is not None else None,
                "ordering_provider_name": None if requester is not None else requester_name,
                "ordered_on": _day(resource.get("authoredOn")),
                "due_date": _day(resource.get("occurrenceDateTime")),
            }
        else:
            kind = ItemKind.REFERRAL
            performer = (resource.get("performer") or [{}])[0]
            extra = {
                "referred_to": _cut(performer.get("display") or title, 160),
                "referral_need": _own_code(
                    ReferralNeed, REFERRAL_NEED_SYSTEM, resource.get("category")
                )
                or ReferralNeed.CLINICAL,
                "referral_status": REFERRAL_STATUS.get(
                    (_extension(resource, EXT_REFERRAL_STATUS) or {}).get("valueCode")
                )
                or (
                    ReferralStatus.ENROLLED
                    if status is ItemStatus.COMPLETED
                    else ReferralStatus.DECLINED
                    if status is ItemStatus.CANCELLED
                    else ReferralStatus.SENT
                ),
            }
        values = self._item_values(
            kind,
            title,
            status,
            sensitivity,
            org,
            **self._own_values(resource),
            details=_cut("\n\n".join(_notes(resource)), 2000) or None,
            **extra,
        )
        return self._upsert(entry, PlanItem, "plan_item", values, patient, org, parent=plan_id)

    def _import_appointment(self, entry: Entry) -> str:
        resource = entry.resource
        participants = [p for p in resource.get("participant") or [] if isinstance(p, dict)]
        people = [p.get("actor") or {} for p in participants]

        def points_at(actor: dict) -> str:
            """The type a reference points at (a urn:uuid one: the Bundle entry's type)."""
            reference = _ref(actor) or ""
            target = self.by_ref.get(reference)
            return target.type if target is not None else reference

        patient = self._patient_of(entry, *[_ref(a) for a in people if "Patient" in points_at(a)])
        with_whom = next(
            (
                a.get("display")
                for a in people
                if "Practitioner" in points_at(a) and a.get("display")
            ),
            None,
        )
        location = next(
            (a.get("display") for a in people if "Location" in points_at(a) and a.get("display")),
            None,
        )
        # Display-only participants (no reference), as CareCircle's export writes them: the
        # place is typed LOC, the person PPRF (or untyped).
        for p in participants:
            actor = p.get("actor") or {}
            if _ref(actor) or not isinstance(actor.get("display"), str):
                continue
            if any(c.get("code") == "LOC" for c in _codings(p.get("type"))):
                location = location or actor["display"]
            else:
                with_whom = with_whom or actor["display"]
        title = resource.get("description") or _first_text(
            resource.get("serviceType"), resource.get("appointmentType"), resource.get("specialty")
        )
        own = sensitivity_of(
            resource,
            resource.get("serviceType"),
            resource.get("specialty"),
            resource.get("reasonCode"),
            words=(resource.get("description"),),
        )
        plan_id, sensitivity = self._listed(entry, own)
        org = self._organization_for(self._source_org_ref(resource))
        values = self._item_values(
            ItemKind.APPOINTMENT,
            title,
            APPOINTMENT_STATUS.get(resource.get("status"), ItemStatus.ACTIVE),
            sensitivity,
            org,
            **self._own_values(resource),
            starts_at=_instant(resource.get("start")),
            with_whom=_cut(with_whom, 120),
            location=_cut(location, 200),
            preparation=_cut(resource.get("patientInstruction"), 2000),
            details=_cut(resource.get("comment"), 2000),
            **self._attendance(resource),
        )
        return self._upsert(entry, PlanItem, "plan_item", values, patient, org, parent=plan_id)

    @staticmethod
    def _attendance(resource: dict) -> dict:
        """fulfilled: attended; noshow: missed; recorded when the source last changed it (else
        when the appointment ended or began), so a re-import of the same resource is equal."""
        attendance = APPOINTMENT_ATTENDANCE.get(resource.get("status"))
        if attendance is None:
            return {"attendance": None, "attendance_recorded_at": None}
        recorded = (
            _instant(_meta(resource).get("lastUpdated"))
            or _instant(resource.get("end"))
            or _instant(resource.get("start"))
        )
        return {"attendance": attendance, "attendance_recorded_at": recorded}

    def _import_task(self, entry: Entry) -> str:
        resource = entry.resource
        patient = self._patient_of(entry, _ref(resource.get("for")))
        title = resource.get("description") or _text(resource.get("code"))
        own = sensitivity_of(resource, resource.get("code"), words=(resource.get("description"),))
        plan_id, sensitivity = self._listed(entry, own)
        org = self._organization_for(self._source_org_ref(resource), _ref(resource.get("owner")))
        restriction = (resource.get("restriction") or {}).get("period") or {}
        values = self._item_values(
            ItemKind.TASK,
            title,
            TASK_STATUS.get(resource.get("status"), ItemStatus.ACTIVE),
            sensitivity,
            org,
            **self._own_values(resource),
            **self._task_timing(resource),
            details=_cut(" ".join(n.get("text", "") for n in resource.get("note") or []), 2000),
            due_date=_day(restriction.get("end")),
        )
        return self._upsert(entry, PlanItem, "plan_item", values, patient, org, parent=plan_id)

    @staticmethod
    def _task_timing(resource: dict) -> dict:
        """Daily or weekly (on a weekday), from CareCircle's task-timing extension."""
        timing = (_extension(resource, EXT_TASK_TIMING) or {}).get("valueTiming") or {}
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        if not isinstance(repeat, dict) or repeat.get("frequency", 1) != 1:
            return {"schedule": None, "weekday": None}
        unit, days = repeat.get("periodUnit"), repeat.get("dayOfWeek") or []
        if unit == "d" and repeat.get("period", 1) == 1:
            return {"schedule": Schedule.DAILY, "weekday": None}
        if unit == "wk" and repeat.get("period", 1) == 1:
            weekday = days[0] if isinstance(days, list) and len(days) == 1 else None
            return {"schedule": Schedule.WEEKLY, "weekday": WEEKDAYS.get(weekday)}
        return {"schedule": None, "weekday": None}

    def _import_communicationrequest(self, entry: Entry) -> str:
        resource = entry.resource
        patient = self._patient_of(entry, _ref(resource.get("subject")))
        parts = [p for p in resource.get("payload") or [] if isinstance(p, dict)]
        strings = [p["contentString"] for p in parts if isinstance(p.get("contentString"), str)]
        strings = [t for t in strings if t.strip()]
        payload = strings[0] if strings else None
        link = next(
            (
                p["contentAttachment"].get("url")
                for p in parts
                if isinstance(p.get("contentAttachment"), dict)
                and isinstance(p["contentAttachment"].get("url"), str)
                and p["contentAttachment"]["url"].startswith(("https://", "http://"))
            ),
            None,
        )
        title = _first_text(resource.get("category"), resource.get("reasonCode"))
        details = "\n\n".join(strings)
        if not title and payload and len(payload) <= 160:
            # The first text is the title (CareCircle's export), the rest the details.
            title, details = payload, "\n\n".join(strings[1:])
        own = sensitivity_of(
            resource, resource.get("category"), resource.get("reasonCode"), words=(payload,)
        )
        plan_id, sensitivity = self._listed(entry, own)
        org = self._organization_for(self._source_org_ref(resource), _ref(resource.get("sender")))
        values = self._item_values(
            ItemKind.EDUCATION,
            title or payload or "Information from your care team",
            REQUEST_STATUS.get(resource.get("status"), ItemStatus.ACTIVE),
            sensitivity,
            org,
            **self._own_values(resource),
            details=_cut(details, 2000) or None,
            resource_url=_cut(link, 300) if link and len(link) <= 300 else None,
        )
        return self._upsert(entry, PlanItem, "plan_item", values, patient, org, parent=plan_id)

    def _import_careplan(self, entry: Entry) -> str:
        """The plan itself is kept as a source row; its inline activities become items, and
        those it no longer lists (inline or referenced) are ended."""
        resource = entry.resource
        patient = self._patient_of(entry, _ref(resource.get("subject")))
        sensitivity = self._plan_sensitivity(resource)
        org = self._organization_for(_ref(resource.get("author")))
        plan_status = resource.get("status")
        statuses = Counter()
        keep_keys: set[tuple[str, str]] = set()
        for number, activity in enumerate(resource.get("activity") or []):
            target = self.by_ref.get(_ref(activity.get("reference")) or "")
            if target is not None:
                keep_keys.add((target.type, target.fhir_id))
                continue
            detail = activity.get("detail")
            if not isinstance(detail, dict):
                continue
            key = ("CarePlan.activity", f"{entry.fhir_id}#{number}")
            keep_keys.add(key)
            values = self._activity_values(resource, detail, sensitivity, org, plan_status)
            activity_entry = Entry(
                entry.index, entry.full_url, "CarePlan.activity", resource, key[1]
            )
            statuses[
                self._upsert(
                    activity_entry,
                    PlanItem,
                    "plan_item",
                    values,
                    patient,
                    org,
                    parent=entry.fhir_id,
                    digest=_digest(
                        activity,
                        plan_status,
                        resource.get("category"),
                        _meta(resource).get("security"),
                    ),
                )
            ] += 1
        for status, count in statuses.items():
            getattr(self.report, status)["CarePlan.activity"] += count
        self.report.ended += self._end_dropped(entry.fhir_id, keep_keys)
        digest = _digest(resource)
        source = self._source("CarePlan", entry.fhir_id)
        before = source.content_digest if source is not None else None
        self._keep(
            entry,
            "care_plan",
            None,
            digest=digest,
            patient_id=patient.id,
            organization_id=org.id,
            summary={
                "title": _cut(resource.get("title") or _first_text(resource.get("category")), 200)
            },
        )
        if before is None:
            return "created"
        return "unchanged" if before == digest else "updated"

    def _activity_values(
        self, plan: dict, detail: dict, plan_sensitivity, org, plan_status
    ) -> dict:
        code_text = _text(detail.get("code")) or detail.get("description")
        product = _text(detail.get("productCodeableConcept"))
        sensitivity = (
            sensitivity_of(
                {},
                detail.get("code"),
                detail.get("reasonCode"),
                words=(detail.get("description"),),
            )
            or plan_sensitivity
        )
        status = ACTIVITY_STATUS.get(detail.get("status"), ItemStatus.ACTIVE)
        if status not in CLOSED_STATUSES and plan_status in (
            "completed",
            "revoked",
            "entered-in-error",
        ):
            status = ItemStatus.COMPLETED if plan_status == "completed" else ItemStatus.CANCELLED
        kind_name = detail.get("kind") or ""
        words = " ".join(t for t in (code_text, _first_text(plan.get("category"))) if t)
        scheduled = detail.get("scheduledPeriod") or {}
        area = _area(sensitivity, words)
        if kind_name == "MedicationRequest" or product:
            name = product or code_text
            return self._item_values(
                ItemKind.MEDICATION,
                name,
                status,
                sensitivity,
                org,
                area=Area.MEDICINES,
                medication_name=_cut(name, 120),
                dose=_cut(
                    _text(detail.get("dailyAmount"))
                    or (detail.get("dailyAmount") or {}).get("value"),
                    120,
                ),
                ingredients=ingredients_from_name(name),
                prescriber_name=_cut((detail.get("performer") or [{}])[0].get("display"), 120),
            )
        if kind_name == "Appointment" and _instant(scheduled.get("start")):
            return self._item_values(
                ItemKind.APPOINTMENT,
                code_text,
                status,
                sensitivity,
                org,
                area=area,
                starts_at=_instant(scheduled.get("start")),
                location=_cut((detail.get("location") or {}).get("display"), 200),
            )
        if kind_name == "CommunicationRequest" or re.search(
            r"educat|teach|advice|information", words.lower()
        ):
            return self._item_values(
                ItemKind.EDUCATION,
                code_text,
                status,
                sensitivity,
                org,
                area=area,
                details=_cut(detail.get("description"), 2000),
            )
        if kind_name == "ServiceRequest" and re.search(r"refer", (code_text or "").lower()):
            return self._item_values(
                ItemKind.REFERRAL,
                code_text,
                status,
                sensitivity,
                org,
                area=area,
                referred_to=_cut(code_text, 160),
                referral_need=ReferralNeed.CLINICAL,
                referral_status=ReferralStatus.SENT,
            )
        return self._item_values(
            ItemKind.TASK,
            code_text,
            status,
            sensitivity,
            org,
            area=area,
            details=_cut(detail.get("description"), 2000),
            due_date=_day(scheduled.get("end")),
        )

    def _end_dropped(self, plan_id: str, keep: set[tuple[str, str]]) -> int:
        """Items a CarePlan listed before and no longer does: ended, never deleted."""
        ended = 0
        for (rtype, fhir_id), source in list(self.sources.items()):
            if (
                source is None
                or source.parent_fhir_id != plan_id
                or source.ended_at is not None
                or (rtype, fhir_id) in keep
                or source.entity != "plan_item"
            ):
                continue
            source.ended_at = self.now
            item = db.session.get(PlanItem, source.entity_id) if source.entity_id else None
            if item is not None and item.status not in CLOSED_STATUSES:
                item.status = ItemStatus.CANCELLED
                db.session.flush()
                changes.record(
                    patient_id=item.patient_id,
                    subject=ChangeSubject.ITEM,
                    subject_id=item.id,
                    change=ChangeKind.STOPPED,
                    title=item.title,
                    fields=["status"],
                )
                plan_item_changed.send(item, added=False, fields=["status"])
                self.touched_patients.add(item.patient_id)
            ended += 1
        return ended

    def _upsert(
        self,
        entry: Entry,
        model,
        entity: str,
        values: dict,
        patient: Patient,
        org: Organization,
        *,
        parent: str | None = None,
        digest: str | None = None,
        create_extra: dict | None = None,
    ) -> str:
        """Create the item or goal, or bring it in line with the source: fields the team
        changed since the last import keep the team's value, and what the source now says
        about them is kept (`source_says`) for the item page."""
        digest = digest or _digest(entry.resource, parent, values.get("sensitivity"))
        source = self._source(entry.type, entry.fhir_id)
        subject = ChangeSubject.ITEM if model is PlanItem else ChangeSubject.GOAL
        taken = {name: _jsonable(value) for name, value in values.items()}
        row = db.session.get(model, source.entity_id) if source and source.entity_id else None
        if row is not None and source.content_digest == digest and source.ended_at is None:
            return "unchanged"
        if row is None and any(source is kept for _row, kept, _s in self.new_rows):
            return "unchanged"  # the same resource twice in one Bundle: taken once
        if row is None:
            # Written in one flush with the import's other new rows (`_finish_new`): a Synthea
            # bundle's items cost one INSERT round instead of one each.
            row = model(patient_id=patient.id, **values, **(create_extra or {}))
            db.session.add(row)
            kept = self._keep(
                entry,
                entity,
                None,
                digest=digest,
                patient_id=patient.id,
                organization_id=org.id,
                parent=parent,
                taken=taken,
            )
            self.new_rows.append((row, kept, subject))
            self.touched_patients.add(patient.id)
            return "created"
        before_taken = source.taken or {}
        team_edited = {
            name
            for name in values
            if name in before_taken and _jsonable(getattr(row, name)) != before_taken[name]
        }
        says = {
            name: taken[name]
            for name in sorted(team_edited)
            if taken[name] != _jsonable(getattr(row, name))
        }
        before_status = row.status if model is PlanItem else None
        changed = []
        for name, value in values.items():
            if name in team_edited or name == "kind":
                continue
            if _jsonable(getattr(row, name)) != taken[name]:
                setattr(row, name, value)
                changed.append(name)
        if model is PlanItem and row.kind is ItemKind.MEDICATION:
            row.ingredients = normalise_ingredients(row.ingredients)
        if changed:
            db.session.flush()
            kind = ChangeKind.CHANGED
            if model is PlanItem and before_status != row.status:
                if row.status is ItemStatus.COMPLETED:
                    kind = ChangeKind.COMPLETED
                elif row.status in (ItemStatus.CANCELLED, ItemStatus.STOPPED):
                    kind = ChangeKind.STOPPED
            changes.record(
                patient_id=row.patient_id,
                subject=subject,
                subject_id=row.id,
                change=kind,
                title=row.title if model is PlanItem else row.description,
                fields=changed,
            )
            self._changed_signal(row, added=False, fields=changed)
            self.touched_patients.add(row.patient_id)
        kept = self._keep(
            entry,
            entity,
            row.id,
            digest=digest,
            patient_id=row.patient_id,
            organization_id=org.id,
            parent=parent,
            taken=taken,
        )
        kept.source_says = says or None
        return "updated" if changed or says else "unchanged"

    def _finish_new(self) -> None:
        """The new items and goals, flushed together: their ids on their source rows, "What
        changed" and the audit trail (as a manual entry writes them), and the signal that lets
        reminders plan for the open ones."""
        if not self.new_rows:
            return
        db.session.flush()
        for row, source, subject in self.new_rows:
            source.entity_id = row.id
            item = subject is ChangeSubject.ITEM
            changes.record(
                patient_id=row.patient_id,
                subject=subject,
                subject_id=row.id,
                change=ChangeKind.ADDED,
                title=row.title if item else row.description,
            )
            if not (item and row.status in CLOSED_STATUSES):
                self._changed_signal(row, added=True, fields=[])  # nothing to plan when closed
        self.new_rows = []

    @staticmethod
    def _changed_signal(row, *, added: bool, fields: list[str]) -> None:
        if isinstance(row, PlanItem):
            plan_item_changed.send(row, added=added, fields=fields)
        else:
            goal_changed.send(row, fields=fields)


def import_data(
    data: dict,
    *,
    coordinator: CareTeamMember | None = None,
    source_system: str | None = None,
) -> ImportReport:
    """Import a parsed Bundle or resource in the current transaction (flushes, never commits).
    Raises ImportRejected, after which the caller must roll back."""
    return Importer(data, coordinator=coordinator, source_system=source_system).run()


def default_coordinator(email: str | None = None) -> CareTeamMember | None:
    """The member given by email, else the demo's nurse coordinator when present (None:
    imported patients get no coordinator; a CCO names one with --coordinator)."""
    if email:
        return db.session.scalar(
            sa.select(CareTeamMember)
            .join(User, User.id == CareTeamMember.user_id)
            .where(User.email == email.strip().lower())
        )
    demo = db.session.scalar(
        sa.select(CareTeamMember)
        .join(User, User.id == CareTeamMember.user_id)
        .where(User.email == "nurse@demo.carecircle.test")
    )
    return demo
