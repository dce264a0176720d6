"""The patient's name as a key to sort and search a member's panel: "family given", without
accents, case-folded ("José Núñez" sorts and is found as "nunez jose").

Assignments carry the key (`CareTeamAssignment.patient_sort`), set when a patient joins a care
team; `refresh_patient_sort` sets it again in bulk (after a data load).
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from sqlalchemy import event

from app.patients.models import Patient
from app.team.models import CareTeamAssignment

#: Above every character: key >= prefix AND key < prefix + END is "starts with prefix".
END = "\U0010ffff"


def sort_key(*parts: str | None) -> str:
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())[:120]


def prefix_range(column, typed: str):
    """SQL: `column` starts with what was typed (normalised like the key); an index range."""
    prefix = sort_key(typed)
    return sa.and_(column >= prefix, column < prefix + END)


@event.listens_for(CareTeamAssignment, "before_insert")
def _set_sort_key(mapper, connection, target: CareTeamAssignment) -> None:
    if not target.patient_sort:
        names = connection.execute(
            sa.select(Patient.family_name, Patient.given_name).where(
                Patient.id == target.patient_id
            )
        ).first()
        if names is not None:
            target.patient_sort = sort_key(*names)


def refresh_patient_sort(session, chunk: int = 5000) -> None:
    """Set every assignment's key from its patient's name (bulk, in chunks)."""
    last = 0
    while True:
        rows = session.execute(
            sa.select(Patient.id, Patient.family_name, Patient.given_name)
            .where(Patient.id > last)
            .order_by(Patient.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        table = CareTeamAssignment.__table__
        session.execute(
            sa.update(table)
            .where(table.c.patient_id == sa.bindparam("pid"))
            .values(patient_sort=sa.bindparam("key")),
            [{"pid": r.id, "key": sort_key(r.family_name, r.given_name)} for r in rows],
        )
        last = rows[-1].id
