"""Display settings: text size, high contrast and less motion are the signed-in person's own.

What they promise: the choice shows on every page of the person who made it and on nobody
else's screen (a caregiver opening the patient's record reads it at her own size); a patient's
"Larger text" / "High contrast" care preference and their screen follow each other, so the team
still reads it; a value that is not a choice, a missing CSRF token or a second identical submit
writes nothing; `next` never leads off the site.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import AuditEvent
from app.extensions import db
from app.patients.models import PatientPreferences
from tests.fixtures.browser import csrf_from, signed_in

URL = "/auth/account/display"
HTML_TAG = re.compile(r"<html\b[^>]*>")


def html_classes(page: str) -> set[str]:
    tag = HTML_TAG.search(page).group(0)
    found = re.search(r'class="([^"]*)"', tag)
    return set(found.group(1).split()) if found else set()


def settings_of(user_id: int) -> tuple[str, bool, bool]:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    return (user.text_size.value, user.high_contrast, user.reduced_motion)


def prefs_of(patient_id: int) -> tuple[bool, bool] | None:
    db.session.expire_all()
    prefs = db.session.scalar(
        sa.select(PatientPreferences).where(PatientPreferences.patient_id == patient_id)
    )
    return None if prefs is None else (prefs.large_text, prefs.high_contrast)


def preference_updates(patient_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.patient_id == patient_id,
            AuditEvent.resource == "patient.preferences",
            AuditEvent.action == "update",
        )
    )


def choose(browser, **data):
    """Press one of the controls on the account page, as a browser does."""
    page = browser.page("/auth/account")
    return browser.client.post(URL, data={"csrf_token": csrf_from(page), **data})


# ------------------------------------------------------------------ whose screen


def test_each_persons_choice_shows_on_their_own_pages_only(two_patients, new_browser):
    james = signed_in(new_browser, two_patients.patient_user)
    maria = signed_in(new_browser, two_patients.other_user)
    pid = two_patients.patient.id
    assert html_classes(james.page("/auth/account")) == set()

    response = choose(james, text_size="larger", next=f"/patients/{pid}/preferences")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/patients/{pid}/preferences#display-settings"
    choose(james, high_contrast="1")
    choose(james, reduced_motion="1")

    assert settings_of(two_patients.patient_user.id) == ("larger", True, True)
    expected = {"text-larger", "contrast-high", "motion-reduce"}
    for path in ("/auth/account", f"/patients/{pid}/preferences", "/no-such-page"):
        assert html_classes(james.page(path)) == expected, path
    # Maria's screen is untouched; so is a visitor's sign-in page.
    assert settings_of(two_patients.other_user.id) == ("standard", False, False)
    assert html_classes(maria.page("/auth/account")) == set()
    assert html_classes(new_browser().page("/auth/login")) == set()

    # And back: each switch sets the value its button says, the page says which is on.
    choose(james, text_size="standard")
    choose(james, high_contrast="0")
    page = james.page("/auth/account")
    assert html_classes(page) == {"motion-reduce"}
    assert re.search(r'name="text_size" value="standard"[^>]*aria-pressed="true"', page)
    assert re.search(r'name="high_contrast" value="1"[^>]*aria-pressed="false"', page)
    assert re.search(r'name="reduced_motion" value="0"[^>]*aria-pressed="true"', page)


def test_demo_james_reads_in_larger_text_and_ana_at_her_own_size(seeded, new_browser):
    from app.demo import DEMO_PASSWORD

    james = new_browser()
    assert james.login("james@demo.carecircle.test", DEMO_PASSWORD).status_code == 302
    for path in ("/patients/2", "/patients/2/plan", "/patients/2/preferences", "/auth/account"):
        assert "text-large" in html_classes(james.page(path)), path

    ana = new_browser()
    assert ana.login("ana@demo.carecircle.test", DEMO_PASSWORD).status_code == 302
    for path in ("/patients/2", "/patients/2/plan", "/auth/account"):
        assert html_classes(ana.page(path)) == set(), path

    ana_id = db.session.scalar(sa.select(User.id).where(User.email == "ana@demo.carecircle.test"))
    james_id = db.session.scalar(
        sa.select(User.id).where(User.email == "james@demo.carecircle.test")
    )
    updates = preference_updates(2)
    assert choose(ana, text_size="larger", high_contrast="1").status_code == 303
    assert html_classes(ana.page("/patients/2")) == {"text-larger", "contrast-high"}
    # Her choice is hers: James's screen and his care preferences stay as they were.
    assert settings_of(ana_id) == ("larger", True, False)
    assert settings_of(james_id) == ("large", False, False)
    assert "text-larger" not in html_classes(james.page("/patients/2"))
    assert prefs_of(2) == (True, False)
    assert preference_updates(2) == updates


# ------------------------------------------------------------------ the care preference


def test_a_patients_screen_and_care_preference_follow_each_other(
    two_patients, new_browser, make_user, grant
):
    pid = two_patients.patient.id
    james = signed_in(new_browser, two_patients.patient_user)
    uid = two_patients.patient_user.id

    # The quick control: the team's "prefers larger text" follows, recorded once.
    assert choose(james, text_size="large").status_code == 303
    assert prefs_of(pid) == (True, False)
    assert preference_updates(pid) == 1
    assert choose(james, text_size="large").status_code == 303  # a double tap
    assert choose(james, text_size="larger").status_code == 303  # still "larger text"
    assert preference_updates(pid) == 1
    team = signed_in(new_browser, two_patients.member_user)
    assert "Larger text" in team.page(f"/patients/{pid}")

    # Less motion is the screen's only: no care preference, nothing on the record.
    choose(james, reduced_motion="1")
    assert preference_updates(pid) == 1

    # The preferences form: turning "Larger text" off takes the screen back to standard...
    form = {
        "language": "en",
        "contact_channels": ["portal"],
        "timezone": "America/Los_Angeles",
        "high_contrast": "y",
    }
    assert james.post(f"/patients/{pid}/preferences/edit", form).status_code == 302
    assert settings_of(uid) == ("standard", True, True)
    # ... turning it on gives the first larger step, and saving again keeps a bigger one.
    edit = james.post(f"/patients/{pid}/preferences/edit", {**form, "large_text": "y"})
    assert edit.status_code == 302
    assert settings_of(uid)[0] == "large"
    choose(james, text_size="larger")
    james.post(f"/patients/{pid}/preferences/edit", {**form, "large_text": "y"})
    assert settings_of(uid) == ("larger", True, True)

    # A caregiver who may edit the preferences changes the team's note, not anyone's screen.
    helper = make_user(role="caregiver")
    grant(two_patients.patient, helper, scopes=["goals"])
    ana = signed_in(new_browser, helper)
    assert ana.post(f"/patients/{pid}/preferences/edit", form).status_code == 302
    assert prefs_of(pid) == (False, True)
    assert settings_of(uid) == ("larger", True, True)
    assert settings_of(helper.id) == ("standard", False, False)


# ------------------------------------------------------------------ attacks


@pytest.mark.parametrize(
    "data",
    [
        {"text_size": "huge"},
        {"text_size": "LARGE"},
        {"text_size": ""},
        {"text_size": "large" * 2000},
        {"text_size": ["large", "larger"]},
        {"high_contrast": "yes"},
        {"high_contrast": "true"},
        {"reduced_motion": "2"},
        {"reduced_motion": ["1", "0"]},
        {"text_size": "larger", "high_contrast": "on"},  # one bad value spoils the lot
        {},
        {"font_size": "40px"},
    ],
    ids=repr,
)
def test_anything_but_a_choice_is_refused_and_nothing_is_written(two_patients, new_browser, data):
    james = signed_in(new_browser, two_patients.patient_user)
    response = choose(james, **data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "That is not one of the choices." in page
    assert "Nothing was changed." in page
    assert settings_of(two_patients.patient_user.id) == ("standard", False, False)
    assert prefs_of(two_patients.patient.id) is None
    assert preference_updates(two_patients.patient.id) == 0


def test_without_the_csrf_token_nothing_changes(two_patients, new_browser):
    james = signed_in(new_browser, two_patients.patient_user)
    for token in (None, "not-the-token"):
        data = {"text_size": "larger", "high_contrast": "1"}
        if token:
            data["csrf_token"] = token
        assert james.client.post(URL, data=data).status_code == 400
    assert settings_of(two_patients.patient_user.id) == ("standard", False, False)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    from tests.fixtures.browser import Browser

    visitor = Browser(client)
    token = visitor.token("/auth/login")
    response = client.post(URL, data={"csrf_token": token, "text_size": "larger"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "\x0a/evil",
    ],
)
def test_next_never_leads_off_the_site(two_patients, new_browser, target):
    james = signed_in(new_browser, two_patients.patient_user)
    response = choose(james, text_size="large", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/account#display-settings"
    assert settings_of(two_patients.patient_user.id)[0] == "large"


def test_the_controls_come_back_to_the_page_they_were_on(two_patients, new_browser):
    james = signed_in(new_browser, two_patients.patient_user)
    page = james.page("/auth/account")
    assert 'name="next" value="/auth/account"' in page
    response = choose(james, text_size="large", next="/auth/account?tab=1")
    assert response.headers["Location"] == "/auth/account?tab=1#display-settings"
    landed = james.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved." in landed


def test_pressing_again_and_again_is_limited_per_person(two_patients, new_browser, app):
    if not app.config.get("RATELIMIT_ENABLED", True):
        pytest.skip("rate limits are off in this configuration")
    james = signed_in(new_browser, two_patients.patient_user)
    token = csrf_from(james.page("/auth/account"))
    codes = [
        james.client.post(URL, data={"csrf_token": token, "text_size": size}).status_code
        for size in ["large", "standard"] * 16
    ]
    assert codes[:30] == [303] * 30
    assert codes[30:] == [429, 429]
    maria = signed_in(new_browser, two_patients.other_user)
    assert choose(maria, text_size="large").status_code == 303  # per person, not per address


# ------------------------------------------------------------------ the migration


@pytest.fixture
def empty_app(tmp_path):
    """An app on a brand-new empty database (a file, or a fresh PostgreSQL schema)."""
    from app import create_app
    from tests.fixtures.app import ON_POSTGRES, postgres_schema

    if ON_POSTGRES:
        with postgres_schema("cc_disp") as (_schema, url, options):
            app = create_app(
                "testing", {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}
            )
            yield app
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    else:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/d.db"})
        yield app
        with app.app_context():
            db.engine.dispose()


BEFORE = "b2c4d6e8f0a2"  # the revision before display settings


def test_the_migration_shows_patients_what_they_had_asked_for(empty_app):
    """Patients who had said "Larger text" or "High contrast" get it on their own screen
    once the settings exist; nobody else's screen changes; down and up again works."""
    from datetime import UTC, date, datetime, time

    from flask_migrate import downgrade, upgrade

    now = datetime(2026, 11, 30, tzinfo=UTC)
    users = sa.table(
        "users",
        *(sa.column(n) for n in ("id", "email", "full_name", "role", "timezone")),
        sa.column("active", sa.Boolean),
        sa.column("failed_logins", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    patients = sa.table(
        "patients",
        *(sa.column(n) for n in ("id", "user_id", "given_name", "family_name", "language")),
        sa.column("timezone"),
        sa.column("date_of_birth", sa.Date),
        sa.column("interpreter_needed", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    prefs = sa.table(
        "patient_preferences",
        sa.column("patient_id"),
        sa.column("contact_channels", sa.JSON),
        sa.column("reminder_lead_hours", sa.JSON),
        sa.column("quiet_start", sa.Time),
        sa.column("quiet_end", sa.Time),
        *(
            sa.column(n, sa.Boolean)
            for n in ("detailed_texts", "large_text", "high_contrast", "screen_reader")
        ),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    people = {1: ("jim", "patient"), 2: ("mia", "patient"), 3: ("ana", "caregiver")}
    with empty_app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            for uid, (name, role) in people.items():
                conn.execute(
                    users.insert().values(
                        id=uid,
                        email=f"{name}@example.test",
                        full_name=name,
                        role=role,
                        timezone="America/Los_Angeles",
                        active=True,
                        failed_logins=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
            # Jim wants larger text, Mia high contrast; the third patient has no login.
            for pid, uid, large, contrast in (
                (1, 1, True, False),
                (2, 2, False, True),
                (3, None, True, True),
            ):
                conn.execute(
                    patients.insert().values(
                        id=pid,
                        user_id=uid,
                        given_name=f"P{pid}",
                        family_name="Test",
                        language="en",
                        timezone="America/Los_Angeles",
                        date_of_birth=date(1950, 1, 1),
                        interpreter_needed=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
                conn.execute(
                    prefs.insert().values(
                        patient_id=pid,
                        contact_channels=["portal"],
                        reminder_lead_hours=[48],
                        quiet_start=time(20),
                        quiet_end=time(9),
                        detailed_texts=False,
                        large_text=large,
                        high_contrast=contrast,
                        screen_reader=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
        upgrade()
        shown = {
            row.id: (row.text_size, row.high_contrast, row.reduced_motion)
            for row in db.session.execute(
                sa.text("SELECT id, text_size, high_contrast, reduced_motion FROM users")
            )
        }
        db.session.remove()
        assert shown == {
            1: ("large", False, False),
            2: ("standard", True, False),
            3: ("standard", False, False),
        }
        # The database itself refuses a size that is not one of the three.
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE users SET text_size = 'huge' WHERE id = 1"))
        downgrade(revision=BEFORE)
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
        assert not columns & {"text_size", "high_contrast", "reduced_motion"}
        upgrade()
