"""The team's form for a plan item (one form for every kind) and the small item forms."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.caregivers.labels import relation_label
from app.careplan.items.doses import check_times, parse_times
from app.careplan.items.labels import (
    AREA_LABELS,
    NEED_LABELS,
    REFERRAL_STATUS_LABELS,
    SCHEDULE_LABELS,
    STATUS_LABELS,
)
from app.careplan.items.models import (
    Area,
    ItemKind,
    ItemStatus,
    OwnerKind,
    ReferralNeed,
    ReferralStatus,
    Schedule,
)
from app.careplan.items.readings import ReadingRuleFields, reading_form_data
from app.careplan.items.services import ItemInput
from app.careplan.labels import WEEKDAY_LABELS
from app.careplan.translations.forms import written_in_field
from app.core.forms import PlainDateField, PlainDateTimeField, language_choices, phone_e164
from app.core.idempotency import IdempotentForm
from app.core.privacy import SENSITIVITY_LABELS, Sensitivity
from app.team.labels import DISCIPLINE_LABELS, role_label
from app.team.models import Discipline

#: A task's number, unit, goal and alert rules (readings.ReadingRuleFields).
READING_FIELDS = [
    "reading_kind",
    "reading_unit",
    "goal",
    "alert_above",
    "alert_above2",
    "alert_below",
    "alert_rise",
    "alert_rise_days",
]

#: "Interpreter booked": the form's choice and the stored value (NULL: none needed).
INTERPRETER_VALUES = {"yes": True, "no": False}
INTERPRETER_CHOICES = {True: "yes", False: "no"}

#: Which kind-specific fields each kind of item uses (and requires).
KIND_FIELDS = {
    ItemKind.MEDICATION: (
        ["medication_name", "dose", "dose_times", "ingredients", "prescriber", "prescriber_name"],
        ["medication_name", "dose"],
    ),
    ItemKind.APPOINTMENT: (
        [
            "starts_at",
            "location",
            "with_whom",
            "preparation",
            "interpreter_booked",
            "video_url",
            "location_phone",
        ],
        ["starts_at", "location"],
    ),
    ItemKind.REFERRAL: (
        ["referred_to", "referral_need", "referral_status"],
        ["referred_to", "referral_need"],
    ),
    ItemKind.TASK: (
        ["schedule", "weekday", "due_date", *READING_FIELDS],
        ["schedule"],
    ),
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


class PlanItemForm(ReadingRuleFields, IdempotentForm):
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
    dose_times = StringField(
        _l("Times of day"),
        validators=[Optional(), Length(max=100), check_times],
        description=_l(
            'In the patient\'s day, e.g. "08:00, 20:00". Empty: once a day, at any time.'
        ),
    )

    starts_at = PlainDateTimeField(
        _l("Date and time"),
        validators=[Optional()],
        description=_l("In the patient's time zone."),
    )
    location = StringField(_l("Where"), validators=[Optional(), Length(max=200)])
    with_whom = StringField(_l("With whom"), validators=[Optional(), Length(max=120)])
    preparation = TextAreaField(_l("How to prepare"), validators=[Optional(), Length(max=1000)])
    #: Yes / no for a patient who wants an interpreter; "" when none is needed (stored NULL).
    interpreter_booked = SelectField(
        _l("Interpreter booked"),
        choices=[
            SelectChoice("", _l("Not needed")),
            SelectChoice("yes", _l("Yes")),
            SelectChoice("no", _l("No")),
        ],
        validators=[Optional()],
    )
    video_url = StringField(
        _l("Video visit link"),
        validators=[Optional(), Length(max=300)],
        description=_l("Only for video visits. It must start with https://"),
    )
    location_phone = StringField(
        _l("Phone of the place"),
        validators=[Optional(), Length(max=32), phone_e164()],
        description=_l("For the Call button. Empty: the organization's phone."),
    )

    referred_to = StringField(_l("Referred to"), validators=[Optional(), Length(max=160)])
    referral_need = SelectField(_l("Kind of need"), validators=[Optional()])
    referral_status = SelectField(_l("Referral step"), validators=[Optional()])

    schedule = SelectField(_l("How often"), validators=[Optional()])
    weekday = SelectField(_l("Day of the week"), validators=[Optional()])
    due_date = PlainDateField(_l("Due date"), validators=[Optional()])

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
    ordered_on = PlainDateField(_l("Ordered on"), validators=[Optional()])

    resource_url = StringField(
        _l("Link to read or watch"), validators=[Optional(), Length(max=300)]
    )

    content_language = written_in_field()

    def __init__(self, kind: ItemKind, *, organizations, team, caregivers, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.content_language.choices = language_choices()
        self.area.choices = _choices(AREA_LABELS)
        self.status.choices = _choices(STATUS_LABELS)
        self.discipline.choices = _choices(DISCIPLINE_LABELS)
        self.source_organization.choices = [(o.id, o.name) for o in organizations]
        people = [
            (f"member:{a.member.id}", f"{a.member.user.full_name} ({role_label(a.member)})")
            for a in team
        ]
        self.owner.choices = (
            [("patient", _l("The patient"))]
            + people
            + [
                (f"caregiver:{g.caregiver_id}", f"{g.caregiver.full_name} ({relation_label(g)})")
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
        if self.kind is ItemKind.APPOINTMENT and (self.video_url.data or "").strip():
            parts = urlsplit(self.video_url.data.strip())
            if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
                self.video_url.errors = [
                    *self.video_url.errors,
                    _l("Enter a web address that starts with https://"),
                ]
                ok = False
        if self.kind is ItemKind.EDUCATION and self.resource_url.data:
            parts = urlsplit(self.resource_url.data.strip())
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.resource_url.errors = [
                    *self.resource_url.errors,
                    _l("Enter a web address that starts with https://"),
                ]
                ok = False
        if self.kind is ItemKind.TASK and not self.check_reading():
            ok = False
        return ok

    def to_input(self, patient) -> ItemInput:
        """The checked form as the service's input; times are in the patient's zone."""

        def text(name: str) -> str | None:
            return (getattr(self, name).data or "").strip() or None

        def number(name: str) -> int | None:
            value = getattr(self, name).data
            return int(value) if value not in (None, "") else None

        owner_kind, owner_ids = OwnerKind.PATIENT, {}
        prefix, _sep, raw_id = (self.owner.data or "").partition(":")
        if prefix in OWNER_COLUMNS:
            owner_kind, owner_ids = OWNER_KINDS[prefix], {OWNER_COLUMNS[prefix]: int(raw_id)}
        schedule = Schedule(self.schedule.data) if self.schedule.data else None
        local_start = self.starts_at.data
        return ItemInput(
            kind=self.kind,
            title=self.title.data.strip(),
            details=text("details"),
            why_it_matters=text("why_it_matters"),
            area=Area(self.area.data),
            status=ItemStatus(self.status.data),
            discipline=Discipline(self.discipline.data),
            source_organization_id=self.source_organization.data,
            sensitivity=Sensitivity(self.sensitivity.data) if self.sensitivity.data else None,
            content_language=self.content_language.data or None,
            owner_kind=owner_kind,
            **owner_ids,
            medication_name=text("medication_name"),
            dose=text("dose"),
            ingredients=[p for p in (self.ingredients.data or "").split(",") if p.strip()],
            prescriber_member_id=number("prescriber"),
            prescriber_name=None if number("prescriber") else text("prescriber_name"),
            dose_times=parse_times(self.dose_times.data or ""),
            starts_at=local_start.replace(tzinfo=patient.zone) if local_start else None,
            location=text("location"),
            with_whom=text("with_whom"),
            preparation=text("preparation"),
            interpreter_booked=INTERPRETER_VALUES.get(self.interpreter_booked.data),
            video_url=text("video_url"),
            location_phone=text("location_phone"),
            referred_to=text("referred_to"),
            referral_need=ReferralNeed(self.referral_need.data)
            if self.referral_need.data
            else None,
            referral_status=(
                ReferralStatus(self.referral_status.data) if self.referral_status.data else None
            ),
            schedule=schedule,
            weekday=number("weekday") if schedule is Schedule.WEEKLY else None,
            due_date=(
                self.due_date.data
                if schedule is Schedule.ONCE or self.kind is ItemKind.TEST
                else None
            ),
            code=text("code"),
            code_system=text("code_system"),
            ordering_member_id=number("ordering_member"),
            ordering_provider_name=(
                None if number("ordering_member") else text("ordering_provider_name")
            ),
            ordered_on=self.ordered_on.data,
            **(self.reading_values() if self.kind is ItemKind.TASK else {}),
            resource_url=text("resource_url"),
        )


#: How the "Who does it" choice names an owner: "member:12", "caregiver:7", "org:3".
OWNER_KINDS = {
    "member": OwnerKind.TEAM_MEMBER,
    "caregiver": OwnerKind.CAREGIVER,
    "org": OwnerKind.ORGANIZATION,
}
OWNER_COLUMNS = {
    "member": "owner_member_id",
    "caregiver": "owner_caregiver_id",
    "org": "owner_organization_id",
}


def form_data(data: ItemInput, patient) -> dict:
    """An item's values as its edit form shows them (the inverse of `to_input`)."""

    def value(enum_value) -> str:
        return enum_value.value if enum_value is not None else ""

    def ident(number: int | None) -> str:
        return str(number or "")

    owner = {
        OwnerKind.PATIENT: "patient",
        OwnerKind.TEAM_MEMBER: f"member:{data.owner_member_id}",
        OwnerKind.CAREGIVER: f"caregiver:{data.owner_caregiver_id}",
        OwnerKind.ORGANIZATION: f"org:{data.owner_organization_id}",
    }[data.owner_kind]
    return {
        "title": data.title,
        "details": data.details,
        "why_it_matters": data.why_it_matters,
        "area": value(data.area),
        "status": value(data.status),
        "discipline": value(data.discipline),
        "source_organization": data.source_organization_id,
        "sensitivity": value(data.sensitivity),
        "owner": owner,
        "medication_name": data.medication_name,
        "dose": data.dose,
        "ingredients": ", ".join(data.ingredients or []),
        "prescriber": ident(data.prescriber_member_id),
        "prescriber_name": data.prescriber_name,
        "dose_times": ", ".join(data.dose_times or []),
        "starts_at": (
            patient.local(data.starts_at).replace(tzinfo=None) if data.starts_at else None
        ),
        "location": data.location,
        "with_whom": data.with_whom,
        "preparation": data.preparation,
        "interpreter_booked": INTERPRETER_CHOICES.get(data.interpreter_booked, ""),
        "video_url": data.video_url,
        "location_phone": data.location_phone,
        "referred_to": data.referred_to,
        "referral_need": value(data.referral_need),
        "referral_status": value(data.referral_status),
        "schedule": value(data.schedule),
        "weekday": "" if data.weekday is None else str(data.weekday),
        "due_date": data.due_date,
        "code": data.code,
        "code_system": data.code_system or "",
        "ordering_member": ident(data.ordering_member_id),
        "ordering_provider_name": data.ordering_provider_name,
        "ordered_on": data.ordered_on,
        **reading_form_data(data),
        "resource_url": data.resource_url,
    }


class KeepBothForm(FlaskForm):
    reason = TextAreaField(
        _l("Why both should stay"),
        validators=[DataRequired(_l("Say why both should stay.")), Length(max=1000)],
    )


class CancelOneForm(FlaskForm):
    item_id = HiddenField(validators=[DataRequired()])


class TickForm(FlaskForm):
    day = HiddenField(validators=[DataRequired()])
