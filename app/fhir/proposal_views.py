"""The patient's answer to a caregiver an imported record names (app.fhir.proposals): Invite
(the normal invitation, sent now) or Not now. Shown on the caregivers page
(fhir/_proposals.html, included by caregivers/helpers.html); only whoever manages the
patient's caregivers (MANAGE_CAREGIVERS: the patient) may answer, and another patient's
proposal is a 404 like one that does not exist."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as auth_services
from app.auth.fresh import fresh_auth_required
from app.core import audit
from app.core.access import Permission, patient_route
from app.core.forms import EmptyForm
from app.extensions import db
from app.fhir import proposals
from app.fhir.download import web
from app.fhir.forms import ProposalInviteForm


def _proposal_or_404(patient, proposal_id: int) -> proposals.CaregiverProposal:
    found = db.session.scalar(
        sa.select(proposals.CaregiverProposal).where(
            proposals.CaregiverProposal.id == proposal_id,
            proposals.CaregiverProposal.patient_id == patient.id,
            proposals.CaregiverProposal.permitted.is_(True),
        )
    )
    if found is None:
        abort(404)
    return found


def _back(patient):
    return redirect(url_for("caregivers.helpers", patient_id=patient.id))


def _answered_before(proposal) -> None:
    audit.record(
        action="view",
        resource="fhir.proposal",
        resource_id=proposal.id,
        patient_id=proposal.patient_id,
    )
    flash(_("You already answered this."), "info")


@web.route(
    "/patients/<int:patient_id>/caregivers/suggested/<int:proposal_id>/invite",
    methods=["GET", "POST"],
)
@patient_route(Permission.MANAGE_CAREGIVERS, "fhir.proposal")
@fresh_auth_required
def invite_proposed(patient, proposal_id: int):
    """POST: send the invitation (once). GET (after confirming the password): back to the
    page, where the question still waits."""
    proposal = _proposal_or_404(patient, proposal_id)
    form = ProposalInviteForm()
    if not form.is_submitted():
        return _back(patient)
    if not form.validate():
        problems = [e for field in (form.email, form.mobile_phone) for e in field.errors]
        flash(str(problems[0]) if problems else _("Please try again."), "error")
        return _back(patient)
    if proposal.answer is not None:
        _answered_before(proposal)
        return _back(patient)
    email = auth_services.normalise_email(form.email.data or "") or None
    invitation = proposals.invite(
        proposal,
        patient,
        current_user._get_current_object(),
        email=email,
        phone=form.mobile_phone.data or None,
    )
    if invitation is None:
        if proposals.reachable(proposal):
            _answered_before(proposal)  # the other click of a double click
        else:
            flash(_("The record does not say how to reach %(name)s.", name=proposal.name), "info")
        return _back(patient)
    if invitation.phone:
        flash(_("We texted the invitation to %(name)s.", name=invitation.name), "success")
    else:
        flash(_("We emailed the invitation to %(name)s.", name=invitation.name), "success")
    return _back(patient)


@web.post("/patients/<int:patient_id>/caregivers/suggested/<int:proposal_id>/not-now")
@patient_route(Permission.MANAGE_CAREGIVERS, "fhir.proposal")
def not_now(patient, proposal_id: int):
    proposal = _proposal_or_404(patient, proposal_id)
    if EmptyForm().validate_on_submit():
        if proposals.answer(proposal, proposals.Answer.NOT_NOW, current_user.id):
            flash(_("We will not ask you about %(name)s again.", name=proposal.name), "success")
        else:
            _answered_before(proposal)
    return _back(patient)
