"""What the Delivery page says about each text: its status in plain words and, for one that
waits or did not go out, the true reason.

A waiting text is said to wait for quiet hours only when its recipient's quiet hours are in
force right now, in the recipient's own time zone, and the text is due the moment they end.
Otherwise it is due now, planned for later, being sent, or waiting for another try. Nothing
here reads what a text says (its body): only its status, times and error code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_time
from flask_babel import gettext as _

from app.admin.labels import (
    EMAIL_STATUS,
    PROVIDER_CODES,
    TEXT_REASONS,
    TEXT_STATUS,
    TEXT_STATUS_FALLBACK,
)
from app.auth.models import User
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient, PatientPreferences
from app.reminders.recipients import DEFAULT_QUIET
from app.texting.models import OutboundSms
from app.texting.outbox import next_allowed

#: How the page colours a status: done, waiting or a problem.
DONE, WAITING, PROBLEM = "done", "waiting", "problem"
TONES = {
    "queued": WAITING,
    "sending": WAITING,
    "undelivered": PROBLEM,
    "failed": PROBLEM,
    "skipped": PROBLEM,
}
#: The end of quiet hours and a text's time count as the same moment within this.
SAME_MOMENT = timedelta(minutes=1)


@dataclass(frozen=True)
class Line:
    """One text or email on the Delivery page."""

    status: str
    #: Why it waits or did not go out, or None.
    detail: str | None
    tone: str


@dataclass(frozen=True)
class Quiet:
    """The quiet hours of a text's recipient, in their time zone."""

    zone: str
    start: time
    end: time


def reason(code: str | None) -> str | None:
    """Why a text did not go out, in plain words, from its error code."""
    if not code:
        return None
    found = TEXT_REASONS.get(code) or PROVIDER_CODES.get(code)
    if found is not None:
        return str(found)
    return _("error %(code)s from the text service", code=code)


def quiet_hours_of(rows: list[OutboundSms]) -> dict[int, Quiet]:
    """{text id: its recipient's quiet hours} for the waiting texts among `rows`, in three
    queries whatever their number: the patient's own hours for a text to the patient, the
    default hours in the helper's own time zone for a text to a helper (as reminders plans
    them, `reminders.recipients`)."""
    waiting = [r for r in rows if r.status == "queued" and r.patient_id is not None]
    patient_ids = {r.patient_id for r in waiting}
    if not patient_ids:
        return {}
    patients = {
        row.id: row
        for row in db.session.execute(
            sa.select(Patient.id, Patient.user_id, Patient.timezone).where(
                Patient.id.in_(patient_ids)
            )
        )
    }
    hours = {
        row.patient_id: (row.quiet_start, row.quiet_end)
        for row in db.session.execute(
            sa.select(
                PatientPreferences.patient_id,
                PatientPreferences.quiet_start,
                PatientPreferences.quiet_end,
            ).where(PatientPreferences.patient_id.in_(patient_ids))
        )
    }

    def to_helper(row: OutboundSms) -> bool:
        patient = patients.get(row.patient_id)
        return row.user_id is not None and (patient is None or row.user_id != patient.user_id)

    helper_ids = {r.user_id for r in waiting if to_helper(r)}
    zones = {
        row.id: row.timezone
        for row in (
            db.session.execute(sa.select(User.id, User.timezone).where(User.id.in_(helper_ids)))
            if helper_ids
            else ()
        )
    }
    found: dict[int, Quiet] = {}
    for row in waiting:
        patient = patients.get(row.patient_id)
        if to_helper(row):
            if row.user_id in zones:
                found[row.id] = Quiet(zones[row.user_id], *DEFAULT_QUIET)
        elif patient is not None:
            start, end = hours.get(row.patient_id, (time(20, 0), time(9, 0)))
            found[row.id] = Quiet(patient.timezone, start, end)
    return found


def _when(value: datetime) -> str:
    """A time in the viewer's zone and words, as every page writes it ("Today, 9:00 AM")."""
    return current_app.jinja_env.filters["datetime"](value, "short")


def _waiting(row: OutboundSms, quiet: Quiet | None, now: datetime) -> str:
    when = _when(row.send_after)
    if row.send_after <= now:
        if row.attempts:
            return _("The last try did not go through. It is tried again in the next round.")
        return _("Due now: it goes out in the next round of sending.")
    if row.attempts:
        return _("The last try did not go through. Next try: %(when)s.", when=when)
    if quiet is not None:
        ends = next_allowed(now, quiet.zone, quiet.start, quiet.end)
        if ends > now and abs(row.send_after - ends) < SAME_MOMENT:
            local = format_time(row.send_after.astimezone(ZoneInfo(quiet.zone)), "short", False)
            return _(
                "Waits for the person's quiet hours to end: %(local)s their time "
                "(%(when)s your time).",
                local=local,
                when=when,
            )
    return _("Planned for %(when)s.", when=when)


def describe_text(row: OutboundSms, quiet: Quiet | None = None, now: datetime | None = None):
    """The status of one text and why it waits or did not go out, as the page says them."""
    now = now or utcnow()
    status = str(TEXT_STATUS.get(row.status, TEXT_STATUS_FALLBACK))
    tone = TONES.get(row.status, DONE)
    detail = None
    if row.status == "queued":
        detail = _waiting(row, quiet, now)
    elif row.status == "sending":
        if row.lease_until is not None and row.lease_until < now:
            detail = _("No answer from the text service yet. We ask it before any new try.")
        else:
            detail = _("Being handed to the text service now.")
    elif row.status == "stored":
        detail = _("Nothing goes to a phone from the test server.")
    elif tone == PROBLEM:
        detail = reason(row.error_code)
    return Line(status=status, detail=detail, tone=tone)


def describe_texts(rows: list[OutboundSms], now: datetime | None = None) -> dict[int, Line]:
    now = now or utcnow()
    quiet = quiet_hours_of(rows)
    return {row.id: describe_text(row, quiet.get(row.id), now) for row in rows}


def describe_email(status: str) -> Line:
    return Line(
        status=str(EMAIL_STATUS.get(status, EMAIL_STATUS["sent"])),
        detail=None,
        tone={"queued": WAITING, "failed": PROBLEM}.get(status, DONE),
    )
