"""What the system itself names reaches the reader in their language (issue 16): care team
roles, caregiver relationships, times of day on a 24-hour clock where the page's language
uses one, and whether an interpreter is booked for a visit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant, CaregiverInvitation, Relation
from app.careplan.items.models import ItemKind, PlanItem
from app.core.forms import parse_clock
from app.extensions import db
from app.patients.models import PatientPreferences
from app.team.models import CareRole, CareTeamMember, Discipline
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add


def _as(user, locale):
    user.locale = locale
    db.session.commit()
    return user


def refused(bad) -> int:
    """A NUL byte anywhere is refused whole (400) before any form reads it; the rest is 422."""
    values = bad.values() if isinstance(bad, dict) else [bad]
    return 400 if any("\x00" in str(v) for v in values) else 422


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def team(make_patient, make_member, make_org, assign, make_user, grant):
    """Leo, his coordinator (an RN), a clinical pharmacist, and his mother Rosa."""
    org = make_org(name="Riverbend Family Clinic")
    leo = make_patient(given="Leo", family="Martínez", language="es", interpreter_needed=True)
    nina = make_member(
        Discipline.NURSING, org, role=CareRole.CARE_COORDINATOR, title="RN Care Coordinator"
    )
    dev = make_member(
        Discipline.PHARMACY, org, role=CareRole.PHARMACIST, title="Clinical Pharmacist"
    )
    assign(leo, nina, coordinator=True)
    assign(leo, dev)
    rosa = make_user(Role.CAREGIVER, name="Rosa Martínez")
    grant(leo, rosa, scopes=["plan", "messages"], relationship_label="", relation=Relation.MOTHER)
    return {
        "org": org,
        "leo": leo,
        "leo_user": db.session.get(User, leo.user_id),
        "nina": db.session.get(User, nina.user_id),
        "dev": dev,
        "rosa": rosa,
    }


# ------------------------------------------------------------------ role titles


@pytest.mark.parametrize(
    ("locale", "coordinator", "pharmacist"),
    [
        ("es", "Coordinador de atención (enfermería)", "Farmacéutico"),
        ("vi", "Điều phối viên chăm sóc (y tá)", "Dược sĩ"),
    ],
)
def test_the_care_team_shows_each_role_in_the_readers_language_then_their_own_title(
    team, new_browser, locale, coordinator, pharmacist
):
    b = signed_in(new_browser, _as(team["leo_user"], locale))
    page = b.get(f"/patients/{team['leo'].id}").get_data(as_text=True)
    text = text_of(page)
    assert coordinator in text and pharmacist in text
    # "RN Care Coordinator" says nothing the translated role does not: no English leaks in;
    # "Clinical Pharmacist" adds "Clinical", so it stays, smaller, under the role.
    assert "RN Care Coordinator" not in text
    assert re.search(
        rf"{pharmacist}.*?</span><span class=\"member-title meta\">Clinical Pharmacist<", page
    )
    new_message = text_of(b.get(f"/patients/{team['leo'].id}/messages/new").get_data(as_text=True))
    assert coordinator in new_message and "RN Care Coordinator" not in new_message


def test_a_role_title_is_shown_only_with_the_discipline_the_viewer_may_know(
    make_patient, make_member, assign, make_user, grant, new_browser
):
    """A psychiatrist on the team reveals behavioral health care: a caregiver without that
    category sees neither the discipline nor the role, as before roles existed."""
    pat = make_patient(given="Ana")
    doc = make_member(Discipline.BEHAVIORAL_HEALTH, role=CareRole.PSYCHIATRIST, title="")
    assign(pat, doc)
    helper = make_user(Role.CAREGIVER)
    grant(pat, helper, scopes=["plan", "messages"])
    page = signed_in(new_browser, helper).get(f"/patients/{pat.id}").get_data(as_text=True)
    assert "Psychiatrist" not in page and "Counselor" not in page
    me = db.session.get(User, pat.user_id)
    assert "Psychiatrist" in signed_in(new_browser, me).get(f"/patients/{pat.id}").get_data(
        as_text=True
    )


def test_the_admin_invites_a_member_with_a_role_from_the_list(new_browser, make_user, make_org):
    org = make_org()
    admin = signed_in(new_browser, make_user(Role.ADMIN))
    form = {
        "full_name": "Dev Sharma",
        "email": "dev@example.test",
        "organization": str(org.id),
        "discipline": "pharmacy",
        "title": "",
        "language": "en",
    }
    for bad in ({}, {"role": ""}, {"role": "chief\x00"}, {"role": "x" * 10_000}):
        r = admin.post("/admin/invite/care-team", {**form, **bad})
        assert r.status_code == refused(bad), bad
        assert db.session.scalar(sa.select(sa.func.count(CareTeamMember.id))) == 0
    page = admin.get("/admin/invite/care-team").get_data(as_text=True)
    assert '<option value="peer_support">Peer support specialist</option>' in page
    r = admin.post("/admin/invite/care-team", {**form, "role": "pharmacist"})
    assert r.status_code == 302
    member = db.session.scalar(sa.select(CareTeamMember))
    assert (member.role, member.title) == (CareRole.PHARMACIST, "")  # the title is optional


# ------------------------------------------------------------------ relationships


@pytest.mark.parametrize(
    ("locale", "of_leo", "you"),
    [("es", "madre de Leo", "Usted: Madre"), ("ru", "мать пациента: Leo", "Вы: Мать")],
)
def test_a_relationship_reads_one_way_in_every_language(team, new_browser, locale, of_leo, you):
    """ "Leo Martínez · mother" read as if Leo were the mother: each side now says it whole."""
    leo = _as(team["leo_user"], locale)
    helpers = signed_in(new_browser, leo).get(f"/patients/{team['leo'].id}/caregivers")
    assert f"Rosa Martínez — {of_leo}" in text_of(helpers.get_data(as_text=True))
    nurse = signed_in(new_browser, _as(team["nina"], locale))
    summary = nurse.get(f"/patients/{team['leo'].id}").get_data(as_text=True)
    assert f"Rosa Martínez — {of_leo}" in text_of(summary)
    rosa = signed_in(new_browser, _as(team["rosa"], locale))
    people = text_of(rosa.get("/caregivers/").get_data(as_text=True))
    assert f"Leo Martínez {you}" in people


def test_other_keeps_the_patients_own_words_and_needs_them(team, new_browser):
    leo = signed_in(new_browser, team["leo_user"])
    url = f"/patients/{team['leo'].id}/caregivers/invite"
    form = {
        "full_name": "Carmen Ruiz",
        "email": "carmen@example.test",
        "mobile_phone": "",
        "relationship": "other",
        "relationship_other": "",
        "scopes": ["plan"],
    }
    page = leo.get(url).get_data(as_text=True)
    assert '<option value="grandparent">Grandparent</option>' in page
    for bad in (
        {},  # "Other" without saying who
        {"relationship": "boss"},
        {"relationship": "other\x00"},
        {"relationship_other": "x" * 61},
    ):
        r = leo.post(url, {**form, "relationship_other": "godmother", **bad} if bad else form)
        assert r.status_code == refused(bad), bad
    assert db.session.scalar(sa.select(sa.func.count(CaregiverInvitation.id))) == 0
    r = leo.post(url, {**form, "relationship_other": "  godmother "})
    assert r.status_code == 302
    invitation = db.session.scalar(sa.select(CaregiverInvitation))
    assert (invitation.relation, invitation.relationship_label) == (Relation.OTHER, "godmother")
    helpers = text_of(leo.get(f"/patients/{team['leo'].id}/caregivers").get_data(as_text=True))
    assert "Carmen Ruiz — Leo's godmother" in helpers
    # A listed choice keeps no words: the label is the translated choice.
    r = leo.post(
        url,
        {
            **form,
            "email": "tio@example.test",
            "full_name": "Tomás",
            "relationship": "sibling",
            "relationship_other": "my twin",
        },
    )
    assert r.status_code == 302
    sibling = db.session.scalar(
        sa.select(CaregiverInvitation).where(CaregiverInvitation.name == "Tomás")
    )
    assert (sibling.relation, sibling.relationship_label) == (Relation.SIBLING, "")


def test_a_grant_made_from_words_alone_reads_them_as_the_choice(team):
    from app.caregivers.labels import relation_from_words

    assert relation_from_words(" Mom ") is Relation.MOTHER
    assert relation_from_words("husband") is Relation.SPOUSE
    assert relation_from_words("godmother") is Relation.OTHER
    grant = db.session.scalar(sa.select(CaregiverGrant))
    assert grant.relation is Relation.MOTHER


# ------------------------------------------------------------------ times of day


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("20:00", time(20, 0)),
        ("8:05", time(8, 5)),
        (" 2000 ", time(20, 0)),
        ("20.30", time(20, 30)),
        ("20,30", time(20, 30)),
        ("8:00 PM", time(20, 0)),
        ("8 pm", time(20, 0)),
        ("12:15 a.m.", time(0, 15)),
        ("12:00 p. m.", time(12, 0)),
        ("", None),
    ],
)
def test_a_time_is_read_from_either_clock(typed, expected):
    assert parse_clock(typed) == expected


@pytest.mark.parametrize("typed", ["25:00", "20:60", "13:00 PM", "8", "\x0020:00", "9" * 10_000])
def test_a_time_that_is_not_one_is_refused(typed):
    with pytest.raises(ValueError, match="Enter a time of day"):
        parse_clock(typed)


def _quiet_hours_box(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html)[0]


@pytest.mark.parametrize(("locale", "clock"), [("es", "24"), ("zh", "24"), ("en", "12")])
def test_quiet_hours_are_shown_on_the_clock_of_the_pages_language(team, new_browser, locale, clock):
    db.session.add(
        PatientPreferences(patient_id=team["leo"].id, quiet_start=time(20, 0), quiet_end=time(8))
    )
    leo = signed_in(new_browser, _as(team["leo_user"], locale))
    page = leo.get(f"/patients/{team['leo'].id}/reminders").get_data(as_text=True)
    box = _quiet_hours_box(page, "quiet_start")
    assert 'value="20:00"' in box
    if clock == "24":
        # Not the browser's time input (12 hours in an English browser): a box that says 20:00.
        assert 'type="text"' in box and 'inputmode="decimal"' in box
        assert 'placeholder="20:00"' in box
    else:
        assert 'type="time"' in box


def test_quiet_hours_typed_either_way_are_saved_and_bad_ones_change_nothing(team, new_browser):
    pid = team["leo"].id
    leo = signed_in(new_browser, _as(team["leo_user"], "es"))
    settings = {
        "kinds": ["appointment"],
        "reminder_lead_hours": ["24"],
        "quiet_start": "21:30",
        "quiet_end": "07:00",
    }
    assert leo.post(f"/patients/{pid}/reminders", settings).status_code == 302
    for bad in ("25:00", "20:00\x00", "x" * 10_000, "noche"):
        r = leo.post(f"/patients/{pid}/reminders", {**settings, "quiet_start": bad})
        assert r.status_code == refused(bad), bad[:20]
        if r.status_code == 422:
            assert "Escriba una hora, por ejemplo 20:00." in r.get_data(as_text=True)
    prefs = db.session.scalar(sa.select(PatientPreferences))
    db.session.refresh(prefs)
    assert (prefs.quiet_start, prefs.quiet_end) == (time(21, 30), time(7, 0))
    r = leo.post(f"/patients/{pid}/reminders", {**settings, "quiet_start": "8:00 PM"})
    assert r.status_code == 302
    db.session.refresh(prefs)
    assert prefs.quiet_start == time(20, 0)


# ------------------------------------------------------------------ appointments


def _appointment(team, **kw):
    start = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=3)
    return add(
        team["leo"],
        team["org"],
        kind=ItemKind.APPOINTMENT,
        title="Diabetes check",
        starts_at=start,
        location="Riverbend Family Clinic",
        **kw,
    )


def test_the_appointment_form_asks_if_the_interpreter_is_booked_beside_the_patients_language(
    team, new_browser
):
    nurse = signed_in(new_browser, _as(team["nina"], "es"))
    page = nurse.get(f"/patients/{team['leo'].id}/plan/new/appointment").get_data(as_text=True)
    cue = text_of(page.split('class="interpreter-cue"')[1].split("</p>")[0])
    assert "Español" in cue and "quiere un intérprete" in cue
    select = page.split('name="interpreter_booked"')[1].split("</select>")[0]
    # Leo wants an interpreter: a new visit starts as "no" until someone books one.
    assert re.search(r'<option selected value="no">|<option value="no" selected>', select)
    # The start time is a date and a 24-hour time box on a Spanish page.
    assert 'type="date"' in page and 'id="starts_at-time"' in page


def test_the_team_books_the_interpreter_and_everyone_sees_it_in_their_language(team, new_browser):
    from app.careplan.items.forms import form_data
    from app.careplan.items.services import ItemInput

    item = _appointment(team, interpreter_booked=False)
    url = f"/patients/{team['leo'].id}/plan/items/{item.id}"
    nurse = signed_in(new_browser, _as(team["nina"], "es"))
    base = {
        k: ("" if v is None else v)
        for k, v in form_data(ItemInput.from_item(item), team["leo"]).items()
    }
    local = team["leo"].local(item.starts_at)
    # The date and the time come apart on a 24-hour page; "8:00 PM" is read as 20:00.
    base["starts_at"] = [local.strftime("%Y-%m-%d"), "8:00 PM"]
    for bad in ("maybe", "yes\x00", "y" * 5000):
        r = nurse.post(f"{url}/edit", {**base, "interpreter_booked": bad})
        assert r.status_code == refused(bad)
    for bad in (["2026-13-01", "20:00"], [local.strftime("%Y-%m-%d"), "25:00"], ["", "20:00"]):
        r = nurse.post(f"{url}/edit", {**base, "interpreter_booked": "yes", "starts_at": bad})
        assert r.status_code == 422, bad
    db.session.refresh(item)
    assert item.interpreter_booked is False
    summary_url = f"/patients/{team['leo'].id}"
    summary = text_of(nurse.get(summary_url).get_data(as_text=True))
    assert "Diabetes check (Todavía no hay intérprete programado)" in summary
    r = nurse.post(f"{url}/edit", {**base, "interpreter_booked": "yes"})
    assert r.status_code == 302
    db.session.refresh(item)
    assert item.interpreter_booked is True
    assert team["leo"].local(item.starts_at).strftime("%H:%M") == "20:00"
    staff_page = text_of(nurse.get(url).get_data(as_text=True))
    assert "Intérprete programado Sí · Español · quiere un intérprete" in staff_page
    summary = text_of(nurse.get(summary_url).get_data(as_text=True))
    assert "Diabetes check (Intérprete programado)" in summary
    leo = signed_in(new_browser, _as(team["leo_user"], "vi"))
    patient_page = text_of(leo.get(url).get_data(as_text=True))
    assert "Sẽ có thông dịch viên (Tiếng Tây Ban Nha)" in patient_page
    rosa = signed_in(new_browser, _as(team["rosa"], "es"))
    rosa_page = text_of(rosa.get(url).get_data(as_text=True))
    assert "Habrá un intérprete (Español)" in rosa_page
    # "Not needed" is stored as no answer at all.
    r = nurse.post(f"{url}/edit", {**base, "interpreter_booked": ""})
    assert r.status_code == 302
    assert db.session.scalar(sa.select(PlanItem.interpreter_booked)) is None


# ------------------------------------------------------------------ the migration's backfill


def test_the_migration_reads_roles_and_relationships_from_what_was_typed_before():
    """Rows from before the choices existed get them from their discipline and words."""
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    path = Path(__file__).parents[2] / "migrations/versions/20261201_a16a01b2c3d4_care_roles.py"
    spec = importlib.util.spec_from_file_location("care_roles", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    engine = sa.create_engine("sqlite://")
    opts = {"target_metadata": db.metadata}  # its naming convention, as migrations/env.py
    members = [
        ("nursing", "RN Care Coordinator", "care_coordinator"),
        ("nursing", "LPN", "nurse"),
        ("primary_care", "Family Physician", "physician"),
        ("primary_care", "Nurse Practitioner", "nurse_practitioner"),
        ("behavioral_health", "Licensed Clinical Social Worker", "social_worker"),
        ("behavioral_health", "Psychiatrist", "psychiatrist"),
        ("behavioral_health", "Psychologist", "counselor"),
        ("pharmacy", "Clinical Pharmacist", "pharmacist"),
        ("dental", "Dental Hygienist", "dental_hygienist"),
        ("social_services", "Peer Support Specialist", "peer_support"),
        ("social_services", "Outreach", "community_health_worker"),
        ("specialty", "Cardiologist", "specialist"),
    ]
    grants = [
        ("Mom", "mother"),
        (" husband ", "spouse"),
        ("aunt", "other_family"),
        ("godmother", "other"),
        ("", "other"),
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE care_team_members (id INTEGER PRIMARY KEY, "
                "discipline VARCHAR(32) NOT NULL, title VARCHAR(120) NOT NULL)"
            )
        )
        for table in ("caregiver_grants", "caregiver_invitations"):
            conn.execute(
                sa.text(
                    f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, "
                    "relationship_label VARCHAR(60) NOT NULL)"
                )
            )
            for label, _ in grants:
                conn.execute(
                    sa.text(f"INSERT INTO {table} (relationship_label) VALUES (:l)"), {"l": label}
                )
        for discipline, title, _ in members:
            conn.execute(
                sa.text("INSERT INTO care_team_members (discipline, title) VALUES (:d, :t)"),
                {"d": discipline, "t": title},
            )
        with Operations.context(MigrationContext.configure(conn, opts=opts)):
            migration.upgrade()
        roles = conn.execute(sa.text("SELECT role FROM care_team_members ORDER BY id")).scalars()
        assert list(roles) == [want for _, _, want in members]
        for table in ("caregiver_grants", "caregiver_invitations"):
            got = conn.execute(sa.text(f"SELECT relation FROM {table} ORDER BY id")).scalars()
            assert list(got) == [want for _, want in grants]
        with Operations.context(MigrationContext.configure(conn, opts=opts)):
            migration.downgrade()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("care_team_members")}
        assert "role" not in columns


# ------------------------------------------------------------------ ingredients, units, pronouns


@pytest.mark.parametrize(
    ("locale", "shown"), [("es", "metformina y zzzumab"), ("ru", "метформин и zzzumab")]
)
def test_ingredients_read_in_the_readers_language_and_unknown_ones_as_stored(
    team, new_browser, locale, shown
):
    from tests.fixtures.plan import med

    pill = med(team["leo"], team["org"], "Metformin", ["metformin", "zzzumab"], "Dr. A")
    b = signed_in(new_browser, _as(team["leo_user"], locale))
    page = text_of(b.get(f"/patients/{team['leo'].id}/plan/items/{pill.id}").get_data(as_text=True))
    assert shown in page
    # Matching stays on the stored English key.
    assert db.session.get(PlanItem, pill.id).ingredients == ["metformin", "zzzumab"]


def test_a_shared_ingredient_flag_names_it_in_the_readers_language(team, new_browser):
    from app.careplan.items.models import FlagKind, PlanFlag
    from tests.fixtures.plan import med

    med(team["leo"], team["org"], "Advil", ["ibuprofen"], "Dr. A")
    med(team["leo"], team["org"], "Motrin", ["ibuprofen"], "Dr. B")
    flag = db.session.scalar(sa.select(PlanFlag).where(PlanFlag.kind == FlagKind.SAME_INGREDIENT))
    assert flag is not None and flag.detail == "ibuprofen"
    nurse = signed_in(new_browser, _as(team["nina"], "vi"))
    url = f"/patients/{team['leo'].id}/flags/{flag.id}"
    page = nurse.get(url)
    assert page.status_code == 200, url
    assert "ibuprofen" in text_of(page.get_data(as_text=True))
    nurse = signed_in(new_browser, _as(team["nina"], "es"))
    assert "ibuprofeno" in text_of(nurse.get(url).get_data(as_text=True))


@pytest.mark.parametrize(
    ("locale", "unit", "shown"),
    [
        ("ru", "kg", "кг"),
        ("ar", "kg", "كغ"),
        ("es", "times a week", "veces por semana"),
        ("zh", "mmol/L", "毫摩尔/升"),
        ("es", "laps", "laps"),
    ],
)
def test_units_are_written_as_the_readers_language_writes_them(app, locale, unit, shown):
    from flask_babel import force_locale

    from app.careplan.goals.numbers import format_amount
    from app.careplan.labels import unit_label

    with app.test_request_context(), force_locale(locale):
        assert unit_label(unit) == shown
        assert shown in format_amount(3, unit)


def test_pronouns_are_offered_and_shown_translated_with_own_words_kept(team, new_browser):
    pid = team["leo"].id
    leo = signed_in(new_browser, _as(team["leo_user"], "es"))
    url = f"/patients/{pid}/profile"
    page = leo.get(url).get_data(as_text=True)
    select = page.split('name="pronoun_choice"')[1].split("</select>")[0]
    assert ">él</option>" in select and ">ella</option>" in select
    assert "Prefiero describirlo con mis palabras" in select
    form = {
        "preferred_name": "",
        "pronoun_choice": "he/him",
        "pronouns": "",
        "language": "es",
        "interpreter_needed": "y",
        "timezone": "America/Los_Angeles",
    }
    r = leo.post(url, {**form, "pronoun_choice": "it/its"})
    assert r.status_code == 422
    assert leo.post(url, form).status_code == 302
    db.session.refresh(team["leo"])
    assert team["leo"].pronouns == "he/him"  # the key: each reader sees it in their language
    nurse = signed_in(new_browser, _as(team["nina"], "ru"))
    summary = nurse.get(f"/patients/{pid}").get_data(as_text=True)
    assert "<dd>он</dd>" in summary and "he/him" not in summary
    r = leo.post(url, {**form, "pronoun_choice": "self", "pronouns": "xe/xem"})
    assert r.status_code == 302
    db.session.refresh(team["leo"])
    assert team["leo"].pronouns == "xe/xem"
    page = leo.get(url).get_data(as_text=True)
    assert re.search(r'<option selected value="self">|<option value="self" selected>', page)


def test_dose_times_read_either_clock_through_the_one_parser():
    from app.careplan.items.doses import parse_times

    assert parse_times("8:00 AM, 8:00 PM") == ["08:00", "20:00"]
    assert parse_times("20:30; 7:15 a. m.") == ["07:15", "20:30"]
    for bad in ("25:00", "8", "8:00 PM PM", "20:00\x00"):
        with pytest.raises(ValueError):
            parse_times(bad)
