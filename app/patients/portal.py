"""Invite to the portal: a record without a login (an imported one, or a record the team made)
gets its patient's account, and the patient an email with the link to set a password.

Care team and administrators only (Permission.INVITE_TO_PORTAL). The record is linked to the
new account with a conditional UPDATE (`user_id IS NULL`): a double submit, or two people at
once, link one account and send one invitation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as auth_services
from app.auth.forms import InviteAccountForm
from app.auth.models import Role
from app.core import audit
from app.core.access import Permission, patient_route
from app.extensions import db
from app.patients import bp
from app.patients.models import Patient


class PortalInviteForm(InviteAccountForm):
    """The patient's email and language for their new account."""


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
