"""Goals in the patient's own words (FHIR Goal): check-ins, the trend chart, who may move a goal
where."""

from flask import Blueprint

bp = Blueprint("goals", __name__, template_folder="templates")


def import_views() -> None:
    from app.careplan.goals import views  # noqa: F401  (routes on bp)
