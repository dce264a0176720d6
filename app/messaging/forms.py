from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from app.core.idempotency import IdempotentForm
from app.core.urls import MAX_ID
from app.messaging.attachments import AttachmentFields
from app.messaging.labels import TOPIC_LABELS

BODY_MAX = 2000


class ReplyForm(AttachmentFields, IdempotentForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(_l("Write a message first.")),
            Length(
                max=BODY_MAX,
                message=_l("Messages can be at most %(max)d characters.", max=BODY_MAX),
            ),
        ],
    )


class NewThreadForm(ReplyForm):
    topic = SelectField(_l("What is it about?"), validators=[DataRequired()])
    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(_l("Give your message a short subject.")), Length(max=160)],
    )
    item = HiddenField()
    #: Offered to a teen writing for themselves: caregivers never see the thread.
    private = BooleanField(
        _l("Private: only me and my care team"),
        description=_l("Your parent or guardian, and anyone else who helps you, will not see it."),
    )

    def __init__(self, *args, allow_private: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.topic.choices = [(t.value, label) for t, label in TOPIC_LABELS.items()]
        if not allow_private:
            del self.private


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Internal note (only the care team sees it)"),
        id="note_body",
        validators=[
            DataRequired(_l("Write the note first.")),
            Length(
                max=BODY_MAX, message=_l("Notes can be at most %(max)d characters.", max=BODY_MAX)
            ),
        ],
    )


class AssignForm(FlaskForm):
    member = IntegerField(
        _l("Give it to"),
        validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)],
        id="assign_member",
    )


class TakeOverForm(FlaskForm):
    """ "Take over from <name>": names whom the page showed holding the thread, so that a
    thread that changed hands in the meantime is not taken from someone else unseen."""

    holder = IntegerField(
        validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)], widget=HiddenInput()
    )
