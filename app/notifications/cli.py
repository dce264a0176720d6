"""`flask notifications send` and `flask messaging digest` (run them from cron)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app, render_template
from flask.cli import AppGroup
from flask_babel import force_locale, ngettext

from app.auth.models import User
from app.core.mail import deliver, queue_email
from app.extensions import db
from app.messaging import queries as message_queries
from app.notifications.services import deliver_due, public_link
from app.team.models import CareTeamMember

notifications = AppGroup("notifications", help="Texts and emails waiting to go out.")
messaging = AppGroup("messaging", help="Care team messaging jobs.")


@notifications.command("send")
def send_command() -> None:
    """Send the texts whose quiet hours are over."""
    click.echo(f"{deliver_due()} text(s) handed to the SMS backend.")


def send_digest() -> int:
    """Email each team member how many conversations waiting for them are overdue.

    The email gives a number and a link, never a patient's name or a subject.
    """
    sent = []
    for member, user in db.session.execute(
        sa.select(CareTeamMember, User)
        .join(User, User.id == CareTeamMember.user_id)
        .where(User.active.is_(True))
    ).all():
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(
                message_queries.inbox_query(member, "overdue").subquery()
            )
        )
        if not count:
            continue
        locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(locale):
            subject = ngettext(
                "%(num)d overdue conversation in CareCircle",
                "%(num)d overdue conversations in CareCircle",
                count,
            )
            body = render_template(
                "notifications/overdue_digest.txt",
                user=user,
                count=count,
                link=public_link("/team/inbox?view=overdue"),
            )
        sent.append(queue_email(to=user.email, subject=subject, body=body, user_id=user.id).id)
    db.session.commit()
    deliver(sent)
    return len(sent)


@messaging.command("digest")
def digest_command() -> None:
    """Send each care team member a digest of their overdue conversations."""
    click.echo(f"{send_digest()} digest email(s) sent.")
