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
from flask import current_app, has_request_context
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from app.auth.models import User
from app.auth.services import public_url
from app.caregivers import policy
from app.caregivers.models import CaregiverGrant, EndedReason, GrantKind
from app.careplan.labels import SENSITIVITY_LABELS
from app.careplan.models import Sensitivity
from app.core import audit
from app.core.db import utcnow
from app.core.mail import queue_email
from app.extensions import db
from app.patients.models import Patient

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


def _audit(grant: CaregiverGrant, action: str = "update") -> None:
    event = audit.record(
        action=action,
        resource="caregivers.grant",
        resource_id=grant.id,
        patient_id=grant.patient_id,
        capacity="system",
    )
    if not has_request_context():  # in a request the hook writes it with the rest
        audit.write(db.session, [event])


def _rows(*conditions):
    """Grants with their patient and caregiver, in one query."""
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
    return Patient.date_of_birth <= cutoff


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
        _audit(grant)
        if grant.ends_at > now - timedelta(days=LATE_NOTICE_DAYS):
            _email_caregiver_expired(grant, patient, caregiver, result)


def _end_at_age_of_majority(now: datetime, result: SweepResult) -> None:
    for grant, patient, caregiver in _rows(
        CaregiverGrant.kind == GrantKind.GUARDIAN,
        CaregiverGrant.continuing_authority.is_(None),
        CaregiverGrant.current_at(now),
        CaregiverGrant.ended_reason.is_(None),
        _born_on_or_before(now, policy.adult_age()),
    ):
        if not policy.ended_by_age(grant, patient, now):
            continue
        ended_at = min(policy.birthday_start(patient, policy.adult_age()), now)
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
        _audit(grant)
        if ended_at > now - timedelta(days=LATE_NOTICE_DAYS):
            _email_came_of_age(grant, patient, caregiver, result)


def _tell_adolescents(now: datetime, result: SweepResult) -> None:
    for grant, patient, caregiver in _rows(
        CaregiverGrant.kind == GrantKind.GUARDIAN,
        CaregiverGrant.current_at(now),
        CaregiverGrant.adolescent_notice_sent_at.is_(None),
        _born_on_or_before(now, policy.adolescent_age()),
    ):
        if not policy.is_adolescent(patient, now) or not policy.in_force(grant, patient, now):
            continue
        if not _claim(
            grant.id,
            CaregiverGrant.adolescent_notice_sent_at.is_(None),
            adolescent_notice_sent_at=now,
        ):
            continue
        grant.adolescent_notice_sent_at = now
        result.adolescent_notices += 1
        _email_adolescent(grant, patient, caregiver, policy.age_at(patient, now), result)


def _remind_before_expiry(now: datetime, result: SweepResult) -> None:
    days = current_app.config["CAREGIVER_EXPIRY_NOTICE_DAYS"]
    for grant, patient, caregiver in _rows(
        CaregiverGrant.current_at(now),
        CaregiverGrant.ends_at.is_not(None),
        CaregiverGrant.ends_at <= now + timedelta(days=days),
        CaregiverGrant.ended_reason.is_(None),
        CaregiverGrant.expiry_notice_sent_at.is_(None),
    ):
        if not policy.in_force(grant, patient, now):
            continue  # ended by the age rules: the patient hears about that instead
        if not _claim(
            grant.id, CaregiverGrant.expiry_notice_sent_at.is_(None), expiry_notice_sent_at=now
        ):
            continue
        grant.expiry_notice_sent_at = now
        result.expiry_notices += 1
        _remind_patient(grant, patient, caregiver, now, result)


# ------------------------------------------------------------------ messages


def _locale(user: User | None, fallback: str | None = None) -> str:
    languages = current_app.config["LANGUAGES"]
    for choice in ((user.locale if user else None), fallback):
        if choice in languages:
            return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _patient_user(patient: Patient) -> User | None:
    if patient.user_id is None:
        return None
    user = db.session.get(User, patient.user_id)
    return user if user is not None and user.active else None


def _day(patient: Patient, instant: datetime) -> str:
    """A date as the patient's calendar shows it, in the current (recipient's) language."""
    return format_date(policy.local_today(patient, instant), "long")


def _last_day(patient: Patient, ends_at: datetime) -> str:
    """The last day of access as the patient's calendar shows it (ends_at is the midnight
    after it)."""
    return _day(patient, ends_at - timedelta(seconds=1))


def _send(user: User, subject: str, body: str, result: SweepResult) -> None:
    result.email_ids.append(
        queue_email(to=user.email, subject=subject, body=body, user_id=user.id).id
    )


def _sign_in_link() -> str:
    return public_url("/")


def _email_caregiver_expired(grant, patient, caregiver, result) -> None:
    if not caregiver.active:
        return
    with force_locale(_locale(caregiver)):
        subject = _("Your access to a CareCircle record has ended")
        body = "\n\n".join(
            [
                _("Hello %(name)s,", name=caregiver.full_name),
                _(
                    "Your access to %(patient)s's record ended after %(date)s, as planned. "
                    "You can no longer see it or act for them in CareCircle.",
                    patient=patient.display_name,
                    date=_last_day(patient, grant.ends_at),
                ),
                _(
                    "If %(patient)s still wants your help, they can give you access again "
                    "from their record.",
                    patient=patient.display_name,
                ),
                _("CareCircle: %(link)s", link=_sign_in_link()),
            ]
        )
    _send(caregiver, subject, body, result)


