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
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
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


#: The longest subject made from the message's first words (whole words, then "…").
DERIVED_SUBJECT_MAX = 60
SUBJECT_MAX = 160


def derive_subject(body: str, limit: int = DERIVED_SUBJECT_MAX) -> str:
    """A subject from the first words of a message: line breaks and runs of spaces become one
    space, whole words only, at most `limit` characters, with "…" when the message goes on."""
    words = " ".join(body.split())
    if len(words) <= limit:
        return words
    cut = words[: limit + 1].rsplit(" ", 1)[0] if " " in words[: limit + 1] else words[:limit]
    return cut[:limit].rstrip(" ,;:.-") + "…"


class TopicField(SelectField):
    """The topic select: "Choose one" first (nothing chosen for the writer), and one
    translated error for an empty choice or a value that is not a topic."""

    MESSAGE = _l("Choose what your message is about.")

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices if value}:
            raise ValidationError(self.MESSAGE)


class NewThreadForm(ReplyForm):
    topic = TopicField(_l("What is it about?"))
    subject = StringField(
        _l("Subject (if you like)"),
        description=_l("If you leave it empty, we use the first words of your message."),
        filters=[lambda value: " ".join(value.split()) if value else value],
        validators=[
            Optional(),
            Length(
                max=SUBJECT_MAX,
                message=_l("A subject can be at most %(max)d characters.", max=SUBJECT_MAX),
            ),
        ],
    )
    item = HiddenField()
    #: Offered to a teen writing for themselves: caregivers never see the thread.
    private = BooleanField(
        _l("Private: only me and my care team"),
        description=_l("Your parent or guardian, and anyone else who helps you, will not see it."),
    )

    def __init__(self, *args, allow_private: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.topic.choices = [("", _l("Choose one"))] + [
            (t.value, label) for t, label in TOPIC_LABELS.items()
        ]
        if not allow_private:
            del self.private

    def subject_or_derived(self) -> str:
        """What the writer typed as the subject, or else the first words of the message."""
        return self.subject.data or derive_subject(self.body.data or "")


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
