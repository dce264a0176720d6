"""The unified care plan's items, from every discipline, and the duplicate/conflict flags."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import TimestampMixin, enum_column, utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from app.team.models import CareTeamMember, Discipline, Organization


class ItemKind(enum.StrEnum):
    MEDICATION = "medication"
    APPOINTMENT = "appointment"
    REFERRAL = "referral"
    TASK = "task"  # self-care task
    EDUCATION = "education"
    TEST = "test"  # tests and procedures


class ItemStatus(enum.StrEnum):
    """Mirrors FHIR CarePlan.activity.detail.status, in the words we show."""

    PLANNED = "planned"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"


#: Statuses in which an item no longer asks anything of anyone.
CLOSED_STATUSES = frozenset({ItemStatus.COMPLETED, ItemStatus.CANCELLED, ItemStatus.STOPPED})
#: The open items, as an index's WHERE clause (statuses are stored as their values).
OPEN_ITEMS_SQL = "status NOT IN ('cancelled', 'completed', 'stopped')"


class Area(enum.StrEnum):
    """Areas of life the patient's plan is grouped by."""

    PHYSICAL_HEALTH = "physical_health"
    MEDICINES = "medicines"
    EMOTIONAL_HEALTH = "emotional_health"
    DAILY_LIVING = "daily_living"
    HOME_FOOD_TRANSPORT = "home_food_transport"
    TEETH = "teeth"


class OwnerKind(enum.StrEnum):
    TEAM_MEMBER = "team_member"
    ORGANIZATION = "organization"
    PATIENT = "patient"
    CAREGIVER = "caregiver"


class ReferralStatus(enum.StrEnum):
    """Closed loop: sent -> contacted -> enrolled or declined."""

    SENT = "sent"
    CONTACTED = "contacted"
    ENROLLED = "enrolled"
    DECLINED = "declined"


class Attendance(enum.StrEnum):
    """What happened at a past appointment, as the team recorded it (FHIR Appointment.status
    fulfilled / noshow): the no-show measure compares reminded and not reminded appointments."""

    ATTENDED = "attended"
    NO_SHOW = "no_show"


class ReferralNeed(enum.StrEnum):
    CLINICAL = "clinical"
    FOOD = "food"
    HOUSING = "housing"
    TRANSPORT = "transport"
    UTILITIES = "utilities"
    OTHER_SOCIAL = "other_social"


