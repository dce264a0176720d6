"""Writes to the plan: items, task ticks, the referral loop, and the duplicate/conflict flags.

The view validates its form and hands an `ItemInput`; the service applies it. Services add and
flush; the request commits. Every change goes to "What changed" and the audit trail through
`changes.record`, re-checks the patient's flags, and sends `plan_item_changed` (reminders
re-plan the item's texts).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from itertools import combinations

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.careplan import changes
from app.careplan.items.models import (
    CLOSED_STATUSES,
    Area,
    FlagKind,
    FlagResolution,
    FlagStatus,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanFlag,
    PlanItem,
    ReadingKind,
    ReferralNeed,
    ReferralStatus,
    Schedule,
    TaskCompletion,
)
from app.careplan.models import ChangeKind, ChangeSubject
from app.careplan.translations import services as translations
from app.core.db import insert, utcnow
from app.core.errors import RuleError
from app.core.privacy import Sensitivity, current_actor
from app.core.signals import plan_item_changed
from app.extensions import db
from app.team.models import Discipline


@dataclass
class ItemInput:
    """What an item form gives the services, already checked. Names are the item's columns;
    only the kind's own columns (KIND_COLUMNS) and the common ones are applied."""

    kind: ItemKind
    title: str
    area: Area
    status: ItemStatus
    discipline: Discipline
    source_organization_id: int
    owner_kind: OwnerKind
    details: str | None = None
    why_it_matters: str | None = None
    sensitivity: Sensitivity | None = None
    owner_member_id: int | None = None
    owner_organization_id: int | None = None
    owner_caregiver_id: int | None = None
    # medication
    medication_name: str | None = None
    dose: str | None = None
    ingredients: list[str] = field(default_factory=list)
    prescriber_member_id: int | None = None
    prescriber_name: str | None = None
    dose_times: list[str] = field(default_factory=list)
    # appointment
    starts_at: datetime | None = None
    location: str | None = None
    with_whom: str | None = None
    preparation: str | None = None
    interpreter_booked: bool | None = None
    video_url: str | None = None
    location_phone: str | None = None
    # referral (a missing step keeps the item's step; a new referral starts at "sent")
    referred_to: str | None = None
    referral_need: ReferralNeed | None = None
    referral_status: ReferralStatus | None = None
    # self-care task
    schedule: Schedule | None = None
    weekday: int | None = None
    due_date: date | None = None
    reading_kind: ReadingKind | None = None
    reading_unit: str | None = None
    goal_id: int | None = None
    alert_above: float | None = None
    alert_above2: float | None = None
    alert_below: float | None = None
    alert_rise: float | None = None
    alert_rise_days: int | None = None
    # tests and procedures
    code: str | None = None
    code_system: str | None = None
    ordering_member_id: int | None = None
    ordering_provider_name: str | None = None
    ordered_on: date | None = None
    # education
    resource_url: str | None = None
    #: The language it is written in (None: the patient's, `translations.default_language`).
    content_language: str | None = None

    @classmethod
    def from_item(cls, item: PlanItem) -> ItemInput:
        """The item as it is, e.g. to fill its edit form."""
        return cls(**{f.name: getattr(item, f.name) for f in fields(cls)})


#: Columns every kind has.
COMMON_COLUMNS = (
    "title",
    "details",
    "why_it_matters",
    "area",
    "status",
    "discipline",
    "source_organization_id",
    "sensitivity",
    "owner_kind",
    "owner_member_id",
    "owner_organization_id",
    "owner_caregiver_id",
)

