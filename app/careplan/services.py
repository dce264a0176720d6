"""Writes to the plan: items, task ticks, referral loop, and the duplicate/conflict flags.

Services add and flush; the request commits. Every change goes to "What changed" and the
audit trail through `changes.record`, and re-checks the patient's flags.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import combinations

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.careplan import changes
from app.careplan.models import (
    CLOSED_STATUSES,
    ChangeKind,
    ChangeSubject,
    FlagKind,
    FlagResolution,
    FlagStatus,
    ItemKind,
    ItemStatus,
    PlanFlag,
    PlanItem,
    ReferralStatus,
    TaskCompletion,
)
from app.core.db import utcnow
from app.extensions import db


class PlanRuleError(Exception):
    """A change the plan's rules do not allow; the message is shown to the user."""


#: Fields compared to tell what changed, in the order they are listed on "What changed".
TRACKED_FIELDS = (
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
    "medication_name",
    "dose",
    "ingredients",
    "prescriber_member_id",
    "prescriber_name",
    "starts_at",
    "location",
    "with_whom",
    "preparation",
    "interpreter_booked",
    "referral_status",
    "referral_need",
    "referred_to",
    "schedule",
    "weekday",
    "due_date",
    "code",
    "code_system",
    "ordering_member_id",
    "ordering_provider_name",
    "ordered_on",
    "resource_url",
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


def snapshot(item: PlanItem) -> dict:
    return {name: getattr(item, name) for name in TRACKED_FIELDS}


def _change_kind(before_status: ItemStatus | None, after: ItemStatus) -> ChangeKind:
    if before_status != after and after is ItemStatus.COMPLETED:
        return ChangeKind.COMPLETED
    if before_status != after and after in (ItemStatus.CANCELLED, ItemStatus.STOPPED):
        return ChangeKind.STOPPED
    return ChangeKind.CHANGED


def add_item(
    patient_id: int, item: PlanItem, actor_id: int | None = None, capacity: str | None = None
) -> PlanItem:
    item.patient_id = patient_id
    item.created_by_id = actor_id
    if item.kind is ItemKind.MEDICATION:
        item.ingredients = normalise_ingredients(item.ingredients)
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
        sensitivity=item.sensitivity,
        actor_id=actor_id,
        capacity=capacity,
    )
    refresh_flags(patient_id)
    _replan_reminders(item)
    return item


def _replan_reminders(item: PlanItem) -> None:
    """Reminders follow the item: an appointment moved, cancelled or closed; a medicine or
    task stopped or done (its patient-chosen reminder times then plan nothing more)."""
    if item.kind in (ItemKind.APPOINTMENT, ItemKind.MEDICATION, ItemKind.TASK):
        from app.reminders.scheduling import replan_item

        replan_item(item)


def save_item(item: PlanItem, before: dict) -> list[str]:
    """Record the change an edit made (if any) and re-check the flags. Returns changed fields."""
    if item.kind is ItemKind.MEDICATION:
        item.ingredients = normalise_ingredients(item.ingredients)
    after = snapshot(item)
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
        sensitivity=item.sensitivity,
        fields=changed,
    )
    refresh_flags(item.patient_id)
    _replan_reminders(item)
    return changed


def set_status(item: PlanItem, status: ItemStatus) -> None:
    if item.status in CLOSED_STATUSES:
        raise PlanRuleError(_l("This item is already closed. Add a new item instead."))
    before = snapshot(item)
    item.status = status
    save_item(item, before)


def advance_referral(item: PlanItem, status: ReferralStatus) -> None:
    """Move a referral along sent -> contacted -> enrolled/declined; never backwards."""
    if item.kind is not ItemKind.REFERRAL or item.referral_status is None:
        raise PlanRuleError(_l("Only referrals have these steps."))
    if status not in REFERRAL_NEXT[item.referral_status]:
        raise PlanRuleError(_l("A referral cannot go back a step or skip one."))
    before = snapshot(item)
    item.referral_status = status
    if status in (ReferralStatus.ENROLLED, ReferralStatus.DECLINED):
        item.status = ItemStatus.COMPLETED
    save_item(item, before)


def tick_task(item: PlanItem, day: date, user_id: int) -> bool:
    """Mark a self-care task done for a day. Returns False if it was already ticked."""
    if item.kind is not ItemKind.TASK or item.status in CLOSED_STATUSES:
        raise PlanRuleError(_l("Only open self-care tasks can be ticked off."))
    exists = db.session.scalar(
        sa.select(TaskCompletion.id).where(
            TaskCompletion.item_id == item.id, TaskCompletion.for_date == day
        )
    )
    if exists is not None:
        return False
    db.session.add(TaskCompletion(item_id=item.id, for_date=day, completed_by_id=user_id))
    db.session.flush()
    return True


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


def resolve_keep_both(flag: PlanFlag, reason: str, user_id: int) -> None:
    if flag.status is not FlagStatus.OPEN:
        raise PlanRuleError(_l("This flag is already settled."))
    reason = (reason or "").strip()
    if not reason:
        raise PlanRuleError(_l("Say why both should stay."))
    flag.status = FlagStatus.RESOLVED
    flag.resolution = FlagResolution.KEEP_BOTH
    flag.reason = reason
    flag.resolved_by_id = user_id
    flag.resolved_at = utcnow()
    db.session.flush()


def resolve_cancel_one(flag: PlanFlag, item: PlanItem, user_id: int) -> None:
    if flag.status is not FlagStatus.OPEN:
        raise PlanRuleError(_l("This flag is already settled."))
    if item.id not in (flag.item_a_id, flag.item_b_id):
        raise PlanRuleError(_l("That item is not part of this flag."))
    flag.status = FlagStatus.RESOLVED
    flag.resolution = FlagResolution.CANCELLED_ONE
    flag.reason = None
    flag.resolved_by_id = user_id
    flag.resolved_at = utcnow()
    db.session.flush()
    set_status(item, ItemStatus.CANCELLED)


def local_today(timezone: str, now: datetime | None = None) -> date:
    from zoneinfo import ZoneInfo

    return (now or utcnow()).astimezone(ZoneInfo(timezone)).date()


def week_days(today: date) -> list[date]:
    return [today + timedelta(days=n) for n in range(7)]
