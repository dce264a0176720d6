"""Twilio webhooks: delivery status callbacks and inbound texts.

Both are exempt from CSRF because Twilio signs them instead: every request must carry a valid
X-Twilio-Signature for the URL Twilio called (built from PUBLIC_BASE_URL, so it is right behind
a reverse proxy). A missing or wrong signature gets 403 and writes nothing. Replies are TwiML in
the sender's language; unknown numbers get a polite answer and no data.
"""

from __future__ import annotations

import logging
import re

import sqlalchemy as sa
from flask import Response, abort, current_app, g, request
from flask_babel import force_locale
from flask_babel import gettext as _
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from app.auth.models import User
from app.careplan.items import services as items
from app.careplan.items.models import CLOSED_STATUSES, ItemKind, PlanItem
from app.core.access import no_patient_data
from app.core.db import utcnow
from app.core.i18n import recipient_locale
from app.core.privacy import Actor, Capacity
from app.core.urls import public_url
from app.extensions import csrf, db
from app.messaging import services as messaging
from app.messaging.models import Thread, ThreadStatus, Topic
from app.patients.models import Patient
from app.texting import bp
from app.texting.models import InboundSms, OutboundSms
from app.texting.optout import set_opt_out

log = logging.getLogger(__name__)

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO", "AYUDA"}
CONFIRM_WORDS = {"C", "1"}
RESCHEDULE_WORDS = {"R", "2"}

#: Delivery statuses in the order they happen; a callback never moves a text backwards.
STATUS_RANK = {
    "queued": 0,
    "stored": 0,
    "sending": 1,
    "accepted": 1,
    "scheduled": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}
#: Twilio error codes that mean the number has unsubscribed.
UNSUBSCRIBED_CODES = {"21610"}


def _signed() -> bool:
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = public_url(request.full_path.rstrip("?"))
    return RequestValidator(token).validate(url, request.form.to_dict(flat=True), signature)


def _twiml(text: str | None) -> Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return Response(str(reply), mimetype="application/xml")


def keyword(body: str) -> str:
    """The first word, upper-case, without spaces or punctuation ("  stop! " -> "STOP")."""
    words = re.sub(r"[^\w\s]", " ", body or "").split()
    return words[0].upper() if len(words) == 1 else (" ".join(words).upper() if words else "")


@bp.route("/sms/status", methods=["POST"])
@csrf.exempt
@no_patient_data("Twilio delivery callback: updates our own outbound text record, signed")
def status_callback():
    if not _signed():
        abort(403)
    sid = request.form.get("MessageSid", "")
    status = (request.form.get("MessageStatus") or "").lower()
    if not sid or status not in STATUS_RANK:
        abort(400)
    row = db.session.scalar(sa.select(OutboundSms).where(OutboundSms.provider_sid == sid))
    if row is None:
        return Response(status=204)  # not ours (or long gone): nothing to change
    if STATUS_RANK[status] > STATUS_RANK.get(row.status, 0):
        row.status = status
        code = request.form.get("ErrorCode") or None
        if code:
            row.error_code = code[:16]
            if code in UNSUBSCRIBED_CODES:
                set_opt_out(row.to_number, True, code)
        log.info("sms %s is now %s%s", sid, status, f" (error {code})" if code else "")
    return Response(status=204)


@bp.route("/sms/inbound", methods=["POST"])
@csrf.exempt
@no_patient_data("Twilio inbound text: finds the patient by number itself, signed")
def inbound():
    if not _signed():
        abort(403)
    sid = request.form.get("MessageSid", "")
    sender = request.form.get("From", "")
    body = (request.form.get("Body") or "")[:1600]
    if not sid or not sender:
        abort(400)
    patient = _patient_for_number(sender)
    locale = recipient_locale(patient)
    if patient is not None:  # the text is the patient's own: what it starts is theirs
        g.actor = Actor(user_id=patient.user_id, capacity=Capacity.PATIENT, patient=patient)
    word = keyword(body)
    already = db.session.scalar(sa.select(InboundSms).where(InboundSms.message_sid == sid))
    if already is not None:  # Twilio retried the webhook: answer again, change nothing
        return _twiml(_reply_text(already.handled_as, locale))

    if word in STOP_WORDS:
        set_opt_out(sender, True, word[:16])
        handled = "opt_out"
    elif word in START_WORDS:
        set_opt_out(sender, False, word[:16])
        handled = "opt_in"
    elif word in HELP_WORDS:
        handled = "help"
    elif patient is None:
        handled = "unknown"
    elif word in CONFIRM_WORDS:
        handled = "confirm" if _confirm_next_appointment(patient, sender) else "no_appointment"
    elif word in RESCHEDULE_WORDS:
        _ask_to_reschedule(patient, locale)
        handled = "reschedule"
    else:
        _to_team(patient, body)
        handled = "message"
    db.session.add(
        InboundSms(
            message_sid=sid[:64],
            from_number=sender[:16],
            patient_id=patient.id if patient else None,
            handled_as=handled,
        )
    )
    return _twiml(_reply_text(handled, locale))


