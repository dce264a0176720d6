"""Plan items: medicines, appointments, referrals, self-care tasks, tests, things to learn;
the duplicate and conflict flags; Today and My plan."""

from flask import Blueprint

bp = Blueprint("items", __name__, template_folder="templates")


def import_views() -> None:
    from app.careplan.items import appointments  # routes on bp, an item panel, signals

    appointments.connect_signals()
    from app.careplan.items import (
        attendance,  # noqa: F401  (came / did not come: a route and a panel on bp)
        medicine_views,  # noqa: F401  (doses, refills; panels)
        readings,  # noqa: F401  (routes and a panel on bp)
        views,  # noqa: F401  (routes on bp)
    )
