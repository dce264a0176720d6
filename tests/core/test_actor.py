"""Who acts: `g.actor` in a request, the system in a job; audit rows of jobs are never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.auth.models import Role
from app.core import audit
from app.core.audit import AuditEvent
from app.core.privacy import (
    Actor,
    Capacity,
    Sensitivity,
    acting_as,
    current_actor,
    hidden,
    is_visible,
    visible,
)
from app.extensions import db


def test_outside_a_request_the_actor_is_the_system(app):
    assert current_actor() == Actor.system()
    assert current_actor().capacity is Capacity.SYSTEM and hidden() == frozenset()


def test_acting_as_sets_the_actor_and_restores_it(app):
    ana = Actor(user_id=7, capacity=Capacity.CAREGIVER, patient="James", hidden=frozenset({"x"}))
    with acting_as(ana):
        assert current_actor() is ana and ana.acting_for == "James" and hidden() == {"x"}
        with acting_as(Actor.system()):
            assert current_actor().capacity is Capacity.SYSTEM
        assert current_actor() is ana
    assert current_actor() == Actor.system()
    assert Actor(user_id=1, capacity=Capacity.CARE_TEAM, patient="James").acting_for is None


def test_visible_and_is_visible_agree():
    hidden_categories = frozenset({"behavioral_health"})
    assert is_visible(None, hidden_categories)
    assert is_visible(Sensitivity.SUBSTANCE_USE, hidden_categories)
    assert not is_visible(Sensitivity.BEHAVIORAL_HEALTH, hidden_categories)
    assert not is_visible("behavioral_health", hidden_categories)
    assert str(visible(AuditEvent.resource, frozenset())) == "true"


def test_a_job_audit_row_is_written_with_the_jobs_own_commit(app, make_patient):
    patient = make_patient()
    audit.record(action="update", resource="caregivers.grant", patient_id=patient.id)
    db.session.commit()
    [event] = db.session.scalars(sa.select(AuditEvent)).all()
    assert (event.capacity, event.actor_id, event.endpoint) == ("system", None, None)


def test_the_sweep_command_leaves_its_audit_rows(app, runner, make_patient, make_user, grant):
    patient = make_patient()
    helper = make_user(Role.CAREGIVER)
    row = grant(patient, helper, scopes=["plan"], ends_at=datetime.now(UTC) - timedelta(days=1))
    result = runner.invoke(args=["caregivers", "sweep"])
    assert "expired=1" in result.output
    db.session.expire_all()
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.resource_id == str(row.id))
    ).all()
    assert (event.action, event.capacity, event.patient_id) == ("update", "system", patient.id)
