"""Time-driven changes to caregiver access: `sweep(now)`, run daily by `flask caregivers sweep`.

The policy already applies the rules on every request (an expired grant, or a parent's grant
on the patient's 18th birthday, answers 404 at once). The sweep records what the rules decided
and tells the people involved, once:

- a grant past its `ends_at` gets ended_reason "expired", and the caregiver an email;
- a parent's or guardian's grant ends on the patient's ADULT_AGE birthday (ended_reason
  "age_of_majority") unless a continuing legal authority was recorded; caregiver and patient
  get an email;
- when the patient reaches ADOLESCENT_AGE, the guardian and the teen are told what is now
  private between the teen and the care team;
- CAREGIVER_EXPIRY_NOTICE_DAYS before a grant's `ends_at`, the patient is reminded by email
  and, if they get texts, by a text that carries no health details.

Each step claims its rows with a conditional UPDATE (only rows still unmarked), so running the
sweep twice, or twice at the same time, notifies once. Like every service it only flushes; the
caller commits and then delivers the queued emails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _

from app.auth.models import User
from app.caregivers import rules
from app.caregivers.grants import last_day
from app.caregivers.labels import relation_label
from app.caregivers.models import CaregiverGrant, EndedReason, GrantKind
from app.caregivers.queries import grants_in_force
from app.core import audit
from app.core.db import utcnow
from app.core.i18n import for_recipient, recipient_locale
from app.core.mail import send_template
from app.core.privacy import SENSITIVITY_LABELS, Sensitivity
from app.core.signals import grant_ended
from app.core.urls import public_url
from app.extensions import db
from app.patients.models import Patient
from app.patients.queries import preferences
from app.texting.optout import is_opted_out
from app.texting.outbox import queue_sms

#: A grant that ended longer ago than this when the sweep first sees it (e.g. the first run
#: after an upgrade) is recorded without emailing anyone about old news.
LATE_NOTICE_DAYS = 30

SMS_PURPOSE_EXPIRY = "caregiver_expiry"


@dataclass
class SweepResult:
    expired: int = 0
    came_of_age: int = 0
    adolescent_notices: int = 0
    expiry_notices: int = 0
    email_ids: list[int] = field(default_factory=list)
    sms_ids: list[int] = field(default_factory=list)


def sweep(now: datetime | None = None) -> SweepResult:
    """Apply the time rules to caregiver grants and notify once; see the module docstring."""
    now = now or utcnow()
    result = SweepResult()
    _end_expired(now, result)
    _end_at_age_of_majority(now, result)
    _tell_adolescents(now, result)
    _remind_before_expiry(now, result)
    db.session.flush()
    return result


# ------------------------------------------------------------------ claiming rows


def _claim(grant_id: int, *conditions, **values) -> bool:
    """Mark one grant if it still matches; False when another sweep got there first."""
    result = db.session.execute(
        sa.update(CaregiverGrant)
        .where(CaregiverGrant.id == grant_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _ended(grant: CaregiverGrant) -> None:
    """Record (as the system) that the rules ended a grant, and tell the other domains."""
    audit.record(
        action="update",
        resource="caregivers.grant",
        resource_id=grant.id,
        patient_id=grant.patient_id,
        capacity="system",
    )
    grant_ended.send(grant)


def _rows(*conditions):
    """Grants (in force or not) with their patient and caregiver, in one query."""
    caregiver = sa.orm.aliased(User)
    return db.session.execute(
        sa.select(CaregiverGrant, Patient, caregiver)
        .join(Patient, Patient.id == CaregiverGrant.patient_id)
        .join(caregiver, caregiver.id == CaregiverGrant.caregiver_id)
        .where(*conditions)
        .order_by(CaregiverGrant.id)
    ).all()


def _born_on_or_before(now: datetime, years: int):
    """A cheap SQL pre-filter: patients who may be `years` old at `now` in any time zone."""
    latest = (now + timedelta(days=1)).date()
    try:
        cutoff = latest.replace(year=latest.year - years)
    except ValueError:  # 29 February
        cutoff = latest.replace(year=latest.year - years, day=28)
    return CaregiverGrant.patient_id.in_(
        sa.select(Patient.id).where(Patient.date_of_birth <= cutoff)
    )


# ------------------------------------------------------------------ the four rules


def _end_expired(now: datetime, result: SweepResult) -> None:
    for grant, patient, caregiver in _rows(
        CaregiverGrant.ends_at.is_not(None),
        CaregiverGrant.ends_at <= now,
        CaregiverGrant.revoked_at.is_(None),
        CaregiverGrant.ended_reason.is_(None),
    ):
        if not _claim(
            grant.id, CaregiverGrant.ended_reason.is_(None), ended_reason=EndedReason.EXPIRED.value
        ):
            continue
        grant.ended_reason = EndedReason.EXPIRED.value
        result.expired += 1
        _ended(grant)
        if grant.ends_at > now - timedelta(days=LATE_NOTICE_DAYS):
            _email_caregiver_expired(grant, patient, caregiver, result)


def _end_at_age_of_majority(now: datetime, result: SweepResult) -> None:
    for grant, patient, caregiver in _rows(
        CaregiverGrant.kind == GrantKind.GUARDIAN,
        CaregiverGrant.continuing_authority.is_(None),
        CaregiverGrant.current_at(now),
        CaregiverGrant.ended_reason.is_(None),
        _born_on_or_before(now, rules.adult_age()),
    ):
        if not rules.ended_by_age(grant, patient, now):
            continue
        ended_at = min(rules.birthday_start(patient, rules.adult_age()), now)
        if not _claim(
            grant.id,
            CaregiverGrant.ended_reason.is_(None),
            CaregiverGrant.revoked_at.is_(None),
            CaregiverGrant.continuing_authority.is_(None),
            ended_reason=EndedReason.AGE_OF_MAJORITY.value,
            ends_at=ended_at,
        ):
            continue
        grant.ended_reason, grant.ends_at = EndedReason.AGE_OF_MAJORITY.value, ended_at
        result.came_of_age += 1
        _ended(grant)
        if ended_at > now - timedelta(days=LATE_NOTICE_DAYS):
            _email_came_of_age(grant, patient, caregiver, result)


def _tell_adolescents(now: datetime, result: SweepResult) -> None:
    for grant in grants_in_force(
        where=(
            CaregiverGrant.kind == GrantKind.GUARDIAN,
            CaregiverGrant.adolescent_notice_sent_at.is_(None),
            _born_on_or_before(now, rules.adolescent_age()),
        ),
        now=now,
    ):
        if not rules.is_adolescent(grant.patient, now):
            continue
        if not _claim(
            grant.id,
            CaregiverGrant.adolescent_notice_sent_at.is_(None),
            adolescent_notice_sent_at=now,
        ):
            continue
        grant.adolescent_notice_sent_at = now
        result.adolescent_notices += 1
        age = rules.age_at(grant.patient, now)
        _email_adolescent(grant, grant.patient, grant.caregiver, age, result)


def _remind_before_expiry(now: datetime, result: SweepResult) -> None:
    days = current_app.config["CAREGIVER_EXPIRY_NOTICE_DAYS"]
    # In force only: a grant the age rules ended tells the patient about that instead.
    for grant in grants_in_force(
        where=(
            CaregiverGrant.ends_at.is_not(None),
            CaregiverGrant.ends_at <= now + timedelta(days=days),
            CaregiverGrant.ended_reason.is_(None),
            CaregiverGrant.expiry_notice_sent_at.is_(None),
        ),
        now=now,
    ):
        if not _claim(
            grant.id, CaregiverGrant.expiry_notice_sent_at.is_(None), expiry_notice_sent_at=now
        ):
            continue
        grant.expiry_notice_sent_at = now
        result.expiry_notices += 1
        _remind_patient(grant, grant.patient, grant.caregiver, now, result)


# ------------------------------------------------------------------ messages


def _patient_user(patient: Patient) -> User | None:
    if patient.user_id is None:
        return None
    user = db.session.get(User, patient.user_id)
    return user if user is not None and user.active else None


def _day(patient: Patient, instant: datetime) -> str:
    """A date as the patient's calendar shows it, in the current (recipient's) language."""
    return format_date(patient.today(instant), "long")


def _send(template: str, recipient, result: SweepResult, *, user: User, **context) -> None:
    """Queue one email (rendered in the recipient's language) and remember it for delivery."""
    email = send_template(
        template,
        recipient,
        email=user.email,
        user_id=user.id,
        sign_in=public_url("/"),
        **context,
    )
    result.email_ids.append(email.id)


def _email_caregiver_expired(grant, patient, caregiver, result) -> None:
    if not caregiver.active:
        return
    with for_recipient(caregiver):
        last = format_date(last_day(patient, grant.ends_at), "long")
    _send(
        "caregivers/email/access_expired.txt",
        caregiver,
        result,
        user=caregiver,
        name=caregiver.full_name,
        patient=patient.display_name,
        date=last,
    )


def _email_came_of_age(grant, patient, caregiver, result) -> None:
    if caregiver.active:
        with for_recipient(caregiver):
            day = _day(patient, grant.ends_at)
        _send(
            "caregivers/email/came_of_age_caregiver.txt",
            caregiver,
            result,
            user=caregiver,
            name=caregiver.full_name,
            patient=patient.display_name,
            date=day,
        )
    user = _patient_user(patient)
    if user is not None:
        with for_recipient(patient):
            day = _day(patient, grant.ends_at)
        _send(
            "caregivers/email/came_of_age_patient.txt",
            patient,
            result,
            user=user,
            name=patient.display_name,
            caregiver=caregiver.full_name,
            date=day,
        )


def _confidential_labels() -> str:
    names = [
        str(SENSITIVITY_LABELS[Sensitivity(c)]).lower()
        for c in current_app.config["MINOR_CONFIDENTIAL_CATEGORIES"]
    ]
    return ", ".join(names)


def _email_adolescent(grant, patient, caregiver, age: int, result) -> None:
    if caregiver.active:
        with for_recipient(caregiver):
            topics = _confidential_labels()
        _send(
            "caregivers/email/adolescent_guardian.txt",
            caregiver,
            result,
            user=caregiver,
            name=caregiver.full_name,
            patient=patient.display_name,
            age=age,
            teen=rules.adolescent_age(),
            topics=topics,
        )
    user = _patient_user(patient)
    if user is not None:
        with for_recipient(patient):
            topics = _confidential_labels()
        _send(
            "caregivers/email/adolescent_patient.txt",
            patient,
            result,
            user=user,
            name=patient.display_name,
            topics=topics,
        )


def _remind_patient(grant, patient, caregiver, now, result) -> None:
    link = public_url(f"/patients/{patient.id}")
    user = _patient_user(patient)
    with for_recipient(patient):
        last = format_date(last_day(patient, grant.ends_at), "long")
    if user is not None:
        _send(
            "caregivers/email/access_ends_soon.txt",
            patient,
            result,
            user=user,
            name=patient.display_name,
            caregiver=caregiver.full_name,
            relationship=relation_label(grant),
            date=last,
            link=link,
        )
    channels = set(preferences(patient.id).contact_channels or [])
    if "sms" in channels and patient.mobile_phone and not is_opted_out(patient.mobile_phone):
        with for_recipient(patient):
            text = _(
                "CareCircle: a helper's access to your record ends after %(date)s. "
                "Renew it or let it end: %(link)s",
                date=last,
                link=link,
            )
        sms = queue_sms(
            patient=patient,
            to=patient.mobile_phone,
            user_id=patient.user_id,
            purpose=SMS_PURPOSE_EXPIRY,
            locale=recipient_locale(patient),
            body=text,
            now=now,
        )
        result.sms_ids.append(sms.id)
