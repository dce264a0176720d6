"""Delegated access: caregiver grants and scopes, THE access policy (with the age rules), the
patient's invitations and control, the care team's legal grants, expiry and birthdays
(`flask caregivers sweep`)."""

from flask import Blueprint, Flask

bp = Blueprint("caregivers", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.caregivers import team_views, views  # noqa: F401  (routes on bp, team_views.bp)
    from app.caregivers.cli import caregivers
    from app.caregivers.labels import (
        AUDIT_ACTIONS,
        AUDIT_RESOURCES,
        relation_label,
        relation_of_mine,
        relation_to,
    )
    from app.caregivers.policy import CareCirclePolicy
    from app.core import access, audit

    access.install(app, CareCirclePolicy())
    audit.register_labels(resources=AUDIT_RESOURCES, actions=AUDIT_ACTIONS)
    app.register_blueprint(bp)
    # "Rosa Martínez — Leo's mother", "You: Mother": relationships in the reader's language.
    app.jinja_env.globals.update(
        relation_to=relation_to, relation_of_mine=relation_of_mine, relation_label=relation_label
    )
    app.register_blueprint(team_views.bp)
    app.cli.add_command(caregivers)
