"""CCO administration: accounts, invitations, the message outbox.

Admins manage accounts; they never see clinical content (see the policy).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp, delivery, queries
from app.admin.forms import (
    DISCIPLINE_LABELS,
    InviteCaregiverForm,
    InvitePatientForm,
    InviteTeamMemberForm,
)
from app.auth import mfa
from app.auth import services as auth_services
from app.auth.fresh import fresh_auth_required
from app.auth.models import Role, User
from app.caregivers.grants import grant_access
from app.core import audit
from app.core.access import finds_patients, no_patient_data, role_required
from app.core.forms import EmptyForm
from app.core.mail import OutboundEmail, send_template
from app.core.pagination import (
    COUNT_CAP,
    capped_count,
    cursor_args,
    keyset_page,
    page_arg,
    page_count,
)
from app.core.privacy import Capacity
from app.core.urls import id_arg
from app.extensions import db
from app.patients import queries as patient_queries
from app.patients.models import Patient
from app.team.models import CareRole, CareTeamMember, Discipline
from app.texting.labels import PURPOSE_LABELS
from app.texting.models import OutboundSms

PER_PAGE = 25


@bp.before_request
@role_required(Role.ADMIN)
def admins_only():
    """Every admin page: admins only; anyone else gets 404."""


@bp.route("/")
@no_patient_data("administration start page with account counts")
def index():
    counts = dict(
        db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all()
    )
    return render_template("admin/index.html", counts=counts, Role=Role)


@bp.route("/users")
@no_patient_data("lists accounts (names, emails, roles), no health information")
def users():
    after, before = cursor_args()
    role = request.args.get("role")
    conditions = []
    if role in {r.value for r in Role}:
        conditions.append(User.role == Role(role))
    else:
        role = None
    keys = (User.full_name, User.id)

    def keys_of(user_id):
        if user_id is None:
            return None
        found = db.session.execute(sa.select(*keys).where(User.id == user_id, *conditions)).first()
        if found is None:
            abort(404)
        return tuple(found)

    page = keyset_page(
        sa.select(User).where(*conditions),
        keys,
        per_page=PER_PAGE,
        after=keys_of(after),
        before=keys_of(before),
        row_id=lambda row: row[0].id,
    )
    return render_template(
        "admin/users.html",
        users=[row[0] for row in page.rows],
        total=capped_count(sa.select(User.id).where(*conditions)),
        count_cap=COUNT_CAP,
        page=page,
        role=role,
        Role=Role,
        action_form=EmptyForm(),
    )


def _new_user(form, role: Role, *, full_name: str, **fields) -> User:
    return auth_services.create_account(
        email=form.email.data,
        full_name=full_name,
        role=role,
        locale=form.language.data,
        **fields,
    )


@bp.route("/invite/patient", methods=["GET", "POST"])
@no_patient_data("creates a new patient record and account; the new record is audited")
def invite_patient():
    form = InvitePatientForm()
    if form.validate_on_submit():
        user = _new_user(
            form, Role.PATIENT, full_name=form.account_name(), timezone=form.timezone.data
        )
        patient = Patient(
            user_id=user.id,
            given_name=form.given_name.data,
            family_name=form.family_name.data,
            date_of_birth=form.date_of_birth.data,
            language=form.care_language.data,
            timezone=form.timezone.data,
            mobile_phone=form.mobile_phone.data,
        )
        db.session.add(patient)
        db.session.flush()
        audit.record(
            action="create",
            resource="patient.summary",
            patient_id=patient.id,
            actor_id=current_user.id,
            capacity="admin",
        )
        auth_services.send_invitation(user, invited_by=current_user)
        flash(_("Invitation sent to %(email)s.", email=user.email), "success")
        return redirect(url_for("admin.users"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/invite_patient.html", form=form), status


@bp.route("/invite/care-team", methods=["GET", "POST"])
@no_patient_data("creates a care team member account")
def invite_team_member():
    form = InviteTeamMemberForm()
    if form.validate_on_submit():
        user = _new_user(form, Role.CARE_TEAM, full_name=form.full_name.data)
        db.session.add(
            CareTeamMember(
                user_id=user.id,
                organization_id=form.organization.data,
                discipline=Discipline(form.discipline.data),
                role=CareRole(form.role.data),
                title=(form.title.data or "").strip(),
            )
        )
        db.session.flush()
        auth_services.send_invitation(user, invited_by=current_user)
        flash(_("Invitation sent to %(email)s.", email=user.email), "success")
        return redirect(url_for("admin.users"))
    status = 422 if form.is_submitted() else 200
    return (
        render_template("admin/invite_team_member.html", form=form, labels=DISCIPLINE_LABELS),
        status,
    )


@bp.route("/invite/caregiver", methods=["GET", "POST"])
@no_patient_data(
    "creates a caregiver account and its grant for the patient named by member number and date "
    "of birth (no list of patients); the grant is audited"
)
def invite_caregiver():
    form = InviteCaregiverForm()
    if form.validate_on_submit():
        patient = patient_queries.by_member_number(form.member_number.data, form.date_of_birth.data)
        if patient is None:
            # The same words whichever of the two is wrong: no guessing one from the other.
            form.member_number.errors.append(
                _("No patient has this member number and date of birth.")
            )
            return render_template("admin/invite_caregiver.html", form=form), 422
        user = _new_user(form, Role.CAREGIVER, full_name=form.full_name.data)
        grant_access(
            patient,
            user,
            relationship=form.relationship.data.strip(),
            scopes=form.scopes.data or [],
            legal_authority=form.legal_authority.data or None,
            granted_by_id=current_user.id,
            actor_id=current_user.id,
            capacity="admin",
        )
        auth_services.send_invitation(user, invited_by=current_user)
        flash(_("Invitation sent to %(email)s.", email=user.email), "success")
        return redirect(url_for("admin.users"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/invite_caregiver.html", form=form), status


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/resend", methods=["POST"])
@no_patient_data("re-sends an account invitation")
def resend_invitation(user_id: int):
    user = _user_or_404(user_id)
    if EmptyForm().validate_on_submit() and not user.has_password and user.active:
        auth_services.send_invitation(user, invited_by=current_user)
        flash(_("Invitation sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@no_patient_data("clears an account lockout")
def unlock(user_id: int):
    user = _user_or_404(user_id)
    if EmptyForm().validate_on_submit():
        user.locked_until = None
        user.failed_logins = 0
        flash(_("%(name)s can sign in again.", name=user.full_name), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/mfa/reset", methods=["POST"])
@fresh_auth_required
@no_patient_data("resets a lost second factor; audited, and the account's owner is emailed")
def reset_mfa(user_id: int):
    """For someone who lost the phone with their app and their recovery codes. They set it up
    again at their next sign-in (or may, if their role does not need it); every session of
    theirs ends; the audit trail keeps who did it and the owner is told by email."""
    user = _user_or_404(user_id)
    if user.id == current_user.id or not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.users"))
    mfa.disable(user)
    auth_services.end_all_sessions(user.id, "mfa_reset")
    patient_id = db.session.scalar(sa.select(Patient.id).where(Patient.user_id == user.id))
    audit.record(
        action="change",
        resource="account.mfa",
        patient_id=patient_id,
        actor_id=current_user.id,
        capacity=Capacity.ADMIN.value,
        resource_id=user.id,
    )
    send_template("auth/email/mfa_reset.txt", user, user=user)
    flash(
        _(
            "Two-step sign-in for %(name)s was reset. They set it up again when they sign in.",
            name=user.full_name,
        ),
        "success",
    )
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@no_patient_data("turns an account on or off")
def toggle_active(user_id: int):
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash(_("You cannot turn off your own account."), "error")
        return redirect(url_for("admin.users"))
    if EmptyForm().validate_on_submit():
        user.active = not user.active
        if not user.active:
            auth_services.end_all_sessions(user.id, "revoked")
            flash(_("%(name)s can no longer sign in.", name=user.full_name), "success")
        else:
            flash(_("%(name)s can sign in again.", name=user.full_name), "success")
    return redirect(url_for("admin.users"))


@bp.route("/outbox")
@finds_patients(
    "delivery status of texts and emails, never what they say; a view of each patient a "
    "text shown was about"
)
def outbox():
    page = page_arg()
    total = db.session.scalar(sa.select(sa.func.count(OutboundEmail.id)))
    emails = db.session.scalars(
        sa.select(OutboundEmail)
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    texts = db.session.scalars(
        sa.select(OutboundSms)
        .order_by(OutboundSms.created_at.desc(), OutboundSms.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    audit.record_listed(
        "texting.delivery",
        [t.patient_id for t in texts if t.patient_id is not None],
        actor_id=current_user.id,
        capacity=Capacity.ADMIN.value,
    )
    return render_template(
        "admin/outbox.html",
        emails=emails,
        texts=texts,
        purposes=PURPOSE_LABELS,
        text_lines=delivery.describe_texts(texts),
        email_line=delivery.describe_email,
        total=total,
        page=page,
        pages=page_count(total, PER_PAGE),
    )


@bp.route("/security")
@no_patient_data("refused attempts: who, when, which page and record number; no names, no content")
def security():
    """What the access policy refused, newest first: for whoever watches for someone trying
    records that are not theirs. One user's attempts with ?user=<id>; older with ?before=."""
    user_id = id_arg("user")
    rows, older = queries.denied_page(before=id_arg("before"), per_page=PER_PAGE, actor_id=user_id)
    return render_template(
        "admin/security.html",
        rows=rows,
        older=older,
        user_id=user_id,
        resources=audit.RESOURCE_LABELS,
    )
