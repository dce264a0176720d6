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
    "ana@demo.carecircle.test": "Acting for Jim",  # she helps one person: straight to him
    "rosa@demo.carecircle.test": "Leo",
    "nurse@demo.carecircle.test": "Carter",
    "admin@demo.carecircle.test": "Administration",
    "lan@demo.carecircle.test": "Xin chào, Lan",  # she reads Vietnamese
    "minh@demo.carecircle.test": "Acting for Lan",  # her son reads English
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
    assert first["Patient"] == 4  # the four (the tests leave out the history: DEMO_HISTORY)


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


# ------------------------------------------------------------ fixes found on the walk (issue 14)


def test_marking_a_conversation_resolved_says_so_and_so_does_opening_it_again(seeded, new_browser):
    from app.messaging.models import Thread, ThreadStatus

    thread = db.session.scalar(
        sa.select(Thread)
        .where(Thread.patient_id == 2, Thread.status == ThreadStatus.OPEN)
        .order_by(Thread.id)
        .limit(1)
    )
    url = f"/patients/2/messages/{thread.id}"
    nurse = new_browser()
    nurse.login("nurse@demo.carecircle.test", DEMO_PASSWORD)
    done = nurse.post(f"{url}/resolve", {}, form_url=url, follow_redirects=True)
    assert "Marked resolved. If the patient or a helper writes again, it opens again." in (
        done.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Thread, thread.id).status is ThreadStatus.RESOLVED
    again = nurse.post(f"{url}/resolve", {"reopen": "1"}, form_url=url, follow_redirects=True)
    assert "Opened again. The team can pick it up." in again.get_data(as_text=True)
    # Twice in a row (a double tap) is refused as before, with no "done" message.
    twice = nurse.post(f"{url}/resolve", {"reopen": "1"}, form_url=url)
    assert twice.status_code == 409 and "Opened again" not in twice.get_data(as_text=True)


def selected(html: str, name: str) -> str | None:
    """The value a <select name=...> of the page has chosen, as the browser would send it."""
    import re

    block = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    for attrs in re.findall(r"<option([^>]*)>", block):
        if re.search(r"\bselected\b", attrs):
            return re.search(r'value="([^"]*)"', attrs).group(1)
    return None


@pytest.mark.parametrize("kind", ["task", "appointment"])
def test_a_new_self_care_task_is_the_patients_to_do(seeded, new_browser, kind):
    """The nurse adds a task for James: it is his to do unless she says otherwise (it was hers,
    so it never showed on his Today to tick off). Anything else is still the nurse's own."""
    from app.team.models import CareTeamMember

    nurse = new_browser()
    nurse.login("nurse@demo.carecircle.test", DEMO_PASSWORD)
    form = nurse.get(f"/patients/2/plan/new/{kind}").get_data(as_text=True)
    member = db.session.scalar(
        sa.select(CareTeamMember)
        .join(User, User.id == CareTeamMember.user_id)
        .where(User.email == "nurse@demo.carecircle.test")
    )
    expected = "patient" if kind == "task" else f"member:{member.id}"
    assert selected(form, "owner") == expected
    assert selected(form, "source_organization") == str(member.organization_id)


