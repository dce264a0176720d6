"""Duplicate and conflict flags: the rules, their edges, and resolving them."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.careplan.items.models import (
    FlagKind,
    FlagResolution,
    FlagStatus,
    ItemStatus,
    PlanFlag,
    PlanItem,
)
from app.extensions import db
from tests.fixtures.plan import lab_test, med


def flags(status=None):
    db.session.expire_all()
    query = sa.select(PlanFlag).order_by(PlanFlag.id)
    if status:
        query = query.where(PlanFlag.status == status)
    return list(db.session.scalars(query))


@pytest.fixture
def two_orgs(make_org):
    return make_org(name="Clinic"), make_org(name="Heart Center")


@pytest.mark.parametrize(
    ("days_apart", "flagged"), [(0, True), (29, True), (30, True), (31, False)]
)
def test_same_test_from_two_organizations_within_the_window(
    app, make_patient, two_orgs, days_apart, flagged
):
    """The window (30 days by default) is inclusive at its boundary."""
    patient = make_patient()
    clinic, heart = two_orgs
    lab_test(patient, clinic, ordered_on=date(2026, 10, 1))
    lab_test(patient, heart, ordered_on=date(2026, 10, 1) + timedelta(days=days_apart))
    assert [f.kind for f in flags()] == ([FlagKind.DUPLICATE_TEST] if flagged else [])


def test_window_is_configurable(app, make_patient, two_orgs):
    app.config["DUPLICATE_TEST_WINDOW_DAYS"] = 7
    patient = make_patient()
    lab_test(patient, two_orgs[0], ordered_on=date(2026, 10, 1))
    lab_test(patient, two_orgs[1], ordered_on=date(2026, 10, 9))
    assert flags() == []


def test_same_organization_twice_or_different_code_is_not_a_duplicate(app, make_patient, two_orgs):
    patient = make_patient()
    clinic, heart = two_orgs
    lab_test(patient, clinic)
    lab_test(patient, clinic)  # a repeat order by the same organization is its own business
    lab_test(patient, heart, code="57698-3")  # a different test
    lab_test(patient, heart, code="4548-4", code_system="CPT")  # same number, other system
    assert flags() == []


def test_cancelled_items_never_count_and_closing_one_clears_the_flag(app, make_patient, two_orgs):
    patient = make_patient()
    clinic, heart = two_orgs
    lab_test(patient, clinic, status=ItemStatus.CANCELLED)
    lab_test(patient, heart)
    assert flags() == []
    a = lab_test(patient, clinic)
    [flag] = flags(FlagStatus.OPEN)
    from app.careplan.items import services

    services.set_status(db.session.get(PlanItem, a.id), ItemStatus.CANCELLED)
    db.session.commit()
    [flag] = flags()
    assert (flag.status, flag.resolution) == (FlagStatus.RESOLVED, FlagResolution.GONE)


def test_same_medicine_from_two_prescribers(app, make_patient, make_org):
    patient = make_patient()
    org = make_org()
    med(patient, org, "Metformin", ["metformin"], "Dr. A")
    med(patient, org, "metformin ", ["metformin"], "Dr. B")
    assert [f.kind for f in flags()] == [FlagKind.DUPLICATE_MEDICATION]


def test_same_ingredient_different_names(app, make_patient, make_org):
    patient = make_patient()
    org = make_org()
    med(patient, org, "Ibuprofen", ["Ibuprofen"], "Dr. A")
    med(patient, org, "Advil", ["ibuprofen"], "Urgent care")
    [flag] = flags()
    assert flag.kind is FlagKind.SAME_INGREDIENT
    assert flag.detail == "ibuprofen"


def test_same_prescriber_twice_is_not_flagged(app, make_patient, make_org):
    patient = make_patient()
    org = make_org()
    med(patient, org, "Ibuprofen", ["ibuprofen"], "Dr. A")
    med(patient, org, "Advil", ["ibuprofen"], "dr.  a")
    med(patient, org, "Lisinopril", ["lisinopril"], "Dr. B")
    assert flags() == []


def test_stopped_medicine_does_not_conflict(app, make_patient, make_org):
    patient = make_patient()
    org = make_org()
    med(patient, org, "Ibuprofen", ["ibuprofen"], "Dr. A", status=ItemStatus.STOPPED)
    med(patient, org, "Advil", ["ibuprofen"], "Dr. B")
    assert flags() == []


def test_other_patients_items_never_pair(app, make_patient, two_orgs):
    lab_test(make_patient(), two_orgs[0])
    lab_test(make_patient(given="Other"), two_orgs[1])
    assert flags() == []


@pytest.fixture
def flagged(make_patient, make_member, assign, two_orgs):
    patient = make_patient(given="James", family="Carter")
    member = make_member()
    assign(patient, member)
    a = lab_test(patient, two_orgs[0], title="Cholesterol test")
    b = lab_test(patient, two_orgs[1], title="Lipid panel")
    [flag] = flags()
    return {
        "patient": patient,
        "nurse": db.session.get(User, member.user_id),
        "a": a,
        "b": b,
        "flag": flag,
        "patient_user": db.session.get(User, patient.user_id),
    }


def test_patient_sees_plain_words_and_team_sees_the_pair(flagged, new_browser):
    pid = flagged["patient"].id
    me = new_browser()
    me.login(flagged["patient_user"].email)
    plan = me.get(f"/patients/{pid}/plan").get_data(as_text=True)
    assert plan.count("Two of your providers ordered this test. Your care team is checking.") == 2
    team = new_browser()
    team.login(flagged["nurse"].email)
    summary = team.get(f"/patients/{pid}").get_data(as_text=True)
    assert "Same test ordered by two organizations" in summary
    assert "Cholesterol test" in summary and "Lipid panel" in summary
    # the patient cannot open the team's resolve page
    assert me.get(f"/patients/{pid}/flags/{flagged['flag'].id}").status_code == 404


def test_keep_both_needs_a_reason_and_sticks(flagged, new_browser):
    pid, fid = flagged["patient"].id, flagged["flag"].id
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    assert team.post(f"{url}/keep-both", {"reason": ""}, form_url=url).status_code == 422
    assert flags(FlagStatus.OPEN)
    response = team.post(
        f"{url}/keep-both", {"reason": "Cardiology needs its own baseline"}, form_url=url
    )
    assert response.status_code == 302
    [flag] = flags()
    assert (flag.status, flag.resolution, flag.reason) == (
        FlagStatus.RESOLVED,
        FlagResolution.KEEP_BOTH,
        "Cardiology needs its own baseline",
    )
    # editing an item later does not reopen a settled pair
    from app.careplan.items import services

    services.refresh_flags(pid)
    db.session.commit()
    assert flags(FlagStatus.OPEN) == []
    # settling it twice is refused, not a 500
    assert (
        team.post(f"{url}/keep-both", {"reason": "again"}, form_url=f"/patients/{pid}").status_code
        == 409
    )


def test_cancel_one_cancels_that_item_and_tells_what_changed(flagged, new_browser):
    pid, fid = flagged["patient"].id, flagged["flag"].id
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    assert team.post(f"{url}/cancel-one", {"item_id": "999999"}, form_url=url).status_code == 400
    response = team.post(f"{url}/cancel-one", {"item_id": str(flagged["b"].id)}, form_url=url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PlanItem, flagged["b"].id).status is ItemStatus.CANCELLED
    assert db.session.get(PlanItem, flagged["a"].id).status is ItemStatus.ACTIVE
    [flag] = flags()
    assert flag.resolution is FlagResolution.CANCELLED_ONE
    me = new_browser()
    me.login(flagged["patient_user"].email)
    changes = me.get(f"/patients/{pid}/changes").get_data(as_text=True)
    assert "Stopped: Lipid panel" in changes


@pytest.mark.parametrize("who", ["patient", "caregiver", "other_team", "admin"])
def test_only_this_patients_team_settles_flags(
    flagged, new_browser, make_user, make_member, grant, who
):
    from app.auth.models import Role

    users = {
        "patient": flagged["patient_user"],
        "admin": make_user(Role.ADMIN),
        "other_team": db.session.get(User, make_member().user_id),
    }
    users["caregiver"] = make_user(Role.CAREGIVER)
    grant(flagged["patient"], users["caregiver"], scopes=["plan", "messages", "decisions"])
    b = new_browser()
    b.login(users[who].email)
    url = f"/patients/{flagged['patient'].id}/flags/{flagged['flag'].id}"
    assert b.get(url).status_code == 404
    assert b.post(f"{url}/keep-both", {"reason": "x"}, form_url="/auth/account").status_code == 404
    assert (
        b.post(
            f"{url}/cancel-one", {"item_id": str(flagged["a"].id)}, form_url="/auth/account"
        ).status_code
        == 404
    )
    assert flags(FlagStatus.OPEN)  # still open