def _patient_for_number(sender: str) -> Patient | None:
    """The patient this text is from: only when exactly one patient has the number and no
    other account holds it. From a shared (family) phone we cannot tell who wrote, so nothing
    is posted into anyone's record as them; STOP, START and HELP still work."""
    found = db.session.scalars(
        sa.select(Patient).where(Patient.mobile_phone == sender).limit(2)
    ).all()
    if len(found) != 1:
        return None
    patient = found[0]
    other_holder = db.session.scalar(
        sa.select(User.id).where(User.mobile_phone == sender, User.id != patient.user_id).limit(1)
    )
    return None if other_holder is not None else patient


def _reply_text(handled: str, locale: str) -> str | None:
    cco = current_app.config["CCO_NAME"]
    phone = current_app.config["CCO_CONTACT_PHONE"]
    with force_locale(locale):
        texts = {
            "opt_out": _(
                "CareCircle: you will get no more texts from us. Reply START to get them again."
            ),
            "opt_in": _("CareCircle: texts are back on. Reply STOP to stop them."),
            "help": _(
                "CareCircle from %(cco)s. Call %(phone)s for help. Reply STOP to stop texts.",
                cco=cco,
                phone=phone,
            ),
            "confirm": _("CareCircle: thank you, your appointment is confirmed."),
            "no_appointment": _(
                "CareCircle: we found no upcoming appointment to confirm. "
                "Call %(phone)s if you need help.",
                phone=phone,
            ),
            "reschedule": _(
                "CareCircle: we told your care team. They will contact you to find a new time."
            ),
            "message": _("CareCircle: your care team got your message."),
            "unknown": _(
                "CareCircle: we could not match this number. Please call %(phone)s.", phone=phone
            ),
        }
    return texts.get(handled)


def _confirm_next_appointment(patient: Patient, sender: str) -> bool:
    """Confirm the appointment the latest reminder to this number was about, if it is still
    ahead; otherwise the next upcoming one."""
    now = utcnow()
    upcoming = (
        PlanItem.patient_id == patient.id,
        PlanItem.kind == ItemKind.APPOINTMENT,
        PlanItem.status.not_in(list(CLOSED_STATUSES)),
        PlanItem.starts_at > now,
    )
    item = (
        db.session.scalars(
            sa.select(PlanItem)
            .join(OutboundSms, OutboundSms.plan_item_id == PlanItem.id)
            .where(
                *upcoming,
                OutboundSms.to_number == sender,
                OutboundSms.purpose == "appointment",
                OutboundSms.sent_at.is_not(None),
            )
            .order_by(OutboundSms.sent_at.desc())
            .limit(1)
        ).first()
        or db.session.scalars(
            sa.select(PlanItem).where(*upcoming).order_by(PlanItem.starts_at).limit(1)
        ).first()
    )
    if item is None:
        return False
    items.confirm_appointment(item)
    return True


def _ask_to_reschedule(patient: Patient, locale: str) -> None:
    with force_locale(locale):
        subject = _("Please help me change my appointment")
        body = _("I asked by text message to change my next appointment. Please contact me.")
    messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.APPOINTMENT,
        subject=subject,
        body=body,
        author_id=patient.user_id,
        capacity="patient",
    )


def _to_team(patient: Patient, body: str) -> None:
    """Anything else goes to the team: into the patient's latest open thread, or a new one."""
    thread = db.session.scalars(
        sa.select(Thread)
        .where(
            Thread.patient_id == patient.id,
            Thread.status == ThreadStatus.OPEN,
            Thread.effective_sensitivity.is_(None),
        )
        .order_by(Thread.last_message_at.desc())
        .limit(1)
    ).first()
    if thread is None:
        with force_locale(recipient_locale(patient)):
            subject = _("Text message")
        messaging.start_thread(
            patient_id=patient.id,
            topic=Topic.OTHER,
            subject=subject,
            body=body,
            author_id=patient.user_id,
            capacity="patient",
        )
    else:
        messaging.add_message(thread, body=body, author_id=patient.user_id, capacity="patient")
