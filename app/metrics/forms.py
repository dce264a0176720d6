"""The dashboard's filters: a GET form (no CSRF: it changes nothing), shared by the page, the
CSV exports, the printable report and the drill-downs, so that all four answer the same scope."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError

from app.auth.models import User
from app.core.db import utcnow
from app.core.forms import PlainDateField
from app.extensions import db
from app.metrics.measures import Scope
from app.patients.models import Patient
from app.team.models import CareRole, CareTeamMember, Organization

#: The default period: the last 12 weeks, ending yesterday (today is not over yet).
DEFAULT_DAYS = 12 * 7
#: The longest period one page answers (its cost grows with the rows in it).
MAX_DAYS = 2 * 366
#: "team" values besides a member id.
WHOLE_CCO = "all"


def cco_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def cco_today() -> date:
    return utcnow().astimezone(cco_zone()).date()


def default_period() -> tuple[date, date]:
    end = cco_today() - timedelta(days=1)
    return end - timedelta(days=DEFAULT_DAYS - 1), end


def organization_choices() -> list[tuple[str, str]]:
    """The organizations patients belong to (patients.organization_id): a pharmacy or a
    specialty clinic has no patients of its own to measure."""
    has_patients = sa.exists().where(Patient.organization_id == Organization.id)
    rows = db.session.execute(
        sa.select(Organization.id, Organization.name)
        .where(has_patients)
        .order_by(Organization.name)
    )
    return [("", str(_l("All organizations")))] + [(str(i), name) for i, name in rows]


def team_choices(own_member_id: int | None) -> list[tuple[str, str]]:
    """Whose panel: the whole CCO, the viewer's own panel (a care team member), and each care
    coordinator's (the people a coordinator compares with), by name."""
    choices = [(WHOLE_CCO, str(_l("Whole CCO")))]
    if own_member_id is not None:
        choices.append((str(own_member_id), str(_l("My patients"))))
    coordinators = db.session.execute(
        sa.select(CareTeamMember.id, User.full_name)
        .join(User, User.id == CareTeamMember.user_id)
        .where(CareTeamMember.role == CareRole.CARE_COORDINATOR, User.active.is_(True))
        .order_by(User.full_name, CareTeamMember.id)
    )
    choices += [(str(i), name) for i, name in coordinators if i != own_member_id]
    return choices


class MeasureFilterForm(FlaskForm):
    """From/to (the CCO's local days, both included), organization, team. Absent fields take
    their defaults: the last 12 weeks ending yesterday; a care team member's own panel, an
    administrator's whole CCO."""

    class Meta:
        csrf = False  # a GET form: it reads, it changes nothing

    start = PlainDateField(_l("From"))
    end = PlainDateField(_l("To"))
    organization = SelectField(_l("Organization"), default="")
    team = SelectField(_l("Patients of"))

    def __init__(self, *args, own_member_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        first, last = default_period()
        if self.start.data is None and not self.start.raw_data:
            self.start.data = first
        if self.end.data is None and not self.end.raw_data:
            self.end.data = last
        self.organization.choices = organization_choices()
        self.team.choices = team_choices(own_member_id)
        if not self.team.raw_data:
            self.team.data = str(own_member_id) if own_member_id is not None else WHOLE_CCO

    def validate_start(self, field):
        if field.data is None:
            raise ValidationError(_l("Enter the first day."))

    def validate_end(self, field):
        if field.data is None:
            raise ValidationError(_l("Enter the last day."))
        if field.data > cco_today():
            raise ValidationError(_l("The last day cannot be after today."))
        start = self.start.data
        if start is None or self.start.errors:
            return
        if field.data < start:
            raise ValidationError(_l("The last day must be on or after the first day."))
        if (field.data - start).days >= MAX_DAYS:
            raise ValidationError(_l("Choose a period of 2 years or less."))

    def scope(self) -> Scope:
        """The validated filters as the measures' Scope."""
        team = self.team.data
        return Scope(
            start=self.start.data,
            end=self.end.data,
            organization_id=int(self.organization.data) if self.organization.data else None,
            member_id=None if team in (None, "", WHOLE_CCO) else int(team),
            zone=cco_zone(),
        )

    def query_args(self) -> dict[str, str]:
        """The filters as query string arguments, for the CSV, report and drill-down links."""
        args = {"start": self.start.data.isoformat(), "end": self.end.data.isoformat()}
        if self.organization.data:
            args["organization"] = self.organization.data
        if self.team.data:
            args["team"] = self.team.data
        return args
