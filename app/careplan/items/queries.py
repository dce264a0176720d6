"""Reads for the plan item pages (Today, My plan, an item, flags). Each page runs a fixed number
of queries, whatever the plan size; every query keeps out the categories hidden from the
viewer."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager, joinedload, load_only

from app.careplan.items import doses
from app.careplan.items.models import (
    CLOSED_STATUSES,
    Area,
    FlagStatus,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanFlag,
    PlanItem,
    Schedule,
    TaskCompletion,
)
from app.core.db import utcnow
from app.core.privacy import visible
from app.extensions import db
from app.team.models import CareTeamMember

#: One item's page: everyone it names (owner, source, prescriber, who ordered the test).
ITEM_LOADS = (
    joinedload(PlanItem.source_organization),
    joinedload(PlanItem.owner_member).joinedload(CareTeamMember.user),
    joinedload(PlanItem.owner_organization),
    joinedload(PlanItem.owner_caregiver),
    joinedload(PlanItem.prescriber).joinedload(CareTeamMember.user),
    joinedload(PlanItem.ordering_member).joinedload(CareTeamMember.user),
)
#: A list of items ("My plan"): who does each one and where it comes from, nothing more. Each
#: joined row carries every column of its entity, so a list joins only what its cards show.
CARD_LOADS = (
    joinedload(PlanItem.source_organization),
    joinedload(PlanItem.owner_member).joinedload(CareTeamMember.user),
    joinedload(PlanItem.owner_organization),
    joinedload(PlanItem.owner_caregiver),
)
#: Today: the columns its rows show and sort by, nothing else (a hidden lazy load raises).
TODAY_LOADS = (
    load_only(
        PlanItem.id,
        PlanItem.kind,
        PlanItem.status,
        PlanItem.title,
        PlanItem.starts_at,
        PlanItem.location,
        PlanItem.schedule,
        PlanItem.weekday,
        PlanItem.due_date,
        PlanItem.reading_kind,
        PlanItem.dose,
        PlanItem.dose_times,
        PlanItem.referral_status,
        PlanItem.referred_to,
        PlanItem.owner_kind,
        PlanItem.area,
        PlanItem.patient_id,
        PlanItem.content_language,  # shown in the reader's language (careplan.translations)
        raiseload=True,
    ),
)
#: The two items of a flag, joined once for the visibility check and loaded from that join.
#: Built once: an `aliased()` made per call rebuilds its column proxies every time.
FLAG_ITEM_A, FLAG_ITEM_B = aliased(PlanItem), aliased(PlanItem)


#: Statements of the pages every patient opens, built once per shape (what is hidden, which
#: loads) with the patient as a bound parameter: building a SELECT costs more Python than
#: running it. Statements are immutable, and hold no data.
_STATEMENTS: dict[tuple, sa.Select] = {}


def _items_statement(hidden: frozenset[str], include_closed: bool, loads: tuple) -> sa.Select:
    key = ("items", hidden, include_closed, loads)
    found = _STATEMENTS.get(key)
    if found is None:
        found = (
            sa.select(PlanItem)
            .where(
                PlanItem.patient_id == sa.bindparam("patient_id"),
                visible(PlanItem.sensitivity, hidden),
            )
            .order_by(PlanItem.area, PlanItem.starts_at, PlanItem.title, PlanItem.id)
        )
        if loads:
            found = found.options(*loads)
        if not include_closed:
            found = found.where(PlanItem.status.not_in(list(CLOSED_STATUSES)))
        found = _STATEMENTS.setdefault(key, found)
    return found


def items(
    patient_id: int,
    hidden: frozenset[str],
    *,
    include_closed: bool = True,
    loads: tuple = CARD_LOADS,
):
    """The viewer's visible items of this patient, by area. `loads=()` for pages that show
    only the items' own columns (Today, the summary): no joins at all."""
    query = _items_statement(hidden, include_closed, loads)
    result = db.session.scalars(query, {"patient_id": patient_id})
    return list(result.unique() if loads else result)


def open_item_titles(patient_id: int, hidden: frozenset[str]) -> list:
    """(id, area, title) of the open items the viewer may see, in plan order, as plain rows:
    the summary's "Care plan" card names a few per area and counts them (with the patient and
    the content's language, for `content(row, "plan_item")`: the reader's language)."""
    key = ("open_item_titles", hidden)
    query = _STATEMENTS.get(key)
    if query is None:
        query = _STATEMENTS.setdefault(
            key,
            sa.select(
                PlanItem.id,
                PlanItem.area,
                PlanItem.title,
                PlanItem.patient_id,
                PlanItem.content_language,
            )
            .where(
                PlanItem.patient_id == sa.bindparam("patient_id"),
                visible(PlanItem.sensitivity, hidden),
                PlanItem.status.not_in(list(CLOSED_STATUSES)),
            )
            .order_by(PlanItem.area, PlanItem.starts_at, PlanItem.title, PlanItem.id),
        )
    return list(db.session.execute(query, {"patient_id": patient_id}))


