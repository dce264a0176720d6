"""Caregiver access, both sides.

The caregiver's own page is /caregivers/ ("People I help"). The patient's pages about the
people who help them belong to the record, so they live at /patients/<id>/caregivers/..., and
the invitee's link at /caregivers/accept/<token>, which keeps the token in the session and sends
the browser on to /caregivers/accept, where the invitation is shown and accepted.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import aliased, joinedload

from app.auth import services as auth_services
from app.auth.fresh import fresh_auth_required
from app.auth.models import Role, User
from app.caregivers import bp, grants, invitations, panel  # noqa: F401  (panel: what_i_may)
from app.caregivers.forms import (
    ChangeAccessForm,
    InviteForm,
    NewCaregiverAccountForm,
    ProofForm,
    category_choices,
)
from app.caregivers.invitations import InvitationError
from app.caregivers.labels import SCOPE_LABELS
from app.caregivers.models import CaregiverGrant, CaregiverInvitation
from app.caregivers.queries import grants_in_force
from app.caregivers.rules import in_force
from app.core import audit, idempotency, links
from app.core.access import (
    Permission,
    can,
    finds_patients,
    no_patient_data,
    patient_route,
    role_required,
)
from app.core.db import utcnow
from app.core.forms import EmptyForm
from app.core.privacy import Capacity
from app.extensions import db, limiter
from app.texting.optout import is_opted_out


def _rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


# ---------------------------------------------------------------- the caregiver's side


@bp.route("/caregivers/")
@role_required(Role.CAREGIVER)
@finds_patients("the people the signed-in caregiver helps: a view of each one shown")
def people():
    # One card per person: the newest grant in force, the one the policy decides with.
    newest = {}
    for grant in grants_in_force(caregiver_id=current_user.id, newest_first=True):
        newest.setdefault(grant.patient_id, grant)
    grants = sorted(newest.values(), key=lambda grant: (grant.patient.display_name, grant.id))
    audit.record_listed(
        "caregivers.people",
        [grant.patient_id for grant in grants],
        actor_id=current_user.id,
        capacity=Capacity.CAREGIVER.value,
    )
    return render_template("caregivers/people.html", grants=grants, open_url=_open_url)


def _open_url(patient_id: int) -> str:
    """Where "Open Jim's care" leads: the person's home when the app has one, else their
    summary."""
    endpoint = "patients.home_page"
    if endpoint not in current_app.view_functions:
        endpoint = "patients.summary"
    return url_for(endpoint, patient_id=patient_id)


def people_i_help_count() -> int:
    """How many people the signed-in caregiver helps now (for the "Switch" link)."""
    if "people_i_help" not in g:
        count = 0
        if current_user.is_authenticated and current_user.role is Role.CAREGIVER:
            count = len({x.patient_id for x in grants_in_force(caregiver_id=current_user.id)})
        g.people_i_help = count
    return g.people_i_help


@bp.app_context_processor
def _acting_for_globals():
    return {"people_i_help_count": people_i_help_count}


# ---------------------------------------------------------------- the patient's side


def _helpers_page_data(patient):
    """Everyone who helps (now and before) with who set it up, and pending invitations:
    two queries, however many people there are."""
    now = utcnow()
    granted_by = aliased(User)
    rows = db.session.execute(
        sa.select(CaregiverGrant, granted_by.full_name)
        .where(CaregiverGrant.patient_id == patient.id)
        .outerjoin(granted_by, granted_by.id == CaregiverGrant.granted_by_id)
        .options(joinedload(CaregiverGrant.caregiver))
        .order_by(CaregiverGrant.starts_at.desc(), CaregiverGrant.id.desc())
    ).all()
    current, ended = [], []
    for grant, set_up_by in rows:
        ended_now = not in_force(grant, patient, now)
        (ended if ended_now else current).append((grant, set_up_by))
    pending = db.session.scalars(
        sa.select(CaregiverInvitation)
        .where(CaregiverInvitation.patient_id == patient.id, CaregiverInvitation.pending_at(now))
        .order_by(CaregiverInvitation.created_at.desc(), CaregiverInvitation.id.desc())
    ).all()
    return current, ended, pending


@bp.route("/patients/<int:patient_id>/caregivers")
@patient_route(Permission.VIEW_CAREGIVERS, "caregivers.grant")
def helpers(patient):
    current, ended, pending = _helpers_page_data(patient)
    return render_template(
        "caregivers/helpers.html",
        patient=patient,
        current=current,
        ended=ended,
        pending=pending,
        manages=can(current_user, Permission.MANAGE_CAREGIVERS, patient),
        sees_log=can(current_user, Permission.VIEW_AUDIT_LOG, patient),
        is_patient=patient.user_id == current_user.id,
        controls=invitations.patient_controls,
        local_date=lambda when: patient.local(when).date(),
        last_day=lambda grant: grants.last_day(patient, grant.ends_at),
        scope_labels=SCOPE_LABELS,
        category_labels=dict(category_choices()),
        action_form=EmptyForm(),
    )


@bp.route("/patients/<int:patient_id>/caregivers/invite", methods=["GET", "POST"])
@patient_route(Permission.MANAGE_CAREGIVERS, "caregivers.invitation")
@fresh_auth_required
def invite(patient):
    form = InviteForm(today=patient.today())
    if form.validate_on_submit():
        phone = form.mobile_phone.data or None
        if phone and is_opted_out(phone):
            form.mobile_phone.errors.append(
                _("This number asked us to stop sending texts. Use their email instead.")
            )
        elif (again := idempotency.replay(form)) is not None:
            return again  # the invitation the first click sent
        else:
            email = auth_services.normalise_email(form.email.data) or None
            invitation, token = invitations.create(
                patient,
                current_user._get_current_object(),
                name=form.full_name.data.strip(),
                email=email,
                phone=phone,
                relationship=form.relation_words,
                relation=form.relation,
                scopes=form.scopes.data or [],
                categories=form.sensitive_categories.data or [],
                ends_at=grants.end_of_access(patient, form.ends_on.data),
            )
            invitations.send(invitation, token, patient)
            helpers_url = url_for("caregivers.helpers", patient_id=patient.id)
            idempotency.remember(form, helpers_url)
            if phone:
                flash(_("We texted the invitation to %(name)s.", name=invitation.name), "success")
            else:
                flash(_("We emailed the invitation to %(name)s.", name=invitation.name), "success")
            return redirect(helpers_url)
    status = 422 if form.is_submitted() else 200
    return (
        render_template(
            "caregivers/invite.html",
            form=form,
            patient=patient,
            hours=current_app.config["CAREGIVER_INVITE_HOURS"],
        ),
        status,
    )


@bp.route(
    "/patients/<int:patient_id>/caregivers/invitations/<int:invitation_id>/cancel",
    methods=["POST"],
)
@patient_route(Permission.MANAGE_CAREGIVERS, "caregivers.invitation")
def cancel_invitation(patient, invitation_id: int):
    invitation = db.session.scalar(
        sa.select(CaregiverInvitation).where(
            CaregiverInvitation.id == invitation_id,
            CaregiverInvitation.patient_id == patient.id,
        )
    )
    if invitation is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        if invitations.cancel(invitation):
            flash(_("The invitation to %(name)s is cancelled.", name=invitation.name), "success")
        else:
            audit.record(
                action="view",
                resource="caregivers.invitation",
                resource_id=invitation.id,
                patient_id=patient.id,
            )
            flash(_("That invitation was already used, cancelled or too old."), "info")
    return redirect(url_for("caregivers.helpers", patient_id=patient.id))


def _grant_the_patient_controls(patient, grant_id: int) -> CaregiverGrant:
    grant = db.session.scalar(
        sa.select(CaregiverGrant)
        .where(CaregiverGrant.id == grant_id, CaregiverGrant.patient_id == patient.id)
        .options(joinedload(CaregiverGrant.caregiver))
    )
    if grant is None or not in_force(grant, patient) or not invitations.patient_controls(grant):
        abort(404)
    return grant


@bp.route("/patients/<int:patient_id>/caregivers/<int:grant_id>/edit", methods=["GET", "POST"])
@patient_route(Permission.MANAGE_CAREGIVERS, "caregivers.grant")
@fresh_auth_required
def edit_grant(patient, grant_id: int):
    grant = _grant_the_patient_controls(patient, grant_id)
    current_end = grants.last_day(patient, grant.ends_at)
    data = None
    if request.method == "GET":
        data = {
            "scopes": list(grant.scopes or []),
            "sensitive_categories": list(grant.sensitive_categories or []),
            "ends_on": current_end,
        }
    form = ChangeAccessForm(data=data, today=patient.today(), current_end=current_end)
    if form.validate_on_submit():
        ends_at = grant.ends_at  # the same date keeps the same moment
        if form.ends_on.data != current_end:
            ends_at = grants.end_of_access(patient, form.ends_on.data)
        changed = invitations.change(
            grant,
            patient,
            scopes=form.scopes.data or [],
            categories=form.sensitive_categories.data or [],
            ends_at=ends_at,
        )
        if changed:
            flash(
                _("Saved. %(name)s sees the change right away.", name=grant.caregiver.full_name),
                "success",
            )
        else:
            audit.record(
                action="view",
                resource="caregivers.grant",
                resource_id=grant.id,
                patient_id=patient.id,
            )
        return redirect(url_for("caregivers.helpers", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return (
        render_template("caregivers/edit_grant.html", form=form, patient=patient, grant=grant),
        status,
    )


@bp.route("/patients/<int:patient_id>/caregivers/<int:grant_id>/end", methods=["GET", "POST"])
@patient_route(Permission.MANAGE_CAREGIVERS, "caregivers.grant")
@fresh_auth_required
def end_grant(patient, grant_id: int):
    grant = _grant_the_patient_controls(patient, grant_id)
    form = EmptyForm()
    if form.validate_on_submit():
        invitations.end(grant, patient)
        flash(
            _("%(name)s can no longer see your record.", name=grant.caregiver.full_name),
            "success",
        )
        return redirect(url_for("caregivers.helpers", patient_id=patient.id))
    return render_template("caregivers/end_grant.html", form=form, patient=patient, grant=grant)


# ---------------------------------------------------------------- the invitee's side


#: Invitations whose code this browser entered (kept in the signed session, and across
#: signing in to accept with an existing account).
PROOF_KEY = "invitation_proofs"
auth_services.KEPT_AT_SIGN_IN.add(PROOF_KEY)

#: The invitation link this browser opened (app.core.links): kept across signing in to accept
#: with an existing account, like the code.
LINK = "caregiver_invitation"
auth_services.KEPT_AT_SIGN_IN.add(links.session_key(LINK))


def _forget_proof(invitation) -> None:
    session[PROOF_KEY] = [i for i in session.get(PROOF_KEY, []) if i != invitation.id]


def _prove(invitation, patient, scopes):
    """Accepting needs a code sent to where the link went: "send me a code", then the code."""
    form = ProofForm()
    status = 200
    if form.validate_on_submit():
        if form.send.data:
            try:
                invitations.send_proof(invitation, patient)
            except invitations.ProofError as exc:
                flash(str(exc), "error")
            else:
                flash(
                    _("We sent a code to %(where)s.", where=invitations.masked_address(invitation)),
                    "info",
                )
            return redirect(url_for("caregivers.accept_invitation"))
        try:
            invitations.check_proof(invitation, form.code.data)
        except invitations.ProofError as exc:
            # 200, not 4xx: the wrong try must be counted (committed) against guessing.
            form.code.errors.append(str(exc))
        else:
            session[PROOF_KEY] = [*session.get(PROOF_KEY, []), invitation.id][-5:]
            return redirect(url_for("caregivers.accept_invitation"))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "caregivers/accept_prove.html",
            invitation=invitation,
            patient=patient,
            scopes=scopes,
            form=form,
            sent=invitation.proof_code_hash is not None or bool(form.code.errors),
            where=invitations.masked_address(invitation),
            minutes=invitations.PROOF_MINUTES,
        ),
        status,
    )


def _link_problem(reason: str):
    status = 400 if reason == "invalid" else 410
    return render_template("caregivers/link_problem.html", reason=reason), status


@bp.route("/caregivers/accept/<token>", methods=["GET"])
@limiter.limit(_rate_limit, methods=["POST"])
@no_patient_data("keeps the invitation link's token for this browser; shows nothing")
def accept(token: str):
    return links.land(LINK, token, "caregivers.accept_invitation")


@bp.route("/caregivers/accept", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@no_patient_data(
    "the invitee's own step: links their own account to the invitation; the grant is audited"
)
def accept_invitation():
    token = links.landed(LINK)
    if token is None:
        return _link_problem("invalid")
    try:
        invitation = invitations.check(token)
    except InvitationError as exc:
        return _link_problem(exc.reason)
    patient = invitation.patient
    scopes = [SCOPE_LABELS[s] for s in SCOPE_LABELS if s.value in (invitation.scopes or [])]
    if current_user.is_authenticated and current_user.role is not Role.CAREGIVER:
        # Nothing is written: a patient, care team or admin account cannot be a caregiver.
        return (
            render_template(
                "caregivers/accept_wrong_account.html", invitation=invitation, patient=patient
            ),
            403,
        )
    user = current_user if current_user.is_authenticated else None
    proven = invitation.id in session.get(PROOF_KEY, [])
    if not proven and not invitations.already_proven(invitation, user):
        return _prove(invitation, patient, scopes)

    if current_user.is_authenticated:
        form = EmptyForm()
        if form.validate_on_submit():
            try:
                invitations.accept(invitation, current_user._get_current_object())
            except InvitationError as exc:
                return _link_problem(exc.reason)
            _forget_proof(invitation)
            links.forget(LINK)
            flash(_("You now help %(name)s.", name=patient.display_name), "success")
            return redirect(url_for("patients.summary", patient_id=patient.id))
        return render_template(
            "caregivers/accept.html",
            invitation=invitation,
            patient=patient,
            scopes=scopes,
            form=form,
        )

    form = NewCaregiverAccountForm(
        data={"full_name": invitation.name, "email": invitation.email}
        if request.method == "GET"
        else None
    )
    if invitation.email:
        # Invited by email: the account is for that address, which the link just proved.
        form.email.data = invitation.email
        form.email.render_kw = {**(form.email.render_kw or {}), "readonly": True}
    if form.validate_on_submit():
        email = auth_services.normalise_email(form.email.data)
        if auth_services.find_user_by_email(email) is not None:
            form.email.errors.append(
                _("An account already uses this email. Sign in with it to accept.")
            )
        else:
            user = auth_services.create_account(
                email=email,
                full_name=form.full_name.data,
                role=Role.CAREGIVER,
                locale=str(get_locale()),
                password=form.password.data,
            )
            try:
                invitations.accept(invitation, user)
            except InvitationError as exc:
                return _link_problem(exc.reason)
            _forget_proof(invitation)
            links.forget(LINK)
            auth_services.start_session(user)
            flash(
                _(
                    "Welcome to CareCircle, %(name)s. You now help %(patient)s.",
                    name=user.full_name,
                    patient=patient.display_name,
                ),
                "success",
            )
            return redirect(url_for("patients.summary", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return (
        render_template(
            "caregivers/accept.html",
            invitation=invitation,
            patient=patient,
            scopes=scopes,
            form=form,
        ),
        status,
    )
