"""The unified care plan: items from every discipline (`items`), goals (`goals`) and shared
decisions (`decisions`), each a blueprint of its own under this one; and what they share:
the "What changed" log (`changes`) and a few labels."""

from flask import Blueprint, Flask

from app.careplan import decisions, goals, items, translations

bp = Blueprint("careplan", __name__, template_folder="templates")
bp.register_blueprint(items.bp)
bp.register_blueprint(goals.bp)
bp.register_blueprint(decisions.bp)


def init_app(app: Flask) -> None:
    from app.careplan import views  # noqa: F401  (the "What changed" page is on bp)
    from app.careplan.labels import AUDIT_RESOURCES, ingredient_names, unit_label
    from app.core import audit

    for wing in (items, goals, decisions, translations):
        wing.import_views()
    audit.register_labels(resources=AUDIT_RESOURCES)
    translations.reading.register(app)  # content(thing) for templates: the reader's language
    app.register_blueprint(bp)
    # Names the plan stores in English, shown in the reader's language (issue 16).
    app.add_template_filter(ingredient_names, "ingredients")
    app.add_template_filter(unit_label, "unit")
