"""Plan items: who may do what, the patient's views (Today, My plan, What changed), ticks,
the referral loop, sensitive items and query counts."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.careplan.items.models import (
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanItem,
    ReferralStatus,
    TaskCompletion,
)
from app.careplan.models import PlanChange
from app.core.audit import AuditEvent
from app.core.privacy import Sensitivity
from app.extensions import db
from tests.fixtures.plan import add


@pytest.fixture
def world(two_patients):
    w = two_patients
    plan_cg = w.helper("Ana Carter", ["plan", "messages"])
    bare_cg = w.helper(scopes=[])
    task = add(w.patient, w.org, title="Weigh yourself every morning")
    therapy = add(
        w.patient,
        w.org,
        kind=ItemKind.APPOINTMENT,
        title="Grief support session",
        starts_at=None,
        location="BH",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=w.member.id,
    )
    return {
        "org": w.org,
        "patient": w.patient,
        "other": w.other,
        "task": task,
        "therapy": therapy,
        "member": w.member,
        "users": {
            "patient": w.patient_user,
            "caregiver_plan": plan_cg,
            "caregiver_none": bare_cg,
            "team": w.member_user,
            "other_team": w.other_member_user,
            "admin": w.admin,
        },
    }


VIEW_PAGES = ["today", "plan", "plan/items/{task}", "changes"]
VIEWERS = {"patient", "caregiver_plan", "team"}


@pytest.mark.parametrize(
    "who", ["patient", "caregiver_plan", "caregiver_none", "team", "other_team", "admin"]
)
def test_who_can_see_the_plan(world, new_browser, who):
    b = new_browser()
    b.login(world["users"][who].email)
    pid = world["patient"].id
    for page in VIEW_PAGES:
        url = f"/patients/{pid}/" + page.format(task=world["task"].id)
        expected = 200 if who in VIEWERS else 404
        assert b.get(url).status_code == expected, (who, url)


@pytest.mark.parametrize(
    "who", ["patient", "caregiver_plan", "caregiver_none", "team", "other_team", "admin"]
)
def test_only_this_patients_team_changes_the_plan(world, new_browser, who):
    b = new_browser()
    b.login(world["users"][who].email)
    pid, tid = world["patient"].id, world["task"].id
    allowed = who == "team"
    expected_get = 200 if allowed else 404
    assert b.get(f"/patients/{pid}/plan/new").status_code == expected_get
    assert b.get(f"/patients/{pid}/plan/new/task").status_code == expected_get
    assert b.get(f"/patients/{pid}/plan/items/{tid}/edit").status_code == expected_get
    response = b.post(
        f"/patients/{pid}/plan/items/{tid}/status/on_hold", {}, form_url="/auth/account"
    )
    assert response.status_code == (302 if allowed else 404)
    db.session.expire_all()
    status = db.session.get(PlanItem, tid).status
    assert status is (ItemStatus.ON_HOLD if allowed else ItemStatus.ACTIVE)


def test_team_adds_a_medicine_with_validation(world, new_browser):
    b = new_browser()
    b.login(world["users"]["team"].email)
    pid = world["patient"].id
    url = f"/patients/{pid}/plan/new/medication"
    base = {
        "title": "Take metformin",
        "area": "medicines",
        "status": "active",
        "discipline": "primary_care",
        "source_organization": world["org"].id,
        "owner": "patient",
        "sensitivity": "",
    }
    response = b.post(url, base)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This is needed for this kind of item." in html
    assert "Say who prescribed it." in html
    assert db.session.scalar(sa.select(sa.func.count(PlanItem.id))) == 2
    ok = b.post(
        url,
        {
            **base,
            "medication_name": "Metformin",
            "dose": "500 mg",
            "ingredients": "Metformin",
            "prescriber": str(world["member"].id),
            "why_it_matters": "Lowers blood sugar.",
        },
    )
    assert ok.status_code == 302
    item = db.session.scalar(sa.select(PlanItem).where(PlanItem.title == "Take metformin"))
    assert item.ingredients == ["metformin"]
    assert item.prescriber_member_id == world["member"].id
    page = b.get(ok.headers["Location"]).get_data(as_text=True)
    assert "Lowers blood sugar." in page and "Metformin" in page
    audit = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.resource == "careplan.item",
            AuditEvent.action == "create",
            AuditEvent.actor_id == world["member"].user_id,  # not the set-up's own rows
        )
    ).all()
    assert [a.resource_id for a in audit] == [str(item.id)]


def test_appointment_time_is_read_in_the_patients_time_zone(world, new_browser):
    world["patient"].timezone = "America/New_York"
    db.session.commit()
    b = new_browser()
    b.login(world["users"]["team"].email)
    response = b.post(
        f"/patients/{world['patient'].id}/plan/new/appointment",
        {
            "title": "Heart check-up",
            "area": "physical_health",
            "status": "active",
            "discipline": "specialty",
            "source_organization": world["org"].id,
            "owner": "patient",
            "sensitivity": "",
            "starts_at": "2026-03-08T10:00",
            "location": "Heart Center",
        },
    )
    assert response.status_code == 302
    item = db.session.scalar(sa.select(PlanItem).where(PlanItem.title == "Heart check-up"))
    # 8 March 2026 is the first day of daylight saving time in New York: 10:00 EDT = 14:00 UTC
    assert item.starts_at.isoformat() == "2026-03-08T14:00:00+00:00"


def test_edit_records_what_changed_with_who_and_when(world, new_browser):
    pid, tid = world["patient"].id, world["task"].id
    team = new_browser()
    team.login(world["users"]["team"].email)
    form = team.get(f"/patients/{pid}/plan/items/{tid}/edit").get_data(as_text=True)
    assert "Weigh yourself every morning" in form
    response = team.post(
        f"/patients/{pid}/plan/items/{tid}/edit",
        {
            "title": "Weigh yourself before breakfast",
            "area": "daily_living",
            "status": "active",
            "discipline": "nursing",
            "source_organization": world["org"].id,
            "owner": "patient",
            "sensitivity": "",
            "schedule": "daily",
        },
    )
    assert response.status_code == 302
    [change] = db.session.scalars(
        sa.select(PlanChange).where(PlanChange.subject_id == tid, PlanChange.change == "changed")
    ).all()
    assert change.fields == ["title"]
    me = new_browser()
    me.login(world["users"]["patient"].email)
    page = me.get(f"/patients/{pid}/changes").get_data(as_text=True)
    assert "Changed: Weigh yourself before breakfast" in page
    assert world["users"]["team"].full_name in page
    assert page.count(">New<") >= 2  # never looked before: everything is new
    again = me.get(f"/patients/{pid}/changes").get_data(as_text=True)
    assert ">New<" not in again  # seen now


def test_sensitive_items_hidden_from_caregiver_without_the_category(world, new_browser, grant):
    pid, therapy = world["patient"].id, world["therapy"].id
    ana = new_browser()
    ana.login(world["users"]["caregiver_plan"].email)
    for url in (
        f"/patients/{pid}/plan",
        f"/patients/{pid}/changes",
        f"/patients/{pid}/today",
        f"/patients/{pid}",
    ):
        assert "Grief support session" not in ana.get(url).get_data(as_text=True), url
    assert ana.get(f"/patients/{pid}/plan/items/{therapy}").status_code == 404
    assert ana.get(f"/patients/{pid}/messages/new?item={therapy}").status_code == 404
    # the patient and the team see it
    me = new_browser()
    me.login(world["users"]["patient"].email)
    assert "Grief support session" in me.get(f"/patients/{pid}/plan").get_data(as_text=True)
    # once the patient includes the category, Ana sees it too
    from app.caregivers.models import CaregiverGrant

    row = db.session.scalar(
        sa.select(CaregiverGrant).where(
            CaregiverGrant.caregiver_id == world["users"]["caregiver_plan"].id
        )
    )
    row.sensitive_categories = ["behavioral_health"]
    db.session.commit()
    assert ana.get(f"/patients/{pid}/plan/items/{therapy}").status_code == 200


def test_tick_off_own_tasks_for_today(world, new_browser):
    pid, tid = world["patient"].id, world["task"].id
    today = world["patient"].today()
    me = new_browser()
    me.login(world["users"]["patient"].email)
    page = me.get(f"/patients/{pid}/today").get_data(as_text=True)
    assert "Weigh yourself every morning" in page and "Mark done" in page
    response = me.post(
        f"/patients/{pid}/plan/items/{tid}/done",
        {"day": today.isoformat()},
        form_url=f"/patients/{pid}/today",
    )
    assert response.status_code == 302
    # ticking twice is harmless
    me.post(
        f"/patients/{pid}/plan/items/{tid}/done",
        {"day": today.isoformat()},
        form_url=f"/patients/{pid}/today",
    )
    assert db.session.scalar(sa.select(sa.func.count(TaskCompletion.id))) == 1
    assert "✓" in me.get(f"/patients/{pid}/today").get_data(as_text=True)
    # a day outside this week, or garbage, is a 400
    far = (today + timedelta(days=30)).isoformat()
    assert (
        me.post(
            f"/patients/{pid}/plan/items/{tid}/done",
            {"day": far},
            form_url=f"/patients/{pid}/today",
        ).status_code
        == 400
    )
    assert (
        me.post(
            f"/patients/{pid}/plan/items/{tid}/done",
            {"day": "soon"},
            form_url=f"/patients/{pid}/today",
        ).status_code
        == 400
    )
    # undo
    me.post(
        f"/patients/{pid}/plan/items/{tid}/done",
        {"day": today.isoformat(), "undo": "1"},
        form_url=f"/patients/{pid}/today",
    )
    assert db.session.scalar(sa.select(sa.func.count(TaskCompletion.id))) == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("caregiver_plan", 302),
        ("caregiver_none", 404),
        ("team", 302),
        ("other_team", 404),
        ("admin", 404),
    ],
)
def test_who_can_tick(world, new_browser, who, status):
    pid, tid = world["patient"].id, world["task"].id
    b = new_browser()
    b.login(world["users"][who].email)
    day = world["patient"].today().isoformat()
    assert (
        b.post(
            f"/patients/{pid}/plan/items/{tid}/done", {"day": day}, form_url="/auth/account"
        ).status_code
        == status
    )


def test_team_owned_tasks_cannot_be_ticked(world, new_browser):
    pid = world["patient"].id
    task = add(
        world["patient"],
        world["org"],
        title="Call the patient",
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=world["member"].id,
    )
    me = new_browser()
    me.login(world["users"]["patient"].email)
    day = world["patient"].today().isoformat()
    assert (
        me.post(
            f"/patients/{pid}/plan/items/{task.id}/done",
            {"day": day},
            form_url=f"/patients/{pid}/today",
        ).status_code
        == 400
    )


def test_referral_loop_moves_forward_only(world, new_browser):
    pid = world["patient"].id
    ref = add(
        world["patient"],
        world["org"],
        kind=ItemKind.REFERRAL,
        title="Food box",
        referred_to="Food bank",
        referral_need="food",
    )
    assert ref.referral_status is ReferralStatus.SENT
    team = new_browser()
    team.login(world["users"]["team"].email)
    base = f"/patients/{pid}/plan/items/{ref.id}/referral/"
    assert team.post(base + "enrolled", {}, form_url="/auth/account").status_code == 409
    assert team.post(base + "contacted", {}, form_url="/auth/account").status_code == 302
    assert team.post(base + "enrolled", {}, form_url="/auth/account").status_code == 302
    db.session.expire_all()
    item = db.session.get(PlanItem, ref.id)
    assert (item.referral_status, item.status) == (ReferralStatus.ENROLLED, ItemStatus.COMPLETED)
    assert team.post(base + "sent", {}, form_url="/auth/account").status_code in (404, 409)
    assert team.post(base + "nonsense", {}, form_url="/auth/account").status_code == 404


def test_plan_is_grouped_by_area_of_life(world, new_browser):
    add(
        world["patient"],
        world["org"],
        kind=ItemKind.EDUCATION,
        title="Heart video",
        area="physical_health",
    )
    me = new_browser()
    me.login(world["users"]["patient"].email)
    html = me.get(f"/patients/{world['patient'].id}/plan").get_data(as_text=True)
    assert html.index("My body") < html.index("Heart video")
    assert html.index("Daily life and habits") < html.index("Weigh yourself")


def test_ask_about_this_opens_a_thread_linked_to_the_item(world, new_browser):
    pid, tid = world["patient"].id, world["task"].id
    ana = new_browser()
    ana.login(world["users"]["caregiver_plan"].email)
    detail = ana.get(f"/patients/{pid}/plan/items/{tid}").get_data(as_text=True)
    assert "Ask about this" in detail
    form = ana.get(f"/patients/{pid}/messages/new?item={tid}").get_data(as_text=True)
    assert "Question about: Weigh yourself every morning" in form
    response = ana.post(
        f"/patients/{pid}/messages/new?item={tid}",
        {
            "topic": "care_plan",
            "subject": "Question about: Weigh yourself every morning",
            "body": "Before or after coffee? <b>thanks</b>",
            "item": str(tid),
        },
    )
    assert response.status_code == 302
    thread = ana.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ana Carter, for James" in thread
    assert "&lt;b&gt;thanks&lt;/b&gt;" in thread  # escaped, never rendered as HTML
    assert f"/patients/{pid}/plan/items/{tid}" in thread  # links back to the item
    team = new_browser()
    team.login(world["users"]["team"].email)
    assert "Before or after coffee?" in team.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_query_counts_do_not_grow_with_the_plan(world, new_browser, count_queries):
    pid = world["patient"].id
    me = new_browser()
    me.login(world["users"]["team"].email)
    pages = [
        f"/patients/{pid}/today",
        f"/patients/{pid}/plan",
        f"/patients/{pid}",
        f"/patients/{pid}/changes",
    ]
    me.get(pages[0])

    def counts():
        result = []
        for url in pages:
            with count_queries() as counter:
                assert me.get(url).status_code == 200
            result.append(counter.count)
        return result

    small = counts()
    for n in range(12):
        add(
            world["patient"],
            world["org"],
            title=f"Task {n}",
            commit=False,
            owner_kind=OwnerKind.CAREGIVER,
            owner_caregiver_id=world["users"]["caregiver_plan"].id,
        )
        add(
            world["patient"],
            world["org"],
            kind=ItemKind.MEDICATION,
            title=f"Med {n}",
            medication_name=f"Med {n}",
            dose="1",
            ingredients=[f"ing{n}"],
            prescriber_name="Dr. Z",
            area="medicines",
            commit=False,
            owner_kind=OwnerKind.ORGANIZATION,
            owner_organization_id=world["org"].id,
        )
    db.session.commit()
    assert counts() == small
