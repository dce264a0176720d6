from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.careplan.labels import (
    AREA_LABELS,
    NEED_LABELS,
    REFERRAL_STATUS_LABELS,
    SCHEDULE_LABELS,
    SENSITIVITY_LABELS,
    STATUS_LABELS,
    WEEKDAY_LABELS,
)
from app.careplan.models import ItemKind
from app.team.labels import DISCIPLINE_LABELS

#: Which kind-specific fields each kind of item uses (and requires).
KIND_FIELDS = {
    ItemKind.MEDICATION: (
        ["medication_name", "dose", "ingredients", "prescriber", "prescriber_name"],
        ["medication_name", "dose"],
    ),
    ItemKind.APPOINTMENT: (
        ["starts_at", "location", "with_whom", "preparation", "interpreter_booked"],
        ["starts_at", "location"],
    ),
    ItemKind.REFERRAL: (
        ["referred_to", "referral_need", "referral_status"],
        ["referred_to", "referral_need"],
    ),
    ItemKind.TASK: (["schedule", "weekday", "due_date"], ["schedule"]),
    ItemKind.EDUCATION: (["resource_url"], []),
    ItemKind.TEST: (
        [
            "code",
            "code_system",
            "ordering_member",
            "ordering_provider_name",
            "ordered_on",
            "due_date",
        ],
        ["code", "code_system", "ordered_on"],
    ),
}


def _choices(labels: dict, blank: str | None = None) -> list[tuple[str, str]]:
    out = [(key.value, label) for key, label in labels.items()]
    return ([("", blank), *out]) if blank is not None else out


