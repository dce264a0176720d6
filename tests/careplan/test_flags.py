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
    confirm = {"confirm": "1"}
    assert (
        team.post(f"{url}/cancel-one", {"item_id": "999999", **confirm}, form_url=url).status_code
        == 400
    )
    response = team.post(
        f"{url}/cancel-one", {"item_id": str(flagged["b"].id), **confirm}, form_url=url
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PlanItem, flagged["b"].id).status is ItemStatus.CANCELLED
    assert db.session.get(PlanItem, flagged["a"].id).status is ItemStatus.ACTIVE
    [flag] = flags()
    assert flag.resolution is FlagResolution.CANCELLED_ONE
    shown = team.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cancelled: Lipid panel. The other one stays in the plan." in shown
    me = new_browser()
    me.login(flagged["patient_user"].email)
    changes = me.get(f"/patients/{pid}/changes").get_data(as_text=True)
    assert "Stopped: Lipid panel" in changes


def stopped(item_id: int) -> int:
    """How many "Stopped" rows What changed has for this item."""
    from app.careplan.models import ChangeKind, PlanChange

    return db.session.scalar(
        sa.select(sa.func.count(PlanChange.id)).where(
            PlanChange.subject_id == item_id, PlanChange.change == ChangeKind.STOPPED
        )
    )


def test_cancel_this_one_asks_first_and_the_question_changes_nothing(flagged, new_browser):
    """Issue 14: one tap on "Cancel this one" took an item out of the plan."""
    pid, fid, b = flagged["patient"].id, flagged["flag"].id, flagged["b"]
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    flag_page = team.get(url).get_data(as_text=True)
    link = f'href="{url}/cancel-one?item_id={b.id}"'
    assert link in flag_page.replace("&amp;", "&")
    question = team.get(f"{url}/cancel-one?item_id={b.id}")
    assert question.status_code == 200
    words = question.get_data(as_text=True)
    assert "Cancel Lipid panel?" in words
    assert "Lipid panel from Heart Center leaves James's plan" in words
    assert "Cholesterol test from Clinic stays in the plan." in words
    assert 'name="confirm" value="1"' in words and "No, go back" in words
    # The form a flag page rendered before the question existed: the question, not the act.
    old_form = team.post(f"{url}/cancel-one", {"item_id": str(b.id)}, form_url=url)
    assert old_form.status_code == 200 and "Cancel Lipid panel?" in old_form.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PlanItem, b.id).status is ItemStatus.ACTIVE
    assert flags(FlagStatus.OPEN) and stopped(b.id) == 0


def test_the_question_is_recorded_as_a_look_not_a_change(flagged, new_browser):
    from app.core.audit import AuditEvent

    pid, fid, b = flagged["patient"].id, flagged["flag"].id, flagged["b"]
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    team.get(f"{url}/cancel-one?item_id={b.id}")
    team.post(f"{url}/cancel-one", {"item_id": str(b.id)}, form_url=url)
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(
            AuditEvent.resource == "careplan.flag", AuditEvent.patient_id == pid
        )
    ).all()
    assert set(actions) == {"view"}


def test_a_double_tap_on_yes_cancels_once_and_lands_where_the_first_did(flagged, new_browser):
    pid, fid, b = flagged["patient"].id, flagged["flag"].id, flagged["b"]
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    form = f"{url}/cancel-one?item_id={b.id}"
    data = {"item_id": str(b.id), "confirm": "1"}
    first = team.post(f"{url}/cancel-one", data, form_url=form)
    second = team.post(f"{url}/cancel-one", data, form_url=form)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"] == f"/patients/{pid}"
    assert "Already done: Lipid panel is cancelled." in team.get(
        second.headers["Location"]
    ).get_data(as_text=True)
    db.session.expire_all()
    assert stopped(b.id) == 1
    assert db.session.get(PlanItem, flagged["a"].id).status is ItemStatus.ACTIVE


def test_cancelling_the_other_one_after_it_was_settled_is_refused(flagged, new_browser):
    """Two tabs: one cancelled B; the other then asks to cancel A. Both must not go."""
    pid, fid, a, b = flagged["patient"].id, flagged["flag"].id, flagged["a"], flagged["b"]
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    team.post(f"{url}/cancel-one", {"item_id": str(b.id), "confirm": "1"}, form_url=url)
    late = team.post(f"{url}/cancel-one", {"item_id": str(a.id), "confirm": "1"}, form_url=url)
    assert late.status_code == 409
    assert team.get(f"{url}/cancel-one?item_id={a.id}").status_code == 409
    db.session.expire_all()
    assert db.session.get(PlanItem, a.id).status is ItemStatus.ACTIVE


