"""The measures dashboard: who sees it, what its filters refuse, that its CSV and chart say what
the page says, and that a drill-down names only the viewer's own patients, each one audited.

Most tests run the dashboard over two stand-in measures (`fake_registry`) whose answers are
known, so they test the dashboard and not the measures (tests/metrics/test_*.py do those); one
test renders every registered measure as the demo's admin and nurse see them.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.core.audit import AuditEvent
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.metrics import measures
from app.metrics.forms import cco_today
from app.metrics.measures import Breakdown, DrillRow, Figure, Kind, Measure, Result
from app.patients.models import Patient
from app.team.models import CareRole
from tests.fixtures.browser import signed_in

#: Who the stand-in drill returns regardless of `visible` (a measure with a bug): the
#: dashboard's own policy check must still drop them.
LEAKED: list[int] = []


def _late(scope):
    buckets = scope.buckets()
    if scope.start.year == 2020:  # the "empty period"
        return Result(
            figures=[Figure("late", "Answered late", None, Kind.SHARE, 0, 0, drill=True)],
            trend=[None] * len(buckets),
        )
    trend = [0.25 if i % 2 else None for i in range(len(buckets))]
    return Result(
        figures=[
            Figure("late", "Answered late", 0.25, Kind.SHARE, 3, 12, drill=True, target=0.1),
            Figure("hours", "Median hours", 5.5, Kind.HOURS),
            Figure("threads", "Threads", 12, Kind.COUNT, drill=True),
        ],
        trend=trend,
        breakdowns=[
            Breakdown(
                "By topic",
                [
                    ('=HYPERLINK("http://evil")', [Figure("late", "Answered late", 0.5)]),
                    ("Medicines", [Figure("late", "Answered late", 0.1, Kind.SHARE, 1, 10)]),
                ],
            )
        ],
    )


def _late_drill(scope, key, visible, limit):
    ids = list(db.session.scalars(sa.select(Patient.id).where(Patient.id.in_(visible))))
    ids += LEAKED
    when = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    return [DrillRow(pid, when, "Medicines", thread_id=None) for pid in ids][:limit]


def _spend(scope):
    return Result(
        figures=[Figure("spend", "Spent", 1234.5, Kind.MONEY)],
        trend=[None] * len(scope.buckets()),
    )


@pytest.fixture
def fake_registry(monkeypatch):
    fakes = {
        "late": Measure(
            "late", "Late answers", "Threads answered after the target.", _late, _late_drill
        ),
        "spend": Measure("spend", "Spending", "Money spent.", _spend),
    }
    monkeypatch.setattr(measures, "REGISTRY", fakes)
    LEAKED.clear()
    return fakes


@pytest.fixture
def people(make_patient, make_member, make_user, assign, grant):
    nurse = make_member(name="Nina Nurse", role=CareRole.CARE_COORDINATOR)
    colleague = make_member(name="Carl Coordinator", role=CareRole.CARE_COORDINATOR)
    mine = [make_patient(given=f"Mine{n}", family="Panel") for n in range(3)]
    for patient in mine:
        assign(patient, nurse)
    theirs = make_patient(given="Theirs", family="Elsewhere")
    assign(theirs, colleague)
    caregiver = make_user(Role.CAREGIVER)
    grant(mine[0], caregiver)
    return {
        "nurse": db.session.get(User, nurse.user_id),
        "member": nurse,
        "colleague": colleague,
        "mine": mine,
        "theirs": theirs,
        "admin": make_user(Role.ADMIN),
        "caregiver": caregiver,
        "patient": db.session.get(User, mine[0].user_id),
    }


def selected(page: str, name: str) -> str | None:
    """The chosen option of a select on the page."""
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    found = re.search(
        r'<option[^>]*\bselected\b[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*\bselected\b',
        select,
    )
    return (found.group(1) or found.group(2)) if found else None


def listed_rows():
    query = sa.select(AuditEvent.patient_id).where(AuditEvent.resource == "metrics.drill")
    return sorted(db.session.scalars(query))


# ------------------------------------------------------------------ who


@pytest.mark.parametrize("who", ["patient", "caregiver"])
def test_patients_and_caregivers_get_404_everywhere(who, people, fake_registry, new_browser):
    browser = signed_in(new_browser, people[who])
    for url in ("/measures", "/measures/report", "/measures/late.csv", "/measures/late/late"):
        assert browser.get(url).status_code == 404, url


def test_signed_out_goes_to_sign_in(client, fake_registry):
    assert client.get("/measures").status_code == 302


def test_admin_sees_numbers_and_csv_but_no_drill_down(people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["admin"])
    page = browser.get("/measures").get_data(as_text=True)
    assert "Late answers" in page and "Spending" in page
    assert "25%" in page and "3 of 12" in page and "$1,234.50" in page
    assert "See the list" not in page
    assert "/measures/late.csv" in page
    assert selected(page, "team") == "all"  # an admin's default: the whole CCO
    assert browser.get("/measures/late/late").status_code == 404
    assert browser.get("/measures/late.csv").status_code == 200


def test_nurse_defaults_to_own_panel_and_sees_drill_links(people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["nurse"])
    page = browser.get("/measures").get_data(as_text=True)
    member = people["member"].id
    assert selected(page, "team") == str(member) and "My patients" in page
    assert "Carl Coordinator" in page  # another coordinator's panel, to compare
    assert page.count("See the list") == 2  # the two figures that drill, not the hours
    assert 'aria-current="page"' in page and "Measures" in page  # the nav link


# ------------------------------------------------------------------ filters


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-03-01&end=2026-02-01",  # reversed
        "start=2022-01-01&end=2024-06-01",  # over 2 years
        "start=0001-01-01&end=2026-01-01",  # far
        "start=2026-01-01&end=9999-12-31",  # far, and in the future
        "start=2026-01-01%00&end=2026-02-01",  # NUL
        "start=2026-01-01&end=2026-02-01&team=1%00",
        "start=2026-01-01&end=2026-02-01&organization=99999999999999999999",
        "start=2026-01-01&end=2026-02-01&team=99999999999999999999",
        "start=yesterday&end=2026-02-01",
    ],
)
def test_bad_filters_are_refused_with_the_forms_message(query, people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["nurse"])
    for url in (
        f"/measures?{query}",
        f"/measures/late.csv?{query}",
        f"/measures/late/late?{query}",
    ):
        response = browser.get(url)
        page = response.get_data(as_text=True)
        if "%00" in query:  # refused before any view (app.core.security): nothing read
            assert response.status_code == 400, url
            continue
        assert response.status_code == 422, url
        assert "Please fix the problems below." in page
        assert 'class="card measure"' not in page and "Mine0" not in page
    assert listed_rows() == []


def test_the_period_shown_and_the_future_refused(people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["admin"])
    tomorrow = cco_today() + timedelta(days=1)
    response = browser.get(f"/measures?start=2026-01-01&end={tomorrow.isoformat()}")
    assert response.status_code == 422
    assert "cannot be after today" in response.get_data(as_text=True)
    page = browser.get("/measures?start=2025-01-01&end=2025-12-31").get_data(as_text=True)
    assert "Jan 1, 2025 to Dec 31, 2025" in page


def test_empty_period_shows_no_data(people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["admin"])
    page = browser.get("/measures?start=2020-01-01&end=2020-03-01").get_data(as_text=True)
    assert "No data" in page and "No data in this period." in page
    assert "0%" not in page.split("Late answers", 1)[1].split("</section>", 1)[0]


# ------------------------------------------------------------------ chart and CSV


def test_chart_has_one_point_per_bucket_and_words(people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["admin"])
    start, end = date(2025, 9, 1), date(2025, 11, 23)  # 12 whole weeks, Monday to Sunday
    page = browser.get(f"/measures?start={start}&end={end}").get_data(as_text=True)
    card = page.split('id="measure-late"', 1)[1].split("</section>", 1)[0]
    assert card.count('class="measure-point-row"') == 12  # every week in the hidden table
    assert card.count('class="measure-point"') == 6  # a dot for each week with a value
    assert card.count("No data") >= 6  # the other weeks say so
    assert 'role="img"' in card
    label = re.search(r'aria-label="([^"]+)"', card).group(1)
    assert "by week" in label and "25%" in label
    months = browser.get("/measures?start=2024-01-01&end=2025-06-30").get_data(as_text=True)
    card = months.split('id="measure-late"', 1)[1].split("</section>", 1)[0]
    assert card.count('class="measure-point-row"') == 18  # months beyond 26 weeks


def test_csv_matches_the_page_and_is_safe(people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["nurse"])
    query = "start=2025-09-01&end=2025-11-23"
    response = browser.get(f"/measures/late.csv?{query}&team=all")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "late-2025-09-01-2025-11-23.csv" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Measure", "Part", "Row", "Figure"]
    figures = {r[3]: r for r in body if r[1] == "Period"}
    assert figures["Answered late"][6:10] == ["25.0", "percent", "3", "12"]
    assert figures["Median hours"][6] == "5.5" and figures["Threads"][6] == "12"
    trend = [r for r in body if r[1] == "Trend"]
    assert len(trend) == 12 and trend[0][4] == "2025-09-01" and trend[0][6] == ""
    assert trend[1][6] == "25.0"
    # A name someone typed that a spreadsheet would run as a formula is text
    assert any(r[2] == '\'=HYPERLINK("http://evil")' for r in body)
    assert not any(cell.startswith(("=", "+", "@")) for r in body for cell in r)
    # No patient names
    for patient in people["mine"]:
        assert patient.given_name not in text
    # The page shows the same numbers
    page = browser.get(f"/measures?{query}&team=all").get_data(as_text=True)
    assert "25%" in page and "3 of 12" in page and "5.5 hr" in page
    assert browser.get("/measures/nope.csv").status_code == 404


def test_printable_report_has_every_measure_and_no_nav(people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["admin"])
    page = browser.get("/measures/report").get_data(as_text=True)
    assert "Measures report" in page and "Late answers" in page and "Spending" in page
    assert 'class="main-nav"' not in page and "Download CSV" not in page
    assert "@media print" not in page  # print CSS lives in the stylesheet


# ------------------------------------------------------------------ drill-down


def test_nurse_drill_lists_only_own_patients_and_audits_each(people, fake_registry, new_browser):
    LEAKED.append(people["theirs"].id)  # a measure that forgot `visible`
    browser = signed_in(new_browser, people["nurse"])
    response = browser.get("/measures/late/late?team=all")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for patient in people["mine"]:
        assert f"{patient.given_name} Panel" in page
    assert "Theirs" not in page
    assert listed_rows() == sorted(p.id for p in people["mine"])
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.resource == "metrics.drill").limit(1)
    )
    assert event.actor_id == people["nurse"].id and event.action == "view"
    assert event.capacity == "care_team"


@pytest.mark.parametrize(
    "url",
    [
        "/measures/nope/late",  # unknown measure
        "/measures/late/nope",  # unknown figure
        "/measures/late/hours",  # a figure without a list behind it
        "/measures/spend/spend",  # a measure without drill-downs
        "/measures/late/" + "x" * 5000,
    ],
)
def test_unknown_drill_downs_are_404_and_list_nobody(url, people, fake_registry, new_browser):
    browser = signed_in(new_browser, people["nurse"])
    assert browser.get(url).status_code == 404
    assert listed_rows() == []


def test_drill_down_is_capped(people, fake_registry, new_browser, monkeypatch, make_patient):
    from app.metrics import views

    monkeypatch.setattr(views, "DRILL_LIMIT", 2)
    browser = signed_in(new_browser, people["nurse"])
    page = browser.get("/measures/late/late").get_data(as_text=True)
    assert page.count('class="row-link"') == 2
    assert "Showing the 2 most recent" in page
    assert len(listed_rows()) == 2


# ------------------------------------------------------------------ cost


def test_dashboard_queries_are_pinned(people, fake_registry, new_browser, count_queries):
    browser = signed_in(new_browser, people["nurse"])
    browser.get("/measures")
    with count_queries() as counter:
        assert browser.get("/measures").status_code == 200
    # session, user, inbox badge, member, organizations, coordinators, the rollup's one
    # lookup (the stand-in measures run none): nothing per measure, patient or row
    small = counter.count
    assert small == 7
    colleague = people["colleague"]
    for _ in range(5):
        db.session.add(
            Patient(given_name="More", family_name="People", date_of_birth=date(1990, 1, 1))
        )
    db.session.commit()
    del colleague
    with count_queries() as counter:
        browser.get("/measures")
    assert counter.count == small


# ------------------------------------------------------------------ the real measures


@pytest.mark.parametrize("email", ["admin@demo.carecircle.test", "nurse@demo.carecircle.test"])
def test_every_registered_measure_renders_for_the_demo_staff(email, seeded, new_browser):
    user = db.session.scalar(sa.select(User).where(User.email == email))
    browser = new_browser()
    assert browser.login(email, DEMO_PASSWORD).status_code == 302
    response = browser.get("/measures")
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    page = response.get_data(as_text=True)
    for measure in measures.all_measures():
        assert f'id="measure-{measure.key}"' in page
        assert f"/measures/{measure.key}.csv" in page
        assert browser.get(f"/measures/{measure.key}.csv").status_code == 200
    assert user is not None


# ------------------------------------------------------------------ the nightly rollup


def test_rollup_answers_the_default_scopes_without_computing(
    people, fake_registry, new_browser, runner, monkeypatch
):
    calls = []
    late = fake_registry["late"]

    def counted(scope):
        calls.append(scope)
        return _late(scope)

    fake_registry["late"] = Measure(late.key, late.title, late.summary, counted, late.drill)
    result = runner.invoke(args=["metrics", "rollup"])
    assert result.exit_code == 0, result.output
    assert "Rolled up 2 measures" in result.output
    # the whole CCO, the organization of nobody (no patient has one), both coordinators
    assert {(s.organization_id, s.member_id) for s in calls} == {
        (None, None),
        (None, people["member"].id),
        (None, people["colleague"].id),
    }
    calls.clear()
    admin = signed_in(new_browser, people["admin"])
    page = admin.get("/measures").get_data(as_text=True)
    assert "Figures as of" in page and "25%" in page and "3 of 12" in page
    nurse = signed_in(new_browser, people["nurse"])
    page = nurse.get("/measures").get_data(as_text=True)  # their own panel: rolled up too
    assert "Figures as of" in page and page.count("See the list") == 2
    csv_text = nurse.get("/measures/late.csv").get_data(as_text=True)
    assert "25.0" in csv_text
    assert nurse.get("/measures/late/late").status_code == 200  # the list itself is live
    assert calls == []
    # Another period, or a language nobody rolled up, is computed now
    page = admin.get("/measures?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    assert "Figures as of" not in page and len(calls) == 1
    # A second run replaces the rows rather than adding to them
    from app.metrics.models import MetricRollup

    before = db.session.scalar(sa.select(sa.func.count()).select_from(MetricRollup))
    assert runner.invoke(args=["metrics", "rollup"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MetricRollup)) == before
    assert "already" in runner.invoke(args=["metrics", "rollup", "--if-stale"]).output


def test_rollup_round_trips_a_result():
    from app.metrics import rollup

    result = Result(
        figures=[Figure("a", "A", 0.5, Kind.SHARE, 1, 2, drill=True, target=0.9)],
        trend=[None, 0.5],
        breakdowns=[Breakdown("By x", [("row", [Figure("b", "B", 3, Kind.COUNT)])])],
    )
    assert rollup.load(rollup.dump(result)) == result


def test_the_nurse_drills_into_answered_late_threads(people, new_browser, frozen_clock):
    """The real response time measure: a late answer to one of the nurse's patients and one to
    a colleague's patient; the nurse's list has hers, linked to the thread, audited."""
    from app.messaging import services as messaging
    from app.messaging.models import ResponseTime, Thread, Topic

    if "response_time" not in measures.REGISTRY:
        pytest.skip("the response time measure is not registered")
    frozen_clock(datetime(2026, 2, 13, 20, 0, tzinfo=UTC))
    answered = datetime(2026, 1, 14, 20, 0, tzinfo=UTC)

    def late(patient) -> Thread:
        target = int(messaging.target(Topic.MEDICATION).total_seconds())
        since = answered - timedelta(seconds=target + 7200)
        thread = Thread(
            patient_id=patient.id,
            topic=Topic.MEDICATION,
            subject="Question",
            created_at=since,
            last_message_at=answered,
        )
        db.session.add(thread)
        db.session.flush()
        db.session.add(
            ResponseTime(
                thread_id=thread.id,
                patient_id=patient.id,
                topic=Topic.MEDICATION,
                waiting_since=since,
                answered_at=answered,
                seconds=target + 7200,
                target_seconds=target,
            )
        )
        db.session.commit()
        return thread

    mine = late(people["mine"][1])
    late(people["theirs"])
    nurse = signed_in(new_browser, people["nurse"])
    query = "start=2026-01-05&end=2026-01-18&team=all"
    page = nurse.get(f"/measures?{query}").get_data(as_text=True)
    card = page.split('id="measure-response_time"', 1)[1].split("</section>", 1)[0]
    link = re.search(r'href="(/measures/response_time/answered_late\?[^"]+)"', card)
    assert link, "no drill-down link on 'answered late'"
    listing = nurse.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Mine1 Panel" in listing and "Theirs" not in listing
    assert f"/patients/{people['mine'][1].id}/messages/{mine.id}" in listing
    assert listed_rows() == [people["mine"][1].id]
    # The admin sees the same number, and no list
    admin = signed_in(new_browser, people["admin"])
    assert "answered_late" not in admin.get(f"/measures?{query}").get_data(as_text=True)
    assert admin.get(f"/measures/response_time/answered_late?{query}").status_code == 404


def test_report_and_drill_down_queries_are_pinned(
    people, fake_registry, new_browser, count_queries, make_patient, assign
):
    browser = signed_in(new_browser, people["nurse"])
    browser.get("/measures/report")
    with count_queries() as counter:
        assert browser.get("/measures/report").status_code == 200
    assert counter.count == 5  # the dashboard's 7 less the two of its navigation (none here)
    browser.get("/measures/late/late")
    with count_queries() as counter:
        assert browser.get("/measures/late/late").status_code == 200
    few = counter.count
    for n in range(4):
        assign(make_patient(given=f"Extra{n}", family="Panel"), people["member"])
    with count_queries() as counter:
        page = browser.get("/measures/late/late").get_data(as_text=True)
    assert page.count('class="row-link"') == 7
    # The policy asks about each patient listed (one query each, at most DRILL_LIMIT)
    assert counter.count == few + 4


def test_organizations_are_those_patients_belong_to(people, fake_registry, new_browser, make_org):
    clinic, pharmacy = make_org(name="Valley Clinic"), make_org(name="Corner Pharmacy")
    people["mine"][2].organization_id = clinic.id
    db.session.commit()
    browser = signed_in(new_browser, people["admin"])
    page = browser.get("/measures").get_data(as_text=True)
    assert "Valley Clinic" in page and "Corner Pharmacy" not in page
    page = browser.get(f"/measures?organization={clinic.id}").get_data(as_text=True)
    assert selected(page, "organization") == str(clinic.id)
    assert "Whole CCO · Valley Clinic" in page
    assert f"organization={clinic.id}" in page  # the CSV links keep the filter
    assert browser.get(f"/measures?organization={pharmacy.id}").status_code == 422