class PlanItemForm(FlaskForm):
    """One form for every kind; the template shows the fields of the chosen kind."""

    title = StringField(
        _l("What the patient sees"),
        validators=[DataRequired(_l("Give the item a short name.")), Length(max=160)],
        description=_l('Plain words, e.g. "Take metformin with breakfast".'),
    )
    details = TextAreaField(
        _l("Details and instructions"), validators=[Optional(), Length(max=2000)]
    )
    why_it_matters = TextAreaField(
        _l("Why this matters"),
        validators=[Optional(), Length(max=1000)],
        description=_l("One or two sentences, in plain words."),
    )
    area = SelectField(_l("Area of life"), validators=[DataRequired()])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    discipline = SelectField(_l("From which discipline"), validators=[DataRequired()])
    source_organization = SelectField(
        _l("Source organization"), coerce=int, validators=[DataRequired()]
    )
    owner = SelectField(_l("Who does it"), validators=[DataRequired()])
    sensitivity = SelectField(
        _l("Sensitive category"),
        validators=[Optional()],
        description=_l("Caregivers see sensitive items only if the patient allows it."),
    )

    medication_name = StringField(_l("Medicine name"), validators=[Optional(), Length(max=120)])
    dose = StringField(_l("Dose"), validators=[Optional(), Length(max=120)])
    ingredients = StringField(
        _l("Active ingredients"),
        validators=[Optional(), Length(max=300)],
        description=_l("Separate them with commas."),
    )
    prescriber = SelectField(_l("Prescriber"), validators=[Optional()])
    prescriber_name = StringField(
        _l("Prescriber not on the team"), validators=[Optional(), Length(max=120)]
    )

    starts_at = DateTimeLocalField(
        _l("Date and time"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("In the patient's time zone."),
    )
    location = StringField(_l("Where"), validators=[Optional(), Length(max=200)])
    with_whom = StringField(_l("With whom"), validators=[Optional(), Length(max=120)])
    preparation = TextAreaField(_l("How to prepare"), validators=[Optional(), Length(max=1000)])
    interpreter_booked = BooleanField(_l("Interpreter booked"))

    referred_to = StringField(_l("Referred to"), validators=[Optional(), Length(max=160)])
    referral_need = SelectField(_l("Kind of need"), validators=[Optional()])
    referral_status = SelectField(_l("Referral step"), validators=[Optional()])

    schedule = SelectField(_l("How often"), validators=[Optional()])
    weekday = SelectField(_l("Day of the week"), validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])

    code = StringField(
        _l("Code"),
        validators=[Optional(), Length(max=32)],
        description=_l("For example LOINC 4548-4 or CPT 80061."),
    )
    code_system = SelectField(_l("Code system"), validators=[Optional()])
    ordering_member = SelectField(_l("Ordered by"), validators=[Optional()])
    ordering_provider_name = StringField(
        _l("Ordered by (not on the team)"), validators=[Optional(), Length(max=120)]
    )
    ordered_on = DateField(_l("Ordered on"), validators=[Optional()])

    resource_url = StringField(
        _l("Link to read or watch"), validators=[Optional(), Length(max=300)]
    )

    def __init__(self, kind: ItemKind, *, organizations, team, caregivers, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.area.choices = _choices(AREA_LABELS)
        self.status.choices = _choices(STATUS_LABELS)
        self.discipline.choices = _choices(DISCIPLINE_LABELS)
        self.source_organization.choices = [(o.id, o.name) for o in organizations]
        people = [
            (f"member:{a.member.id}", f"{a.member.user.full_name} ({a.member.title})") for a in team
        ]
        self.owner.choices = (
            [("patient", _l("The patient"))]
            + people
            + [
                (f"caregiver:{g.caregiver_id}", f"{g.caregiver.full_name} ({g.relationship_label})")
                for g in caregivers
            ]
            + [(f"org:{o.id}", o.name) for o in organizations]
        )
        self.sensitivity.choices = _choices(SENSITIVITY_LABELS, blank=_l("Not sensitive"))
        member_choices = [(str(a.member.id), a.member.user.full_name) for a in team]
        self.prescriber.choices = [("", _l("Not on the team")), *member_choices]
        self.ordering_member.choices = [("", _l("Not on the team")), *member_choices]
        self.referral_need.choices = _choices(NEED_LABELS, blank="")
        self.referral_status.choices = _choices(REFERRAL_STATUS_LABELS, blank="")
        self.schedule.choices = _choices(SCHEDULE_LABELS, blank="")
        self.weekday.choices = [("", "")] + [
            (str(i), label) for i, label in enumerate(WEEKDAY_LABELS)
        ]
        self.code_system.choices = [
            ("", ""),
            ("LOINC", "LOINC"),
            ("CPT", "CPT"),
            ("SNOMED", "SNOMED CT"),
            ("OTHER", _l("Other")),
        ]

    def kind_fields(self):
        used, _required = KIND_FIELDS[self.kind]
        return [getattr(self, name) for name in used]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _used, required = KIND_FIELDS[self.kind]
        for name in required:
            field = getattr(self, name)
            if field.data in (None, "", []):
                field.errors = [*field.errors, _l("This is needed for this kind of item.")]
                ok = False
        if self.kind is ItemKind.MEDICATION and not (
            self.prescriber.data or (self.prescriber_name.data or "").strip()
        ):
            self.prescriber.errors = [*self.prescriber.errors, _l("Say who prescribed it.")]
            ok = False
        if self.kind is ItemKind.TEST and not (
            self.ordering_member.data or (self.ordering_provider_name.data or "").strip()
        ):
            self.ordering_member.errors = [*self.ordering_member.errors, _l("Say who ordered it.")]
            ok = False
        if self.kind is ItemKind.TASK:
            if self.schedule.data == "weekly" and self.weekday.data in (None, ""):
                self.weekday.errors = [*self.weekday.errors, _l("Choose the day of the week.")]
                ok = False
            if self.schedule.data == "once" and not self.due_date.data:
                self.due_date.errors = [*self.due_date.errors, _l("Choose the day it is due.")]
                ok = False
        if self.kind is ItemKind.EDUCATION and self.resource_url.data:
            parts = urlsplit(self.resource_url.data.strip())
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.resource_url.errors = [
                    *self.resource_url.errors,
                    _l("Enter a web address that starts with https://"),
                ]
                ok = False
        return ok


class KeepBothForm(FlaskForm):
    reason = TextAreaField(
        _l("Why both should stay"),
        validators=[DataRequired(_l("Say why both should stay.")), Length(max=1000)],
    )


class CancelOneForm(FlaskForm):
    item_id = HiddenField(validators=[DataRequired()])


class TickForm(FlaskForm):
    day = HiddenField(validators=[DataRequired()])


def validate_not_blank(form, field):
    if not (field.data or "").strip():
        raise ValidationError(_l("This cannot be empty."))
