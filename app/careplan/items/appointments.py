"""Acting on an appointment from the patient's side: Confirm, Can't make it, Ask to change, Add
to calendar, Directions, Call and Join video (issue 15, part 1).

The patient and the caregivers with the appointments scope act (`MANAGE_APPOINTMENTS`); the
care team changes an appointment on its edit page instead. Every action is one service here,
used by the pages and by the texted "C" and "R" alike: it changes the item with a conditional
UPDATE (a double tap acts once), records "What changed" and the audit trail, and, where a person
must act (cancel, change), opens a thread to the team about the appointment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote_plus, urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from icalendar import Calendar, Event
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.careplan import changes
from app.careplan.items import bp, queries, services
from app.careplan.items.models import CLOSED_STATUSES, ItemKind, ItemStatus, PlanItem
from app.careplan.items.panels import item_panel
from app.careplan.models import ChangeKind, ChangeSubject
from app.core import idempotency
from app.core.access import Permission, can, patient_route
from app.core.db import enum_column, utcnow
from app.core.errors import RuleError, on_rule_error
from app.core.forms import EmptyForm, PlainDateField
from app.core.i18n import recipient_locale
from app.core.idempotency import IdempotentForm
from app.core.privacy import Capacity, current_actor, hidden
from app.core.signals import thread_answered
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Thread, Topic
from app.patients.models import Patient, PatientPreferences

#: "Join video" shows from this long before the start...
VIDEO_OPENS = timedelta(minutes=15)
#: ... until this long after it (a visit has no end time of its own).
VIDEO_CLOSES = timedelta(hours=2)
#: How long a calendar entry lasts (the plan keeps only the start).
CALENDAR_LENGTH = timedelta(hours=1)
#: Suggested days for a change: from tomorrow up to this far ahead.
SUGGEST_WITHIN_DAYS = 365
MAX_SUGGESTIONS = 3

#: The "What changed" words for what the patient side did (a marker in PlanChange.fields).
CONFIRMED, CANCELLED, CHANGE_ASKED = (
    "appointment_confirmed",
    "appointment_cancelled",
    "appointment_change_asked",
)


class RequestKind(enum.StrEnum):
    CHANGE = "change"
    CANCEL = "cancel"


class CancelReason(enum.StrEnum):
    TRANSPORT = "transport"
    UNWELL = "unwell"
    WORK_OR_FAMILY = "work_or_family"
    TIME = "time"
    OTHER = "other"


class PartOfDay(enum.StrEnum):
    ANY = "any"
    MORNING = "morning"
    AFTERNOON = "afternoon"


CANCEL_REASON_LABELS = {
    CancelReason.TRANSPORT: _l("No way to get there"),
    CancelReason.UNWELL: _l("Too unwell to go"),
    CancelReason.WORK_OR_FAMILY: _l("Work or family"),
    CancelReason.TIME: _l("The time does not work"),
    CancelReason.OTHER: _l("Something else"),
}

PART_OF_DAY_LABELS = {
    PartOfDay.ANY: _l("Any time"),
    PartOfDay.MORNING: _l("Morning"),
    PartOfDay.AFTERNOON: _l("Afternoon"),
}


class AppointmentRequest(db.Model):
    """What the patient side asked about an appointment (cancel, change) and the thread to the
    team it opened. The appointment's own state is on the item (status, change_requested_at)."""

    __tablename__ = "appointment_requests"
    __table_args__ = (sa.Index("ix_appointment_requests_item_time", "item_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_items.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    thread_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("message_threads.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind, length=8))
    #: Why the patient cannot come (cancel only).
    reason_choice: Mapped[CancelReason | None] = mapped_column(enum_column(CancelReason, length=16))
    #: The patient's own words (the reason, or the note with a change).
    reason: Mapped[str | None] = mapped_column(sa.Text)
    #: Suggested days for a change: [{"day": "2026-12-03", "part": "morning"}, ...].
    suggested: Mapped[list[dict] | None] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: patient or caregiver.
    capacity: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ------------------------------------------------------------------ rules


def actionable(item: PlanItem, now: datetime | None = None) -> bool:
    """An open appointment that has not started yet: the only kind anyone can act on."""
    return (
        item.kind is ItemKind.APPOINTMENT
        and item.status not in CLOSED_STATUSES
        and item.starts_at is not None
        and item.starts_at > (now or utcnow())
    )


def _require_actionable(item: PlanItem) -> None:
    if item.kind is not ItemKind.APPOINTMENT:
        abort(404)
    if not actionable(item):
        raise RuleError(_l("This appointment is over or closed. Nothing was changed."), status=409)