#: The columns each kind of item uses.
KIND_COLUMNS = {
    ItemKind.MEDICATION: (
        "medication_name",
        "dose",
        "ingredients",
        "prescriber_member_id",
        "prescriber_name",
        "dose_times",
    ),
    ItemKind.APPOINTMENT: (
        "starts_at",
        "location",
        "with_whom",
        "preparation",
        "interpreter_booked",
        "video_url",
        "location_phone",
    ),
    ItemKind.REFERRAL: ("referred_to", "referral_need", "referral_status"),
    ItemKind.TASK: (
        "schedule",
        "weekday",
        "due_date",
        "reading_kind",
        "reading_unit",
        "goal_id",
        "alert_above",
        "alert_above2",
        "alert_below",
        "alert_rise",
        "alert_rise_days",
    ),
    ItemKind.TEST: (
        "code",
        "code_system",
        "ordering_member_id",
        "ordering_provider_name",
        "ordered_on",
        "due_date",
    ),
    ItemKind.EDUCATION: ("resource_url",),
}

#: Fields compared to tell what changed, in the order they are listed on "What changed".
TRACKED_FIELDS = COMMON_COLUMNS + tuple(
    dict.fromkeys(name for columns in KIND_COLUMNS.values() for name in columns)
)

#: Closed-loop referral steps: where each status may go next.
REFERRAL_NEXT = {
    ReferralStatus.SENT: {ReferralStatus.CONTACTED, ReferralStatus.DECLINED},
    ReferralStatus.CONTACTED: {ReferralStatus.ENROLLED, ReferralStatus.DECLINED},
    ReferralStatus.ENROLLED: set(),
    ReferralStatus.DECLINED: set(),
}


def normalise_ingredients(values) -> list[str]:
    seen: list[str] = []
    for value in values or []:
        clean = " ".join(str(value).lower().split())
        if clean and clean not in seen:
            seen.append(clean)
    return seen


def _snapshot(item: PlanItem) -> dict:
    return {name: getattr(item, name) for name in TRACKED_FIELDS}


def _apply(item: PlanItem, data: ItemInput) -> None:
    for name in COMMON_COLUMNS + KIND_COLUMNS[data.kind]:
        value = getattr(data, name)
        if name == "referral_status" and value is None:
            continue  # no step chosen: the referral stays where it is
        setattr(item, name, value)
    if item.kind is ItemKind.MEDICATION:
        item.ingredients = normalise_ingredients(item.ingredients)
        item.dose_times = sorted(set(item.dose_times or [])) or None  # none: once, any time


def _change_kind(before_status: ItemStatus | None, after: ItemStatus) -> ChangeKind:
    if before_status != after and after is ItemStatus.COMPLETED:
        return ChangeKind.COMPLETED
    if before_status != after and after in (ItemStatus.CANCELLED, ItemStatus.STOPPED):
        return ChangeKind.STOPPED
    return ChangeKind.CHANGED


def add_item(patient_id: int, data: ItemInput) -> PlanItem:
    """Add an item to the patient's plan, by the current actor."""
    item = PlanItem(patient_id=patient_id, kind=data.kind, created_by_id=current_actor().user_id)
    _apply(item, data)
    item.content_language = data.content_language or translations.default_language_for(patient_id)
    if item.kind is ItemKind.REFERRAL and item.referral_status is None:
        item.referral_status = ReferralStatus.SENT
    db.session.add(item)
    db.session.flush()
    changes.record(
        patient_id=patient_id,
        subject=ChangeSubject.ITEM,
        subject_id=item.id,
        change=ChangeKind.ADDED,
        title=item.title,
    )
    refresh_flags(patient_id)
    plan_item_changed.send(item, added=True, fields=[])
    return item


def update_item(item: PlanItem, data: ItemInput) -> list[str]:
    """Change an open item as the form says. Returns the fields that changed (none: nothing
    is recorded)."""
    if item.status in CLOSED_STATUSES:
        raise RuleError(_l("This item is closed. Add a new item instead."))
    before = _snapshot(item)
    _apply(item, data)
    changed = _saved(item, before)
    if changed and item.kind is ItemKind.APPOINTMENT:
        item.change_requested_at = None  # the team changed it: the patient's ask is answered
        if "starts_at" in changed:
            item.patient_confirmed_at = None  # a new time is confirmed anew
    return changed


