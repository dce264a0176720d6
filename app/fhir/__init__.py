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
    from app.fhir import labels
    from app.fhir.download import web

    app.register_blueprint(web)  # "Download my data", through the web session
    labels.register()
    from app.fhir import display

    display.register(app)  # record_source(): "From ...'s record" on item and goal pages
    from app.fhir import cli

    cli.register(app)
