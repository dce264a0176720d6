import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.demo import DEMO_PASSWORD, seed
from app.extensions import db
from app.patients.models import Patient
from app.team.models import CareTeamAssignment, Organization

DEMO_LOGINS = {
    "maria@demo.carecircle.test": "Expediente de María",  # she reads Spanish
    "james@demo.carecircle.test": "Jim's record",
    "ana@demo.carecircle.test": "Act for Jim",
    "rosa@demo.carecircle.test": "Leo",
    "nurse@demo.carecircle.test": "Carter",
    "admin@demo.carecircle.test": "Administration",
}


def counts():
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (User, Patient, Organization, CareTeamAssignment)
    }


def test_seed_is_idempotent(seeded, runner):
    first = counts()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0
    assert "nothing to do" in result.output
    assert counts() == first
    assert first["Organization"] >= 6  # the CCO and its organizations
    assert first["Patient"] == 3


def test_demo_content(seeded):
    patients = {p.given_name: p for p in db.session.scalars(sa.select(Patient))}
    assert patients["María"].language == "es"
    leo = patients["Leo"]
    from app.core.db import utcnow

    assert leo.age_on(utcnow().date()) == 15
    assert patients["James"].age_on(utcnow().date()) >= 80
    team = db.session.scalars(
        sa.select(CareTeamAssignment).where(CareTeamAssignment.patient_id == patients["María"].id)
    ).all()
    assert sum(a.is_coordinator for a in team) == 1
    assert len(team) >= 5


@pytest.mark.parametrize(("email", "expected"), sorted(DEMO_LOGINS.items()))
def test_every_demo_login_works(seeded, new_browser, email, expected):
    b = new_browser()
    response = b.login(email, DEMO_PASSWORD)
    assert response.status_code == 302, email
    html = b.get("/", follow_redirects=True).get_data(as_text=True)
    assert expected in html


def test_demo_refuses_production(production_app):
    app = production_app
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "never be loaded in production" in result.output
    with app.app_context(), pytest.raises(Exception, match="production"):
        seed()
