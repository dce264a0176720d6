"""The translate form: one text box per original field that has text, built for the thing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from app.careplan.translations import services


def _no_nul(form, field) -> None:
    if field.data and "\x00" in field.data:
        raise ValidationError(_l("The text has characters we cannot save. Please type it again."))


def key_name(key: str) -> str:
    """A form field name for a translation key ("option.12.title" -> "t_option_12_title")."""
    return "t_" + key.replace(".", "_")


def translate_form(entity, originals: dict[str, str], existing: dict[str, str] | None):
    """A form class with a box per original field, prefilled with the existing translation."""

    class TranslateForm(FlaskForm):
        pass

    for key in originals:
        limit = services.limit_of(key)
        cls = StringField if limit == services.SHORT_MAX else TextAreaField
        validators = [
            Optional(),
            Length(max=limit, message=_l("Please make it shorter: at most %(max)d characters.")),
            _no_nul,
        ]
        setattr(TranslateForm, key_name(key), cls(validators=validators))
    data = {key_name(k): v for k, v in (existing or {}).items() if k in originals}
    return TranslateForm, data


def written_in_field() -> SelectField:
    """ "Written in" on the team's create forms: the language of what they type, defaulting to
    the patient's (`services.default_language`); its choices: `core.forms.language_choices`."""
    return SelectField(
        _l("Written in"),
        validators=[Optional()],
        description=_l("The language you type this in. You can add a translation later."),
    )


#: What each part is, in the words of the form that wrote it (the same msgids).
PART_LABELS = {
    "title": _l("What the patient sees"),
    "why_it_matters": _l("Why this matters"),
    "details": _l("Details and instructions"),
    "preparation": _l("How to prepare"),
    "description": _l("What is the goal?"),
    "target_text": _l("How will you know you got there?"),
    "question": _l("The question"),
    "background": _l("Background"),
}
OPTION_LABELS = {
    "title": _l("Name of the option"),
    "benefits": _l("How it can help (benefits)"),
    "risks": _l("Risks and downsides"),
    "day_to_day": _l("What it means day to day"),
}


def part_label(entity, key: str, positions: dict[str, int]) -> str:
    """ "Why this matters"; for a decision's option "2 · Risks and downsides"."""
    if key.startswith("option."):
        _prefix, option_id, part = key.split(".", 2)
        return f"{positions.get(option_id, 0) + 1} · {OPTION_LABELS[part]}"
    if entity.value == "goal" and key == "why_it_matters":
        return str(_l("Why does it matter to you?"))
    return str(PART_LABELS[key])
