"""Organizations, care team members, each patient's care team, "My patients"."""

from flask import Blueprint, Flask

bp = Blueprint("team", __name__, template_folder="templates", url_prefix="/team")


def init_app(app: Flask) -> None:
    from app.core import audit
    from app.team import sorting, views  # noqa: F401  (the sort key event; routes on bp)
    from app.team.labels import AUDIT_RESOURCES, role_label, title_note

    app.register_blueprint(bp)
    # A care team member is shown as their translated role, then their own title when it adds
    # something (macros/avatar.html member_role).
    app.jinja_env.globals.update(member_role_label=role_label, member_title_note=title_note)
    audit.register_labels(resources=AUDIT_RESOURCES)
