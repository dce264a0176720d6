"""Caregiver access the care team sets up: a minor's parent or legal guardian, or an adult's
legal representative (health care power of attorney, court-appointed guardian).

The team member must be on the patient's care team (GRANT_LEGAL_ACCESS, decided by the
policy); a legal authority and where its document is on file are required. The caregiver
account is found by email or invited with the same invitation the administrators send. The
patient sees a notice the next time they open their record, and "Who has seen my record"
lists the change.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.auth import services as auth_services
from app.auth.fresh import fresh_auth_required
from app.auth.models import Role
from app.caregivers import rules
from app.caregivers.forms import ContinuingAuthorityForm, TeamGrantForm, category_choices
from app.caregivers.grants import end_of_access, grant_access, last_day
from app.caregivers.labels import ENDED_LABELS, KIND_LABELS, SCOPE_LABELS
from app.caregivers.models import CaregiverGrant, GrantKind
from app.core import audit
from app.core.access import Permission, patient_route
from app.core.db import utcnow
from app.core.mail import send_template
from app.core.privacy import SENSITIVITY_LABELS, Sensitivity
from app.core.urls import public_url
from app.extensions import db
from app.patients.models import Patient

bp = Blueprint("caregiver_team", __name__, template_folder="templates")


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
        rows=[(grant, rules.in_force(grant, patient, now)) for grant in rows],
        age=rules.age_at(patient, now),
        adolescent=rules.is_adolescent(patient, now),
        adult_age=rules.adult_age(),
        confidential=[
            SENSITIVITY_LABELS[Sensitivity(c)]
            for c in current_app.config["MINOR_CONFIDENTIAL_CATEGORIES"]
        ],
        kinds=KIND_LABELS,
        ended=ENDED_LABELS,
        scope_labels=SCOPE_LABELS,
        category_labels=dict(category_choices()),
        GrantKind=GrantKind,
        local_day=patient.today,
        last_day=lambda grant: last_day(patient, grant.ends_at),
    )


@bp.route("/patients/<int:patient_id>/caregivers/team-grant", methods=["GET", "POST"])
@patient_route(Permission.GRANT_LEGAL_ACCESS, "caregivers.grant")
@fresh_auth_required
def team_grant(patient):
    now = utcnow()
    form = TeamGrantForm(patient=patient, now=now)
    if request.method == "GET":
        adult = rules.age_at(patient, now) >= rules.adult_age()
        form.kind.data = (GrantKind.LEGAL_REPRESENTATIVE if adult else GrantKind.GUARDIAN).value
    if form.validate_on_submit():
        existing = form.existing_user
        user = existing or auth_services.create_account(
            email=form.email.data,
            full_name=form.full_name.data,
            role=Role.CAREGIVER,
            locale=form.language.data,
        )
        grant_access(
            patient,
            user,
            relationship=form.relation_words,
            relation=form.relation,
            kind=GrantKind(form.kind.data),
            scopes=form.scopes.data or [],
            categories=form.sensitive_categories.data or [],
            legal_authority=form.legal_authority.data.strip(),
            document_reference=form.document_reference.data.strip(),
            granted_by_id=current_user.id,
            ends_at=end_of_access(patient, form.ends_on.data),
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
            send_template(
                "caregivers/email/team_grant.txt",
                user,
                user=user,
                member=current_user.full_name,
                patient=patient.display_name,
                sign_in=public_url("/"),
            )
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
        age=rules.age_at(patient, now),
        adult_age=rules.adult_age(),
    ), status


@bp.route(
    "/patients/<int:patient_id>/caregivers/grants/<int:grant_id>/continuing-authority",
    methods=["GET", "POST"],
)
@patient_route(Permission.GRANT_LEGAL_ACCESS, "caregivers.grant")
@fresh_auth_required
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
                age=rules.adult_age(),
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
        adult_age=rules.adult_age(),
        adult_on=rules.birthday_start(patient, rules.adult_age()).date(),
    ), status
