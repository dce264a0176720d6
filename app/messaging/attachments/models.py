"""Files on messages: the clean copies stored (`Attachment`) and MMS pictures still to fetch
from Twilio (`MediaFetch`)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import enum_column, utcnow
from app.extensions import db
from app.messaging.models import Message


class AttachmentKind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"


class Attachment(db.Model):
    """One photo or PDF on a message, as stored: re-encoded (images) or as sent (PDFs). No file
    name is kept (names can say what the file is about)."""

    __tablename__ = "message_attachments"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "position", name="uq_message_attachments_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    #: The message's thread and patient, so that a fetch is checked against the thread's
    #: visibility without another join.
    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("message_threads.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    #: 1, 2, 3 on the message ("Photo 2 from María").
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind, length=8))
    #: Of the stored file (image/jpeg, image/png or application/pdf), never what was claimed.
    content_type: Mapped[str] = mapped_column(sa.String(40))
    bytes: Mapped[int] = mapped_column()
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    #: Random keys in the attachment store (storage.py); the thumbnail only for images.
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    thumb_key: Mapped[str | None] = mapped_column(sa.String(64))
    #: Of the stored bytes.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_image(self) -> bool:
        return self.kind is AttachmentKind.IMAGE


class MediaFetch(db.Model):
    """An MMS picture Twilio holds that could not be fetched when the text came in;
    `flask messaging fetch-media` tries again. Deleted once stored (or given up)."""

    __tablename__ = "message_media_fetches"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "position", name="uq_message_media_fetches_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    #: Twilio's media link (checked against its shape when the text came in).
    url: Mapped[str] = mapped_column(sa.String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    last_tried_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: A message's files, loaded with its messages in one query per page (a thread page shows each
#: message with its pictures; nothing else loads Message rows in bulk).
Message.files = relationship(
    Attachment, lazy="selectin", order_by=Attachment.position, viewonly=True
)
