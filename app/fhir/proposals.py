"""Caregivers an imported record names, offered to the patient: never a grant.

An EHR's RelatedPerson with a Consent that permits access says "this person helps", but in
CareCircle access is the patient's own yes, given to a person who has proved who they are. So
the import keeps a *proposal* (one per RelatedPerson, updated by a re-import, never doubled):
the patient's caregivers page asks "Rosa Martínez (mother) is listed in Salem Family Clinic's
record. Invite her to help you?". Invite creates the normal invitation (app.caregivers
.invitations: the relationship, the scopes and the sensitive categories the Consent names, its
end date), so nothing is granted until the caregiver accepts it; Not now puts the question
away. Both are conditional updates, so a double click sends one invitation. Whoever may manage
the patient's caregivers (MANAGE_CAREGIVERS: the patient) decides; the care team sees nothing
to click, and takes it up with the patient.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from app.caregivers.models import CaregiverInvitation, Relation, Scope
from app.core import audit
from app.core.db import enum_column, utcnow
from app.core.privacy import GRANTABLE, Sensitivity
from app.extensions import db
from app.fhir.sources import FhirSource
from app.team.models import Organization

#: FHIR v3 RoleCode (RelatedPerson.relationship) -> CareCircle's Relation.
ROLE_CODES = {
    "MTH": Relation.MOTHER,
    "NMTH": Relation.MOTHER,
    "STPMTH": Relation.MOTHER,
    "FTH": Relation.FATHER,
    "NFTH": Relation.FATHER,
    "STPFTH": Relation.FATHER,
    "PRN": Relation.PARENT,
    "NPRN": Relation.PARENT,
    "STPPRN": Relation.PARENT,
    "DAU": Relation.DAUGHTER,
    "DAUC": Relation.DAUGHTER,
    "SON": Relation.SON,
    "SONC": Relation.SON,
    "CHILD": Relation.CHILD,
    "CHLDADOPT": Relation.CHILD,
    "SPS": Relation.SPOUSE,
    "HUSB": Relation.SPOUSE,
    "WIFE": Relation.SPOUSE,
    "DOMPART": Relation.PARTNER,
    "SIGOTHR": Relation.PARTNER,
    "SIB": Relation.SIBLING,
    "BRO": Relation.SIBLING,
    "SIS": Relation.SIBLING,
    "GRPRN": Relation.GRANDPARENT,
    "GRMTH": Relation.GRANDPARENT,
    "GRFTH": Relation.GRANDPARENT,
    "GRNDCHILD": Relation.GRANDCHILD,
    "GRNDDAU": Relation.GRANDCHILD,
    "GRNDSON": Relation.GRANDCHILD,
    "FAMMEMB": Relation.OTHER_FAMILY,
    "EXT": Relation.OTHER_FAMILY,
    "AUNT": Relation.OTHER_FAMILY,
    "UNCLE": Relation.OTHER_FAMILY,
    "COUSN": Relation.OTHER_FAMILY,
    "FRND": Relation.FRIEND,
    "NBOR": Relation.NEIGHBOR,
    "GUARD": Relation.LEGAL_GUARDIAN,
}

#: CareCircle's own caregiver-scope codes (its export's Consent.provision.class) are taken as
#: they are; another system's consent to "access" the record opens the care plan only.
SCOPE_VALUES = frozenset(s.value for s in Scope)
GRANTABLE_VALUES = frozenset(c.value for c in GRANTABLE)


class Answer(enum.StrEnum):
    INVITED = "invited"  # the patient sent the invitation
    NOT_NOW = "not_now"  # the patient put the question away


class CaregiverProposal(db.Model):
    """A person an imported record lists as helping the patient, waiting for the patient."""

    __tablename__ = "fhir_caregiver_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    #: The RelatedPerson's source row: a re-import updates this proposal, never adds one.
    source_id: Mapped[int] = mapped_column(
        sa.ForeignKey("fhir_sources.id", ondelete="CASCADE"), unique=True
    )
    #: Whose record lists them ("is listed in Salem Family Clinic's record").
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    relation: Mapped[Relation] = mapped_column(enum_column(Relation), default=Relation.OTHER)
    #: The source's words for the relationship ("mother"), kept for Relation.OTHER.
    relationship_label: Mapped[str] = mapped_column(sa.String(60), default="")
    #: Where the invitation would go: an email address or a valid mobile (E.164), if given.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    #: A current Consent permits access: only then is the patient asked.
    permitted: Mapped[bool] = mapped_column(default=False)
    #: The Consent that says so (its FHIR id at the source).
    consent_fhir_id: Mapped[str | None] = mapped_column(sa.String(200))
    #: What that Consent allows: Scope values, the sensitive categories it names, its end.
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    sensitive_categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    ends_at: Mapped[datetime | None] = mapped_column()
    #: The patient's answer (NULL: not asked yet or not answered).
    answer: Mapped[Answer | None] = mapped_column(enum_column(Answer, length=12))
    answered_at: Mapped[datetime | None] = mapped_column()
    answered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: The invitation the patient's yes created.
    invitation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("caregiver_invitations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization | None] = relationship(lazy="raise")


# ------------------------------------------------------------------ the import's side


def for_related_person(
    source: FhirSource,
    *,
    name: str,
    relation: Relation,
    relationship_label: str,
    email: str | None,
    phone: str | None,
    organization_id: int | None,
) -> CaregiverProposal:
    """Create or refresh the proposal of an imported RelatedPerson (who they are, where an
    invitation would go); what the patient already answered stays answered."""
    proposal = db.session.scalar(
        sa.select(CaregiverProposal).where(CaregiverProposal.source_id == source.id)
    )
    if proposal is None:
        proposal = CaregiverProposal(source_id=source.id, patient_id=source.patient_id)
        db.session.add(proposal)
    proposal.patient_id = source.patient_id
    proposal.name = name
    proposal.relation = relation
    proposal.relationship_label = relationship_label
    proposal.email = email
    proposal.phone = phone
    proposal.organization_id = organization_id
    proposal.updated_at = utcnow()
    db.session.flush()
    return proposal


@dataclass(frozen=True)
class ConsentTerms:
    permitted: bool
    scopes: list[str]
    categories: list[str]
    ends_at: datetime | None


def apply_consent(source: FhirSource | None, consent_fhir_id: str, terms: ConsentTerms) -> bool:
    """What a Consent says about one imported RelatedPerson: permitted (with its terms) or
    not. A Consent that does not permit only withdraws what it permitted itself."""
    if source is None:
        return False
    proposal = db.session.scalar(
        sa.select(CaregiverProposal).where(CaregiverProposal.source_id == source.id)
    )
    if proposal is None:
        return False
    if terms.permitted:
        proposal.permitted = True
        proposal.consent_fhir_id = consent_fhir_id[:200]
        proposal.scopes = sorted(set(terms.scopes))
        proposal.sensitive_categories = sorted(set(terms.categories))
        proposal.ends_at = terms.ends_at
    elif proposal.consent_fhir_id in (None, consent_fhir_id[:200]):
        proposal.permitted = False
        proposal.consent_fhir_id = consent_fhir_id[:200]
        proposal.scopes, proposal.sensitive_categories, proposal.ends_at = [], [], None
    proposal.updated_at = utcnow()
    db.session.flush()
    return True


def caregiver_user_id(source: FhirSource | None) -> int | None:
    """The account of an imported RelatedPerson, once the patient invited them and they
    accepted (None before: their messages show without a name)."""
    if source is None:
        return None
    return db.session.scalar(
        sa.select(CaregiverInvitation.accepted_by_id)
        .join(CaregiverProposal, CaregiverProposal.invitation_id == CaregiverInvitation.id)
        .where(CaregiverProposal.source_id == source.id)
    )


# ------------------------------------------------------------------ the patient's side


def reachable(proposal: CaregiverProposal) -> bool:
    """The record gives somewhere to send the invitation."""
    return bool(proposal.email or proposal.phone)


def open_for(patient_id: int) -> list[CaregiverProposal]:
    """The proposals waiting for the patient's answer (one query): permitted, not answered,
    not past the Consent's end."""
    now = utcnow()
    return list(
        db.session.scalars(
            sa.select(CaregiverProposal)
            .where(
                CaregiverProposal.patient_id == patient_id,
                CaregiverProposal.permitted.is_(True),
                CaregiverProposal.answer.is_(None),
                sa.or_(CaregiverProposal.ends_at.is_(None), CaregiverProposal.ends_at > now),
            )
            .options(joinedload(CaregiverProposal.organization))
            .order_by(CaregiverProposal.id)
        )
    )


