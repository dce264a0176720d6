"""The screening form: one field per question (big radio buttons; checkboxes for "choose all
that apply"), built for the questions this person is asked. Any question may be skipped. An
answer that is not one of the question's own options is refused (422, nothing saved)."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from app.core.forms import EmptyForm, MultiCheckboxField
from app.core.idempotency import IdempotentForm
from app.screening.questions import NONE_OF_THE_ABOVE, SKIP, Question
from app.screening.services import ScreeningInput


def field_name(question: Question) -> str:
    return "q_" + question.link_id.replace("-", "_")


class _Choices(RadioField):
    """One answer or none: nothing chosen and "Skip this question" both skip it."""

    def pre_validate(self, form):
        if self.data in (None, "", "None"):
            self.data = None
            return
        super().pre_validate(form)


def _alone(form, field) -> None:
    if NONE_OF_THE_ABOVE in (field.data or []) and len(field.data) > 1:
        raise ValidationError(_l('Choose "None of the above" alone, or the problems you have.'))


class ScreeningForm(IdempotentForm):
    """Built by `screening_form`; `questions` are the ones it asks, in order."""

    questions: tuple[Question, ...] = ()

    def answer_fields(self):
        return [(q, self[field_name(q)]) for q in self.questions]

    def to_input(self) -> ScreeningInput:
        answers: dict[str, list[str]] = {}
        for question, field in self.answer_fields():
            if question.multiple:
                chosen = set(field.data or [])
                codes = [o.code for o in question.options if o.code in chosen]
            else:
                codes = [field.data] if field.data and field.data != SKIP else []
            if codes:
                answers[question.link_id] = codes
        return ScreeningInput(answers=answers, language=str(get_locale() or "en"))


def screening_form(questions: tuple[Question, ...], **kwargs) -> ScreeningForm:
    """A form class with a field per question (the set differs by who answers), then one."""
    fields = {}
    for question in questions:
        choices = [SelectChoice(o.code, o.text) for o in question.options]
        if question.multiple:
            fields[field_name(question)] = MultiCheckboxField(
                question.text, choices=choices, validators=[Optional(), _alone]
            )
        else:
            fields[field_name(question)] = _Choices(
                question.text,
                choices=[*choices, SelectChoice(SKIP, _l("Skip this question"))],
                validators=[Optional()],
            )
    form_class = type("AskedScreeningForm", (ScreeningForm,), {"questions": questions, **fields})
    return form_class(**kwargs)


class SendReferralForm(EmptyForm):
    """The CHW sends a suggested referral, naming where it goes (optional)."""

    referred_to = StringField(
        _l("Referred to"),
        validators=[Optional(), Length(max=160)],
        description=_l("The program or organization, e.g. a food bank."),
    )

    def validate_referred_to(self, field) -> None:
        if field.data and "\x00" in field.data:
            raise ValidationError(_l("Remove the special characters."))