def _saved(item: PlanItem, before: dict, event: str | None = None) -> list[str]:
    """Record the change an edit made (if any), re-check the flags and tell the reminders.
    `event` names what the patient side did (changes.EVENT_LABELS), for "What changed"."""
    after = _snapshot(item)
    changed = [name for name in TRACKED_FIELDS if before.get(name) != after[name]]
    if not changed:
        return []
    db.session.flush()
    changes.record(
        patient_id=item.patient_id,
        subject=ChangeSubject.ITEM,
        subject_id=item.id,
        change=_change_kind(before.get("status"), item.status),
        title=item.title,
        fields=changed + ([event] if event else []),
    )
    refresh_flags(item.patient_id)
    plan_item_changed.send(item, added=False, fields=changed)
    return changed


def set_status(item: PlanItem, status: ItemStatus) -> None:
    if item.status in CLOSED_STATUSES:
        raise RuleError(_l("This item is already closed. Add a new item instead."))
    before = _snapshot(item)
    item.status = status
    _saved(item, before)


def advance_referral(item: PlanItem, status: ReferralStatus) -> None:
    """Move a referral along sent -> contacted -> enrolled/declined; never backwards."""
    if item.kind is not ItemKind.REFERRAL or item.referral_status is None:
        raise RuleError(_l("Only referrals have these steps."))
    if status not in REFERRAL_NEXT[item.referral_status]:
        raise RuleError(_l("A referral cannot go back a step or skip one."))
    before = _snapshot(item)
    item.referral_status = status
    if status in (ReferralStatus.ENROLLED, ReferralStatus.DECLINED):
        item.status = ItemStatus.COMPLETED
    _saved(item, before)


def tick_task(item: PlanItem, day: date) -> bool:
    """Mark a self-care task done for a day. Returns False if it was already ticked.
    (Medicines are marked taken per dose: `doses.take`.)

    One INSERT that skips a day already ticked: two taps at once (two phones, a double tap)
    leave one tick and no error."""
    if item.kind is not ItemKind.TASK or item.status in CLOSED_STATUSES:
        raise RuleError(_l("Only open self-care tasks can be ticked off."))
    inserted = db.session.scalar(
        insert(db.session, TaskCompletion)
        .values(
            item_id=item.id,
            for_date=day,
            completed_by_id=current_actor().user_id,
            completed_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["item_id", "for_date"])
        .returning(TaskCompletion.id)
    )
    return inserted is not None


def untick_task(item: PlanItem, day: date) -> None:
    db.session.execute(
        sa.delete(TaskCompletion).where(
            TaskCompletion.item_id == item.id, TaskCompletion.for_date == day
        )
    )


# ------------------------------------------------------------------ duplicate and conflict flags


def _prescriber(item: PlanItem) -> tuple:
    if item.prescriber_member_id is not None:
        return ("member", item.prescriber_member_id)
    return ("name", " ".join((item.prescriber_name or "").lower().split()))


def _test_key(item: PlanItem) -> tuple | None:
    if not item.code:
        return None
    return ((item.code_system or "").strip().upper(), item.code.strip().upper())


def _order_day(item: PlanItem) -> date:
    if item.ordered_on is not None:
        return item.ordered_on
    return (item.created_at or utcnow()).date()


