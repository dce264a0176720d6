"""Caregiver access the care team sets up: a minor's parent or legal guardian, or an adult's
legal representative (health care power of attorney, court-appointed guardian).

The team member must be on the patient's care team (GRANT_LEGAL_ACCESS, decided by the
policy); a legal authority and where its document is on file are required. The caregiver
account is found by email or invited with the same invitation the administrators send. The
patient sees a notice the next time they open their record, and "Who has seen my record"
lists the change.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.auth import services as auth_services
from app.auth.models import Role, User
from app.caregivers import policy
from app.caregivers.labels import SCOPE_LABELS
from app.caregivers.models import CaregiverGrant, EndedReason, GrantKind, SensitiveCategory
from app.careplan.goals_forms import PlainDateField
from app.careplan.labels import SENSITIVITY_LABELS
from app.careplan.models import Sensitivity
from app.core import audit
from app.core.access import Permission, patient_route
from app.core.db import utcnow
from app.core.mail import queue_email
from app.extensions import db
from app.patients.forms import MultiCheckboxField
from app.patients.models import Patient

bp = Blueprint("caregiver_team", __name__, template_folder="templates")

KIND_LABELS = {
    GrantKind.DELEGATE: _l("Invited by the patient"),
    GrantKind.GUARDIAN: _l("Parent or legal guardian of a minor"),
    GrantKind.LEGAL_REPRESENTATIVE: _l("Legal representative of an adult"),
}

ENDED_LABELS = {
    EndedReason.EXPIRED.value: _l("Ended on its end date"),
    EndedReason.AGE_OF_MAJORITY.value: _l("Ended when the patient became an adult"),
}


def category_choices() -> list[tuple[str, object]]:
    return [(c.value, SENSITIVITY_LABELS[Sensitivity(c.value)]) for c in SensitiveCategory]


# ------------------------------------------------------------------ forms


class TeamGrantForm(FlaskForm):
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
        validators=[Optional(), Length(max=120)],
        description=_l("Needed only when they are new to CareCircle."),
    )
    language = SelectField(_l("Language for CareCircle"), validators=[DataRequired()])
    relationship = StringField(
        _l("Relationship to the patient"),
        validators=[
            DataRequired(_l("Say how they are related, e.g. mother.")),
            Length(max=60),
        ],
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
        self.language.choices = list(current_app.config["LANGUAGES"].items())
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
        if policy.current_grant(user.id, self.patient.id, self.now) is not None:
            raise ValidationError(_l("This person already has access to this record."))
        self.existing_user = user

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.full_name.data = (self.full_name.data or "").strip()
        if not self.full_name.data and not self.email.errors and self.existing_user is None:
            self.full_name.errors = [
                *self.full_name.errors,
                _("Enter their full name: they are new to CareCircle."),
            ]
            ok = False
        return ok

    def validate_kind(self, field):
        adult = policy.age_at(self.patient, self.now) >= policy.adult_age()
        if field.data == GrantKind.GUARDIAN.value and adult:
            raise ValidationError(
                _l("The patient is an adult: choose legal representative of an adult.")
            )
        if field.data == GrantKind.LEGAL_REPRESENTATIVE.value and not adult:
            raise ValidationError(
                _l("The patient is a minor: choose parent or legal guardian of a minor.")
            )

    def validate_ends_on(self, field):
        if field.data is not None and field.data < policy.local_today(self.patient, self.now):
            raise ValidationError(_l("The last day cannot be in the past."))


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


# ------------------------------------------------------------------ helpers


def _end_of_day(patient: Patient, day) -> datetime:
    """Access lasts through the patient's last day: it ends at their next midnight."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=policy.patient_zone(patient))


def _new_caregiver(form: TeamGrantForm) -> User:
    user = User(
        email=form.email.data,
        full_name=form.full_name.data,
        role=Role.CAREGIVER,
        locale=form.language.data,
    )
    db.session.add(user)
    db.session.flush()
    return user