def item(patient_id: int, item_id: int, hidden: frozenset[str]) -> PlanItem | None:
    """One item of this patient that the viewer may see (None otherwise: the caller 404s)."""
    key = ("item", hidden)
    query = _STATEMENTS.get(key)
    if query is None:
        query = _STATEMENTS.setdefault(
            key,
            sa.select(PlanItem)
            .where(
                PlanItem.id == sa.bindparam("item_id"),
                PlanItem.patient_id == sa.bindparam("patient_id"),
                visible(PlanItem.sensitivity, hidden),
            )
            .options(*ITEM_LOADS),
        )
    return db.session.scalars(query, {"item_id": item_id, "patient_id": patient_id}).first()


def open_flags(patient_id: int, hidden: frozenset[str]) -> list[PlanFlag]:
    """Open flags whose two items the viewer may both see."""
    return list(db.session.scalars(_flags_statement(hidden), {"patient_id": patient_id}))


def _flags_statement(hidden: frozenset[str]) -> sa.Select:
    key = ("open_flags", hidden)
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    a, b = FLAG_ITEM_A, FLAG_ITEM_B
    return _STATEMENTS.setdefault(
        key,
        (
            sa.select(PlanFlag)
            .join(a, a.id == PlanFlag.item_a_id)
            .join(b, b.id == PlanFlag.item_b_id)
            .where(
                PlanFlag.patient_id == sa.bindparam("patient_id"),
                PlanFlag.status == FlagStatus.OPEN,
                visible(a.sensitivity, hidden),
                visible(b.sensitivity, hidden),
            )
            .options(
                contains_eager(PlanFlag.item_a.of_type(a)).joinedload(a.source_organization),
                contains_eager(PlanFlag.item_b.of_type(b)).joinedload(b.source_organization),
            )
            .order_by(PlanFlag.created_at, PlanFlag.id)
        ),
    )


def open_flag_notes(patient_id: int, hidden: frozenset[str]) -> list:
    """The same flags as `open_flags`, as plain rows (id, kind, item_a_id, item_b_id): what
    Today, My plan and an item show ("a note on this item"), without loading either item."""
    key = ("open_flag_notes", hidden)
    query = _STATEMENTS.get(key)
    if query is None:
        a, b = FLAG_ITEM_A, FLAG_ITEM_B
        query = _STATEMENTS.setdefault(
            key,
            sa.select(PlanFlag.id, PlanFlag.kind, PlanFlag.item_a_id, PlanFlag.item_b_id)
            .join(a, a.id == PlanFlag.item_a_id)
            .join(b, b.id == PlanFlag.item_b_id)
            .where(
                PlanFlag.patient_id == sa.bindparam("patient_id"),
                PlanFlag.status == FlagStatus.OPEN,
                visible(a.sensitivity, hidden),
                visible(b.sensitivity, hidden),
            )
            .order_by(PlanFlag.created_at, PlanFlag.id),
        )
    return list(db.session.execute(query, {"patient_id": patient_id}))


def flags_by_item(flags: list[PlanFlag]) -> dict[int, list[PlanFlag]]:
    by_item: dict[int, list[PlanFlag]] = defaultdict(list)
    for flag in flags:
        by_item[flag.item_a_id].append(flag)
        by_item[flag.item_b_id].append(flag)
    return by_item


def group_by_area(plan_items: list) -> list[tuple[Area, list]]:
    """Items (or rows with an `area`) grouped by area, in the order of `Area`."""
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
    open_items = items(patient.id, hidden, include_closed=False, loads=TODAY_LOADS)
    # The week's task ticks and today's doses taken, in one round trip (slot -1: a tick).
    ticks, taken = set(), set()
    for row in db.session.execute(
        sa.union_all(
            sa.select(
                TaskCompletion.item_id, TaskCompletion.for_date, sa.literal(-1).label("slot")
            ).where(
                TaskCompletion.item_id.in_([i.id for i in open_items if i.kind is ItemKind.TASK]),
                TaskCompletion.for_date.between(today, week_end),
            ),
            doses.taken_statement(
                [i.id for i in open_items if i.kind is ItemKind.MEDICATION], today, today
            ),
        )
    ):
        if row.slot < 0:
            ticks.add((row.item_id, row.for_date))
        else:
            taken.add((row.item_id, row.slot))
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
        #: Today's doses of those medicines (doses.Dose), in order of time.
        "doses": doses.doses_on(medicines, taken),
        "waiting": waiting,
        "zone": zone,
        "open_count": len(open_items),
        #: Tasks ticked off today (ids).
        "ticked_today": {item_id for item_id, day in ticks if day == today},
    }