def get_open(patient_id: int, proposal_id: int) -> CaregiverProposal | None:
    """The patient's own open proposal, or None (another patient's: None, as for none)."""
    return next((p for p in open_for(patient_id) if p.id == proposal_id), None)


def answer(proposal: CaregiverProposal, answer: Answer, user_id: int) -> bool:
    """Record the patient's answer once: a conditional update, so of two clicks at the same
    moment one wins and the other changes nothing (False)."""
    now = utcnow()
    result = db.session.execute(
        sa.update(CaregiverProposal)
        .where(
            CaregiverProposal.id == proposal.id,
            CaregiverProposal.answer.is_(None),
            CaregiverProposal.permitted.is_(True),
        )
        .values(answer=answer, answered_at=now, answered_by_id=user_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(proposal)
    audit.record(
        action="update",
        resource="fhir.proposal",
        resource_id=proposal.id,
        patient_id=proposal.patient_id,
    )
    return True


def invite(
    proposal: CaregiverProposal,
    patient,
    user,
    *,
    email: str | None = None,
    phone: str | None = None,
) -> CaregiverInvitation | None:
    """The patient's yes: the normal invitation, with what the Consent permitted, sent to the
    address the patient typed, else the one the record gives. None when there is nowhere to
    send it, or when it was answered already (a second click)."""
    from app.caregivers import invitations
    from app.texting.optout import is_opted_out

    if not (email or phone):
        email, phone = proposal.email, proposal.phone
    phone = phone if phone and not is_opted_out(phone) else None
    email = None if phone else email
    if not (phone or email) or not answer(proposal, Answer.INVITED, user.id):
        return None
    invitation, token = invitations.create(
        patient,
        user,
        name=proposal.name,
        email=email,
        phone=phone,
        relationship=proposal.relationship_label,
        relation=proposal.relation,
        scopes=[s for s in proposal.scopes or [] if s in SCOPE_VALUES],
        categories=[c for c in proposal.sensitive_categories or [] if c in GRANTABLE_VALUES],
        ends_at=proposal.ends_at,
    )
    proposal.invitation_id = invitation.id
    db.session.flush()
    invitations.send(invitation, token, patient)
    return invitation


# ------------------------------------------------------------------ reading a Consent


def consent_terms(resource: dict, now: datetime, instant, security_labels: dict) -> ConsentTerms:
    """A Consent's provision as CareCircle's terms: it permits when it is active, its base
    provision is a permit and its period has not ended; the scopes are CareCircle's own
    caregiver-scope codes, else "access" opens the care plan; a sensitive category is included
    only when the permit names it (securityLabel) and no nested deny does."""
    provision = resource.get("provision") if isinstance(resource.get("provision"), dict) else {}
    period = provision.get("period") if isinstance(provision.get("period"), dict) else {}
    ends_at = instant(period.get("end"))
    permitted = (
        resource.get("status") == "active"
        and (provision.get("type") or "permit") == "permit"
        and (ends_at is None or ends_at > now)
    )
    if not permitted:
        return ConsentTerms(False, [], [], None)
    codes = [
        c
        for c in provision.get("class") or []
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    ]
    scopes = sorted({c["code"] for c in codes if c["code"] in SCOPE_VALUES})
    if not scopes:
        actions = {
            str(c.get("code"))
            for a in provision.get("action") or []
            if isinstance(a, dict)
            for c in a.get("coding") or []
            if isinstance(c, dict)
        }
        scopes = [Scope.PLAN.value] if actions & {"access", "use"} else []

    def categories(labels) -> set[str]:
        found = set()
        for label in labels or []:
            if isinstance(label, dict):
                category = security_labels.get(str(label.get("code", "")).upper())
                if category is not None and category is not Sensitivity.CONFIDENTIAL:
                    found.add(category.value)
        return found

    included = categories(provision.get("securityLabel"))
    for nested in provision.get("provision") or []:
        if isinstance(nested, dict) and nested.get("type") == "deny":
            included -= categories(nested.get("securityLabel"))
    return ConsentTerms(True, scopes, sorted(included & GRANTABLE_VALUES), ends_at)


# ------------------------------------------------------------------ the page


def register(app: Flask) -> None:
    """`caregiver_proposals(patient_id)` for the caregivers page (app.caregivers), which
    includes fhir/_proposals.html without importing this domain."""
    app.add_template_global(open_for, "caregiver_proposals")