def _tell_existing_caregiver(user: User, patient: Patient) -> None:
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("You can now help with a record in CareCircle")
        body = "\n\n".join(
            [
                _("Hello %(name)s,", name=user.full_name),
                _(
                    "%(member)s of the care team gave you access to %(patient)s's record. "
                    'Sign in and choose %(patient)s under "People I help".',
                    member=current_user.full_name,
                    patient=patient.display_name,
                ),
                _("CareCircle: %(link)s", link=auth_services.public_url("/")),
            ]
        )
    queue_email(to=user.email, subject=subject, body=body, user_id=user.id)


def _grant_or_404(patient: Patient, grant_id: int) -> CaregiverGrant:
    grant = db.session.scalars(
        sa.select(CaregiverGrant)
        .where(CaregiverGrant.id == grant_id, CaregiverGrant.patient_id == patient.id)
        .options(joinedload(CaregiverGrant.caregiver))
    ).first()
    if grant is None:
        abort(404)
    return grant


# ------------------------------------------------------------------ views


@bp.route("/patients/<int:patient_id>/caregivers/team")
@login_required
@patient_route(Permission.GRANT_LEGAL_ACCESS, "caregivers.grant")
def grants(patient):
    now = utcnow()
    rows = db.session.scalars(
        sa.select(CaregiverGrant)
        .where(CaregiverGrant.patient_id == patient.id)
        .options(joinedload(CaregiverGrant.caregiver))
        .order_by(CaregiverGrant.id.desc())
    ).all()
    return render_template(
        "caregivers/team_grants.html",
        patient=patient,
        rows=[(grant, policy.in_force(grant, patient, now)) for grant in rows],
        age=policy.age_at(patient, now),
        adolescent=policy.is_adolescent(patient, now),
        adult_age=policy.adult_age(),
        confidential=[
            SENSITIVITY_LABELS[Sensitivity(c)]
            for c in current_app.config["MINOR_CONFIDENTIAL_CATEGORIES"]
        ],
        kinds=KIND_LABELS,
        ended=ENDED_LABELS,
        scope_labels=SCOPE_LABELS,
        category_labels=dict(category_choices()),
        GrantKind=GrantKind,
        local_day=lambda instant: policy.local_today(patient, instant),
        last_day=lambda grant: policy.local_today(patient, grant.ends_at - timedelta(seconds=1)),
    )


