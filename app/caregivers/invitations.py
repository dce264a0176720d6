"""The patient's side of caregiver access: invitations, acceptance, changes and ending.

Services add and flush; the request hook commits (app.core.uow). Every change is audited with
the patient's id, and a change to a grant takes effect on the caregiver's next request because
the policy reads the grant on every request.

An invitation link is signed and time-stamped with itsdangerous, like the account links in
app.auth.services, and carries the invitation's id and a random secret whose hash is stored:
the signature stops tampering, the row makes the link single use and cancellable.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from app.auth.models import User, hash_token
from app.auth.services import public_url
from app.caregivers.models import CaregiverGrant, CaregiverInvitation, GrantKind, Scope
from app.core import audit
from app.core.db import utcnow
from app.core.mail import queue_email
from app.extensions import db
from app.notifications.models import OutboundSms
from app.notifications.services import queue_sms
from app.patients.models import Patient

SMS_PURPOSE = "caregiver_invite"


class InvitationError(Exception):
    """The link does not work: "invalid", "expired", "used" or "cancelled"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- dates


def patient_today(patient: Patient, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(patient.timezone)).date()


def end_of_access(patient: Patient, ends_on: date | None) -> datetime | None:
    """Access "ends on" a date: from the start of that day in the patient's time zone."""
    if ends_on is None:
        return None
    return datetime.combine(ends_on, time(0), ZoneInfo(patient.timezone)).astimezone(UTC)


def local_date(patient: Patient, when: datetime | None) -> date | None:
    """The day `when` falls on where the patient lives; for an end of access, the date the
    patient chose (the inverse of `end_of_access`)."""
    if when is None:
        return None
    return when.astimezone(ZoneInfo(patient.timezone)).date()


def patient_locale(patient: Patient) -> str:
    """The patient's language for texts and emails sent on their behalf (the invitee's is
    unknown), falling back to their interface language, then the default."""
    languages = current_app.config["LANGUAGES"]
    if patient.language in languages:
        return patient.language
    user = db.session.get(User, patient.user_id) if patient.user_id else None
    if user is not None and user.locale in languages:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _user_locale(user: User) -> str:
    if user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# ---------------------------------------------------------------- links


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt="carecircle.caregiver_invitation"
    )


def _max_age() -> timedelta:
    return timedelta(hours=current_app.config["CAREGIVER_INVITE_HOURS"])


def check(token: str) -> CaregiverInvitation:
    """Return the invitation behind a link that still works, or raise InvitationError."""
    try:
        payload = _serializer().loads(token, max_age=int(_max_age().total_seconds()))
    except SignatureExpired as exc:
        raise InvitationError("expired") from exc
    except BadSignature as exc:
        raise InvitationError("invalid") from exc
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("i"), int)
        or not isinstance(payload.get("s"), str)
    ):
        raise InvitationError("invalid")
    row = db.session.scalar(
        sa.select(CaregiverInvitation)
        .where(CaregiverInvitation.id == payload["i"])
        .options(joinedload(CaregiverInvitation.patient))
    )
    if row is None or not hmac.compare_digest(row.secret_hash, hash_token(payload["s"])):
        raise InvitationError("invalid")
    problem = row.problem(utcnow())
    if problem is not None:
        raise InvitationError(problem)
    return row


# ---------------------------------------------------------------- invite and cancel


def create(
    patient: Patient,
    invited_by: User,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    relationship: str,
    scopes: list[str],
    categories: list[str],
    ends_at: datetime | None,
) -> tuple[CaregiverInvitation, str]:
    """Store the invitation and return it with its link token (shown to nobody but the
    invitee: it goes straight into the email or text)."""
    now = utcnow()
    secret = secrets.token_urlsafe(18)  # 144 bits; a short link keeps texts short
    invitation = CaregiverInvitation(
        patient_id=patient.id,
        invited_by_id=invited_by.id,
        name=name,
        email=email,
        phone=phone,
        relationship_label=relationship,
        scopes=sorted(set(scopes)),
        sensitive_categories=sorted(set(categories)),
        ends_at=ends_at,
        created_at=now,
        expires_at=now + _max_age(),
        secret_hash=hash_token(secret),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        action="invite",
        resource="caregivers.invitation",
        resource_id=invitation.id,
        patient_id=patient.id,
    )
    return invitation, _serializer().dumps({"i": invitation.id, "s": secret})


def send(invitation: CaregiverInvitation, token: str, patient: Patient) -> None:
    """Email or text the link, in the patient's language, with no health details."""
    link = public_url(url_for("caregivers.accept", token=token))
    locale = patient_locale(patient)
    hours = current_app.config["CAREGIVER_INVITE_HOURS"]
    with force_locale(locale):
        if invitation.phone:
            body = _(
                "CareCircle: %(name)s invited you to help with their care. Accept: %(link)s",
                name=patient.display_name[:40],
                link=link,
            )
        else:
            subject = _("%(name)s invited you to CareCircle", name=patient.display_name)
            body = render_template(
                "caregivers/email/invitation.txt",
                invitee=invitation.name,
                patient_name=patient.display_name,
                link=link,
                hours=hours,
                cco_name=current_app.config["CCO_NAME"],
            )
    if invitation.phone:
        # The patient is sending it now, on purpose: it does not wait for quiet hours.
        queue_sms(
            patient=patient,
            to=invitation.phone,
            user_id=None,
            purpose=SMS_PURPOSE,
            locale=locale,
            body=body,
            send_after=utcnow(),
        )
    else:
        queue_email(to=invitation.email, subject=subject, body=body)


