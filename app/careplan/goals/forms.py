"""Forms for goals: write or change a goal, check in, say no, change the status."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.careplan.goals.labels import ACHIEVEMENT_LABELS, LIFECYCLE_LABELS
from app.careplan.goals.models import Goal, GoalAchievement
from app.careplan.goals.numbers import format_number, parse_number
from app.careplan.goals.services import KEEP, GoalInput
from app.careplan.translations.forms import written_in_field
from app.core.forms import PlainDateField, language_choices
from app.core.idempotency import IdempotentForm
from app.core.privacy import SENSITIVITY_LABELS, Sensitivity

TOO_LONG = _l("Please keep this under %(max)d characters.")


def _options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


class NumberField(StringField):
    """A number typed in the user's language ("6,200", "7.5", "7,5"); data is a float or None."""

    def __init__(self, *args, **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(*args, render_kw=render_kw, **kwargs)
        self.number: float | None = None

    def process_formdata(self, valuelist):
        self.data = (valuelist[0] if valuelist else "") or ""
        self.number = None
        if not self.data.strip():
            return
        try:
            self.number = parse_number(self.data)
        except ValueError:
            raise ValueError(_l("Please enter a number, for example 7.5 or 6000.")) from None

    def _value(self):
        return self.data or ""


def _number_text(value: float | None) -> str:
    return "" if value is None else format_number(value)


DIRECTION_CHOICES = [
    ("", _l("No number to track")),
    ("higher", _l("A higher number is better (like steps)")),
    ("lower", _l("A lower number is better (like A1c)")),
]


class GoalForm(IdempotentForm):
    description = TextAreaField(
        _l("What is the goal?"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please write the goal in a few words.")),
            Length(max=300, message=TOO_LONG),
        ],
        description=_l('In your own words. For example: "Walk 20 minutes after dinner".'),
    )
    why_it_matters = TextAreaField(
        _l("Why does it matter to you?"),
        filters=[_strip],
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
        description=_l('Optional. For example: "So I can play with my grandkids".'),
    )
    target_text = StringField(
        _l("How will you know you got there?"),
        filters=[_strip],
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        description=_l('Optional. For example: "Walk to the park without stopping".'),
    )
    direction = SelectField(
        _l("Do you want to track a number?"),
        choices=_options(DIRECTION_CHOICES),
        validators=[Optional()],
    )
    target_value = NumberField(
        _l("Number to aim for"),
        description=_l("Optional. For example 8000 (steps) or 7 (A1c)."),
    )
    target_unit = StringField(
        _l("What you count"),
        filters=[_strip],
        validators=[Optional(), Length(max=24, message=TOO_LONG)],
        description=_l("Optional. For example: steps, minutes, %."),
    )
    start_date = PlainDateField(
        _l("Start on"),
        validators=[Optional()],
        description=_l("Optional. Leave empty to start now."),
    )
    due_date = PlainDateField(
        _l("Reach it by"), validators=[Optional()], description=_l("Optional.")
    )
    sensitivity = SelectField(
        _l("Private topic"),
        validators=[Optional()],
        description=_l("Caregivers see goals on a private topic only if the patient allows it."),
    )

    content_language = written_in_field()

    def __init__(
        self,
        *args,
        today: date,
        with_sensitivity: bool,
        goal: Goal | None = None,
        written_in: str | None = None,
        **kwargs,
    ):
        """`written_in`: offer "Written in" (the team's new goals), with this default."""
        if goal is not None and "data" not in kwargs:
            kwargs["data"] = {
                "description": goal.description,
                "why_it_matters": goal.why_it_matters,
                "target_text": goal.target_text,
                "direction": ""
                if goal.higher_is_better is None
                else ("higher" if goal.higher_is_better else "lower"),
                "target_value": _number_text(goal.target_value),
                "target_unit": goal.target_unit,
                "start_date": goal.start_date,
                "due_date": goal.due_date,
                "sensitivity": goal.sensitivity.value if goal.sensitivity else "",
            }
        kwargs.setdefault("once", goal is None)  # a key on writing a goal, not on changing one
        super().__init__(*args, **kwargs)
        self.today = today
        self.goal = goal
        self.sensitivity.choices = _options(
            [("", _l("No, anyone helping may see it"))]
            + [(key.value, label) for key, label in SENSITIVITY_LABELS.items()]
        )
        if not with_sensitivity:
            del self.sensitivity
        if written_in is None:
            del self.content_language
        else:
            self.content_language.choices = language_choices()
            if not self.is_submitted():
                self.content_language.data = written_in

    def validate_target_value(self, field):
        if field.number is not None and not self.direction.data:
            raise ValidationError(_l("Please say if a higher or a lower number is better."))

    def validate_due_date(self, field):
        if field.data is None:
            return
        unchanged = self.goal is not None and self.goal.due_date == field.data
        if field.data < self.today and not unchanged:
            raise ValidationError(_l("The date to reach it by can't be in the past."))
        start = self.start_date.data
        if start is not None and start > field.data:
            raise ValidationError(_l("The date to reach it by must come after the start date."))

    def to_input(self) -> GoalInput:
        direction = self.direction.data or ""
        number = self.target_value.number
        sensitivity = KEEP
        if "sensitivity" in self._fields:
            sensitivity = Sensitivity(self.sensitivity.data) if self.sensitivity.data else None
        return GoalInput(
            description=self.description.data,
            why_it_matters=_text(self.why_it_matters.data),
            target_text=_text(self.target_text.data),
            target_value=number,
            target_unit=_text(self.target_unit.data),
            higher_is_better={"higher": True, "lower": False}.get(direction),
            content_language=(
                self.content_language.data or None if "content_language" in self._fields else None
            ),
            start_date=self.start_date.data,
            due_date=self.due_date.data,
            sensitivity=sensitivity,
        )


CHECK_IN_ACHIEVEMENTS = [
    ("", _l("Not sure")),
    (GoalAchievement.IN_PROGRESS.value, _l("Still working on it")),
    (GoalAchievement.IMPROVING.value, _l("Getting better")),
    (GoalAchievement.WORSENING.value, _l("Getting harder")),
    (GoalAchievement.ACHIEVED.value, _l("I reached it")),
    (GoalAchievement.NOT_ACHIEVED.value, _l("I did not reach it")),
]


class CheckInForm(IdempotentForm):
    value = NumberField(_l("Your number"))
    note = TextAreaField(
        _l("How is it going?"),
        filters=[_strip],
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
        description=_l("Optional. A few words about this week."),
    )
    achievement = SelectField(
        _l("Progress"),
        choices=_options(CHECK_IN_ACHIEVEMENTS),
        validators=[Optional()],
        description=_l("Optional. If you add a number, we compare it with your last one."),
    )

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and self.value.number is None and not self.note.data and not self.achievement.data:
            self.note.errors.append(_l("Add a number or a short note."))
            return False
        return ok

    @property
    def achievement_value(self) -> GoalAchievement | None:
        return GoalAchievement(self.achievement.data) if self.achievement.data else None


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Why not?"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please tell your care team why you are saying no.")),
            Length(max=1000, message=TOO_LONG),
        ],
        description=_l("Your care team will read this."),
    )


FINISH_CHOICES = [
    ("", _l("Choose one")),
    (GoalAchievement.ACHIEVED.value, ACHIEVEMENT_LABELS[GoalAchievement.ACHIEVED]),
    (GoalAchievement.NOT_ACHIEVED.value, ACHIEVEMENT_LABELS[GoalAchievement.NOT_ACHIEVED]),
]


class StatusForm(FlaskForm):
    """One form for every status change; the page shows only the fields a change needs."""

    status = SelectField(
        _l("New status"),
        choices=_options((key.value, label) for key, label in LIFECYCLE_LABELS.items()),
        validators=[DataRequired(_l("Please choose what to do with this goal."))],
    )
    achievement = SelectField(
        _l("Did you reach it?"), choices=_options(FINISH_CHOICES), validators=[Optional()]
    )
    reason = TextAreaField(
        _l("Why? (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
    )

    @property
    def achievement_value(self) -> GoalAchievement | None:
        return GoalAchievement(self.achievement.data) if self.achievement.data else None