def find_conflicts(items: list[PlanItem], window_days: int) -> dict[tuple, str | None]:
    """Pairs of open items that look like duplicates or conflicts: {(kind, a_id, b_id): detail}.

    - The same test or procedure (same code system and code) ordered by two *different*
      organizations, with order dates at most `window_days` apart (inclusive).
    - The same medicine from two different prescribers; otherwise two medicines from
      different prescribers sharing an ingredient. Closed items never count.
    """
    found: dict[tuple, str | None] = {}
    open_items = [i for i in items if i.status not in CLOSED_STATUSES]
    tests = [i for i in open_items if i.kind is ItemKind.TEST and _test_key(i)]
    for a, b in combinations(sorted(tests, key=lambda i: i.id), 2):
        if (
            _test_key(a) == _test_key(b)
            and a.source_organization_id != b.source_organization_id
            and abs((_order_day(a) - _order_day(b)).days) <= window_days
        ):
            found[(FlagKind.DUPLICATE_TEST, a.id, b.id)] = None
    meds = [i for i in open_items if i.kind is ItemKind.MEDICATION]
    for a, b in combinations(sorted(meds, key=lambda i: i.id), 2):
        if _prescriber(a) == _prescriber(b):
            continue
        same_name = (a.medication_name or "").strip().lower() == (
            b.medication_name or ""
        ).strip().lower() and bool(a.medication_name)
        if same_name:
            found[(FlagKind.DUPLICATE_MEDICATION, a.id, b.id)] = None
            continue
        shared = sorted(set(a.ingredients or []) & set(b.ingredients or []))
        if shared:
            found[(FlagKind.SAME_INGREDIENT, a.id, b.id)] = ", ".join(shared)
    return found


def refresh_flags(patient_id: int) -> None:
    """Bring the patient's flags in line with the plan: open new ones, close vanished ones.

    A pair the team already settled ("keep both") stays settled.
    """
    items = list(
        db.session.scalars(
            sa.select(PlanItem).where(
                PlanItem.patient_id == patient_id,
                PlanItem.kind.in_([ItemKind.TEST, ItemKind.MEDICATION]),
            )
        )
    )
    wanted = find_conflicts(items, current_app.config["DUPLICATE_TEST_WINDOW_DAYS"])
    existing = {
        (f.kind, f.item_a_id, f.item_b_id): f
        for f in db.session.scalars(sa.select(PlanFlag).where(PlanFlag.patient_id == patient_id))
    }
    now = utcnow()
    for key, detail in wanted.items():
        flag = existing.get(key)
        if flag is None:
            db.session.add(
                PlanFlag(
                    patient_id=patient_id,
                    kind=key[0],
                    item_a_id=key[1],
                    item_b_id=key[2],
                    detail=detail,
                )
            )
        elif flag.status is FlagStatus.RESOLVED and flag.resolution is FlagResolution.GONE:
            flag.status, flag.resolution, flag.resolved_at = FlagStatus.OPEN, None, None
    for key, flag in existing.items():
        if key not in wanted and flag.status is FlagStatus.OPEN:
            flag.status = FlagStatus.RESOLVED
            flag.resolution = FlagResolution.GONE
            flag.resolved_at = now
    db.session.flush()


def _require_open(flag: PlanFlag) -> None:
    if flag.status is not FlagStatus.OPEN:
        raise RuleError(_l("This flag is already settled."))


def _settle(flag: PlanFlag, resolution: FlagResolution, reason: str | None) -> None:
    _require_open(flag)
    flag.status = FlagStatus.RESOLVED
    flag.resolution = resolution
    flag.reason = reason
    flag.resolved_by_id = current_actor().user_id
    flag.resolved_at = utcnow()
    db.session.flush()


def resolve_keep_both(flag: PlanFlag, reason: str) -> None:
    _require_open(flag)
    reason = (reason or "").strip()
    if not reason:
        raise RuleError(_l("Say why both should stay."), status=422)
    _settle(flag, FlagResolution.KEEP_BOTH, reason)


def resolve_cancel_one(flag: PlanFlag, item: PlanItem) -> None:
    _require_open(flag)
    if item.id not in (flag.item_a_id, flag.item_b_id):
        raise RuleError(_l("That item is not part of this flag."))
    _settle(flag, FlagResolution.CANCELLED_ONE, None)
    set_status(item, ItemStatus.CANCELLED)