def cancel(invitation: CaregiverInvitation) -> bool:
    """Cancel a pending invitation; False if it was accepted, cancelled or expired already."""
    now = utcnow()
    result = db.session.execute(
        sa.update(CaregiverInvitation)
        .where(CaregiverInvitation.id == invitation.id, CaregiverInvitation.pending_at(now))
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    if invitation.phone:
        # A text still waiting to go out is not sent after all.
        db.session.execute(
            sa.delete(OutboundSms).where(
                OutboundSms.patient_id == invitation.patient_id,
                OutboundSms.to_number == invitation.phone,
                OutboundSms.purpose == SMS_PURPOSE,
                OutboundSms.status == "queued",
            )
        )
    audit.record(
        action="cancel",
        resource="caregivers.invitation",
        resource_id=invitation.id,
        patient_id=invitation.patient_id,
    )
    return True


# ---------------------------------------------------------------- accept


def accept(invitation: CaregiverInvitation, user: User) -> CaregiverGrant:
    """Use the invitation up (atomically: a second, concurrent use finds nothing to update)
    and give `user` exactly the access the patient chose. Raises InvitationError."""
    now = utcnow()
    result = db.session.execute(
        sa.update(CaregiverInvitation)
        .where(CaregiverInvitation.id == invitation.id, CaregiverInvitation.pending_at(now))
        .values(accepted_at=now, accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(invitation)
        raise InvitationError(invitation.problem(now) or "used")
    patient = invitation.patient
    # A newer invitation replaces what this person could do before for the same patient.
    db.session.execute(
        sa.update(CaregiverGrant)
        .where(
            CaregiverGrant.caregiver_id == user.id,
            CaregiverGrant.patient_id == patient.id,
            CaregiverGrant.current_at(now),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    grant = CaregiverGrant(
        patient_id=patient.id,
        caregiver_id=user.id,
        relationship_label=invitation.relationship_label,
        scopes=list(invitation.scopes or []),
        sensitive_categories=list(invitation.sensitive_categories or []),
        ends_at=invitation.ends_at,
        granted_by_id=patient.user_id or invitation.invited_by_id,
        starts_at=now,
    )
    db.session.add(grant)
    if invitation.phone:
        # The link was texted to this number, so whoever opened it holds the phone.
        user.mobile_phone = invitation.phone
        user.mobile_phone_verified_at = now
    db.session.flush()
    audit.record(
        action="accept",
        resource="caregivers.grant",
        resource_id=grant.id,
        patient_id=patient.id,
        actor_id=user.id,
        capacity="caregiver",
    )
    return grant


# ---------------------------------------------------------------- the patient's control


def patient_controls(grant: CaregiverGrant) -> bool:
    """The patient changes and ends what they set up themselves. A grant the care team set up
    on a legal footing (a guardian, a power of attorney) is changed through the care team."""
    return grant.kind == GrantKind.DELEGATE and not grant.legal_authority


def _drop_queued_texts(grant: CaregiverGrant) -> None:
    db.session.execute(
        sa.delete(OutboundSms).where(
            OutboundSms.patient_id == grant.patient_id,
            OutboundSms.user_id == grant.caregiver_id,
            OutboundSms.status == "queued",
        )
    )


def change(
    grant: CaregiverGrant,
    patient: Patient,
    *,
    scopes: list[str],
    categories: list[str],
    ends_at: datetime | None,
) -> bool:
    """Change what a caregiver may do and see. Returns whether anything changed."""
    scopes, categories = sorted(set(scopes)), sorted(set(categories))
    before = (sorted(grant.scopes or []), sorted(grant.sensitive_categories or []), grant.ends_at)
    if before == (scopes, categories, ends_at):
        return False
    had_reminders = Scope.REMINDERS.value in (grant.scopes or [])
    grant.scopes, grant.sensitive_categories, grant.ends_at = scopes, categories, ends_at
    if had_reminders and Scope.REMINDERS.value not in scopes:
        _drop_queued_texts(grant)
    audit.record(
        action="update", resource="caregivers.grant", resource_id=grant.id, patient_id=patient.id
    )
    _tell_caregiver(grant, patient, ended=False)
    return True


def end(grant: CaregiverGrant, patient: Patient) -> None:
    """End access now: the caregiver's next request is refused, waiting texts are dropped."""
    grant.revoked_at = utcnow()
    _drop_queued_texts(grant)
    audit.record(
        action="revoke", resource="caregivers.grant", resource_id=grant.id, patient_id=patient.id
    )
    _tell_caregiver(grant, patient, ended=True)


def _tell_caregiver(grant: CaregiverGrant, patient: Patient, *, ended: bool) -> None:
    caregiver = db.session.get(User, grant.caregiver_id)
    if caregiver is None or not caregiver.active:
        return
    link = public_url(url_for("caregivers.people"))
    with force_locale(_user_locale(caregiver)):
        if ended:
            subject = _("Your access to %(name)s's record ended", name=patient.display_name)
            template = "caregivers/email/access_ended.txt"
        else:
            subject = _("Your access to %(name)s's record changed", name=patient.display_name)
            template = "caregivers/email/access_changed.txt"
        body = render_template(
            template, user=caregiver, patient_name=patient.display_name, link=link
        )
    queue_email(to=caregiver.email, subject=subject, body=body, user_id=caregiver.id)
