from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from app.auth.models import Role
from app.caregivers import bp
from app.caregivers.models import CaregiverGrant
from app.core.access import no_patient_data
from app.core.db import utcnow
from app.extensions import db


@bp.route("/")
@login_required
@no_patient_data("lists the signed-in caregiver's own grants; each record opens through the policy")
def people():
    if current_user.role is not Role.CAREGIVER:
        abort(404)
    now = utcnow()
    grants = db.session.scalars(
        sa.select(CaregiverGrant)
        .where(
            CaregiverGrant.caregiver_id == current_user.id,
            CaregiverGrant.current_at(now),
        )
        .options(joinedload(CaregiverGrant.patient))
        .order_by(CaregiverGrant.id)
    ).all()
    return render_template("caregivers/people.html", grants=grants)
