"""Organizations of the CCO, care team members and each patient's care team."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import TimestampMixin, enum_column, utcnow
from app.extensions import db


class OrganizationKind(enum.StrEnum):
    CCO = "cco"
    PRIMARY_CARE = "primary_care"
    SPECIALTY = "specialty"
    BEHAVIORAL_HEALTH = "behavioral_health"
    PHARMACY = "pharmacy"
    DENTAL = "dental"
    SOCIAL_SERVICES = "social_services"


class Discipline(enum.StrEnum):
    PRIMARY_CARE = "primary_care"
    NURSING = "nursing"  # nursing and care coordination
    BEHAVIORAL_HEALTH = "behavioral_health"
    PHARMACY = "pharmacy"
    SPECIALTY = "specialty"
    DENTAL = "dental"
    SOCIAL_SERVICES = "social_services"  # including community health workers


class CareRole(enum.StrEnum):
    """The role a member holds on a care team, shown translated ("Enfermera coordinadora").

    Their free-text `title` stays as they wrote it and is shown under the role only when it
    adds something. Discipline still decides what a role may reveal (behavioral health).
    """

    CARE_COORDINATOR = "care_coordinator"  # RN care coordinator
    NURSE = "nurse"
    PHYSICIAN = "physician"
    NURSE_PRACTITIONER = "nurse_practitioner"
    PHYSICIAN_ASSISTANT = "physician_assistant"
    PHARMACIST = "pharmacist"
    COUNSELOR = "counselor"  # behavioral health clinician / counselor
    PSYCHIATRIST = "psychiatrist"
    SOCIAL_WORKER = "social_worker"  # licensed clinical social worker
    COMMUNITY_HEALTH_WORKER = "community_health_worker"
    DENTIST = "dentist"
    DENTAL_HYGIENIST = "dental_hygienist"
    SPECIALIST = "specialist"  # specialist physician
    MEDICAL_ASSISTANT = "medical_assistant"
    PEER_SUPPORT = "peer_support"  # peer support specialist
    OTHER = "other"


#: The role a member of a discipline has unless they are given another (new members, FHIR
#: imports; the migration backfills from the title's words first).
DISCIPLINE_ROLES = {
    Discipline.PRIMARY_CARE: CareRole.PHYSICIAN,
    Discipline.NURSING: CareRole.NURSE,
    Discipline.BEHAVIORAL_HEALTH: CareRole.COUNSELOR,
    Discipline.PHARMACY: CareRole.PHARMACIST,
    Discipline.SPECIALTY: CareRole.SPECIALIST,
    Discipline.DENTAL: CareRole.DENTIST,
    Discipline.SOCIAL_SERVICES: CareRole.COMMUNITY_HEALTH_WORKER,
}


def _role_of_discipline(context) -> CareRole:
    discipline = context.get_current_parameters().get("discipline")
    try:
        return DISCIPLINE_ROLES.get(Discipline(discipline), CareRole.OTHER)
    except ValueError:
        return CareRole.OTHER


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), unique=True)
    kind: Mapped[OrganizationKind] = mapped_column(enum_column(OrganizationKind))
    #: The CCO an organization belongs to; NULL for the CCO itself.
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    phone: Mapped[str | None] = mapped_column(sa.String(20))

    parent: Mapped[Organization | None] = relationship(remote_side=[id], lazy="raise")


class CareTeamMember(TimestampMixin, db.Model):
    """The professional side of a care-team user: discipline and employer."""

    __tablename__ = "care_team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    discipline: Mapped[Discipline] = mapped_column(enum_column(Discipline))
    #: The role, shown translated (team.labels.ROLE_LABELS) before the free-text title.
    role: Mapped[CareRole] = mapped_column(
        enum_column(CareRole), default=_role_of_discipline, server_default=CareRole.OTHER.value
    )
    #: Job title as the member wants it shown, e.g. "RN Care Coordinator" (may be empty);
    #: shown under the translated role, in the member's own words.
    title: Mapped[str] = mapped_column(sa.String(120), default="")

    user: Mapped[User] = relationship(lazy="raise")
    organization: Mapped[Organization] = relationship(lazy="raise")


class CareTeamAssignment(db.Model):
    """A member on one patient's care team. At most one current coordinator per patient."""

    __tablename__ = "care_team_assignments"
    __table_args__ = (
        sa.UniqueConstraint(
            "patient_id", "member_id", name="uq_care_team_assignments_patient_member"
        ),
        sa.Index(
            "uq_care_team_assignments_one_coordinator",
            "patient_id",
            unique=True,
            sqlite_where=sa.text("is_coordinator = 1"),
            postgresql_where=sa.text("is_coordinator"),
        ),
        # "My patients" and the inbox's patient search: a member's patients by name, read in
        # index order whatever the size of the panel (keyset pages, prefix search).
        sa.Index("ix_care_team_assignments_member_sort", "member_id", "patient_sort", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("care_team_members.id", ondelete="CASCADE"), index=True
    )
    is_coordinator: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The patient's name as a sort and search key (app.team.sorting.sort_key), kept here so
    #: a member's panel is one index range. Byte order ("C") on PostgreSQL, as on SQLite.
    patient_sort: Mapped[str] = mapped_column(
        sa.String(120).with_variant(sa.String(120, collation="C"), "postgresql"),
        default="",
        server_default="",
    )

    member: Mapped[CareTeamMember] = relationship(lazy="raise")
