"""Appointment attendance (issue 18): the care team taps "Came" or "Did not come" on a past
appointment. Who may (only James's care team), what happens once (a double tap, two nurses at
once), what is refused with nothing written (a future, cancelled or non-appointment item,
hostile input), and what the patient side sees (never a "no-show")."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.careplan.items.models import Attendance, ItemKind, ItemStatus, OwnerKind, PlanItem
from app.careplan.models import PlanChange
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from tests.fixtures.plan import add


def appointment(patient, org, starts_at, **kw) -> PlanItem:
    return add(
        patient,
        org,
        kind=ItemKind.APPOINTMENT,
        title=kw.pop("title", "Heart check with Dr. Lee"),
        starts_at=starts_at,
        location="Riverbend Clinic",
        owner_kind=OwnerKind.TEAM_MEMBER,
        **kw,
    )


@pytest.fixture
def world(two_patients):
    w = two_patients
    past = appointment(w.patient, w.org, utcnow() - timedelta(hours=3), owner_member_id=w.member.id)
    return {
        "w": w,
        "pid": w.patient.id,
        "past": past,
        "future": appointment(w.patient, w.org, utcnow() + timedelta(days=2)),
        "sensitive": appointment(
            w.patient,
            w.org,
            utcnow() - timedelta(days=1),
            title="Counseling",
            sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
        ),
        "task": add(w.patient, w.org, title="Walk"),
        "maria": appointment(w.other, w.org, utcnow() - timedelta(days=1), title="Maria's visit"),
        "users": {
            "team": w.member_user,
            "patient": w.patient_user,
            "caregiver": w.helper("Ana Carter", ["plan", "messages", "appointments"]),
            "other_team": w.other_member_user,
            "other_patient": w.other_user,
            "admin": w.admin,
        },
    }


def login(new_browser, user):
    b = new_browser()
    assert b.login(user.email).status_code == 302
    return b


def item_url(world, item=None):
    return f"/patients/{world['pid']}/plan/items/{(item or world['past']).id}"


def post_url(world, item=None):
    return item_url(world, item) + "/attendance"


def tap(b, world, value, was="", item=None, **kw):
    return b.post(post_url(world, item), {"value": value, "was": was}, **kw)


def fresh(item) -> PlanItem:
    db.session.expire_all()
    return db.session.get(PlanItem, item.id)


def events(item) -> list[list[str]]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(PlanChange).where(PlanChange.subject_id == item.id).order_by(PlanChange.id)
    )
    return [c.fields for c in rows if c.fields]  # not the "added" row


def updates_audited(item) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.resource == "careplan.item",
            AuditEvent.resource_id == str(item.id),
            AuditEvent.action == "update",
        )
    )


def test_the_team_records_came_in_one_tap(world, new_browser):
    b = login(new_browser, world["users"]["team"])
    page = b.page(item_url(world))
    assert "Did James come?" in page
    assert 'name="value" value="attended"' in page and 'name="value" value="no_show"' in page
    response = tap(b, world, "attended", form_url=item_url(world))
    assert response.status_code == 302
    item = fresh(world["past"])
    assert item.attendance is Attendance.ATTENDED
    assert item.attendance_recorded_at is not None
    assert events(item) == [["appointment_attended"]]
    assert updates_audited(item) == 1
    page = b.page(item_url(world))
    assert "Saved: Came." in page
    assert "<strong>Came</strong>" in page and "Change to: did not come" in page
    assert "Did James come?" not in page


def test_a_double_tap_writes_once(world, new_browser):
    b = login(new_browser, world["users"]["team"])
    token_page = item_url(world)
    assert tap(b, world, "no_show", form_url=token_page).status_code == 302
    first = fresh(world["past"]).attendance_recorded_at
    # the same tap again, from the page as it was (nothing recorded yet)
    assert tap(b, world, "no_show", form_url=token_page).status_code == 302
    item = fresh(world["past"])
    assert item.attendance is Attendance.NO_SHOW and item.attendance_recorded_at == first
    assert events(item) == [["appointment_not_attended"]]
    assert updates_audited(item) == 1
    assert "This was already recorded." in b.page(item_url(world))


def test_two_nurses_at_once_the_second_is_told_and_nothing_is_overwritten(
    world, new_browser, make_member, assign
):
    w = world["w"]
    second = make_member(org=w.org, name="Second Nurse")
    assign(w.patient, second)
    first_b = login(new_browser, world["users"]["team"])
    second_b = login(new_browser, db.session.get(type(world["users"]["team"]), second.user_id))
    assert tap(first_b, world, "no_show").status_code == 302
    # the second nurse's page still showed "nothing recorded"
    refused = tap(second_b, world, "attended", was="")
    assert refused.status_code == 409
    assert "Someone else recorded this visit" in refused.get_data(as_text=True)
    item = fresh(world["past"])
    assert item.attendance is Attendance.NO_SHOW
    assert events(item) == [["appointment_not_attended"]]


def test_a_correction_from_what_the_page_showed(world, new_browser):
    b = login(new_browser, world["users"]["team"])
    assert tap(b, world, "no_show").status_code == 302
    assert tap(b, world, "attended", was="no_show").status_code == 302
    item = fresh(world["past"])
    assert item.attendance is Attendance.ATTENDED
    assert events(item) == [["appointment_not_attended"], ["appointment_attended"]]
    # a stale correction (the page said "came", it is "came") changes nothing
    assert tap(b, world, "no_show", was="no_show").status_code == 409
    assert fresh(world["past"]).attendance is Attendance.ATTENDED


@pytest.mark.parametrize("who", ["patient", "caregiver", "other_team", "other_patient", "admin"])
def test_only_the_patients_care_team_may_record(world, new_browser, who):
    b = login(new_browser, world["users"][who])
    for value in ("attended", "no_show"):
        assert tap(b, world, value, form_url="/auth/account").status_code == 404, who
    page = b.page(item_url(world))
    assert "/attendance" not in page and "Did James come?" not in page
    item = fresh(world["past"])
    assert item.attendance is None and events(item) == []


def test_other_ids_and_other_kinds_are_404(world, new_browser):
    b = login(new_browser, world["users"]["team"])
    pid, w = world["pid"], world["w"]
    bad = [
        post_url(world, world["maria"]),  # Maria's appointment under James's record
        post_url(world, world["task"]),  # not an appointment
        f"/patients/{pid}/plan/items/99999999999999999999/attendance",
        f"/patients/{w.other.id}/plan/items/{world['maria'].id}/attendance",  # not his panel
        f"/patients/99999999999999999999/plan/items/{world['past'].id}/attendance",
    ]
    for target in bad:
        response = b.post(target, {"value": "no_show", "was": ""}, form_url="/auth/account")
        assert response.status_code == 404, target
    assert fresh(world["maria"]).attendance is None
    assert fresh(world["task"]).attendance is None


def test_a_future_or_cancelled_appointment_is_refused(world, new_browser):
    b = login(new_browser, world["users"]["team"])
    assert "Did James come?" not in b.page(item_url(world, world["future"]))
    response = tap(b, world, "no_show", item=world["future"], form_url="/auth/account")
    assert response.status_code == 409
    assert fresh(world["future"]).attendance is None and events(world["future"]) == []
    past = fresh(world["past"])
    past.status = ItemStatus.CANCELLED
    db.session.commit()
    assert tap(b, world, "no_show", form_url="/auth/account").status_code == 409
    assert fresh(world["past"]).attendance is None


@pytest.mark.parametrize(
    "data",
    [
        {"value": "no_show\x00", "was": ""},
        {"value": "maybe", "was": ""},
        {"value": "", "was": ""},
        {"value": "attended", "was": "x" * 100_000},
        {"was": ""},
        {"value": "attended", "was": "attended\x00"},
    ],
)
def test_hostile_input_is_400_and_writes_nothing(world, new_browser, data):
    b = login(new_browser, world["users"]["team"])
    assert b.post(post_url(world), data, form_url=item_url(world)).status_code == 400
    assert fresh(world["past"]).attendance is None and events(world["past"]) == []


def test_without_csrf_nothing_is_written(world, new_browser):
    b = login(new_browser, world["users"]["team"])
    response = b.client.post(post_url(world), data={"value": "no_show", "was": ""})
    assert response.status_code == 400
    assert fresh(world["past"]).attendance is None


def test_a_hidden_category_is_404_and_the_team_sees_it(world, new_browser):
    team = login(new_browser, world["users"]["team"])
    assert tap(team, world, "attended", item=world["sensitive"]).status_code == 302
    caregiver = login(new_browser, world["users"]["caregiver"])
    assert caregiver.get(item_url(world, world["sensitive"])).status_code == 404


def test_the_patient_side_never_reads_no_show(world, new_browser):
    team = login(new_browser, world["users"]["team"])
    future_past = appointment(
        world["w"].patient, world["w"].org, utcnow() - timedelta(days=3), title="Eye check"
    )
    assert tap(team, world, "no_show").status_code == 302
    assert tap(team, world, "attended", item=future_past).status_code == 302
    patient = login(new_browser, world["users"]["patient"])
    missed = patient.page(item_url(world))
    for word in ("Did not come", "did not come", "no-show", "No-show", "missed", "Missed"):
        assert word not in missed
    went = patient.page(item_url(world, future_past))
    assert "You went to this appointment." in went
    changes = patient.page(f"/patients/{world['pid']}/changes")
    assert "The visit did not take place" in changes and "The visit took place" in changes
    assert "Did not come" not in changes
    caregiver = login(new_browser, world["users"]["caregiver"])
    assert "James went to this appointment." in caregiver.page(item_url(world, future_past))


def test_the_buttons_cost_no_query(world, new_browser, count_queries):
    """The panel reads the item already loaded: a past appointment's page (with the buttons)
    costs what a future one's does."""
    b = login(new_browser, world["users"]["team"])
    counts = []
    for item in (world["future"], world["past"]):
        b.page(item_url(world, item))
        with count_queries() as counter:
            page = b.page(item_url(world, item))
        counts.append(counter.count)
    assert "Did James come?" in page
    assert counts[0] == counts[1]
