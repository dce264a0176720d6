"""The social needs measure on a hand-built CCO whose answers are known: screened, had a need,
referred, loop closed; the trend; the drill-down; the local-day boundary; empty periods; the
organization and team filters (docs/metrics.md#social_needs)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.careplan.items.models import ItemKind, ReferralNeed, ReferralStatus
from app.extensions import db
from app.metrics.measures import REGISTRY, Scope
from app.patients.models import Patient
from app.screening.models import ScreeningReferral, ScreeningResponse
from app.team.models import CareTeamAssignment
from tests.fixtures.plan import add

ZONE = ZoneInfo("America/Los_Angeles")
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
ENROLLED = datetime(2026, 1, 1, 12, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def cco(make_patient, make_org, make_member):
    org_a, org_b = make_org(name="Org A"), make_org(name="Org B")
    m1, m2 = make_member(org=org_a), make_member(org=org_b)
    people = {}
    for name, org, member in [
        ("a1", org_a, m1),
        ("a2", org_a, m1),
        ("a3", org_a, m1),
        ("a4", org_a, m2),
        ("b1", org_b, m2),
        ("p0", org_a, None),  # no care team: not enrolled, never counted
    ]:
        patient = make_patient(given=name, with_login=False, organization_id=org.id)
        if member is not None:
            db.session.add(
                CareTeamAssignment(patient_id=patient.id, member_id=member.id, added_at=ENROLLED)
            )
        people[name] = patient
    db.session.commit()

    def screening(who, at, needs=(), step="none"):
        patient = people[who]
        response = ScreeningResponse(
            patient_id=patient.id,
            questionnaire="ahc-hrsn-core",
            answered_as="patient",
            language="en",
            authored_at=at,
            needs=list(needs),
            positive=bool(needs),
            response={"resourceType": "QuestionnaireResponse", "status": "completed"},
        )
        db.session.add(response)
        db.session.flush()
        for need in needs:
            item = add(
                patient,
                org_a,
                kind=ItemKind.REFERRAL,
                title=f"Help with {need}",
                referral_need=ReferralNeed.HOUSING,
                commit=False,
            )
            item.referral_status = None if step == "none" else ReferralStatus(step)
            db.session.add(
                ScreeningReferral(
                    response_id=response.id, patient_id=patient.id, need=need, item_id=item.id
                )
            )
        db.session.commit()

    screening("a1", utc(2026, 3, 5, 17), ["housing"], "enrolled")  # referred, loop closed
    screening("a2", utc(2026, 3, 10, 17), ["food"])  # a need, not sent yet
    screening("a3", utc(2026, 3, 1, 7, 30))  # 23:30 on 28 February in Oregon: February
    screening("a3", utc(2026, 4, 1, 6, 30))  # 23:30 on 31 March (PDT): March
    screening("a4", utc(2026, 3, 20, 17), ["utilities"], "contacted")  # referred, still open
    screening("b1", utc(2026, 3, 12, 17))
    screening("p0", utc(2026, 3, 15, 17), ["housing"])  # no care team: left out
    return {"people": people, "org_a": org_a, "org_b": org_b, "m1": m1, "m2": m2}


@pytest.fixture(autouse=True)
def in_a_request(app):
    """The dashboard computes inside a request (labels in the reader's language)."""
    with app.test_request_context():
        yield


def compute(start, end, **kw):
    result = REGISTRY["social_needs"].compute(Scope(start, end, zone=ZONE, **kw))
    return {f.key: f for f in result.figures}, result


def numbers(figure):
    return (figure.numerator, figure.denominator, figure.value)


def test_the_whole_cco_in_march(cco):
    figures, result = compute(*MARCH)
    assert numbers(figures["screened"]) == (5, 5, 1.0)
    assert numbers(figures["positive"]) == (2 + 1, 5, 0.6)
    assert numbers(figures["referred"]) == (2, 3, pytest.approx(2 / 3))
    assert numbers(figures["closed_loop"]) == (1, 2, 0.5)
    assert figures["not_referred"].value == 1 and figures["not_referred"].drill
    # Weeks: 1 Mar (Sun), 2-8, 9-15, 16-22, 23-29, 30-31; five enrolled each week.
    assert result.trend == [0.0, 0.2, 0.4, 0.2, 0.0, 0.2]
    (by_need,) = result.breakdowns
    rows = {label: [f.value for f in cells] for label, cells in by_need.rows}
    assert rows["Housing"] == [1, 1, 1]
    assert rows["Food"] == [1, 0, 0]
    assert rows["Utilities"] == [1, 1, 0]
    assert rows["Safety"] == [0, 0, 0]


def test_an_instant_counts_on_its_local_day(cco):
    figures, _ = compute(date(2026, 2, 1), date(2026, 2, 28))
    assert numbers(figures["screened"]) == (1, 5, 0.2)  # a3 at 23:30 on 28 February
    figures, _ = compute(date(2026, 4, 1), date(2026, 4, 30))
    assert figures["screened"].numerator == 0  # a3's 31 March answer is not April's


def test_empty_periods_say_no_data_not_zero(cco):
    figures, result = compute(date(2026, 1, 10), date(2026, 1, 20))
    assert numbers(figures["screened"]) == (0, 5, 0.0)
    assert figures["positive"].value is None  # nobody screened: nothing to divide
    assert figures["referred"].value is None and figures["closed_loop"].value is None
    figures, result = compute(date(2025, 12, 1), date(2025, 12, 31))  # before anyone enrolled
    assert figures["screened"].value is None
    assert set(result.trend) == {None}


def test_the_organization_and_team_filters(cco):
    figures, _ = compute(*MARCH, organization_id=cco["org_a"].id)
    assert [figures[k].numerator for k in ("screened", "positive", "referred", "closed_loop")] == [
        4,
        3,
        2,
        1,
    ]
    assert figures["screened"].denominator == 4  # p0 has no care team
    figures, _ = compute(*MARCH, organization_id=cco["org_b"].id)
    assert numbers(figures["screened"]) == (1, 1, 1.0)
    assert figures["referred"].value is None
    figures, _ = compute(*MARCH, member_id=cco["m1"].id)
    assert [figures[k].numerator for k in ("screened", "positive", "referred", "closed_loop")] == [
        3,
        2,
        1,
        1,
    ]
    figures, _ = compute(*MARCH, organization_id=cco["org_b"].id, member_id=cco["m1"].id)
    assert figures["screened"].value is None


def test_the_drill_down_lists_needs_without_a_referral_sent(cco):
    measure = REGISTRY["social_needs"]
    everyone = sa.select(Patient.id)
    rows = measure.drill(Scope(*MARCH, zone=ZONE), "not_referred", everyone, 20)
    assert [(r.patient_id, r.detail) for r in rows] == [(cco["people"]["a2"].id, "Food")]
    assert rows[0].item_id is not None
    # Only patients the viewer may see.
    others = sa.select(Patient.id).where(Patient.id != cco["people"]["a2"].id)
    assert measure.drill(Scope(*MARCH, zone=ZONE), "not_referred", others, 20) == []
    assert measure.drill(Scope(*MARCH, zone=ZONE), "screened", everyone, 20) == []
