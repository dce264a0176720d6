"""One RuleError, one handler: a refused action answers a 4xx, writes nothing, and leaves only
the trace of who looked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.access import no_patient_data
from app.core.audit import AuditEvent
from app.core.errors import RuleError, on_rule_error
from app.extensions import db
from app.team.models import Organization, OrganizationKind


@pytest.fixture
def refusing_app(app, make_patient):
    """The app with one extra route that writes, records a change and a view, then refuses."""
    patient = make_patient()

    @no_patient_data("test route")
    def refuse(how: str):
        db.session.add(Organization(name="Written before the refusal", kind=OrganizationKind.CCO))
        db.session.flush()
        audit.record(action="update", resource="patient.summary", patient_id=patient.id)
        audit.record(action="view", resource="patient.summary", patient_id=patient.id)
        if how == "page":
            on_rule_error(page=lambda: ("<p>the page again</p>", 200), back=None)
        else:
            on_rule_error(back="/somewhere")
        raise RuleError(
            _l("This conversation is already marked resolved."),
            status=422 if how == "input" else None,
        )

    app.add_url_rule("/_refuse/<how>", view_func=refuse)
    return app, patient


def _events(patient_id: int):
    return [
        e.action
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.patient_id == patient_id)
        )
    ]


def test_a_refusal_is_a_409_rolled_back_and_recorded_as_a_view(refusing_app):
    app, patient = refusing_app
    response = app.test_client().get("/_refuse/plain")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "This conversation is already marked resolved." in html
    assert 'href="/somewhere"' in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 0
    assert _events(patient.id) == ["view"]


def test_a_refusal_can_answer_422_and_show_the_page_it_came_from(refusing_app):
    app, _patient = refusing_app
    response = app.test_client().get("/_refuse/input")
    assert response.status_code == 422
    response = app.test_client().get("/_refuse/page")
    assert response.status_code == 409  # the page is shown again, with the rule's status
    assert response.get_data(as_text=True) == "<p>the page again</p>"


def test_a_rule_error_is_always_a_4xx():
    with pytest.raises(ValueError):
        RuleError("no", status=302)
    assert RuleError("no").status == 409


def test_the_message_is_in_the_readers_language(refusing_app):
    app, _patient = refusing_app
    response = app.test_client().get("/_refuse/plain", headers={"Accept-Language": "es"})
    assert response.status_code == 409
    assert "already marked resolved" not in response.get_data(as_text=True)
