"""Shared decisions between the patient side and the care team."""

from flask import Blueprint

bp = Blueprint("decisions", __name__, template_folder="templates")


def import_views() -> None:
    from app.careplan.decisions import views  # noqa: F401  (routes on bp)
