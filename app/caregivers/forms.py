"""Forms for caregiver access: the patient's (invite, change, accept) and the care team's
(a legal grant, a continuing authority)."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from app.auth import services as auth_services
from app.auth.forms import SetPasswordForm
from app.auth.models import Role, User
from app.caregivers import rules
from app.caregivers.labels import KIND_LABELS, RELATION_LABELS, SCOPE_LABELS
from app.caregivers.models import GrantKind, Relation
from app.caregivers.queries import current_grant
from app.core.forms import MultiCheckboxField, PlainDateField, language_choices, phone_e164
from app.core.idempotency import IdempotentForm
from app.core.privacy import GRANTABLE, SENSITIVITY_LABELS
from app.core.text import plain_name
from app.patients.models import Patient


def category_choices() -> list[tuple[str, object]]:
    """The sensitive categories a grant may include (all are left out unless ticked)."""
    return [(c.value, SENSITIVITY_LABELS[c]) for c in GRANTABLE]


#: A last day of access further away than this is a typing slip (or an attack on the date
#: arithmetic): leaving the field empty is how access is kept without an end.
MAX_YEARS_AHEAD = 100


def last_day_problem(day: date | None, today: date, keep: date | None = None):
    """Why `day` cannot be a grant's last day of access (None: it can, or it is `keep`)."""
    if day is None or day == keep:
        return None
    if day < today:
        return _l("The last day cannot be in the past.")
    if day.year > today.year + MAX_YEARS_AHEAD:
        return _l(
            "Choose a last day within the next %(years)d years, or leave it empty.",
            years=MAX_YEARS_AHEAD,
        )
    return None


def relation_choices() -> list[tuple[str, object]]:
    return [("", _l("Choose one"))] + [(r.value, label) for r, label in RELATION_LABELS.items()]


