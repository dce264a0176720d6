"""Forms for the patient's side of caregiver access: invite, change, accept."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.auth.forms import SetPasswordForm
from app.caregivers.labels import SCOPE_LABELS
from app.caregivers.models import SensitiveCategory
from app.core.forms import phone_e164
from app.patients.forms import MultiCheckboxField

#: How each sensitive category reads for the patient. All are left out unless ticked.
CATEGORY_LABELS = {
    SensitiveCategory.BEHAVIORAL_HEALTH: _l("Behavioral health"),
    SensitiveCategory.SUBSTANCE_USE: _l("Substance use"),
    SensitiveCategory.SEXUAL_REPRODUCTIVE: _l("Sexual and reproductive health"),
}


def _region() -> str:
    return current_app.config["DEFAULT_PHONE_REGION"]


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
    ends_on = DateField(
        _l("Access ends on"),
        validators=[Optional()],
        description=_l("Leave it empty to keep access until you end it."),
    )

    def __init__(self, *args, today: date, current_end: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        #: The patient's today (in the patient's time zone): a new end date must come after it.
        self.today = today
        #: The end date already set, which may stay as it is.
        self.current_end = current_end
        self.scopes.choices = [(s.value, label) for s, label in SCOPE_LABELS.items()]
        self.sensitive_categories.choices = [
            (c.value, label) for c, label in CATEGORY_LABELS.items()
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        chosen = self.ends_on.data
        if chosen is not None and chosen != self.current_end and chosen <= self.today:
            self.ends_on.errors = [
                *self.ends_on.errors,
                _l("Choose a date after today, or leave it empty."),
            ]
            ok = False
        return ok


class InviteForm(_AccessForm):
    full_name = StringField(
        _l("Their name"),
        validators=[DataRequired(_l("Enter their name.")), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
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
        validators=[Optional(), Length(max=32), phone_e164(_region)],
        description=_l("We send the invitation by email or by text, not both."),
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )
    relationship = StringField(
        _l("How they are related to you"),
        validators=[DataRequired(_l("Say how they are related, e.g. daughter.")), Length(max=60)],
        description=_l("For example: daughter, husband, neighbor."),
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
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
