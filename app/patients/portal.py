"""Invite to the portal: a record without a login (an imported one, or a record the team made)
gets its patient's account, and the patient an email with the link to set a password.

Care team and administrators only (Permission.INVITE_TO_PORTAL). The record is linked to the
new account with a conditional UPDATE (`user_id IS NULL`): a double submit, or two people at
once, link one account and send one invitation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from app.auth import services as auth_services
from app.auth.models import Role, User
from app.core import audit
from app.core.access import Permission, patient_route
from app.core.forms import language_choices
from app.extensions import db
from app.patients import bp
from app.patients.models import Patient


def _unused_email(form, field):
    field.data = auth_services.normalise_email(field.data)
    if db.session.scalar(sa.select(User.id).where(User.email == field.data)) is not None:
        raise ValidationError(_l("Someone already uses this email address."))


class PortalInviteForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter an email address.")),
            Email(_l("Enter an email address like name@example.com.")),
            Length(max=254),
            _unused_email,
        ],
    )
    language = SelectField(_l("Language for CareCircle"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


@bp.route("/patients/<int:patient_id>/portal-invitation", methods=["GET", "POST"])
@patient_route(Permission.INVITE_TO_PORTAL, "patient.summary")
def invite_to_portal(patient):
    if patient.user_id is not None:  # already has a login (or a double submit got there first)
        if request.method == "POST":
            flash(_("This record already has a login."), "info")
            return redirect(url_for("patients.summary", patient_id=patient.id))
        return render_template("patients/portal_invite.html", patient=patient, form=None)
    form = PortalInviteForm(language=patient.language)
    if form.validate_on_submit():
        user = auth_services.create_account(
            email=form.email.data,
            full_name=patient.full_name,
            role=Role.PATIENT,
            locale=form.language.data,
            timezone=patient.timezone,
        )
        linked = db.session.execute(
            sa.update(Patient)
            .where(Patient.id == patient.id, Patient.user_id.is_(None))
            .values(user_id=user.id)
        ).rowcount
        if not linked:
            db.session.rollback()
            flash(_("This record already has a login."), "info")
            return redirect(url_for("patients.summary", patient_id=patient.id))
        audit.record(action="update", resource="patient.summary", patient_id=patient.id)
        auth_services.send_invitation(user, invited_by=current_user)
        flash(_("Invitation sent to %(email)s.", email=user.email), "success")
        return redirect(url_for("patients.summary", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template("patients/portal_invite.html", patient=patient, form=form), status
