"""Notices the patient sees about access others were given to their record."""

from __future__ import annotations

from flask import flash
from flask_babel import format_date
from flask_babel import gettext as _

from app.caregivers.models import CaregiverGrant, GrantKind
from app.caregivers.queries import grants_in_force
from app.core.db import utcnow
from app.patients.models import Patient


def notice_of_team_grants(patient: Patient) -> None:
    """When a patient opens their record, tell them about access the care team set up.

    Called by the summary page after the policy let the patient in (never with an id from the
    URL before that). Shown once per grant (as a notice at the top of the page); "Who has seen
    my record" keeps the lasting trace.
    """
    now = utcnow()
    for grant in grants_in_force(
        patient_id=patient.id,
        where=(
            CaregiverGrant.kind != GrantKind.DELEGATE,
            CaregiverGrant.patient_notice_seen_at.is_(None),
        ),
        now=now,
    ):
        name = grant.caregiver.full_name
        day = format_date(patient.today(grant.starts_at), "long")
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