def _require_patient_side() -> None:
    if current_actor().capacity not in (Capacity.PATIENT, Capacity.CAREGIVER):
        raise RuleError(_l("The care team changes an appointment on its edit page."), status=403)


def _when(patient: Patient, item: PlanItem) -> str:
    return format_datetime(patient.local(item.starts_at), "medium", rebase=False)


# ------------------------------------------------------------------ services


def _on_what_changed(item: PlanItem, event: str) -> None:
    """What the patient side did to the appointment, on "What changed" in words."""
    changes.record(
        patient_id=item.patient_id,
        subject=ChangeSubject.ITEM,
        subject_id=item.id,
        change=ChangeKind.CHANGED,
        title=item.title,
        fields=[event],
    )


def confirm(item: PlanItem) -> bool:
    """The patient will come. One conditional UPDATE: a second tap (or a texted C after a tap)
    finds it confirmed and changes nothing. Returns False when it already was. Nobody on the
    team has to act on it, so no thread."""
    _require_actionable(item)
    now = utcnow()
    done = db.session.execute(
        sa.update(PlanItem)
        .where(
            PlanItem.id == item.id,
            PlanItem.patient_confirmed_at.is_(None),
            PlanItem.status.not_in(list(CLOSED_STATUSES)),
        )
        .values(patient_confirmed_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.refresh(item, ["patient_confirmed_at", "status"])
        return False
    item.patient_confirmed_at = now
    db.session.flush()
    _on_what_changed(item, CONFIRMED)
    return True


def _hold(item: PlanItem) -> None:
    """Hold the open appointment for this request (the row lock on PostgreSQL, the write lock
    on SQLite): of two cancels at once, the second finds it closed and is refused."""
    held = db.session.execute(
        sa.update(PlanItem)
        .where(PlanItem.id == item.id, PlanItem.status.not_in(list(CLOSED_STATUSES)))
        .values(status=PlanItem.status)
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        raise RuleError(_l("This appointment is over or closed. Nothing was changed."))


def _author(patient: Patient) -> tuple[int, str]:
    actor = current_actor()
    if actor.user_id is None:  # a text from the patient's number
        return patient.user_id, Capacity.PATIENT.value
    return actor.user_id, actor.capacity.value


def _who(patient: Patient) -> str:
    """Who is writing, for the team: the patient, or "Ana (caregiver)"."""
    if current_actor().capacity is Capacity.CAREGIVER:
        return _(
            "%(name)s (caregiver for %(patient)s)",
            name=current_user.full_name,
            patient=patient.full_name,
        )
    return patient.full_name


def cancel(patient: Patient, item: PlanItem, reason: CancelReason, words: str | None):
    """The patient cannot come: the appointment is cancelled on the patient's side, the reason
    kept, and a thread tells the team (who should free the slot and offer another)."""
    _require_actionable(item)
    _hold(item)
    before = services._snapshot(item)
    item.status = ItemStatus.CANCELLED
    services._saved(item, before, event=CANCELLED)
    author_id, capacity = _author(patient)
    with force_locale(recipient_locale(patient)):
        subject = _("Cannot come to an appointment")
        body = _(
            "%(who)s cannot come to this appointment: %(title)s, %(when)s.",
            who=_who(patient),
            title=item.title,
            when=_when(patient, item),
        )
        body += "\n" + _("Reason: %(reason)s", reason=str(CANCEL_REASON_LABELS[reason]))
        if words:
            body += "\n" + words
        body += "\n" + _("Please contact us to find another time.")
    thread = messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.APPOINTMENT,
        subject=subject,
        body=body,
        author_id=author_id,
        capacity=capacity,
        plan_item=item,
    )
    return _request(patient, item, thread, RequestKind.CANCEL, reason, words, None, author_id)


def ask_to_change(
    patient: Patient,
    item: PlanItem,
    suggested: list[dict],
    note: str | None,
    *,
    by_text: bool = False,
) -> AppointmentRequest:
    """Ask the team for another time (with up to three suggested days, in the patient's
    language): a thread to scheduling about the appointment; the item says it was asked until
    the team answers or changes it. A second ask while one waits goes into the same thread."""
    _require_actionable(item)
    author_id, capacity = _author(patient)
    waiting = _waiting_change(item) if item.change_requested_at is not None else None
    with force_locale(recipient_locale(patient)):
        subject = _("Please help me change my appointment")
        if by_text:
            body = _(
                "I asked by text message to change this appointment: %(title)s, %(when)s. "
                "Please contact me.",
                title=item.title,
                when=_when(patient, item),
            )
        else:
            body = _(
                "%(who)s asks to change this appointment: %(title)s, %(when)s.",
                who=_who(patient),
                title=item.title,
                when=_when(patient, item),
            )
        if suggested:
            body += "\n" + _("Times that would work:")
            for choice in suggested:
                day = format_date(date.fromisoformat(choice["day"]), "full")
                part = str(PART_OF_DAY_LABELS[PartOfDay(choice["part"])])
                body += f"\n- {day}, {part.lower()}"
        if note:
            body += "\n" + note
    if waiting is not None and waiting.thread_id is not None:
        thread = db.session.get(Thread, waiting.thread_id)
        messaging.add_message(thread, body=body, author_id=author_id, capacity=capacity)
    else:
        thread = messaging.start_thread(
            patient_id=patient.id,
            topic=Topic.APPOINTMENT,
            subject=subject,
            body=body,
            author_id=author_id,
            capacity=capacity,
            plan_item=item,
        )
    item.change_requested_at = utcnow()
    db.session.flush()
    _on_what_changed(item, CHANGE_ASKED)
    return _request(
        patient, item, thread, RequestKind.CHANGE, None, note, suggested or None, author_id
    )


def _request(patient, item, thread, kind, reason, words, suggested, author_id):
    row = AppointmentRequest(
        item_id=item.id,
        patient_id=patient.id,
        thread_id=thread.id,
        kind=kind,
        reason_choice=reason,
        reason=words,
        suggested=suggested,
        created_by_id=author_id,
        capacity=_author(patient)[1],
    )
    db.session.add(row)
    db.session.flush()
    return row


def _waiting_change(item: PlanItem) -> AppointmentRequest | None:
    return db.session.scalars(
        sa.select(AppointmentRequest)
        .where(AppointmentRequest.item_id == item.id, AppointmentRequest.kind == RequestKind.CHANGE)
        .order_by(AppointmentRequest.created_at.desc(), AppointmentRequest.id.desc())
        .limit(1)
    ).first()


def _answered(thread: Thread, **_kw) -> None:
    """The team wrote back in a thread a change request opened: the ask is answered."""
    db.session.execute(
        sa.update(PlanItem)
        .where(
            PlanItem.id.in_(
                sa.select(AppointmentRequest.item_id).where(
                    AppointmentRequest.thread_id == thread.id,
                    AppointmentRequest.kind == RequestKind.CHANGE,
                )
            ),
            PlanItem.change_requested_at.is_not(None),
        )
        .values(change_requested_at=None)
        .execution_options(synchronize_session="fetch")
    )


def connect_signals() -> None:
    thread_answered.connect(_answered)


# ------------------------------------------------------------------ calendar, map, phone


def calendar_file(patient: Patient, item: PlanItem, detailed: bool) -> bytes:
    """An .ics entry in the patient's time zone. It says "Appointment", the time and the place;
    the title, with whom and how to prepare only when the patient chose detailed texts (a
    calendar is shown on lock screens and shared with other apps)."""
    start = patient.local(item.starts_at)
    cal = Calendar()
    cal.add("prodid", "-//CareCircle//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    host = urlsplit(request.host_url).hostname or "carecircle"
    event.add("uid", f"appointment-{item.id}@{host}")
    event.add("dtstamp", utcnow())
    event.add("dtstart", start)
    event.add("dtend", start + CALENDAR_LENGTH)
    event.add("summary", item.title if detailed else _("Appointment"))
    if item.location:
        event.add("location", item.location)
    if detailed:
        lines = [line for line in (item.with_whom, item.preparation) if line]
        if lines:
            event.add("description", "\n".join(lines))
    cal.add_component(event)
    cal.add_missing_timezones(
        first_date=start.date() - timedelta(days=366), last_date=start.date() + timedelta(days=366)
    )
    return cal.to_ical()


def map_url(item: PlanItem) -> str | None:
    if not item.location:
        return None
    return current_app.config["MAP_SEARCH_URL"].replace("{query}", quote_plus(item.location))


def phone(item: PlanItem) -> str | None:
    """The place's phone, else the source organization's (if it was loaded with the item)."""
    if item.location_phone:
        return item.location_phone
    state = sa.inspect(item)
    if "source_organization" in state.unloaded:
        return None
    organization = item.source_organization
    return organization.phone if organization is not None else None


def safe_video_url(item: PlanItem) -> str | None:
    url = (item.video_url or "").strip()
    parts = urlsplit(url)
    return url if parts.scheme == "https" and parts.hostname else None


@dataclass(frozen=True)
class Actions:
    """What the appointment card and the item page offer right now."""

    item: PlanItem
    open: bool
    can_act: bool
    confirmed: bool
    change_asked_at: datetime | None
    map_url: str | None
    phone: str | None
    video_url: str | None
    video_open: bool
    video_from: datetime | None


@bp.app_template_global("appointment_actions")
def appointment_actions(patient: Patient, item: PlanItem) -> Actions:
    now = utcnow()
    open_ = actionable(item, now)
    video = safe_video_url(item)
    starts = item.starts_at
    video_open = bool(
        video and starts and item.is_open and starts - VIDEO_OPENS <= now <= starts + VIDEO_CLOSES
    )
    return Actions(
        item=item,
        open=open_,
        can_act=open_
        and current_actor().capacity in (Capacity.PATIENT, Capacity.CAREGIVER)
        and can(current_user, Permission.MANAGE_APPOINTMENTS, patient),
        confirmed=item.patient_confirmed_at is not None,
        change_asked_at=item.change_requested_at,
        map_url=map_url(item) if item.is_open else None,
        phone=phone(item) if item.is_open else None,
        video_url=video if video_open else None,
        video_open=video_open,
        video_from=starts - VIDEO_OPENS if video and open_ and not video_open else None,
    )


@item_panel
def _panel(patient, item) -> dict:
    """The appointment's latest cancel request (its reason), for the item page."""
    if item.kind is not ItemKind.APPOINTMENT or item.status is not ItemStatus.CANCELLED:
        return {}
    found = db.session.scalars(
        sa.select(AppointmentRequest)
        .where(AppointmentRequest.item_id == item.id, AppointmentRequest.kind == RequestKind.CANCEL)
        .order_by(AppointmentRequest.created_at.desc(), AppointmentRequest.id.desc())
        .limit(1)
    ).first()
    return {"appointment_cancel": found, "cancel_reasons": CANCEL_REASON_LABELS}


# ------------------------------------------------------------------ forms


class CancelForm(IdempotentForm):
    reason_choice = RadioField(
        _l("Why can't you come?"),
        choices=[SelectChoice(key.value, label) for key, label in CANCEL_REASON_LABELS.items()],
        validators=[InputRequired(_l("Choose a reason."))],
    )
    reason = TextAreaField(
        _l("Anything else the team should know"),
        validators=[Optional(), Length(max=1000)],
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if (
            self.reason_choice.data == CancelReason.OTHER.value
            and not (self.reason.data or "").strip()
        ):
            self.reason.errors = [*self.reason.errors, _l("Say in a few words why.")]
            ok = False
        return ok


def _part_choices():
    return [SelectChoice(key.value, label) for key, label in PART_OF_DAY_LABELS.items()]


class ChangeForm(IdempotentForm):
    day_1 = PlainDateField(_l("First choice"), validators=[Optional()])
    part_1 = SelectField(_l("Time of day"), choices=_part_choices(), default="any")
    day_2 = PlainDateField(_l("Second choice"), validators=[Optional()])
    part_2 = SelectField(_l("Time of day"), choices=_part_choices(), default="any")
    day_3 = PlainDateField(_l("Third choice"), validators=[Optional()])
    part_3 = SelectField(_l("Time of day"), choices=_part_choices(), default="any")
    note = TextAreaField(
        _l("A note for the team"),
        validators=[Optional(), Length(max=1000)],
        description=_l("For example: mornings are best, or I need a ride."),
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def days(self):
        return [(getattr(self, f"day_{n}"), getattr(self, f"part_{n}")) for n in (1, 2, 3)]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        last = self.today + timedelta(days=SUGGEST_WITHIN_DAYS)
        for day, _part in self.days():
            if day.data is None or day.errors:
                continue
            if not self.today < day.data <= last:
                day.errors = [*day.errors, _l("Choose a day from tomorrow to a year from now.")]
                ok = False
        if ok and not self.suggested() and not (self.note.data or "").strip():
            self.day_1.errors = [
                *self.day_1.errors,
                _l("Suggest at least one day, or write a note."),
            ]
            ok = False
        return ok

    def suggested(self) -> list[dict]:
        found, seen = [], set()
        for day, part in self.days():
            if day.data is None:
                continue
            key = (day.data.isoformat(), part.data or "any")
            if key not in seen:
                seen.add(key)
                found.append({"day": key[0], "part": key[1]})
        return found[:MAX_SUGGESTIONS]


# ------------------------------------------------------------------ views


def _appointment_or_404(patient, item_id: int) -> PlanItem:
    found = queries.item(patient.id, item_id, hidden())
    if found is None or found.kind is not ItemKind.APPOINTMENT:
        abort(404)
    return found


def _detail_url(patient, item_id: int) -> str:
    return url_for("careplan.items.detail", patient_id=patient.id, item_id=item_id)


def _render(template: str, status: int = 200, **context):
    from flask import render_template

    return render_template(template, **context), status


@bp.route(
    "/patients/<int:patient_id>/plan/items/<int:item_id>/appointment/confirm", methods=["POST"]
)
@patient_route(Permission.MANAGE_APPOINTMENTS, "careplan.item")
def appointment_confirm(patient, item_id: int):
    item = _appointment_or_404(patient, item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    back = (
        url_for("patients.home_page", patient_id=patient.id)
        if request.form.get("back") == "home"
        else _detail_url(patient, item_id)
    )
    on_rule_error(back=back)
    _require_patient_side()
    if confirm(item):
        flash(
            _("Confirmed. Your team knows you will come.")
            if current_actor().capacity is Capacity.PATIENT
            else _("Confirmed. The team knows %(name)s will come.", name=patient.display_name),
            "success",
        )
    else:
        flash(_("This appointment was already confirmed."), "success")
    return redirect(back)


def _patient_side_form(patient, item_id: int, form, template: str, act, sent: str):
    """Can't make it / Ask to change: the form, its replay, the rules, the act, the message.
    `act(item)` does the change; `sent` is what the patient side is told."""
    item = _appointment_or_404(patient, item_id)
    on_rule_error(back=_detail_url(patient, item_id))
    _require_patient_side()
    valid = form.validate_on_submit()
    # A repeat of a submit that went through lands where the first did, before the rules
    # look at an appointment that first submit already changed.
    if valid and (again := idempotency.replay(form, already=_("That was already sent."))):
        return again
    if request.method == "POST":
        _require_actionable(item)
    if valid:
        act(item)
        idempotency.remember(form, _detail_url(patient, item_id))
        flash(sent, "success")
        return redirect(_detail_url(patient, item_id))
    return _render(
        template,
        422 if form.is_submitted() else 200,
        patient=patient,
        item=item,
        form=form,
        closed=not actionable(item),  # a page left open: it says so, and offers no form
    )


def _for_viewer(own: str, third_person: str) -> str:
    """What the patient is told, or the same in the third person for a caregiver."""
    return own if current_actor().capacity is Capacity.PATIENT else third_person


@bp.route(
    "/patients/<int:patient_id>/plan/items/<int:item_id>/appointment/cancel",
    methods=["GET", "POST"],
)
@patient_route(Permission.MANAGE_APPOINTMENTS, "careplan.item")
def appointment_cancel(patient, item_id: int):
    form = CancelForm()
    return _patient_side_form(
        patient,
        item_id,
        form,
        "items/appointment_cancel.html",
        lambda item: cancel(
            patient, item, CancelReason(form.reason_choice.data), _clean(form.reason.data)
        ),
        _for_viewer(
            _("Cancelled. Your team will contact you about another time."),
            _(
                "Cancelled. The team will contact %(name)s about another time.",
                name=patient.display_name,
            ),
        ),
    )


@bp.route(
    "/patients/<int:patient_id>/plan/items/<int:item_id>/appointment/change",
    methods=["GET", "POST"],
)
@patient_route(Permission.MANAGE_APPOINTMENTS, "careplan.item")
def appointment_change(patient, item_id: int):
    form = ChangeForm(today=patient.today())
    return _patient_side_form(
        patient,
        item_id,
        form,
        "items/appointment_change.html",
        lambda item: ask_to_change(patient, item, form.suggested(), _clean(form.note.data)),
        _for_viewer(
            _("Sent. Your team will contact you about a new time."),
            _("Sent. The team will contact %(name)s about a new time.", name=patient.display_name),
        ),
    )


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/appointment/calendar.ics")
@patient_route(Permission.MANAGE_APPOINTMENTS, "careplan.item")
def appointment_calendar(patient, item_id: int):
    item = _appointment_or_404(patient, item_id)
    if item.starts_at is None or not item.is_open:
        abort(404)
    detailed = bool(
        db.session.scalar(
            sa.select(PatientPreferences.detailed_texts).where(
                PatientPreferences.patient_id == patient.id
            )
        )
    )
    body = calendar_file(patient, item, detailed)
    day = patient.local(item.starts_at).date().isoformat()
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="carecircle-{day}.ics"',
            "Cache-Control": "no-store",
        },
    )


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None
