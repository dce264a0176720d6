"""Twilio webhooks: delivery status callbacks and inbound texts.

Both are exempt from CSRF because Twilio signs them instead: every request must carry a valid
X-Twilio-Signature for the URL Twilio called (built from PUBLIC_BASE_URL, so it is right behind
a reverse proxy). A missing or wrong signature gets 403 and writes nothing. Replies are TwiML in
the sender's language; unknown numbers get a polite answer and no data.

What Twilio posts is a few KB: a bigger post is refused (413), and a post without a signature
header is refused (403), before its form is read. A signed post with a field out of shape (a
`From` that is no phone number, an overlong SID) is a 400 that writes nothing. Every insert
survives the race of Twilio calling twice at once (the same SID, two STOPs): one row, no 500.
Logs carry SIDs and ids, never a phone number.
"""

from __future__ import annotations

import logging
import re

import sqlalchemy as sa
from flask import Response, abort, current_app, g, request
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from app.auth.models import User
from app.careplan.items import appointments
from app.careplan.items.models import CLOSED_STATUSES, ItemKind, PlanItem
from app.core.access import no_patient_data
from app.core.db import insert, utcnow
from app.core.i18n import recipient_locale
from app.core.privacy import Actor, Capacity
from app.core.security import CONTROL_CHARACTERS
from app.core.urls import public_url
from app.extensions import csrf, db
from app.messaging import services as messaging
from app.messaging.attachments import services as attachments
from app.messaging.models import Message, Thread, ThreadStatus, Topic
from app.patients.models import Patient
from app.texting import bp, status
from app.texting.models import InboundSms, OutboundSms
from app.texting.optout import set_opt_out

log = logging.getLogger(__name__)

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO", "AYUDA"}
CONFIRM_WORDS = {"C", "1"}
RESCHEDULE_WORDS = {"R", "2"}

#: Twilio's posts are a few KB (a 1,600-character text, ten media links); people's forms have
#: the app-wide MAX_CONTENT_LENGTH.
MAX_WEBHOOK_BYTES = 64 * 1024
WEBHOOK_ENDPOINTS = frozenset({"texting.status_callback", "texting.inbound"})
#: Twilio message SIDs: SM (text) or MM (picture message), then 32 hex digits; any letters and
#: digits are let through, up to the 64 characters the columns hold.
SID_SHAPE = re.compile(r"(SM|MM)[0-9A-Za-z]{1,62}")
#: E.164: "+", a country code, at most 15 digits (ASCII digits only: \d would take others).
PHONE_SHAPE = re.compile(r"\+[1-9][0-9]{1,14}")
#: The number the text was sent to (ours): E.164 or a short code.
TO_SHAPE = re.compile(r"\+[1-9][0-9]{0,14}|[0-9]{3,8}")
ERROR_CODE_SHAPE = re.compile(r"[0-9]{1,16}")
#: Twilio keeps MMS media on its API host; a link to anywhere else is not one of them.
MEDIA_URL_SHAPE = re.compile(r"https://api(\.[a-z0-9-]+)*\.twilio\.com/[A-Za-z0-9/._~%-]{1,400}")
CONTENT_TYPE_SHAPE = re.compile(r"[a-z]{1,20}/[A-Za-z0-9.+-]{1,80}")
#: Twilio sends at most ten media per message.
MAX_MEDIA = 10
MAX_BODY = 1600


@bp.url_value_preprocessor
def refuse_unread(endpoint: str | None, values: dict | None) -> None:
    """Before anything reads the form: URL value preprocessors run ahead of every
    before_request hook, and the app's hooks (the control-character rule) read the form. A
    forged post is refused for its size or its missing signature without being parsed."""
    if endpoint not in WEBHOOK_ENDPOINTS:
        return
    request.max_content_length = MAX_WEBHOOK_BYTES  # also caps a body sent without a length
    if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
        abort(413)
    if not request.headers.get("X-Twilio-Signature") or not current_app.config["TWILIO_AUTH_TOKEN"]:
        abort(403)


def _field(name: str, shape: re.Pattern, *, required: bool = False) -> str:
    """A form field Twilio sends, in its shape: missing (when optional) is "", anything else a
    400."""
    value = request.form.get(name, "")
    if not value and not required:
        return ""
    if not shape.fullmatch(value):
        abort(400)
    return value


def _media() -> list[dict] | None:
    """An MMS's pictures (NumMedia, MediaUrl0.., MediaContentType0..) as Twilio sent them."""
    raw = request.form.get("NumMedia", "0") or "0"
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_MEDIA:
        abort(400)
    media = []
    for i in range(int(raw)):
        url = _field(f"MediaUrl{i}", MEDIA_URL_SHAPE, required=True)
        content_type = _field(f"MediaContentType{i}", CONTENT_TYPE_SHAPE)
        media.append({"url": url, "content_type": content_type.lower() or None})
    return media or None


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
    sid = _field("MessageSid", SID_SHAPE, required=True)
    new = (request.form.get("MessageStatus") or "").lower()
    if new not in status.STATUS_RANK:
        abort(400)
    code = _field("ErrorCode", ERROR_CODE_SHAPE) or None
    if status.is_known(sid):
        status.advance(sid, new, code)  # forward only, decided by the UPDATE itself
        return Response(status=204)
    # Before the dispatcher stored the SID (or not ours): keep it, committed, then look again.
    # A dispatcher that stores the SID meanwhile either finds this row (apply_early) or its
    # SID is found here; applying twice changes nothing.
    status.keep_early(sid, new, code)
    db.session.commit()
    if status.is_known(sid):
        status.apply_early_sid(sid)
    return Response(status=204)


