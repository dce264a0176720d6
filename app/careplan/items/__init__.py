"""Plan items: medicines, appointments, referrals, self-care tasks, tests, things to learn;
the duplicate and conflict flags; Today and My plan."""

from flask import Blueprint

bp = Blueprint("items", __name__, template_folder="templates")


def import_views() -> None:
    from app.careplan.items import views  # noqa: F401  (routes on bp)