@pytest.mark.parametrize(
    ("item_id", "status"), [("", 400), ("abc", 400), ("1e3", 400), ("-1", 400), ("999999", 400)]
)
def test_hostile_item_ids_are_refused_and_nothing_changes(flagged, new_browser, item_id, status):
    pid, fid = flagged["patient"].id, flagged["flag"].id
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    asked = team.get(f"{url}/cancel-one?item_id={item_id}")
    if item_id:
        assert asked.status_code == status
    else:  # which one? back to the flag's page to choose
        assert asked.status_code == 302 and asked.headers["Location"] == url
    posted = team.post(f"{url}/cancel-one", {"item_id": item_id, "confirm": "1"}, form_url=url)
    assert posted.status_code == status
    assert len(flags(FlagStatus.OPEN)) == 1


def test_without_the_csrf_token_nothing_is_cancelled(flagged, new_browser):
    pid, fid, b = flagged["patient"].id, flagged["flag"].id, flagged["b"]
    team = new_browser()
    team.login(flagged["nurse"].email)
    response = team.client.post(
        f"/patients/{pid}/flags/{fid}/cancel-one", data={"item_id": str(b.id), "confirm": "1"}
    )
    assert response.status_code == 400
    assert flags(FlagStatus.OPEN)


def test_another_patients_item_or_flag_is_not_found(flagged, new_browser, make_patient, make_org):
    """The nurse's own patient's flag with an item of someone else; someone else's flag."""
    pid, fid = flagged["patient"].id, flagged["flag"].id
    other = make_patient(given="Other")
    clinic, heart = make_org(name="C2"), make_org(name="H2")
    theirs = lab_test(other, clinic)
    lab_test(other, heart)
    [their_flag] = [f for f in flags(FlagStatus.OPEN) if f.patient_id == other.id]
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    mine_with_theirs = team.post(
        f"{url}/cancel-one", {"item_id": str(theirs.id), "confirm": "1"}, form_url=url
    )
    assert mine_with_theirs.status_code == 400
    for path in (
        f"/patients/{other.id}/flags/{their_flag.id}",
        f"/patients/{pid}/flags/{their_flag.id}",
    ):
        assert team.get(f"{path}/cancel-one?item_id={theirs.id}").status_code == 404
        answer = team.post(
            f"{path}/cancel-one", {"item_id": str(theirs.id), "confirm": "1"}, form_url=url
        )
        assert answer.status_code == 404
    db.session.expire_all()
    assert db.session.get(PlanItem, theirs.id).status is ItemStatus.ACTIVE
    assert len(flags(FlagStatus.OPEN)) == 2


def test_keep_both_says_what_happened(flagged, new_browser):
    pid, fid = flagged["patient"].id, flagged["flag"].id
    team = new_browser()
    team.login(flagged["nurse"].email)
    url = f"/patients/{pid}/flags/{fid}"
    response = team.post(
        f"{url}/keep-both", {"reason": "Cardiology needs its own baseline"}, form_url=url
    )
    shown = team.get(response.headers["Location"]).get_data(as_text=True)
    assert "Both stay in the plan. The reason is saved." in shown


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


@pytest.mark.parametrize("same", [True, False])
def test_two_confirmed_taps_at_the_same_instant_cancel_one_item_once(flagged, new_browser, same):
    from tests.fixtures.browser import csrf_from
    from tests.fixtures.concurrency import race

    pid, fid, a, b = flagged["patient"].id, flagged["flag"].id, flagged["a"], flagged["b"]
    url = f"/patients/{pid}/flags/{fid}"
    tabs = [new_browser(), new_browser()]
    for tab in tabs:
        tab.login(flagged["nurse"].email)
    targets = [b, b] if same else [b, a]
    tokens = [
        csrf_from(tab.get(f"{url}/cancel-one?item_id={item.id}").get_data(as_text=True))
        for tab, item in zip(tabs, targets, strict=True)
    ]
    answers = race(
        *(
            (
                tab.client,
                f"{url}/cancel-one",
                {"csrf_token": token, "item_id": str(item.id), "confirm": "1"},
            )
            for tab, item, token in zip(tabs, targets, tokens, strict=True)
        )
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == ([302, 302] if same else [302, 409])
    db.session.expire_all()
    statuses = [db.session.get(PlanItem, item.id).status for item in (a, b)]
    assert statuses.count(ItemStatus.CANCELLED) == 1
    assert stopped(a.id) + stopped(b.id) == 1
