""" "Download my data": the patient's whole record as a FHIR Bundle, through the web session.

The same policy and the same export as the API: `patient_route` asks the policy for
DOWNLOAD_RECORD (the patient; a parent, guardian or legal representative, not a helper the
patient invited: see caregivers.policy.REPRESENTATIVE_KINDS), then `outbound.reader_for` asks
what this user may see section by section, so a representative's copy leaves out what their
pages leave out (sensitive categories not included for them, the sections their scopes do not
open). Audited ("A copy of your whole record"), rate-limited, never cached.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app
from flask_login import current_user

from app.core.access import Permission, patient_route
from app.core.db import utcnow
from app.extensions import limiter
from app.fhir import outbound
from app.fhir.clients import FHIR_JSON

web = Blueprint("fhir_web", __name__)


def _per_user() -> str:
    return f"download:{current_user.get_id()}"


def _limit() -> str:
    return current_app.config["FHIR_DOWNLOAD_RATE_LIMIT"]


def bundle_for(user, patient) -> dict | None:
    """The patient's record as `user` may see it, as a collection Bundle (None: nothing)."""
    reader = outbound.reader_for(user, patient)
    if reader is None:
        return None
    record = outbound.Record(patient, reader)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/fhir"
    return outbound.bundle("collection", record.everything(), base)


@web.get("/patients/<int:patient_id>/my-data.json")
@limiter.limit(_limit, key_func=_per_user)
@patient_route(Permission.DOWNLOAD_RECORD, "fhir.export")
def download(patient):
    body = bundle_for(current_user._get_current_object(), patient)
    if body is None:  # the policy allowed the download but no section: nothing to give
        abort(404)
    filename = f"carecircle-{patient.today(utcnow()).isoformat()}.json"
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        mimetype=FHIR_JSON,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
