"""Forms for shared decisions. Each form on the decision page has its own field names, so the
page never repeats an id."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.careplan.decisions.services import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    OPTION_TITLE_MAX,
    QUESTION_MAX,
    TEXT_MAX,
    DecisionInput,
    OptionInput,
)
from app.careplan.translations.forms import written_in_field
from app.core.forms import language_choices
from app.core.privacy import SENSITIVITY_LABELS, Sensitivity

OPTION_PARTS = ("title", "benefits", "risks", "day_to_day")


def _max(limit: int) -> Length:
    return Length(max=limit, message=_l("Please make it shorter: at most %(max)d characters."))


def _text(label, message, description=None):
    return TextAreaField(
        label,
        validators=[DataRequired(message), _max(TEXT_MAX)],
        description=description,
    )


class OptionBlock(Form):
    """One option. Either every part is filled in or none is (an empty block is skipped)."""

    title = StringField(
        _l("Name of the option"),
        validators=[Optional(), _max(OPTION_TITLE_MAX)],
        description=_l('Short and plain, e.g. "Physical therapy".'),
    )
    benefits = TextAreaField(
        _l("How it can help (benefits)"), validators=[Optional(), _max(TEXT_MAX)]
    )
    risks = TextAreaField(_l("Risks and downsides"), validators=[Optional(), _max(TEXT_MAX)])
    day_to_day = TextAreaField(
        _l("What it means day to day"),
        validators=[Optional(), _max(TEXT_MAX)],
        description=_l("Time, visits, costs, changes to daily life."),
    )

    def parts(self) -> dict[str, str]:
        return {name: (getattr(self, name).data or "").strip() for name in OPTION_PARTS}

    def is_empty(self) -> bool:
        return not any(self.parts().values())

    def is_complete(self) -> bool:
        return all(self.parts().values())


class OpenDecisionForm(FlaskForm):
    question = StringField(
        _l("The question"),
        validators=[DataRequired(_l("Write the question to decide.")), _max(QUESTION_MAX)],
        description=_l('In plain words, e.g. "How do you want to treat your knee pain?"'),
    )
    background = TextAreaField(
        _l("Background"),
        validators=[Optional(), _max(TEXT_MAX)],
        description=_l("Why this decision is needed now. Optional."),
    )
    sensitivity = SelectField(
        _l("Sensitive category"),
        validators=[Optional()],
        description=_l("Caregivers see sensitive decisions only if the patient allows it."),
    )
    content_language = written_in_field()
    # Four fixed blocks (not a FieldList, which renumbers blocks when one in the middle is
    # left empty). Field names: option_1-title, option_1-benefits, ...
    option_1 = FormField(OptionBlock)
    option_2 = FormField(OptionBlock)
    option_3 = FormField(OptionBlock)
    option_4 = FormField(OptionBlock)

    def __init__(self, *args, written_in: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sensitivity.choices = [("", _l("Not sensitive"))] + [
            (key.value, label) for key, label in SENSITIVITY_LABELS.items()
        ]
        self.content_language.choices = language_choices()
        if written_in is not None and not self.is_submitted():
            self.content_language.data = written_in

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        complete = 0
        for block in self.blocks():
            if block.is_empty():
                continue
            if block.is_complete():
                complete += 1
                continue
            ok = False
            for name, value in block.parts().items():
                if not value:
                    field = getattr(block, name)
                    field.errors = [
                        *field.errors,
                        _l("Fill this in too, or leave the whole option empty."),
                    ]
        if complete < MIN_OPTIONS:
            ok = False
            self.form_errors.append(_l("Give at least two options, with every part filled in."))
        return ok

    def blocks(self) -> list[OptionBlock]:
        return [getattr(self, f"option_{n}").form for n in range(1, MAX_OPTIONS + 1)]

    def to_input(self) -> DecisionInput:
        return DecisionInput(
            question=self.question.data,
            background=self.background.data,
            sensitivity=Sensitivity(self.sensitivity.data) if self.sensitivity.data else None,
            content_language=self.content_language.data or None,
            options=[OptionInput(**b.parts()) for b in self.blocks() if b.is_complete()],
        )


class WhatMattersForm(FlaskForm):
    what_matters = _text(
        _l("What matters to you"),
        _l("Write what matters to you."),
        _l("For example: staying active, cost, time off work, fewer side effects."),
    )


class QuestionForm(FlaskForm):
    question_text = _text(_l("Your question"), _l("Write your question."))


class AnswerForm(FlaskForm):
    answer = _text(
        _l("Answer"),
        _l("Write the answer."),
        _l("If there are several questions, say which one you are answering."),
    )


class _ChoiceForm(FlaskForm):
    """A choice among this decision's options. Whether the option belongs to the decision is a
    rule of the decision (checked by the service), so the radio list does not pre-check it."""

    def __init__(self, options=(), *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.choice_field.choices = [(o.id, o.title) for o in options]

    @property
    def choice_field(self) -> RadioField:
        raise NotImplementedError


class PreferenceForm(_ChoiceForm):
    preferred_option = RadioField(
        _l("Which option do you prefer?"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(_l("Choose an option."))],
    )
    preference_note = TextAreaField(_l("Why (optional)"), validators=[Optional(), _max(TEXT_MAX)])

    @property
    def choice_field(self) -> RadioField:
        return self.preferred_option


class FinalForm(_ChoiceForm):
    final_option = RadioField(
        _l("What was decided?"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(_l("Choose the option that was decided."))],
    )
    final_note = TextAreaField(
        _l("Note for the patient (optional)"),
        validators=[Optional(), _max(TEXT_MAX)],
        description=_l("For example, the next steps."),
    )

    @property
    def choice_field(self) -> RadioField:
        return self.final_option


class WithdrawForm(FlaskForm):
    withdraw_reason = _text(
        _l("Why is this decision withdrawn?"),
        _l("Say why, in plain words."),
        _l("The patient will read this."),
    )
