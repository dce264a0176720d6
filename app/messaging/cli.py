"""`flask messaging digest`: each care team member's overdue conversations (run it from cron)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.auth.models import User
from app.core.mail import deliver, send_template
from app.core.urls import public_url
from app.extensions import db
from app.messaging import queries, workqueue
from app.team.models import CareTeamMember

messaging = AppGroup("messaging", help="Care team messaging jobs.")


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
        count = queries.inbox_count(member, "overdue")
        if not count:
            continue
        email = send_template(
            "messaging/email/overdue_digest.txt",
            user,
            user=user,
            count=count,
            link=public_url("/team/inbox?view=overdue"),
        )
        sent.append(email.id)
    db.session.commit()
    deliver(sent)
    return len(sent)


@messaging.command("digest")
def digest_command() -> None:
    """Send each care team member a digest of their overdue conversations."""
    click.echo(f"{send_digest()} digest email(s) sent.")


@messaging.command("rebuild-inbox")
def rebuild_inbox_command() -> None:
    """Rebuild every care team member's inbox queue from the threads (after a bulk load or a
    change of routing in config; the app keeps it up to date otherwise)."""
    rows = workqueue.rebuild()
    db.session.commit()
    click.echo(f"{rows} inbox rows rebuilt.")
