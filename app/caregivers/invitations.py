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
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from app.auth.models import User, hash_token
from app.caregivers.grants import grant_access
from app.caregivers.labels import relation_from_words
from app.caregivers.models import CaregiverGrant, CaregiverInvitation, GrantKind, Relation
from app.core import audit
from app.core.db import utcnow
from app.core.i18n import for_recipient, recipient_locale
from app.core.mail import send_template
from app.core.signals import grant_changed, grant_ended
from app.core.urls import public_url_for
from app.extensions import db
from app.patients.models import Patient
from app.texting import bodies
from app.texting.models import OutboundSms
from app.texting.outbox import queue_sms

SMS_PURPOSE = "caregiver_invite"
SMS_PURPOSE_PROOF = "caregiver_code"
PROOF_MINUTES = 10
PROOF_TRIES = 5
PROOF_SENDS = 5


class ProofError(Exception):
    """The code that proves who accepts is wrong, old or tried too often (shown as it is)."""


class InvitationError(Exception):
    """The link does not work: "invalid", "expired", "used" or "cancelled"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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
    relation: Relation | None = None,
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
        relation=relation if relation is not None else relation_from_words(relationship),
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
    """Email or text the link, in the patient's language (the invitee's is unknown), with no
    health details."""
    link = public_url_for("caregivers.accept", token=token)
    if invitation.phone:
        with for_recipient(patient):
            body = _(
                "CareCircle: %(name)s invited you to help with their care. Accept: %(link)s",
                name=patient.display_name[:40],
                link=link,
            )
        # The patient is sending it now, on purpose: it does not wait for quiet hours.
        queue_sms(
            patient=patient,
            to=invitation.phone,
            user_id=None,
            purpose=SMS_PURPOSE,
            locale=recipient_locale(patient),
            body=body,
            send_after=utcnow(),
        )
    else:
        send_template(
            "caregivers/email/invitation.txt",
            patient,
            email=invitation.email,
            invitee=invitation.name,
            patient_name=patient.display_name,
            link=link,
            hours=current_app.config["CAREGIVER_INVITE_HOURS"],
            cco_name=current_app.config["CCO_NAME"],
        )


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


# ---------------------------------------------------------------- proving the address


def already_proven(invitation: CaregiverInvitation, user: User | None) -> bool:
    """A signed-in caregiver whose verified phone is the one the link was texted to needs no
    code. An account's email is not proof (an account made from a texted link may type any
    address), so an emailed invitation always asks for the code sent to that address."""
    return bool(
        user is not None
        and invitation.phone
        and user.mobile_phone == invitation.phone
        and user.mobile_phone_verified_at is not None
    )


def send_proof(invitation: CaregiverInvitation, patient: Patient) -> None:
    """Send a fresh code to the email or phone the invitation went to; the link alone (which
    may have been forwarded, logged or read over a shoulder) is not enough to accept it.
    Raises ProofError after PROOF_SENDS codes: nobody can make us text a number without end."""
    now = utcnow()
    code = f"{secrets.randbelow(10**6):06d}"
    result = db.session.execute(
        sa.update(CaregiverInvitation)
        .where(
            CaregiverInvitation.id == invitation.id,
            CaregiverInvitation.proof_sends < PROOF_SENDS,
        )
        .values(
            proof_code_hash=hash_token(code),
            proof_expires_at=now + timedelta(minutes=PROOF_MINUTES),
            proof_attempts=0,
            proof_sends=CaregiverInvitation.proof_sends + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(invitation)
    if result.rowcount != 1:
        raise ProofError(
            _(
                "We sent as many codes as we can. "
                "Ask the person who invited you to invite you again."
            )
        )
    if invitation.phone:
        locale = recipient_locale(patient)
        queue_sms(
            patient=patient,
            to=invitation.phone,
            user_id=None,
            purpose=SMS_PURPOSE_PROOF,
            locale=locale,
            body=bodies.code(locale=locale, code=code, minutes=PROOF_MINUTES),
            send_after=now,
        )
    else:
        send_template(
            "caregivers/email/invitation_code.txt",
            patient,
            email=invitation.email,
            invitee=invitation.name,
            code=code,
            minutes=PROOF_MINUTES,
        )


def check_proof(invitation: CaregiverInvitation, code: str) -> None:
    """Raise ProofError unless `code` is the one sent. Every try counts (the caller commits),
    in one UPDATE, so tries sent at the same moment cannot all read "no tries yet"; the right
    code works once."""
    now = utcnow()
    if invitation.proof_code_hash is None or invitation.proof_expires_at <= now:
        raise ProofError(_("This code has expired. Ask for a new one."))
    pending = sa.and_(
        CaregiverInvitation.id == invitation.id,
        CaregiverInvitation.proof_code_hash.is_not(None),
        CaregiverInvitation.proof_expires_at > now,
    )
    counted = db.session.execute(
        sa.update(CaregiverInvitation)
        .where(pending, CaregiverInvitation.proof_attempts < PROOF_TRIES)
        .values(proof_attempts=CaregiverInvitation.proof_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != 1:
        db.session.refresh(invitation)
        if invitation.proof_code_hash is None:
            raise ProofError(_("This code has expired. Ask for a new one."))
        raise ProofError(_("Too many wrong tries. Ask for a new code."))
    used = db.session.execute(
        sa.update(CaregiverInvitation)
        .where(pending, CaregiverInvitation.proof_code_hash == hash_token((code or "").strip()))
        .values(proof_code_hash=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(invitation)
    if used.rowcount != 1:
        raise ProofError(_("That code is not right. Check it and try again."))


def masked_address(invitation: CaregiverInvitation) -> str:
    """Where the code goes, without showing all of it ("a…@example.test", "…0142")."""
    if invitation.phone:
        return "…" + invitation.phone[-4:]
    local, _sep, domain = (invitation.email or "").partition("@")
    return f"{local[:1]}…@{domain}"


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
    grant = grant_access(
        patient,
        user,
        relationship=invitation.relationship_label,
        relation=invitation.relation,
        scopes=invitation.scopes or [],
        categories=invitation.sensitive_categories or [],
        ends_at=invitation.ends_at,
        granted_by_id=patient.user_id or invitation.invited_by_id,
        audit_action="accept",
        actor_id=user.id,
        capacity="caregiver",
    )
    if invitation.phone:
        # The link was texted to this number, so whoever opened it holds the phone.
        user.mobile_phone = invitation.phone
        user.mobile_phone_verified_at = now
        db.session.flush()
    return grant


# ---------------------------------------------------------------- the patient's control


def patient_controls(grant: CaregiverGrant) -> bool:
    """The patient changes and ends what they set up themselves. A grant the care team set up
    on a legal footing (a guardian, a power of attorney) is changed through the care team."""
    return grant.kind == GrantKind.DELEGATE and not grant.legal_authority


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
    grant.scopes, grant.sensitive_categories, grant.ends_at = scopes, categories, ends_at
    db.session.flush()
    audit.record(
        action="update", resource="caregivers.grant", resource_id=grant.id, patient_id=patient.id
    )
    grant_changed.send(grant)
    _tell_caregiver(grant, patient, ended=False)
    return True


def end(grant: CaregiverGrant, patient: Patient) -> None:
    """End access now: the caregiver's next request is refused, waiting texts are dropped."""
    grant.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        action="revoke", resource="caregivers.grant", resource_id=grant.id, patient_id=patient.id
    )
    grant_ended.send(grant)
    _tell_caregiver(grant, patient, ended=True)


def _tell_caregiver(grant: CaregiverGrant, patient: Patient, *, ended: bool) -> None:
    caregiver = db.session.get(User, grant.caregiver_id)
    if caregiver is None or not caregiver.active:
        return
    send_template(
        "caregivers/email/access_ended.txt" if ended else "caregivers/email/access_changed.txt",
        caregiver,
        user=caregiver,
        patient_name=patient.display_name,
        link=public_url_for("caregivers.people"),
    )
