"""The short links in texts: /r/<code> stands for a portal path.

Following one needs a signed-in reader (the anonymous answer reveals nothing, not even whether
the code exists), is throttled per address, and asks the policy before redirecting into a
patient's record: a stranger holding someone else's link gets the same 404 as a made-up code,
and the refusal is recorded. The target page checks its own permission again.
"""

from __future__ import annotations

import re

from flask import abort, current_app, redirect
from flask_login import current_user, login_required

from app.core import audit
from app.core.access import Permission, can, finds_patients, load_patient
from app.extensions import limiter
from app.texting import bp, links

PATIENT_PATH = re.compile(r"^/patients/(\d{1,10})(?:/|$)")


def _rate_limit() -> str:
    return current_app.config["SHORT_LINK_RATE_LIMIT"]


@bp.route("/r/<code>")
@limiter.limit(_rate_limit)
@login_required
@finds_patients("a short link in a text: after sign-in, the policy decides and the view is audited")
def short(code: str):
    path = links.resolve(code) if len(code) <= links.MAX_CODE_LENGTH else None
    if path is None:
        abort(404)
    match = PATIENT_PATH.match(path)
    if match:
        patient_id = int(match.group(1))
        patient = load_patient(patient_id)
        if not can(current_user, Permission.VIEW_SUMMARY, patient):
            audit.record_denied(
                resource="texting.short_link",
                patient_id=patient.id if patient is not None else None,
                requested_id=patient_id,
                actor_id=current_user.id,
                capacity=current_user.role.value,
            )
            abort(404)
        audit.record_listed(
            "texting.short_link",
            [patient.id],
            actor_id=current_user.id,
            capacity=current_user.role.value,
        )
    return redirect(path)
