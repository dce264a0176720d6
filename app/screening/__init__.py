"""Social needs screening in the portal: the CMS Accountable Health Communities
Health-Related Social Needs core questions, answered by the patient (or a caregiver with the
scope, or the team for them) in their language, stored as a FHIR-shaped QuestionnaireResponse;
a need found suggests a referral on the community health worker's worklist, and the screening
is offered again after 12 months."""

from flask import Blueprint, Flask

bp = Blueprint("screening", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.core import audit
    from app.screening import models, views  # noqa: F401  (tables; routes, panel on bp)
    from app.screening.labels import AUDIT_RESOURCES

    audit.register_labels(resources=AUDIT_RESOURCES)
    app.register_blueprint(bp)
