"""Whether the patient came to a past appointment, as the care team records it: two one-tap
buttons, "Came" and "Did not come", on the appointment's page (issue 18; the no-show measure,
metrics/outcomes.py, compares appointments with and without a reminder text).

Only the care team records it (`EDIT_PLAN`), only for an appointment that has started and was
not cancelled. The write is a conditional UPDATE on what the nurse saw (nothing recorded, or the
answer shown when they tapped to correct it): a double tap or two nurses at once write once,
and the second hears what the first recorded. It goes on "What changed" in neutral words and in
the audit trail. The patient side never sees a "no-show": at most "You went".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import AnyOf, InputRequired, Optional

from app.careplan import changes
from app.careplan.items import bp, queries
from app.careplan.items.models import Attendance, ItemKind, ItemStatus, PlanItem
from app.careplan.items.panels import item_panel
from app.careplan.models import ChangeKind, ChangeSubject
from app.core.access import Permission, patient_route
from app.core.db import utcnow
from app.core.errors import RuleError, on_rule_error
from app.core.forms import EmptyForm
from app.core.privacy import Capacity, current_actor, hidden
from app.extensions import db

#: An appointment that did not happen this way cannot have been attended or missed.
NOT_HELD = (ItemStatus.CANCELLED, ItemStatus.STOPPED)

#: The "What changed" words (markers in PlanChange.fields, careplan.labels): neutral for the
#: patient, who reads them too.
EVENTS = {
    Attendance.ATTENDED: "appointment_attended",
    Attendance.NO_SHOW: "appointment_not_attended",
}

#: What the care team sees recorded.
TEAM_LABELS = {
    Attendance.ATTENDED: _l("Came"),
    Attendance.NO_SHOW: _l("Did not come"),
}

VALUES = [a.value for a in Attendance]


def recordable(item: PlanItem, now: datetime | None = None) -> bool:
    """An appointment that has started (or passed) and was not cancelled."""
    return (
        item.kind is ItemKind.APPOINTMENT
        and item.status not in NOT_HELD
        and item.starts_at is not None
        and item.starts_at <= (now or utcnow())
    )


def record_attendance(item: PlanItem, value: Attendance, was: Attendance | None) -> bool:
    """Record whether the patient came. `was` is what the nurse saw when they tapped (None:
    nothing yet); the UPDATE applies only if that is still so. Returns False when it already
    says `value` (a double tap: nothing written); refuses (409) a future or cancelled
    appointment and an answer someone else recorded meanwhile."""
    if item.kind is not ItemKind.APPOINTMENT:
        raise RuleError(_l("Only an appointment has a visit to record."), status=404)
    now = utcnow()
    if not recordable(item, now):
        raise RuleError(
            _l("You can record this only after the appointment's time, if it was not cancelled.")
        )
    seen = PlanItem.attendance.is_(None) if was is None else PlanItem.attendance == was
    done = db.session.execute(
        sa.update(PlanItem)
        .where(
            PlanItem.id == item.id,
            seen,
            PlanItem.attendance.is_distinct_from(value),
            PlanItem.kind == ItemKind.APPOINTMENT,
            PlanItem.starts_at <= now,
            PlanItem.status.not_in(NOT_HELD),
        )
        .values(attendance=value, attendance_recorded_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.refresh(item, ["attendance", "attendance_recorded_at", "status", "starts_at"])
        if item.attendance is value:
            return False
        raise RuleError(
            _l("Someone else recorded this visit just now. Nothing was changed. Please check it.")
        )
    item.attendance, item.attendance_recorded_at = value, now
    changes.record(
        patient_id=item.patient_id,
        subject=ChangeSubject.ITEM,
        subject_id=item.id,
        change=ChangeKind.CHANGED,
        title=item.title,
        fields=[EVENTS[value]],
    )
    return True


# ------------------------------------------------------------------ item page


@dataclass(frozen=True)
class AttendanceState:
    """What the item page shows about attendance: the team's buttons and what is recorded; the
    patient side only "You went" (or nothing)."""

    can_record: bool
    recorded: Attendance | None
    recorded_at: datetime | None
    went: bool


@item_panel
def _panel(patient, item) -> dict:
    """From the item already loaded: no query."""
    if item.kind is not ItemKind.APPOINTMENT:
        return {}
    team = current_actor().capacity is Capacity.CARE_TEAM
    return {
        "attendance": AttendanceState(
            can_record=team and recordable(item),  # the page also asks can_edit
            recorded=item.attendance if team else None,
            recorded_at=item.attendance_recorded_at if team else None,
            went=item.attendance is Attendance.ATTENDED,
        ),
        "attendance_labels": TEAM_LABELS,
    }


# ------------------------------------------------------------------ form and view


class AttendanceForm(EmptyForm):
    #: The tapped button's value.
    value = StringField(validators=[InputRequired(), AnyOf(VALUES)])
    #: What the page showed when it was tapped ("": nothing recorded).
    was = StringField(validators=[Optional(), AnyOf(VALUES)])


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/attendance", methods=["POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def attendance_record(patient, item_id: int):
    found = queries.item(patient.id, item_id, hidden())
    if found is None or found.kind is not ItemKind.APPOINTMENT:
        abort(404)
    form = AttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for("careplan.items.detail", patient_id=patient.id, item_id=item_id)
    on_rule_error(back=back)
    value = Attendance(form.value.data)
    was = Attendance(form.was.data) if form.was.data else None
    if record_attendance(found, value, was):
        flash(_("Saved: %(answer)s.", answer=TEAM_LABELS[value]), "success")
    else:
        flash(_("This was already recorded."), "success")
    return redirect(back)
