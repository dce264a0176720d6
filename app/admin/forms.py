from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.auth.forms import InviteAccountForm
from app.auth.models import User
from app.caregivers.labels import SCOPE_LABELS
from app.core.db import utcnow
from app.core.forms import MultiCheckboxField, PlainDateField, phone_e164
from app.core.text import plain_name
from app.extensions import db
from app.patients.forms import care_language_choices, timezone_choices
from app.team.labels import DISCIPLINE_LABELS, ROLE_LABELS
from app.team.models import Organization

#: The longest account name (users.full_name).
FULL_NAME_MAX = User.__table__.c.full_name.type.length


def not_in_future(form, field):
    if field.data and field.data > utcnow().date():
        raise ValidationError(_l("The date of birth cannot be in the future."))
    if field.data and field.data.year < 1900:
        raise ValidationError(_l("Check the year of birth."))


class _AccountForm(InviteAccountForm):
    """What every invitation asks (InviteAccountForm). The name is asked once, the way its
    record keeps it: a patient's given and family names (the account's full name is made from
    them), anyone else's full name."""


class _PersonForm(_AccountForm):
    full_name = StringField(
        _l("Full name"),
        filters=[plain_name],
        validators=[DataRequired(_l("Enter a name.")), Length(max=120)],
    )


class InvitePatientForm(_AccountForm):
    given_name = StringField(
        _l("Given name"),
        filters=[plain_name],
        validators=[DataRequired(_l("Enter a given name.")), Length(max=80)],
    )
    family_name = StringField(
        _l("Family name"),
        filters=[plain_name],
        validators=[DataRequired(_l("Enter a family name.")), Length(max=80)],
    )
    date_of_birth = PlainDateField(
        _l("Date of birth"),
        validators=[DataRequired(_l("Enter the date of birth.")), not_in_future],
    )
    care_language = SelectField(_l("Language for care"), validators=[DataRequired()])
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    mobile_phone = TelField(
        _l("Mobile phone"),
        validators=[
            Optional(),
            Length(max=32),
            phone_e164(),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.care_language.choices = care_language_choices()
        self.timezone.choices = timezone_choices()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and len(self.account_name()) > FULL_NAME_MAX:
            self.family_name.errors.append(_l("This name is too long. Shorten it a little."))
            return False
        return ok

    def account_name(self) -> str:
        """The account's name, made as the patient record makes it (`Patient.full_name`)."""
        return f"{self.given_name.data} {self.family_name.data}"


class InviteTeamMemberForm(_PersonForm):
    organization = SelectField(_l("Organization"), coerce=int, validators=[DataRequired()])
    role = SelectField(_l("Role"), validators=[DataRequired(_l("Choose their role."))])
    discipline = SelectField(_l("Discipline"), validators=[DataRequired()])
    title = StringField(
        _l("Job title (optional)"),
        validators=[Optional(), Length(max=120)],
        description=_l("In their own words, shown under the role: e.g. Clinical Pharmacist."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization.choices = [
            (org.id, org.name)
            for org in db.session.scalars(sa.select(Organization).order_by(Organization.name))
        ]
        self.role.choices = [("", _l("Choose one"))] + [
            (r.value, label) for r, label in ROLE_LABELS.items()
        ]
        self.discipline.choices = [(d.value, label) for d, label in DISCIPLINE_LABELS.items()]


class InviteCaregiverForm(_PersonForm):
    """The patient is named by member number and date of birth, never picked from a list of
    every patient: an administrator sees no patient they did not ask for."""

    member_number = StringField(
        _l("Member number of the patient they help"),
        validators=[DataRequired(_l("Enter the patient's member number.")), Length(max=32)],
        description=_l("As on the patient's member card."),
    )
    date_of_birth = PlainDateField(
        _l("The patient's date of birth"),
        validators=[DataRequired(_l("Enter the patient's date of birth."))],
    )
    relationship = StringField(
        _l("Relationship to the patient"),
        validators=[DataRequired(_l("Say how they are related, e.g. daughter.")), Length(max=60)],
    )
    scopes = MultiCheckboxField(_l("What they may do"), validators=[Optional()])
    legal_authority = StringField(
        _l("Legal authority, if any"),
        validators=[Optional(), Length(max=120)],
        description=_l("For example: parent of a minor, guardian, health care power of attorney."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes.choices = [(s.value, label) for s, label in SCOPE_LABELS.items()]
