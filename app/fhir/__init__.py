"""HL7 FHIR R4 interoperability: import care plans from EHRs (inbound.py, import_api.py, cli.py),
export and a read API at /fhir (outbound.py, views.py), integration clients with bearer tokens
(clients.py)."""

from flask import Blueprint, Flask

bp = Blueprint("fhir", __name__, url_prefix="/fhir", template_folder="templates")


def init_app(app: Flask) -> None:
    from app.extensions import csrf
    from app.fhir import import_api, views  # noqa: F401  (routes)

    csrf.exempt(bp)  # bearer tokens, never cookies, on /fhir (see clients.py)
    app.register_blueprint(bp)
    from app.core import errors

    # An unknown URL or method under /fhir, or a body too big before any view, has no
    # blueprint: it answers an OperationOutcome too, never the HTML error page.
    errors.API_ERRORS[bp.url_prefix] = views.http_error
    from app.fhir import (
        labels,
        proposal_views,  # noqa: F401  (routes on `web`)
    )
    from app.fhir.download import web

    app.register_blueprint(web)  # "Download my data", through the web session
    labels.register()
    from app.fhir import display

    display.register(app)  # record_source(): "From ...'s record" on item and goal pages
    from app.fhir import proposals

    proposals.register(app)  # caregiver_proposals(): "Invite her to help you?" (caregivers)
    from app.fhir import cli

    cli.register(app)