def _caregiver_tasks_statement(hidden: frozenset[str]) -> sa.Select:
    key = ("caregiver_tasks", hidden)
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    today = sa.bindparam("today", type_=sa.Date)
    due = sa.or_(
        sa.and_(
            PlanItem.kind == ItemKind.TASK,
            sa.or_(
                PlanItem.schedule == Schedule.DAILY,
                sa.and_(
                    PlanItem.schedule == Schedule.WEEKLY,
                    PlanItem.weekday == sa.bindparam("weekday"),
                ),
                # One-time tasks: due today, or overdue until ticked off.
                sa.and_(PlanItem.schedule == Schedule.ONCE, PlanItem.due_date <= today),
            ),
        ),
        sa.and_(
            PlanItem.kind == ItemKind.APPOINTMENT,
            PlanItem.starts_at >= sa.bindparam("day_start"),
            PlanItem.starts_at < sa.bindparam("day_end"),
        ),
        sa.and_(PlanItem.kind == ItemKind.TEST, PlanItem.due_date <= today),
    )
    return _STATEMENTS.setdefault(
        key,
        sa.select(PlanItem)
        .where(
            PlanItem.patient_id == sa.bindparam("patient_id"),
            PlanItem.owner_kind == OwnerKind.CAREGIVER,
            PlanItem.owner_caregiver_id == sa.bindparam("caregiver_id"),
            PlanItem.status.not_in([*CLOSED_STATUSES, ItemStatus.ON_HOLD]),
            visible(PlanItem.sensitivity, hidden),
            due,
        )
        .options(*TODAY_LOADS)
        .order_by(PlanItem.starts_at.asc().nulls_last(), PlanItem.title, PlanItem.id),
    )


def caregiver_tasks(
    patient, caregiver_user_id: int, hidden: frozenset[str], today: date
) -> list[PlanItem]:
    """What the plan gives this caregiver to do for this patient that is due `today` (the
    patient's calendar day) or overdue, and not done yet: for the caregiver's own list on
    the patient's home ("Your own tasks").

    Items owned by the caregiver (`OwnerKind.CAREGIVER` with `owner_caregiver_id` this user;
    another caregiver's items are theirs), open and not on hold, in categories the viewer may
    see (`hidden`, from `g.actor`): self-care tasks due today (daily; weekly on their weekday;
    one-time on their day, and after it until ticked off), appointments today, tests due today
    or before. A task ticked off for today is done (a one-time task: ticked on any day). One
    query, and one more for the ticks when there are tasks; driven by this patient and this
    caregiver only. Overdue first, then by time and title. Loaded like Today (`TODAY_LOADS`:
    the row's own columns, no owner or organization).

    The caller has checked access (`patient_route`) and shows these to a viewer who may see
    the plan (VIEW_PLAN): ownership is not access.
    """
    zone = patient.zone
    day_start = datetime.combine(today, time.min, zone)
    found = list(
        db.session.scalars(
            _caregiver_tasks_statement(hidden),
            {
                "patient_id": patient.id,
                "caregiver_id": caregiver_user_id,
                "today": today,
                "weekday": today.weekday(),
                "day_start": day_start,
                "day_end": datetime.combine(today + timedelta(days=1), time.min, zone),
            },
        )
    )
    tasks = [found_item for found_item in found if found_item.kind is ItemKind.TASK]
    done: set[int] = set()
    if tasks:
        once = [task.id for task in tasks if task.schedule is Schedule.ONCE]
        done = set(
            db.session.scalars(
                sa.select(TaskCompletion.item_id).where(
                    TaskCompletion.item_id.in_([task.id for task in tasks]),
                    sa.or_(TaskCompletion.for_date == today, TaskCompletion.item_id.in_(once)),
                )
            )
        )

    def overdue(plan_item: PlanItem) -> bool:
        return plan_item.due_date is not None and plan_item.due_date < today

    due = [found_item for found_item in found if found_item.id not in done]
    due.sort(key=lambda plan_item: not overdue(plan_item))  # stable: time and title kept
    return due


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