class Schedule(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    ONCE = "once"


class ReadingKind(enum.StrEnum):
    """The number a self-care task asks for (readings.py: units, ranges, alerts)."""

    WEIGHT = "weight"
    BLOOD_PRESSURE = "blood_pressure"
    BLOOD_SUGAR = "blood_sugar"
    STEPS = "steps"
    MOOD = "mood"


class PlanItem(TimestampMixin, db.Model):
    """One thing in the plan. Kind-specific columns are NULL for the other kinds."""

    __tablename__ = "plan_items"
    __table_args__ = (
        sa.Index("ix_plan_items_patient_status", "patient_id", "status"),
        sa.Index("ix_plan_items_patient_kind", "patient_id", "kind"),
        # The "care plan reviewed" measure: when a patient's oldest open item was added.
        sa.Index(
            "ix_plan_items_open_since",
            "patient_id",
            "created_at",
            sqlite_where=sa.text(OPEN_ITEMS_SQL),
            postgresql_where=sa.text(OPEN_ITEMS_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind))
    #: Plain-language name the patient sees, e.g. "Take metformin".
    title: Mapped[str] = mapped_column(sa.String(160))
    details: Mapped[str | None] = mapped_column(sa.Text)
    #: The language it was written in (a LANGUAGES code); translations into the readers'
    #: languages: careplan.translations.
    content_language: Mapped[str] = mapped_column(sa.String(8), default="en", server_default="en")
    #: "Why this matters", in plain language.
    why_it_matters: Mapped[str | None] = mapped_column(sa.Text)
    area: Mapped[Area] = mapped_column(enum_column(Area))
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus), default=ItemStatus.ACTIVE)
    discipline: Mapped[Discipline] = mapped_column(enum_column(Discipline))
    source_organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    #: Sensitive category; caregivers see it only if the patient included the category.
    sensitivity: Mapped[Sensitivity | None] = mapped_column(enum_column(Sensitivity))

    owner_kind: Mapped[OwnerKind] = mapped_column(enum_column(OwnerKind))
    owner_member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("care_team_members.id", ondelete="SET NULL")
    )
    owner_organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    owner_caregiver_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    # medication
    medication_name: Mapped[str | None] = mapped_column(sa.String(120))
    dose: Mapped[str | None] = mapped_column(sa.String(120))
    #: Active ingredients, lower-case, for the same-ingredient check.
    ingredients: Mapped[list[str] | None] = mapped_column(sa.JSON)
    prescriber_member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("care_team_members.id", ondelete="SET NULL")
    )
    #: Free text when the prescriber is not on the care team.
    prescriber_name: Mapped[str | None] = mapped_column(sa.String(120))
    #: Times of day to take it, "HH:MM" in the patient's day, sorted (["08:00", "20:00"]);
    #: empty or NULL: once a day, at no fixed time. A dose's slot is its index here.
    dose_times: Mapped[list[str] | None] = mapped_column(sa.JSON)

    # appointment
    starts_at: Mapped[datetime | None] = mapped_column(index=True)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    with_whom: Mapped[str | None] = mapped_column(sa.String(120))
    preparation: Mapped[str | None] = mapped_column(sa.Text)
    interpreter_booked: Mapped[bool | None] = mapped_column()
    #: When the patient confirmed the appointment (e.g. by texting C).
    patient_confirmed_at: Mapped[datetime | None] = mapped_column()
    #: A video visit's link (https only), shown from 15 minutes before it starts.
    video_url: Mapped[str | None] = mapped_column(sa.String(300))
    #: The place's phone (E.164) for "Call"; else the source organization's phone.
    location_phone: Mapped[str | None] = mapped_column(sa.String(20))
    #: When the patient side last asked to change it; cleared when the team answers or
    #: changes the appointment (the requests themselves: appointments.AppointmentRequest).
    change_requested_at: Mapped[datetime | None] = mapped_column()
    #: Whether the patient came, recorded by the team after the start (NULL: not recorded).
    attendance: Mapped[Attendance | None] = mapped_column(enum_column(Attendance, length=12))
    attendance_recorded_at: Mapped[datetime | None] = mapped_column()

    # referral
    referral_status: Mapped[ReferralStatus | None] = mapped_column(enum_column(ReferralStatus))
    referral_need: Mapped[ReferralNeed | None] = mapped_column(enum_column(ReferralNeed))
    referred_to: Mapped[str | None] = mapped_column(sa.String(160))

    # self-care task
    schedule: Mapped[Schedule | None] = mapped_column(enum_column(Schedule))
    #: For weekly tasks: 0 = Monday ... 6 = Sunday.
    weekday: Mapped[int | None] = mapped_column()
    #: For one-time tasks and tests: the day it is due (patient's calendar).
    due_date: Mapped[date | None] = mapped_column()
    #: The number the task asks for (None: a plain "Done" task), in `reading_unit`.
    reading_kind: Mapped[ReadingKind | None] = mapped_column(enum_column(ReadingKind, length=16))
    reading_unit: Mapped[str | None] = mapped_column(sa.String(12))
    #: The goal the readings feed as check-ins.
    goal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("goals.id", ondelete="SET NULL"))
    #: The team's alert rules: above/below the first number (blood pressure: the top one),
    #: above for the bottom number, and a rise of `alert_rise` within `alert_rise_days` days.
    alert_above: Mapped[float | None] = mapped_column()
    alert_above2: Mapped[float | None] = mapped_column()
    alert_below: Mapped[float | None] = mapped_column()
    alert_rise: Mapped[float | None] = mapped_column()
    alert_rise_days: Mapped[int | None] = mapped_column()

    # tests and procedures
    code: Mapped[str | None] = mapped_column(sa.String(32))
    #: "LOINC", "CPT" or another system, as text.
    code_system: Mapped[str | None] = mapped_column(sa.String(32))
    ordering_member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("care_team_members.id", ondelete="SET NULL")
    )
    ordering_provider_name: Mapped[str | None] = mapped_column(sa.String(120))
    ordered_on: Mapped[date | None] = mapped_column()

    # education
    resource_url: Mapped[str | None] = mapped_column(sa.String(300))

    source_organization: Mapped[Organization] = relationship(
        foreign_keys=[source_organization_id], lazy="raise"
    )
    owner_member: Mapped[CareTeamMember | None] = relationship(
        foreign_keys=[owner_member_id], lazy="raise"
    )
    owner_organization: Mapped[Organization | None] = relationship(
        foreign_keys=[owner_organization_id], lazy="raise"
    )
    owner_caregiver: Mapped[User | None] = relationship(
        foreign_keys=[owner_caregiver_id], lazy="raise"
    )
    prescriber: Mapped[CareTeamMember | None] = relationship(
        foreign_keys=[prescriber_member_id], lazy="raise"
    )
    ordering_member: Mapped[CareTeamMember | None] = relationship(
        foreign_keys=[ordering_member_id], lazy="raise"
    )

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES


class TaskCompletion(db.Model):
    """A tick on a self-care task for one day of the patient's calendar."""

    __tablename__ = "task_completions"
    __table_args__ = (
        sa.UniqueConstraint("item_id", "for_date", name="uq_task_completions_item_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_items.id", ondelete="CASCADE"))
    for_date: Mapped[date] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlagKind(enum.StrEnum):
    DUPLICATE_TEST = "duplicate_test"
    DUPLICATE_MEDICATION = "duplicate_medication"
    SAME_INGREDIENT = "same_ingredient"


class FlagStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class FlagResolution(enum.StrEnum):
    KEEP_BOTH = "keep_both"
    CANCELLED_ONE = "cancelled_one"
    GONE = "gone"  # an item was closed or changed, so the conflict no longer exists


class PlanFlag(db.Model):
    """Two items that look like a duplicate or a conflict, for the team to settle."""

    __tablename__ = "plan_flags"
    __table_args__ = (
        sa.UniqueConstraint("kind", "item_a_id", "item_b_id", name="uq_plan_flags_pair"),
        sa.Index("ix_plan_flags_patient_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    kind: Mapped[FlagKind] = mapped_column(enum_column(FlagKind))
    #: The pair, smaller id first.
    item_a_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_items.id", ondelete="CASCADE"))
    item_b_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_items.id", ondelete="CASCADE"))
    #: The shared ingredient, for same-ingredient flags.
    detail: Mapped[str | None] = mapped_column(sa.String(120))
    status: Mapped[FlagStatus] = mapped_column(enum_column(FlagStatus), default=FlagStatus.OPEN)
    resolution: Mapped[FlagResolution | None] = mapped_column(enum_column(FlagResolution))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item_a: Mapped[PlanItem] = relationship(foreign_keys=[item_a_id], lazy="raise")
    item_b: Mapped[PlanItem] = relationship(foreign_keys=[item_b_id], lazy="raise")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id], lazy="raise")