def _email_came_of_age(grant, patient, caregiver, result) -> None:
    when = grant.ends_at
    if caregiver.active:
        with force_locale(_locale(caregiver)):
            subject = _("Your access to a CareCircle record has ended")
            body = "\n\n".join(
                [
                    _("Hello %(name)s,", name=caregiver.full_name),
                    _(
                        "%(patient)s is now an adult and decides who sees their health "
                        "record. Your access as their parent or guardian ended on %(date)s.",
                        patient=patient.display_name,
                        date=_day(patient, when),
                    ),
                    _(
                        "If %(patient)s wants your help, they can give you access from their "
                        "record. If you hold a legal authority that continues (for example a "
                        "court-appointed guardianship), please contact the care team.",
                        patient=patient.display_name,
                    ),
                    _("CareCircle: %(link)s", link=_sign_in_link()),
                ]
            )
        _send(caregiver, subject, body, result)
    user = _patient_user(patient)
    if user is not None:
        with force_locale(_locale(user, patient.language)):
            subject = _("You decide who sees your CareCircle record")
            body = "\n\n".join(
                [
                    _("Hello %(name)s,", name=patient.display_name),
                    _(
                        "You are now an adult, so %(caregiver)s's access to your record as "
                        "your parent or guardian ended on %(date)s.",
                        caregiver=caregiver.full_name,
                        date=_day(patient, when),
                    ),
                    _(
                        "You decide who may help with your care. You can give someone "
                        "access from your record at any time."
                    ),
                    _("CareCircle: %(link)s", link=_sign_in_link()),
                ]
            )
        _send(user, subject, body, result)


def _confidential_labels() -> str:
    names = [
        str(SENSITIVITY_LABELS[Sensitivity(c)]).lower()
        for c in current_app.config["MINOR_CONFIDENTIAL_CATEGORIES"]
    ]
    return ", ".join(names)


def _email_adolescent(grant, patient, caregiver, age: int, result) -> None:
    if caregiver.active:
        with force_locale(_locale(caregiver)):
            subject = _("Some of a teen's care is now private")
            body = "\n\n".join(
                [
                    _("Hello %(name)s,", name=caregiver.full_name),
                    _(
                        "%(patient)s is %(age)d. From age %(teen)d, some care is private "
                        "between a teen and their care team: %(topics)s. You will not see "
                        "these in %(patient)s's record, and %(patient)s can write to the "
                        "care team in private.",
                        patient=patient.display_name,
                        age=age,
                        teen=policy.adolescent_age(),
                        topics=_confidential_labels(),
                    ),
                    _(
                        "Everything else you could do for %(patient)s stays the same.",
                        patient=patient.display_name,
                    ),
                    _("CareCircle: %(link)s", link=_sign_in_link()),
                ]
            )
        _send(caregiver, subject, body, result)
    user = _patient_user(patient)
    if user is not None:
        with force_locale(_locale(user, patient.language)):
            subject = _("You can talk to your care team in private")
            body = "\n\n".join(
                [
                    _("Hello %(name)s,", name=patient.display_name),
                    _(
                        "Some of your care is now private between you and your care team: "
                        "%(topics)s. Your parent or guardian does not see it in CareCircle.",
                        topics=_confidential_labels(),
                    ),
                    _(
                        'When you write a new message, choose "Private: only me and my care '
                        'team" and only your care team will read it.'
                    ),
                    _("CareCircle: %(link)s", link=_sign_in_link()),
                ]
            )
        _send(user, subject, body, result)


def _remind_patient(grant, patient, caregiver, now, result) -> None:
    from app.notifications.services import queue_sms
    from app.patients.queries import preferences
    from app.reminders.optout import is_opted_out

    link = public_url(f"/patients/{patient.id}")
    user = _patient_user(patient)
    locale = _locale(user, patient.language)
    if user is not None:
        with force_locale(locale):
            subject = _("Access to your CareCircle record ends soon")
            body = "\n\n".join(
                [
                    _("Hello %(name)s,", name=patient.display_name),
                    _(
                        "%(caregiver)s (%(relationship)s) can help with your record until "
                        "the end of %(date)s. After that, their access ends on its own.",
                        caregiver=caregiver.full_name,
                        relationship=grant.relationship_label,
                        date=_last_day(patient, grant.ends_at),
                    ),
                    _(
                        "If you want their help to go on, renew their access from your record. "
                        "If not, you do not need to do anything."
                    ),
                    _("Your record: %(link)s", link=link),
                ]
            )
        _send(user, subject, body, result)
    channels = set(preferences(patient.id).contact_channels or [])
    if "sms" in channels and patient.mobile_phone and not is_opted_out(patient.mobile_phone):
        with force_locale(locale):
            text = _(
                "CareCircle: a helper's access to your record ends after %(date)s. "
                "Renew it or let it end: %(link)s",
                date=_last_day(patient, grant.ends_at),
                link=link,
            )
        sms = queue_sms(
            patient=patient,
            to=patient.mobile_phone,
            user_id=patient.user_id,
            purpose=SMS_PURPOSE_EXPIRY,
            locale=locale,
            body=text,
            now=now,
        )
        result.sms_ids.append(sms.id)