class _RelationFields:
    """How the caregiver is related to the patient: a choice shown in everyone's language,
    with the patient's own words kept for "Other (say who)"."""

    relationship_other = StringField(
        _l("If other, say who they are"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[Optional(), Length(max=60)],
        description=_l("For example: godmother, or stepson."),
    )

    def _init_relation(self) -> None:
        self.relationship.choices = relation_choices()

    def _check_relation(self) -> bool:
        """ "Other" needs the patient's words (a form-level check: Optional() would drop a
        field validator's error on an empty box)."""
        if self.relationship.data == Relation.OTHER.value and not self.relationship_other.data:
            self.relationship_other.errors = [
                *self.relationship_other.errors,
                _l("Say who they are, or choose from the list."),
            ]
            return False
        return True

    @property
    def relation(self) -> Relation:
        return Relation(self.relationship.data)

    @property
    def relation_words(self) -> str:
        """The patient's words, kept only for "Other"."""
        return self.relationship_other.data if self.relation is Relation.OTHER else ""


class _AccessForm(FlaskForm):
    """What a caregiver may do and see, and until when; shared by invite and change."""

    scopes = MultiCheckboxField(
        _l("What they may do"),
        validators=[Optional()],
        description=_l("They can always see your summary page. Tick what else they may do."),
    )
    sensitive_categories = MultiCheckboxField(
        _l("Private parts of your record they may also see"),
        validators=[Optional()],
        description=_l(
            "These stay hidden from them unless you tick them. They will not see that "
            "anything is hidden."
        ),
    )
    ends_on = PlainDateField(
        _l("Last day of access"),
        validators=[Optional()],
        description=_l("Leave it empty to keep access until you end it."),
    )

    def __init__(self, *args, today: date, current_end: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        #: The patient's today (in the patient's time zone): the last day cannot be before it.
        self.today = today
        #: The last day already set, which may stay as it is.
        self.current_end = current_end
        self.scopes.choices = [(s.value, label) for s, label in SCOPE_LABELS.items()]
        self.sensitive_categories.choices = category_choices()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        problem = last_day_problem(self.ends_on.data, self.today, keep=self.current_end)
        if problem is not None:
            self.ends_on.errors = [*self.ends_on.errors, problem]
            ok = False
        return ok


class InviteContactFields(FlaskForm):
    """Where a caregiver's invitation goes: an email or a mobile number (also the Invite
    button of a caregiver an imported record names, app.fhir.proposal_views)."""

    email = EmailField(
        _l("Their email"),
        validators=[
            Optional(),
            Email(_l("Enter an email address like name@example.com.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "off", "inputmode": "email"},
    )
    mobile_phone = TelField(
        _l("Or their mobile number"),
        validators=[Optional(), Length(max=32), phone_e164()],
        description=_l("We send the invitation by email or by text, not both."),
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )


class InviteForm(_RelationFields, IdempotentForm, _AccessForm, InviteContactFields):
    full_name = StringField(
        _l("Their name"),
        filters=[plain_name],
        validators=[DataRequired(_l("Enter their name.")), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    relationship = SelectField(
        _l("How they are related to you"),
        validators=[DataRequired(_l("Say how they are related, e.g. daughter."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_relation()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok = self._check_relation() and ok
        email = (self.email.data or "").strip()
        phone = (self.mobile_phone.data or "").strip()
        if not email and not phone and not self.mobile_phone.errors:
            self.email.errors = [
                *self.email.errors,
                _l("Give their email or their mobile number."),
            ]
            ok = False
        elif email and (phone or self.mobile_phone.errors):
            self.email.errors = [
                *self.email.errors,
                _l("Give an email or a mobile number, not both."),
            ]
            ok = False
        return ok


class ChangeAccessForm(_AccessForm):
    pass


class NewCaregiverAccountForm(SetPasswordForm):
    """Accepting an invitation without an account: the password rules are the usual ones."""

    full_name = StringField(
        _l("Your name"),
        filters=[plain_name],
        validators=[DataRequired(_l("Enter your name.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Your email"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(_l("Enter an email address like name@example.com.")),
            Length(max=254),
        ],
        description=_l("You sign in with it."),
        render_kw={"autocomplete": "username", "inputmode": "email"},
    )


# ------------------------------------------------------------------ the care team's


class TeamGrantForm(_RelationFields, FlaskForm):
    email = EmailField(
        _l("Caregiver's email"),
        validators=[
            DataRequired(_l("Enter an email address.")),
            Email(_l("Enter an email address like name@example.com.")),
            Length(max=254),
        ],
        description=_l("If they have no CareCircle account yet, we email them an invitation."),
    )
    full_name = StringField(
        _l("Caregiver's full name"),
        filters=[plain_name],
        validators=[Optional(), Length(max=120)],
        description=_l("Needed only when they are new to CareCircle."),
    )
    language = SelectField(_l("Language for CareCircle"), validators=[DataRequired()])
    relationship = SelectField(
        _l("Relationship to the patient"),
        validators=[DataRequired(_l("Say how they are related, e.g. mother."))],
    )
    kind = SelectField(
        _l("They act as"), validators=[DataRequired(_l("Choose how they act for the patient."))]
    )
    legal_authority = StringField(
        _l("Legal authority"),
        validators=[
            DataRequired(_l("Enter the legal authority.")),
            Length(max=120),
        ],
        description=_l(
            "For example: parent, court-appointed guardian, health care power of attorney."
        ),
    )
    document_reference = StringField(
        _l("Document on file"),
        validators=[
            DataRequired(_l("Say where the document is on file.")),
            Length(max=120),
        ],
        description=_l(
            "Where the proof is kept, for example a court case number or the date it was "
            "scanned into the chart."
        ),
    )
    scopes = MultiCheckboxField(_l("What they may do"), validators=[Optional()])
    #: Its help text names the configured ages; it is set in __init__.
    sensitive_categories = MultiCheckboxField(
        _l("Sensitive topics they may see"), validators=[Optional()]
    )
    ends_on = PlainDateField(
        _l("Last day of access"),
        validators=[Optional()],
        description=_l("Optional. Leave empty if the authority has no end date."),
    )

    def __init__(self, *args, patient: Patient, now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient, self.now = patient, now
        self.existing_user: User | None = None
        self._init_relation()
        self.language.choices = language_choices()
        self.kind.choices = [("", _l("Choose one"))] + [
            (k.value, KIND_LABELS[k]) for k in (GrantKind.GUARDIAN, GrantKind.LEGAL_REPRESENTATIVE)
        ]
        self.scopes.choices = [(s.value, label) for s, label in SCOPE_LABELS.items()]
        self.sensitive_categories.choices = category_choices()
        cfg = current_app.config
        self.sensitive_categories.description = _(
            "Hidden unless you tick them. For a patient aged %(teen)d to %(adult)d, a parent or "
            "guardian never sees these, whatever you tick.",
            teen=cfg["ADOLESCENT_AGE"],
            adult=cfg["ADULT_AGE"] - 1,
        )

    def validate_email(self, field):
        field.data = auth_services.normalise_email(field.data)
        user = auth_services.find_user_by_email(field.data)
        if user is None:
            return
        if user.role is not Role.CAREGIVER:
            raise ValidationError(
                _l("This email belongs to an account that cannot be a caregiver. Use another.")
            )
        if not user.active:
            raise ValidationError(_l("This account is turned off. Ask an administrator."))
        if current_grant(user.id, self.patient.id, self.now) is not None:
            raise ValidationError(_l("This person already has access to this record."))
        self.existing_user = user

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok = self._check_relation() and ok
        self.full_name.data = (self.full_name.data or "").strip()
        if not self.full_name.data and not self.email.errors and self.existing_user is None:
            self.full_name.errors = [
                *self.full_name.errors,
                _("Enter their full name: they are new to CareCircle."),
            ]
            ok = False
        return ok

    def validate_kind(self, field):
        adult = rules.age_at(self.patient, self.now) >= rules.adult_age()
        if field.data == GrantKind.GUARDIAN.value and adult:
            raise ValidationError(
                _l("The patient is an adult: choose legal representative of an adult.")
            )
        if field.data == GrantKind.LEGAL_REPRESENTATIVE.value and not adult:
            raise ValidationError(
                _l("The patient is a minor: choose parent or legal guardian of a minor.")
            )

    def validate_ends_on(self, field):
        problem = last_day_problem(field.data, self.patient.today(self.now))
        if problem is not None:
            raise ValidationError(problem)


class ContinuingAuthorityForm(FlaskForm):
    continuing_authority = StringField(
        _l("Legal authority that continues after 18"),
        validators=[
            DataRequired(_l("Enter the legal authority and where its document is on file.")),
            Length(max=200),
        ],
        description=_l(
            "For example: court-appointed guardian of an adult, case 24-GU-0113, scanned "
            "into the chart."
        ),
    )


class ProofForm(FlaskForm):
    """The code sent to where an invitation went: proof that whoever accepts holds it."""

    code = StringField(
        _l("Code"),
        validators=[Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    send = SubmitField(_l("Send me a code"))

    def validate_code(self, field):
        if not self.send.data and not (field.data or "").strip():
            raise ValidationError(_l("Enter the 6-digit code."))