@bp.route("/sms/inbound", methods=["POST"])
@csrf.exempt
@no_patient_data("Twilio inbound text: finds the patient by number itself, signed")
def inbound():
    if not _signed():
        abort(403)
    sid = _field("MessageSid", SID_SHAPE, required=True)
    sender = _field("From", PHONE_SHAPE, required=True)
    _field("To", TO_SHAPE)
    body = (request.form.get("Body") or "")[:MAX_BODY]
    if CONTROL_CHARACTERS.search(body):  # the app refuses them already; never store one
        abort(400)
    media = _media()
    patient = _patient_for_number(sender)
    locale = recipient_locale(patient)
    if patient is not None:  # the text is the patient's own: what it starts is theirs
        g.actor = Actor(user_id=patient.user_id, capacity=Capacity.PATIENT, patient=patient)
    inbound_id = _claim(sid, sender, patient, media)
    if inbound_id is None:  # Twilio retried (or called twice at once): answer again, no change
        handled = db.session.scalar(
            sa.select(InboundSms.handled_as).where(InboundSms.message_sid == sid)
        )
        return _twiml(_reply_text(handled, locale))

    word = keyword(body)
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
    elif word in CONFIRM_WORDS and not media:
        handled = "confirm" if _confirm_next_appointment(patient, sender) else "no_appointment"
    elif word in RESCHEDULE_WORDS and not media:
        _ask_to_reschedule(patient, sender, locale)
        handled = "reschedule"
    elif body.strip() or media:
        _to_team(patient, body, media)
        handled = "message" if body.strip() else "picture"
    else:
        handled = "empty"  # nothing to post: no words, no picture
    db.session.execute(
        sa.update(InboundSms).where(InboundSms.id == inbound_id).values(handled_as=handled)
    )
    return _twiml(_reply_text(handled, locale))


def _claim(sid: str, sender: str, patient: Patient | None, media: list[dict] | None) -> int | None:
    """Record the text before acting on it, in one INSERT that skips a SID already there: of
    two deliveries of the same text at once, the second waits for the first and gets None."""
    values = {
        "message_sid": sid,
        "from_number": sender,
        "patient_id": patient.id if patient else None,
        "handled_as": "received",  # until the end of this transaction
        "received_at": utcnow(),
    }
    if media:
        values["media"] = media
    return db.session.scalar(
        insert(db.session, InboundSms)
        .values(values)
        .on_conflict_do_nothing(index_elements=["message_sid"])
        .returning(InboundSms.id)
    )


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
            "picture": _("CareCircle: your care team got your message."),
            "unknown": _(
                "CareCircle: we could not match this number. Please call %(phone)s.", phone=phone
            ),
        }
    return texts.get(handled)


def _appointment_texted_about(patient: Patient, sender: str) -> PlanItem | None:
    """The appointment a texted C or R is about: the one the latest reminder to this number
    was about, if it is still ahead; otherwise the next upcoming one."""
    now = utcnow()
    upcoming = (
        PlanItem.patient_id == patient.id,
        PlanItem.kind == ItemKind.APPOINTMENT,
        PlanItem.status.not_in(list(CLOSED_STATUSES)),
        PlanItem.starts_at > now,
    )
    return (
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


def _confirm_next_appointment(patient: Patient, sender: str) -> bool:
    """Confirm the appointment the text is about, with the same service as the app's button
    (a C after a tap changes nothing)."""
    item = _appointment_texted_about(patient, sender)
    if item is None:
        return False
    appointments.confirm(item)
    return True


def _ask_to_reschedule(patient: Patient, sender: str, locale: str) -> None:
    """An "Ask to change" without suggested days, about the appointment the text is about;
    with no appointment ahead, a plain request to the scheduling team."""
    item = _appointment_texted_about(patient, sender)
    if item is not None:
        appointments.ask_to_change(patient, item, [], None, by_text=True)
        return
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


def _to_team(patient: Patient, body: str, media: list[dict] | None = None) -> None:
    """Anything else goes to the team: into the patient's latest open thread, or a new one.
    Pictures go with it, fetched from Twilio, checked and cleaned like an upload and stored as
    the message's files (one Twilio does not hand over in time waits for `flask messaging
    fetch-media`); a picture without words says so."""
    if not body.strip():
        with force_locale(recipient_locale(patient)):
            body = ngettext(
                "Sent a picture by text message.",
                "Sent %(num)d pictures by text message.",
                len(media or ()),
            )
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
        thread = messaging.start_thread(
            patient_id=patient.id,
            topic=Topic.OTHER,
            subject=subject,
            body=body,
            author_id=patient.user_id,
            capacity="patient",
        )
        message = None
    else:
        message = messaging.add_message(
            thread, body=body, author_id=patient.user_id, capacity="patient"
        )
    if media:
        message = (
            message
            or db.session.scalars(sa.select(Message).where(Message.thread_id == thread.id)).one()
        )
        attachments.take_media(message, media)
