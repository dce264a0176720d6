from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired, Optional

from app.core.forms import ClockTimeField, MultiCheckboxField
from app.patients.forms import LEAD_CHOICES

KIND_CHOICES = [
    ("appointment", _l("Appointments")),
    ("medication", _l("Medicines, at the times I choose")),
    ("task", _l("Things to do, at the times I choose")),
    ("goal", _l("Check-ins on my goals")),
    ("team_replied", _l("When my care team writes to me")),
]

WEEKDAY_CHOICES = [
    ("", _l("Every day")),
    ("0", _l("Mondays")),
    ("1", _l("Tuesdays")),
    ("2", _l("Wednesdays")),
    ("3", _l("Thursdays")),
    ("4", _l("Fridays")),
    ("5", _l("Saturdays")),
    ("6", _l("Sundays")),
]

#: The exact sentence a patient agrees to for more texts; stored with the consent.
MORE_TEXTS_WORDING = _l(
    "I agree to get more than one reminder text a day from CareCircle, up to %(per_day)d a "
    "day. I can take this back here at any time, or by texting STOP."
)


class ReminderSettingsForm(FlaskForm):
    kinds = MultiCheckboxField(_l("Text me about"))
    reminder_lead_hours = MultiCheckboxField(_l("Remind me about appointments"))
    quiet_start = ClockTimeField(
        _l("No texts after"), validators=[InputRequired(_l("Choose a time."))]
    )
    quiet_end = ClockTimeField(
        _l("No texts before"), validators=[InputRequired(_l("Choose a time."))]
    )
    detailed_texts = BooleanField(
        _l("My texts may name the medicine, clinic or test"),
        description=_l(
            "If you leave this off, texts only say that something is due, so "
            "nobody who sees your phone learns about your health."
        ),
    )
    more_texts = BooleanField()

    def __init__(self, *args, per_day: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds.choices = KIND_CHOICES
        self.reminder_lead_hours.choices = LEAD_CHOICES
        self.more_texts.label.text = MORE_TEXTS_WORDING % {"per_day": per_day}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.quiet_start.data and self.quiet_start.data == self.quiet_end.data:
            self.quiet_end.errors = [
                *self.quiet_end.errors,
                _l("Quiet hours need a different start and end."),
            ]
            ok = False
        return ok


class ScheduleForm(FlaskForm):
    """Up to three times a day, for a medicine or a task (or one, weekly, for a goal)."""

    time_1 = ClockTimeField(_l("Time"), validators=[Optional()])
    time_2 = ClockTimeField(_l("Another time (optional)"), validators=[Optional()])
    time_3 = ClockTimeField(_l("Another time (optional)"), validators=[Optional()])
    weekday = SelectField(_l("Which days"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weekday.choices = WEEKDAY_CHOICES

    def times(self) -> list[str]:
        chosen = [f.data for f in (self.time_1, self.time_2, self.time_3) if f.data]
        return sorted({t.strftime("%H:%M") for t in chosen})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.times():
            self.time_1.errors = [*self.time_1.errors, _l("Choose at least one time.")]
            ok = False
        return ok