def test_a_task_saved_with_the_default_owner_is_on_the_patients_today(seeded, new_browser):
    from app.careplan.items.models import OwnerKind, PlanItem

    nurse = new_browser()
    nurse.login("nurse@demo.carecircle.test", DEMO_PASSWORD)
    url = "/patients/2/plan/new/task"
    form = nurse.get(url).get_data(as_text=True)
    data = {
        name: selected(form, name)
        for name in ("status", "discipline", "source_organization", "owner")
    }
    data.update(title="Stretch for 5 minutes", area="physical_health", schedule="daily")
    response = nurse.post(url, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    item = db.session.scalar(sa.select(PlanItem).where(PlanItem.title == "Stretch for 5 minutes"))
    assert item.owner_kind is OwnerKind.PATIENT
    james = new_browser()
    james.login("james@demo.carecircle.test", DEMO_PASSWORD)
    assert "Stretch for 5 minutes" in james.get("/patients/2/today").get_data(as_text=True)


def public_base_url(tmp_path, **env) -> str:
    """PUBLIC_BASE_URL as a development app started with this environment has it."""
    import os
    import subprocess
    import sys

    from tests.fixtures.app import ROOT

    clean = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "FLASK_RUN_PORT")}
    clean.update(INSTANCE_PATH=str(tmp_path), APP_ENV="development", **env)
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path}/demo.db"
    code = (
        "from app import create_app; from app.core.urls import public_url_for;"
        "app = create_app();"
        "ctx = app.app_context(); ctx.push();"
        "print(app.config['PUBLIC_BASE_URL'], public_url_for('auth.login'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_links_follow_the_port_the_demo_serves_on(tmp_path):
    assert public_base_url(tmp_path) == [
        "http://127.0.0.1:5000",
        "http://127.0.0.1:5000/auth/login",
    ]
    assert public_base_url(tmp_path, FLASK_RUN_PORT="5001") == [
        "http://127.0.0.1:5001",
        "http://127.0.0.1:5001/auth/login",
    ]
    # Set explicitly, it wins; set but empty (as in .env.example), the port decides.
    assert (
        public_base_url(
            tmp_path, FLASK_RUN_PORT="5001", PUBLIC_BASE_URL="https://portal.example.org"
        )[0]
        == "https://portal.example.org"
    )
    assert public_base_url(tmp_path, FLASK_RUN_PORT="5002", PUBLIC_BASE_URL="")[0] == (
        "http://127.0.0.1:5002"
    )


def test_make_demo_with_a_port_serves_there(tmp_path):
    """`make demo PORT=5001`: every step gets FLASK_RUN_PORT=5001 (so the seed's and the
    server's links follow it) and the server runs on it. A stand-in `flask` records what
    it was asked; the real steps are tested on their own."""
    import os
    import shutil
    import subprocess

    from tests.fixtures.app import ROOT

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    fake = bin_dir / "flask"
    fake.write_text(f'#!/bin/sh\necho "$* port=$FLASK_RUN_PORT" >> "{log}"\n')
    fake.chmod(0o755)
    stamp = tmp_path / "installed"
    stamp.touch()
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "FLASK_RUN_PORT", "MAKEFLAGS")}

    def make(*args: str) -> list[str]:
        log.write_text("")
        done = subprocess.run(
            ["make", "--no-print-directory", "demo", f"BIN={bin_dir}", f"STAMP={stamp}", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return log.read_text().splitlines()

    calls = make("PORT=5001")
    assert calls[-1] == "run --host 127.0.0.1 port=5001"
    assert all(call.endswith("port=5001") for call in calls)
    assert "demo seed port=5001" in calls
    assert make()[-1] == "run --host 127.0.0.1 port=5000"
    env["FLASK_RUN_PORT"] = "5003"  # flask's own variable, set in the shell, is kept
    assert make()[-1] == "run --host 127.0.0.1 port=5003"


def test_lan_and_her_son_get_their_texts_each_in_their_own_language(seeded):
    """Lan reads Vietnamese, Minh (who gets her reminders) English: the same appointment's
    texts go to each in their language, Minh's naming only her first name."""
    from app.texting.models import OutboundSms

    lan = db.session.scalar(sa.select(Patient).where(Patient.given_name == "Lan"))
    minh = db.session.scalar(sa.select(User).where(User.email == "minh@demo.carecircle.test"))
    texts = db.session.scalars(
        sa.select(OutboundSms).where(OutboundSms.purpose == "appointment")
    ).all()
    to_lan = [t for t in texts if t.to_number == lan.mobile_phone]
    to_minh = [t for t in texts if t.to_number == minh.mobile_phone]
    assert to_lan and to_minh
    assert {t.locale for t in to_lan} == {"vi"} and {t.locale for t in to_minh} == {"en"}
    assert all("quý vị có hẹn" in t.body for t in to_lan)
    assert all(t.body.startswith("CareCircle: Lan has an appointment") for t in to_minh)
    assert not any("Khám" in t.body or "Okafor" in t.body for t in texts if t in to_minh)
