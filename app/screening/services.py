"""Writes of the social needs screening: save the answers (a QuestionnaireResponse), suggest a
referral for each need found, and the community health worker's first step on a suggestion
(send it, or say it is not needed). Services flush; the request commits.

A suggested referral is a plan item of kind referral in status "planned" with no referral step
yet (`referral_status` NULL). Sending it moves it to "sent" (and the item to "active"); from
there the plan's own steps (contacted -> enrolled / declined) close the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.careplan.items import services as items
from app.careplan.items.models import (
    CLOSED_STATUSES,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanItem,
    ReferralStatus,
)
from app.careplan.items.services import ItemInput
from app.careplan.translations.services import patient_language
from app.core import audit
from app.core.db import utcnow
from app.core.errors import RuleError
from app.core.privacy import Actor, Capacity, Sensitivity, acting_as, current_actor
from app.extensions import db
from app.patients.models import Patient
from app.screening import fhir
from app.screening.labels import REFERRAL_AREAS, REFERRAL_NEEDS, REFERRAL_TITLES
from app.screening.models import ScreeningReferral, ScreeningResponse
from app.screening.questions import BY_LINK, QUESTIONNAIRE, SENSITIVE_NEEDS, Need, needs_found
from app.team.models import CareRole, CareTeamAssignment, CareTeamMember, Discipline


@dataclass
class ScreeningInput:
    """What the form gives: link id -> answer codes (checked against each question's options;
    a skipped question is left out) and the language the questions were shown in."""

    answers: dict[str, list[str]]
    language: str


def record_screening(patient: Patient, data: ScreeningInput) -> ScreeningResponse:
    """Save one screening by the current actor and suggest a referral for each need found.

    A caregiver is never asked the safety questions; any safety answer arriving in their name
    is dropped here as well, so nothing sensitive is ever recorded as told by a caregiver."""
    actor = current_actor()
    answered_as = actor.capacity.value
    answers = {
        link: list(codes)
        for link, codes in data.answers.items()
        if codes
        and link in BY_LINK
        and not (actor.capacity is Capacity.CAREGIVER and BY_LINK[link].need in SENSITIVE_NEEDS)
    }
    needs = needs_found(answers)
    now = utcnow()
    author = db.session.get(User, actor.user_id) if actor.user_id is not None else None
    author_id = actor.user_id
    if actor.capacity is Capacity.CARE_TEAM and actor.user_id is not None:
        author_id = db.session.scalar(
            sa.select(CareTeamMember.id).where(CareTeamMember.user_id == actor.user_id)
        )
    with force_locale(data.language):  # the words as they were shown
        document = fhir.questionnaire_response(
            patient_id=patient.id,
            answers=answers,
            authored=now,
            language=data.language,
            answered_as=answered_as,
            author_id=author_id,
            author_name=author.full_name if author is not None else None,
        )
    response = ScreeningResponse(
        patient_id=patient.id,
        questionnaire=QUESTIONNAIRE,
        answered_by_id=actor.user_id,
        answered_as=answered_as,
        language=data.language,
        authored_at=now,
        needs=[need.value for need in needs],
        positive=bool(needs),
        response=document,
    )
    db.session.add(response)
    db.session.flush()
    audit.record(
        action="create",
        resource="screening.response",
        resource_id=response.id,
        patient_id=patient.id,
    )
    for need in needs:
        _answer_need(patient, response, need)
    db.session.flush()
    return response


# ------------------------------------------------------------------ suggested referrals


def open_referral_for(patient_id: int, need: Need) -> int | None:
    """An open referral already answering this need: one a screening linked to it, or (not for
    safety) any open referral of the plan for the same kind of need."""
    linked = (
        sa.select(PlanItem.id)
        .join(ScreeningReferral, ScreeningReferral.item_id == PlanItem.id)
        .where(
            ScreeningReferral.patient_id == patient_id,
            ScreeningReferral.need == need.value,
            PlanItem.patient_id == patient_id,
            PlanItem.status.not_in(list(CLOSED_STATUSES)),
        )
    )
    found = db.session.scalar(linked.order_by(PlanItem.id.desc()).limit(1))
    if found is not None or need in SENSITIVE_NEEDS:
        return found
    return db.session.scalar(
        sa.select(PlanItem.id)
        .where(
            PlanItem.patient_id == patient_id,
            PlanItem.kind == ItemKind.REFERRAL,
            PlanItem.referral_need == REFERRAL_NEEDS[need],
            PlanItem.status.not_in(list(CLOSED_STATUSES)),
        )
        .order_by(PlanItem.id.desc())
        .limit(1)
    )


def owner_for(patient_id: int) -> CareTeamMember | None:
    """Who takes a suggested referral: the patient's community health worker, else a social
    services member of their team, else their care coordinator, else the first member."""
    rows = db.session.execute(
        sa.select(CareTeamMember, CareTeamAssignment.is_coordinator)
        .join(CareTeamAssignment, CareTeamAssignment.member_id == CareTeamMember.id)
        .where(CareTeamAssignment.patient_id == patient_id)
        .order_by(CareTeamAssignment.id)
    ).all()

    def rank(row) -> int:
        member, coordinator = row
        if member.role is CareRole.COMMUNITY_HEALTH_WORKER:
            return 0
        if member.discipline is Discipline.SOCIAL_SERVICES:
            return 1
        return 2 if coordinator else 3

    return min(rows, key=rank)[0] if rows else None


def _answer_need(patient: Patient, response: ScreeningResponse, need: Need) -> None:
    """One link row per need: to the referral already open for it, else to a new suggestion."""
    existing = open_referral_for(patient.id, need)
    item_id, suggested = existing, False
    if existing is None:
        owner = owner_for(patient.id)
        if owner is not None:
            item_id, suggested = _suggest(patient, response, need, owner).id, True
    db.session.add(
        ScreeningReferral(
            response_id=response.id,
            patient_id=patient.id,
            need=need.value,
            item_id=item_id,
            suggested=suggested,
        )
    )


def _suggest(
    patient: Patient, response: ScreeningResponse, need: Need, owner: CareTeamMember
) -> PlanItem:
    """A suggested referral for `need`, owned by `owner`, written in the patient's language.
    Added by the system (not by whoever answered): "What changed" says the screening did it."""
    language = patient_language(patient)
    with force_locale(language):
        title = str(REFERRAL_TITLES[need])
        details = _(
            "Suggested by the answers to the questions about needs on %(day)s.",
            day=format_date(patient.local(response.authored_at).date(), "long"),
        )
    data = ItemInput(
        kind=ItemKind.REFERRAL,
        title=title,
        details=details,
        area=REFERRAL_AREAS[need],
        status=ItemStatus.PLANNED,
        discipline=Discipline.SOCIAL_SERVICES,
        source_organization_id=owner.organization_id,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=owner.id,
        referral_need=REFERRAL_NEEDS[need],
        # Safety stays between the patient and the team: no caregiver sees it, whatever
        # their grant (Sensitivity.CONFIDENTIAL), and it is in no text or email.
        sensitivity=Sensitivity.CONFIDENTIAL if need in SENSITIVE_NEEDS else None,
        content_language=language,
    )
    system = Actor(user_id=None, capacity=Capacity.SYSTEM, patient=patient)
    with acting_as(system):
        item = items.add_item(patient.id, data)
    # add_item starts a new referral at "sent"; a suggestion has no step until the CHW sends it.
    item.referral_status = None
    db.session.flush()
    return item


def is_suggested(item: PlanItem) -> bool:
    return (
        item.kind is ItemKind.REFERRAL
        and item.referral_status is None
        and item.status not in CLOSED_STATUSES
    )


def _lock(item: PlanItem) -> PlanItem:
    """The item again, locked for this transaction (PostgreSQL): two people sending the same
    suggestion at once send it once."""
    return db.session.scalars(
        sa.select(PlanItem)
        .where(PlanItem.id == item.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def send_referral(item: PlanItem, referred_to: str | None) -> None:
    """The CHW sends a suggested referral: step "sent", the item active, to whom it went."""
    item = _lock(item)
    if not is_suggested(item):
        raise RuleError(_l("This referral was already sent or closed."))
    data = ItemInput.from_item(item)
    data.status = ItemStatus.ACTIVE
    data.referral_status = ReferralStatus.SENT
    data.referred_to = referred_to or item.referred_to
    items.update_item(item, data)


def not_needed(item: PlanItem) -> None:
    """The suggestion is not wanted (the patient said no thanks, or it is taken care of)."""
    item = _lock(item)
    if not is_suggested(item):
        raise RuleError(_l("This referral was already sent or closed."))
    items.set_status(item, ItemStatus.CANCELLED)
