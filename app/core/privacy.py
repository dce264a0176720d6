"""The privacy vocabulary every domain shares: sensitive categories, who is acting, and the one
filter that keeps hidden rows out of every query.

A plan item, goal, decision, change-log row or message thread may carry a `Sensitivity`. The
access policy decides, for each viewer and patient, which categories that viewer may not see;
`patient_route` puts the answer on `g.actor`. Every query that lists, counts or fetches such
rows adds `visible(Model.sensitivity, hidden())`, so a hidden row leaves no trace: not in lists,
counts, badges, "What changed", texts or emails. Sensitivity is decided when the row is read,
never copied into a place that would keep an old answer.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context
from flask_babel import lazy_gettext as _l


class Sensitivity(enum.StrEnum):
    """A sensitive category of health information."""

    BEHAVIORAL_HEALTH = "behavioral_health"
    SUBSTANCE_USE = "substance_use"
    SEXUAL_REPRODUCTIVE = "sexual_reproductive"
    #: Between the patient and the care team only (a teen's private thread): no caregiver
    #: grant can include it, so `visible` keeps it from every caregiver.
    CONFIDENTIAL = "confidential"


#: The categories a patient may choose to share with a caregiver (and the only names
#: MINOR_CONFIDENTIAL_CATEGORIES may use). CONFIDENTIAL is never grantable.
GRANTABLE = (
    Sensitivity.BEHAVIORAL_HEALTH,
    Sensitivity.SUBSTANCE_USE,
    Sensitivity.SEXUAL_REPRODUCTIVE,
)
GRANTABLE_NAMES = tuple(c.value for c in GRANTABLE)

#: How each grantable category reads, for the team choosing it and the patient sharing it.
SENSITIVITY_LABELS = {
    Sensitivity.BEHAVIORAL_HEALTH: _l("Behavioral health"),
    Sensitivity.SUBSTANCE_USE: _l("Substance use"),
    Sensitivity.SEXUAL_REPRODUCTIVE: _l("Sexual and reproductive health"),
}


class Capacity(enum.StrEnum):
    """In which capacity someone acts on a patient's record."""

    PATIENT = "patient"
    CAREGIVER = "caregiver"
    CARE_TEAM = "care_team"
    ADMIN = "admin"
    SYSTEM = "system"  # scheduled jobs and the CLI
    #: An integration client (app.fhir.clients) reading through the FHIR API with its token.
    INTEGRATION = "integration"


#: Capacities on the patient's own side of the record.
PATIENT_SIDE = frozenset({Capacity.PATIENT, Capacity.CAREGIVER})


@dataclass(frozen=True)
class Actor:
    """Who is acting on which patient's record, in which capacity, and what they may not see.

    `patient_route` sets one on `g.actor` for every patient-scoped request; services read it
    for audit rows, "What changed" and authorship. Jobs outside a request act as
    `Actor.system()`.
    """

    user_id: int | None
    capacity: Capacity
    #: The patient whose record this is (None for system jobs and pages about no patient).
    patient: Any = None
    #: Sensitive categories this actor must not see for this patient.
    hidden: frozenset[str] = field(default_factory=frozenset)
    #: The integration client acting (Capacity.INTEGRATION; user_id is None then).
    client_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, capacity=Capacity.SYSTEM)

    @property
    def acting_for(self) -> Any:
        """The patient a caregiver acts for; None for everyone else."""
        return self.patient if self.capacity is Capacity.CAREGIVER else None

    @property
    def patient_side(self) -> bool:
        return self.capacity in PATIENT_SIDE


def current_actor() -> Actor:
    """The actor of this request (or job); the system when none was set."""
    if has_app_context():
        found = g.get("actor")
        if found is not None:
            return found
    return Actor.system()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run what is inside as `actor` (a job, the demo, a test), then restore who acted."""
    before = g.get("actor")
    g.actor = actor
    try:
        yield actor
    finally:
        if before is None:
            g.pop("actor", None)
        else:
            g.actor = before


def hidden() -> frozenset[str]:
    """What the current actor may not see for the patient of this request."""
    return current_actor().hidden


def visible(column, hidden_categories: frozenset[str]):
    """A SQL condition keeping rows whose sensitivity the viewer may see."""
    if not hidden_categories:
        return sa.true()
    return column.is_(None) | column.not_in([Sensitivity(h) for h in hidden_categories])


def is_visible(sensitivity: Sensitivity | str | None, hidden_categories: frozenset[str]) -> bool:
    """Python twin of `visible`, for one row already loaded."""
    if sensitivity is None:
        return True
    return Sensitivity(sensitivity).value not in hidden_categories