@bp.route("/patients/<int:patient_id>/caregivers/team-grant", methods=["GET", "POST"])
@login_required
@patient_route(Permission.GRANT_LEGAL_ACCESS, "caregivers.grant")
def team_grant(patient):
    now = utcnow()
    form = TeamGrantForm(patient=patient, now=now)
    if request.method == "GET":
        adult = policy.age_at(patient, now) >= policy.adult_age()
        form.kind.data = (GrantKind.LEGAL_REPRESENTATIVE if adult else GrantKind.GUARDIAN).value
    if form.validate_on_submit():
        existing = form.existing_user
        user = existing or _new_caregiver(form)
        grant = CaregiverGrant(
            patient_id=patient.id,
            caregiver_id=user.id,
            relationship_label=form.relationship.data.strip(),
            kind=GrantKind(form.kind.data),
            scopes=list(form.scopes.data or []),
            sensitive_categories=list(form.sensitive_categories.data or []),
            legal_authority=form.legal_authority.data.strip(),
            document_reference=form.document_reference.data.strip(),
            granted_by_id=current_user.id,
            starts_at=now,
            ends_at=_end_of_day(patient, form.ends_on.data) if form.ends_on.data else None,
        )
        db.session.add(grant)
        db.session.flush()
        audit.record(
            action="create",
            resource="caregivers.grant",
            resource_id=grant.id,
            patient_id=patient.id,
        )
        if existing is None:
            auth_services.send_invitation(user, invited_by=current_user)
            flash(
                _(
                    "%(name)s can now help with %(patient)s's record. We emailed them an "
                    "invitation to set up their account.",
                    name=user.full_name,
                    patient=patient.display_name,
                ),
                "success",
            )
        else:
            _tell_existing_caregiver(user, patient)
            flash(
                _(
                    "%(name)s can now help with %(patient)s's record. We told them by email.",
                    name=user.full_name,
                    patient=patient.display_name,
                ),
                "success",
            )
        return redirect(url_for("caregiver_team.grants", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "caregivers/team_grant.html",
        patient=patient,
        form=form,
        age=policy.age_at(patient, now),
        adult_age=policy.adult_age(),
    ), status


@bp.route(
    "/patients/<int:patient_id>/caregivers/grants/<int:grant_id>/continuing-authority",
    methods=["GET", "POST"],
)
@login_required
@patient_route(Permission.GRANT_LEGAL_ACCESS, "caregivers.grant")
def continuing_authority(patient, grant_id: int):
    grant = _grant_or_404(patient, grant_id)
    now = utcnow()
    if (
        grant.kind is not GrantKind.GUARDIAN
        or grant.revoked_at is not None
        or grant.ended_reason is not None
        or (grant.ends_at is not None and grant.ends_at <= now)
    ):
        abort(404)
    form = ContinuingAuthorityForm(
        data={"continuing_authority": grant.continuing_authority}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        grant.continuing_authority = form.continuing_authority.data.strip()
        grant.continuing_authority_recorded_by_id = current_user.id
        grant.continuing_authority_recorded_at = now
        audit.record(
            action="update",
            resource="caregivers.grant",
            resource_id=grant.id,
            patient_id=patient.id,
        )
        flash(
            _(
                "Saved. %(name)s keeps access after %(patient)s turns %(age)d.",
                name=grant.caregiver.full_name,
                patient=patient.display_name,
                age=policy.adult_age(),
            ),
            "success",
        )
        return redirect(url_for("caregiver_team.grants", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "caregivers/team_continuing.html",
        patient=patient,
        grant=grant,
        form=form,
        adult_age=policy.adult_age(),
        adult_on=policy.birthday_start(patient, policy.adult_age()).date(),
    ), status


# ------------------------------------------------------------------ the patient's notice


@bp.before_app_request
def notice_of_team_grants():
    """When a patient opens their record, tell them about access the care team set up.

    Shown once per grant (as a notice at the top of the page); "Who has seen my record"
    keeps the lasting trace.
    """
    if request.endpoint != "patients.summary" or request.method != "GET":
        return
    if not current_user.is_authenticated or current_user.role is not Role.PATIENT:
        return
    patient_id = (request.view_args or {}).get("patient_id")
    now = utcnow()
    rows = db.session.execute(
        sa.select(CaregiverGrant, Patient, User.full_name)
        .join(Patient, Patient.id == CaregiverGrant.patient_id)
        .join(User, User.id == CaregiverGrant.caregiver_id)
        .where(
            Patient.id == patient_id,
            Patient.user_id == current_user.id,
            CaregiverGrant.kind != GrantKind.DELEGATE,
            CaregiverGrant.patient_notice_seen_at.is_(None),
            CaregiverGrant.current_at(now),
        )
        .order_by(CaregiverGrant.id)
    ).all()
    for grant, patient, name in rows:
        if not policy.in_force(grant, patient, now):
            continue
        day = format_date(policy.local_today(patient, grant.starts_at), "long")
        if grant.kind is GrantKind.GUARDIAN:
            text = _(
                "Your care team gave %(name)s access to your record as your parent or "
                "guardian on %(date)s.",
                name=name,
                date=day,
            )
        else:
            text = _(
                "Your care team gave %(name)s access to your record as your legal "
                "representative (%(authority)s) on %(date)s.",
                name=name,
                authority=grant.legal_authority,
                date=day,
            )
        flash(text, "info")
        grant.patient_notice_seen_at = now
