"""Demo data for issue 15, part 5: a photo on Ana's message about her father's swollen ankles.

The picture is drawn here (two ankles above a floor line, no person in it) and goes through the
same cleaning and store as an upload."""

from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image, ImageDraw

from app.extensions import db
from app.messaging.attachments.models import Attachment
from app.messaging.attachments.processing import process
from app.messaging.attachments.services import store
from app.messaging.models import Message, Thread

SUBJECT = "Dad's ankles are swollen"


def ankles_picture() -> bytes:
    image = Image.new("RGB", (640, 480), (235, 228, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 380, 640, 480), fill=(150, 120, 90))  # the floor
    for left in (170, 370):
        draw.rectangle((left, 60, left + 90, 330), fill=(222, 180, 150))  # a leg
        draw.ellipse((left - 25, 270, left + 115, 370), fill=(226, 170, 140))  # a puffy ankle
        draw.ellipse((left - 10, 330, left + 150, 395), fill=(222, 180, 150))  # the foot
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def seed(people) -> None:
    """Add the demo's attachments (idempotent; adds and flushes, the caller commits)."""
    patient = people.patients["james"]
    message = db.session.scalars(
        sa.select(Message)
        .join(Thread, Thread.id == Message.thread_id)
        .where(Thread.patient_id == patient.id, Thread.subject == SUBJECT)
        .order_by(Message.id)
        .limit(1)
    ).first()
    if message is None:
        return
    has = db.session.scalar(sa.select(Attachment.id).where(Attachment.message_id == message.id))
    if has is None:
        store(message, [process(ankles_picture())])
