"""The CCO's measures: what the organization is accountable for, computed from the portal's own
rows (docs/metrics.md defines each). measures.py holds the contract (Scope, Result, the
registry); one module per group of measures registers functions into it; views.py is the
dashboard, its CSV exports, printable report and drill-downs."""

from flask import Blueprint, Flask

bp = Blueprint("metrics", __name__, url_prefix="/measures", template_folder="templates")

#: The modules that register measures (each imports measures.register).
MEASURE_MODULES = ("coordination", "outcomes", "social_needs")


def init_app(app: Flask) -> None:
    import importlib

    for name in MEASURE_MODULES:
        importlib.import_module(f"app.metrics.{name}")
    from app.metrics import views  # noqa: F401  (routes)

    app.register_blueprint(bp)
