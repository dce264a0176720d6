"""Reads for the plan item pages (Today, My plan, an item, flags). Each page runs a fixed number
of queries, whatever the plan size; every query keeps out the categories hidden from the
viewer."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from app.careplan.items.models import (
    CLOSED_STATUSES,
    Area,
    FlagStatus,
    ItemKind,
    ItemStatus,
    PlanFlag,
    PlanItem,
    Schedule,
    TaskCompletion,
)
from app.core.db import utcnow
from app.core.privacy import visible
from app.extensions import db
from app.team.models import CareTeamMember

ITEM_LOADS = (
    joinedload(PlanItem.source_organization),
    joinedload(PlanItem.owner_member).joinedload(CareTeamMember.user),
    joinedload(PlanItem.owner_organization),
    joinedload(PlanItem.owner_caregiver),
    joinedload(PlanItem.prescriber).joinedload(CareTeamMember.user),
    joinedload(PlanItem.ordering_member).joinedload(CareTeamMember.user),
)


def items(patient_id: int, hidden: frozenset[str], *, include_closed: bool = True):
    query = (
        sa.select(PlanItem)
        .where(PlanItem.patient_id == patient_id, visible(PlanItem.sensitivity, hidden))
        .options(*ITEM_LOADS)
        .order_by(PlanItem.area, PlanItem.starts_at, PlanItem.title, PlanItem.id)
    )
    if not include_closed:
        query = query.where(PlanItem.status.not_in(list(CLOSED_STATUSES)))
    return list(db.session.scalars(query).unique())


def item(patient_id: int, item_id: int, hidden: frozenset[str]) -> PlanItem | None:
    """One item of this patient that the viewer may see (None otherwise: the caller 404s)."""
    return db.session.scalars(
        sa.select(PlanItem)
        .where(
            PlanItem.id == item_id,
            PlanItem.patient_id == patient_id,
            visible(PlanItem.sensitivity, hidden),
        )
        .options(*ITEM_LOADS)
    ).first()


def open_flags(patient_id: int, hidden: frozenset[str]) -> list[PlanFlag]:
    """Open flags whose two items the viewer may both see."""
    a, b = aliased(PlanItem), aliased(PlanItem)
    return list(
        db.session.scalars(
            sa.select(PlanFlag)
            .join(a, a.id == PlanFlag.item_a_id)
            .join(b, b.id == PlanFlag.item_b_id)
            .where(
                PlanFlag.patient_id == patient_id,
                PlanFlag.status == FlagStatus.OPEN,
                visible(a.sensitivity, hidden),
                visible(b.sensitivity, hidden),
            )
            .options(
                joinedload(PlanFlag.item_a).joinedload(PlanItem.source_organization),
                joinedload(PlanFlag.item_b).joinedload(PlanItem.source_organization),
            )
            .order_by(PlanFlag.created_at, PlanFlag.id)
        )
    )


def flags_by_item(flags: list[PlanFlag]) -> dict[int, list[PlanFlag]]:
    by_item: dict[int, list[PlanFlag]] = defaultdict(list)
    for flag in flags:
        by_item[flag.item_a_id].append(flag)
        by_item[flag.item_b_id].append(flag)
    return by_item


def group_by_area(plan_items: list[PlanItem]) -> list[tuple[Area, list[PlanItem]]]:
    groups: dict[Area, list[PlanItem]] = defaultdict(list)
    for plan_item in plan_items:
        groups[plan_item.area].append(plan_item)
    return [(area, groups[area]) for area in Area if groups.get(area)]


def task_due_on(task: PlanItem, day: date) -> bool:
    if task.schedule is Schedule.DAILY:
        return True
    if task.schedule is Schedule.WEEKLY:
        return task.weekday == day.weekday()
    return task.due_date == day


def today_view(patient, hidden: frozenset[str], now: datetime | None = None) -> dict:
    """What is due today and in the next 6 days, in the patient's own calendar."""
    zone = patient.zone
    now = now or utcnow()
    today = patient.today(now)
    week_end = today + timedelta(days=6)
    start = datetime.combine(today, time.min, zone)
    end = datetime.combine(week_end + timedelta(days=1), time.min, zone)
    open_items = items(patient.id, hidden, include_closed=False)
    ticks = {
        (row.item_id, row.for_date)
        for row in db.session.execute(
            sa.select(TaskCompletion.item_id, TaskCompletion.for_date).where(
                TaskCompletion.item_id.in_([i.id for i in open_items if i.kind is ItemKind.TASK]),
                TaskCompletion.for_date.between(today, week_end),
            )
        )
    }
    days = [today + timedelta(days=n) for n in range(7)]
    due: dict[date, list] = {day: [] for day in days}
    medicines = []
    waiting = []
    for plan_item in open_items:
        if plan_item.status is ItemStatus.ON_HOLD:
            continue
        if plan_item.kind is ItemKind.APPOINTMENT and plan_item.starts_at:
            if start <= plan_item.starts_at < end:
                day = plan_item.starts_at.astimezone(zone).date()
                due[day].append((plan_item, None))
        elif plan_item.kind is ItemKind.TASK:
            # Daily tasks are listed for today only; repeating them all week is noise.
            for day in days if plan_item.schedule is not Schedule.DAILY else days[:1]:
                if task_due_on(plan_item, day):
                    due[day].append((plan_item, (plan_item.id, day) in ticks))
        elif plan_item.kind is ItemKind.TEST and plan_item.due_date:
            if today <= plan_item.due_date <= week_end:
                due[plan_item.due_date].append((plan_item, None))
        elif plan_item.kind is ItemKind.MEDICATION:
            medicines.append(plan_item)
        elif plan_item.kind is ItemKind.REFERRAL:
            waiting.append(plan_item)
    for day in days:
        due[day].sort(
            key=lambda pair: (pair[0].starts_at is None, pair[0].starts_at or now, pair[0].title)
        )
    return {
        "today": today,
        "days": days,
        "due": due,
        "medicines": medicines,
        "waiting": waiting,
        "zone": zone,
        "open_count": len(open_items),
    }


def open_flag(patient_id: int, flag_id: int, hidden: frozenset[str]) -> PlanFlag | None:
    """One open flag of this patient whose two items the viewer may both see."""
    return next((f for f in open_flags(patient_id, hidden) if f.id == flag_id), None)


def flag_settled(patient_id: int, flag_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(PlanFlag.id).where(
                PlanFlag.id == flag_id,
                PlanFlag.patient_id == patient_id,
                PlanFlag.status == FlagStatus.RESOLVED,
            )
        )
        is not None
    )
