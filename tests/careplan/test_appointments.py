"""Acting on an appointment (issue 15, part 1): Confirm, Can't make it, Ask to change, Add to
calendar, Directions, Call, Join video; who may, what happens once, what nobody else learns."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from twilio.request_validator import RequestValidator

from app.careplan.items.appointments import AppointmentRequest
from app.careplan.items.models import ItemKind, ItemStatus, OwnerKind, PlanItem
from app.careplan.models import PlanChange
from app.core.db import utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from app.messaging.models import Message, Thread, Topic
from app.patients.models import PatientPreferences
from tests.fixtures.plan import add

PHONE = "+15035550111"


def appointment(patient, org, **kw):
    defaults = {
        "title": "Heart check with Dr. Lee",
        "starts_at": utcnow() + timedelta(days=1),
        "location": "Riverbend Clinic, 100 Main St, Salem",
        "with_whom": "Dr. Lee, cardiology",
        "preparation": "Bring your blood pressure log",
        "location_phone": PHONE,
        "owner_kind": OwnerKind.TEAM_MEMBER,
    }
    defaults.update(kw)
    title = defaults.pop("title")
    return add(patient, org, kind=ItemKind.APPOINTMENT, title=title, **defaults)


@pytest.fixture
def world(two_patients):
    w = two_patients
    w.org.phone = "+15035550199"
    db.session.commit()
    appt = appointment(w.patient, w.org, owner_member_id=w.member.id)
    sensitive = appointment(
        w.patient,
        w.org,
        title="Counseling session",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
        owner_member_id=w.member.id,
    )
    past = appointment(
        w.patient,
        w.org,
        title="Old visit",
        owner_member_id=w.member.id,
        starts_at=utcnow() - timedelta(days=2),
    )
    task = add(w.patient, w.org, title="Walk")
    others = appointment(w.other, w.org, title="Maria's visit", owner_member_id=w.other_member.id)
    users = {
        "patient": w.patient_user,
        "caregiver_appointments": w.helper("Ana Carter", ["plan", "messages", "appointments"]),
        "caregiver_plan_only": w.helper("Plan Only", ["plan", "messages"]),
        "caregiver_none": w.helper("No Scope", []),
        "team": w.member_user,
        "other_team": w.other_member_user,
        "other_patient": w.other_user,
        "admin": w.admin,
    }
    return {
        "w": w,
        "appt": appt,
        "sensitive": sensitive,
        "past": past,
        "task": task,
        "others": others,
        "users": users,
        "pid": w.patient.id,
    }


def login(new_browser, user):
    b = new_browser()
    assert b.login(user.email).status_code == 302
    return b


def url(world, action, item=None):
    item = item or world["appt"]
    return f"/patients/{world['pid']}/plan/items/{item.id}/appointment/{action}"


def item_url(world, item=None):
    return f"/patients/{world['pid']}/plan/items/{(item or world['appt']).id}"


def fresh(item) -> PlanItem:
    db.session.expire_all()
    return db.session.get(PlanItem, item.id)


def threads(item) -> list[Thread]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Thread).where(Thread.plan_item_id == item.id)))


def events(item) -> list[list[str]]:
    db.session.expire_all()
    return [
        c.fields or []
        for c in db.session.scalars(
            sa.select(PlanChange).where(PlanChange.subject_id == item.id).order_by(PlanChange.id)
        )
    ]


CANCEL = {"reason_choice": "transport", "reason": "My ride fell through"}
SOON = (utcnow() + timedelta(days=5)).date().isoformat()


# ------------------------------------------------------------------ who may


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("patient", 302),
        ("caregiver_appointments", 302),
        ("caregiver_plan_only", 404),
        ("caregiver_none", 404),
        ("team", 403),  # the team changes an appointment on its edit page
        ("other_team", 404),
        ("other_patient", 404),
        ("admin", 404),
    ],
)
def test_who_may_confirm_cancel_and_ask(world, new_browser, who, expected):
    b = login(new_browser, world["users"][who])
    got = [
        b.post(url(world, "confirm"), form_url=f"/patients/{world['pid']}/plan").status_code,
        b.post(url(world, "change"), {"day_1": SOON, "part_1": "morning"}).status_code
        if expected == 302
        else b.post(url(world, "change"), {"day_1": SOON}, form_url="/auth/account").status_code,
    ]
    assert got == [expected, expected], who
    item = fresh(world["appt"])
    if expected == 302:
        assert item.patient_confirmed_at is not None
        assert item.change_requested_at is not None
        assert len(threads(item)) == 1
    else:
        assert item.patient_confirmed_at is None and item.change_requested_at is None
        assert threads(item) == [] and events(item) == [[]]  # only "added"
    ics = b.get(url(world, "calendar.ics")).status_code
    assert ics == (200 if expected in (302, 403) else 404)


def test_the_actions_show_only_to_those_who_may_act(world, new_browser):
    page = login(new_browser, world["users"]["patient"]).page(item_url(world))
    assert "Confirm" in page and "Can't make it" in page and "Ask to change" in page
    assert f'href="tel:{PHONE}"' in page
    assert "openstreetmap.org/search?query=Riverbend+Clinic" in page
    assert 'rel="noopener noreferrer"' in page
    for who in ("caregiver_plan_only", "team"):
        page = login(new_browser, world["users"][who]).page(item_url(world))
        assert "appointment/confirm" not in page and "appointment/cancel" not in page, who
        assert f'href="tel:{PHONE}"' in page  # anyone who sees it may call or find it


def test_a_caregiver_without_the_category_gets_404_on_everything(world, new_browser):
    b = login(new_browser, world["users"]["caregiver_appointments"])
    s = world["sensitive"]
    assert b.get(url(world, "cancel", s)).status_code == 404
    assert b.get(url(world, "change", s)).status_code == 404
    assert b.get(url(world, "calendar.ics", s)).status_code == 404
    assert b.post(url(world, "confirm", s), form_url="/auth/account").status_code == 404
    assert b.post(url(world, "cancel", s), CANCEL, form_url="/auth/account").status_code == 404
    assert fresh(s).status is ItemStatus.ACTIVE and fresh(s).patient_confirmed_at is None
    # ... and after the team reclassifies it the other way round, it opens up
    s = fresh(s)
    s.sensitivity = None
    db.session.commit()
    assert b.get(url(world, "change", s)).status_code == 200


def test_other_ids_and_other_kinds_are_404(world, new_browser):
    b = login(new_browser, world["users"]["patient"])
    pid = world["pid"]
    bad = [
        url(world, "confirm", world["others"]),  # Maria's item under James's record
        url(world, "confirm", world["task"]),  # not an appointment
        f"/patients/{pid}/plan/items/99999999999999999999/appointment/confirm",
        f"/patients/{world['w'].other.id}/plan/items/{world['others'].id}/appointment/confirm",
    ]
    for target in bad:
        assert b.post(target, form_url="/auth/account").status_code == 404, target
    assert b.get(url(world, "calendar.ics", world["task"])).status_code == 404
    assert fresh(world["others"]).patient_confirmed_at is None


# ------------------------------------------------------------------ confirm


def test_confirm_acts_once_and_says_so(world, new_browser):
    b = login(new_browser, world["users"]["patient"])
    for _ in range(2):
        assert b.post(url(world, "confirm"), form_url=item_url(world)).status_code == 302
    first = fresh(world["appt"]).patient_confirmed_at
    assert first is not None
    assert events(world["appt"]).count(["appointment_confirmed"]) == 1
    assert ">Confirmed<" in b.page(item_url(world))
    changes = b.page(f"/patients/{world['pid']}/changes")
    assert "Confirmed: will come" in changes
    # no thread: nobody has to act on a confirmation
    assert threads(world["appt"]) == []


def test_confirm_from_home_goes_back_home(world, new_browser):
    b = login(new_browser, world["users"]["patient"])
    home = f"/patients/{world['pid']}/home"
    response = b.post(url(world, "confirm"), {"back": "home"}, form_url=item_url(world))
    assert response.status_code == 302 and response.headers["Location"].endswith(home)


def test_past_or_closed_appointments_offer_nothing(world, new_browser):
    b = login(new_browser, world["users"]["patient"])
    past = world["past"]
    assert "appointment/confirm" not in b.page(item_url(world, past))
    r = b.post(url(world, "confirm", past), form_url=item_url(world, past))
    assert r.status_code == 409 and "over or closed" in r.get_data(as_text=True)
    assert b.post(url(world, "cancel", past), CANCEL, form_url="/auth/account").status_code == 409
    assert fresh(past).patient_confirmed_at is None and fresh(past).status is ItemStatus.ACTIVE
    # a form left open in a tab says so and offers nothing to send
    page = b.page(url(world, "change", past))
    assert "over or closed" in page and 'name="note"' not in page
    assert threads(past) == []


# ------------------------------------------------------------------ can't make it


def test_cant_make_it_cancels_keeps_the_reason_and_tells_the_team(world, new_browser):
    b = login(new_browser, world["users"]["caregiver_appointments"])
    form = url(world, "cancel")
    assert b.get(form).status_code == 200
    page = b.page(form)
    data = {**CANCEL, "csrf_token": b.token(form)}
    from tests.fixtures.browser import key_from

    data["idempotency_key"] = key_from(page)
    first = b.client.post(form, data=data)
    again = b.client.post(form, data=data)  # a double tap: the same key
    assert first.status_code == 302 and again.status_code == 302
    item = fresh(world["appt"])
    assert item.status is ItemStatus.CANCELLED
    [thread] = threads(item)
    assert thread.topic is Topic.APPOINTMENT
    body = db.session.scalar(sa.select(Message.body).where(Message.thread_id == thread.id))
    assert "Ana Carter" in body and "No way to get there" in body
    assert "My ride fell through" in body
    request = db.session.scalar(sa.select(AppointmentRequest))
    assert request.reason_choice.value == "transport" and request.thread_id == thread.id
    detail = b.page(item_url(world))
    assert "No way to get there" in detail and "appointment/confirm" not in detail
    assert "Cancelled: cannot come" in b.page(f"/patients/{world['pid']}/changes")
    # the nurse sees it in the inbox, about this appointment
    nurse = login(new_browser, world["users"]["team"])
    assert "Cannot come to an appointment" in nurse.page("/team/inbox?view=all")


@pytest.mark.parametrize(
    "data",
    [
        {},  # no reason chosen
        {"reason_choice": "other", "reason": "   "},  # "something else" needs words
        {"reason_choice": "transport", "reason": "x" * 10_000},
        {"reason_choice": "nonsense"},
    ],
)
def test_a_bad_cancel_is_a_field_error_with_nothing_written(world, new_browser, data):
    b = login(new_browser, world["users"]["patient"])
    r = b.post(url(world, "cancel"), data)
    assert r.status_code == 422
    assert 'class="error"' in r.get_data(as_text=True)
    assert fresh(world["appt"]).status is ItemStatus.ACTIVE and threads(world["appt"]) == []


def test_nul_bytes_are_refused(world, new_browser):
    b = login(new_browser, world["users"]["patient"])
    r = b.post(url(world, "cancel"), {"reason_choice": "other", "reason": "a\x00b"})
    assert 400 <= r.status_code < 500
    assert fresh(world["appt"]).status is ItemStatus.ACTIVE and threads(world["appt"]) == []


# ------------------------------------------------------------------ ask to change


@pytest.mark.parametrize("day", ["9999-01-01", "2000-01-01", "today", "not a date", "1" * 400])
def test_suggested_days_must_be_ahead_and_sane(world, new_browser, day):
    if day == "today":  # the patient's today: UTC's is already tomorrow on an evening in Oregon
        zone = ZoneInfo(world["w"].patient.timezone)
        day = utcnow().replace(tzinfo=UTC).astimezone(zone).date().isoformat()
    b = login(new_browser, world["users"]["patient"])
    r = b.post(url(world, "change"), {"day_1": day, "part_1": "any"})
    assert r.status_code == 422
    assert fresh(world["appt"]).change_requested_at is None and threads(world["appt"]) == []


def test_ask_to_change_needs_something_to_say(world, new_browser):
    b = login(new_browser, world["users"]["patient"])
    assert b.post(url(world, "change"), {"note": "  "}).status_code == 422
    assert b.post(url(world, "change"), {"note": "x" * 10_000}).status_code == 422
    assert threads(world["appt"]) == []


def test_ask_to_change_in_the_patients_language_until_the_team_answers(world, new_browser, app):
    w = world["w"]
    w.patient.language = "es"
    db.session.commit()
    b = login(new_browser, world["users"]["caregiver_appointments"])
    r = b.post(
        url(world, "change"),
        {
            "day_1": SOON,
            "part_1": "morning",
            "day_2": SOON,
            "part_2": "morning",
            "note": "Mañanas, por favor",
        },
    )
    assert r.status_code == 302
    [thread] = threads(world["appt"])
    assert thread.topic is Topic.APPOINTMENT and thread.plan_item_id == world["appt"].id
    body = db.session.scalar(sa.select(Message.body).where(Message.thread_id == thread.id))
    assert "Mañanas, por favor" in body
    assert body.count("\n- ") == 1  # the same day twice is one suggestion
    page = b.page(item_url(world))
    assert "A change to this was asked for on" in page and "appointment/change" not in page
    assert "Asked to change the time" in b.page(f"/patients/{world['pid']}/changes")
    me = login(new_browser, world["users"]["patient"]).page(item_url(world))
    assert "You asked to change this on" in me
    # the nurse answers in the thread: the ask is answered
    nurse = login(new_browser, world["users"]["team"])
    thread_url = f"/patients/{world['pid']}/messages/{thread.id}"
    assert nurse.get(thread_url).status_code == 200
    reply = nurse.post(thread_url, {"body": "We can do Monday at 9."})
    assert reply.status_code in (302, 303), reply.status_code
    assert fresh(world["appt"]).change_requested_at is None
    assert "You asked to change this on" not in login(new_browser, world["users"]["patient"]).page(
        item_url(world)
    )


def test_a_team_edit_answers_the_ask(world, new_browser):
    from app.careplan.items import services
    from app.careplan.items.services import ItemInput
    from app.core.privacy import Actor, Capacity

    b = login(new_browser, world["users"]["patient"])
    assert b.post(url(world, "change"), {"note": "Any afternoon"}).status_code == 302
    assert b.post(url(world, "confirm"), form_url=item_url(world)).status_code == 302
    item = fresh(world["appt"])
    from flask import g

    g.actor = Actor(user_id=world["users"]["team"].id, capacity=Capacity.CARE_TEAM)
    data = ItemInput.from_item(item)
    data.starts_at = item.starts_at + timedelta(days=3)
    services.update_item(item, data)
    db.session.commit()
    assert fresh(item).change_requested_at is None
    assert fresh(item).patient_confirmed_at is None  # moved: to be confirmed again


# ------------------------------------------------------------------ calendar


def test_calendar_file_in_the_patients_zone_without_health_words(world, new_browser):
    w = world["w"]
    w.patient.timezone = "America/Denver"
    db.session.commit()
    b = login(new_browser, world["users"]["patient"])
    r = b.get(url(world, "calendar.ics"))
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "heart" not in disposition.lower()
    text = r.get_data(as_text=True)
    for word in ("Heart", "Dr. Lee", "cardiology", "blood pressure"):
        assert word not in text, word
    cal = Calendar.from_ical(r.data)
    [event] = cal.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Appointment"
    assert event["DTSTART"].dt.tzinfo.key == "America/Denver"
    assert event["DTSTART"].dt == world["appt"].starts_at.replace(microsecond=0)
    assert "Riverbend Clinic" in str(event["LOCATION"])
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "America/Denver"
    assert b.get(url(world, "calendar.ics")).data.split(b"UID:")[1].split(b"\r\n")[0] == bytes(
        event["UID"], "ascii"
    )  # the same UID each time: a second download updates, not duplicates


def test_calendar_names_it_when_the_patient_chose_detailed_texts(world, new_browser):
    db.session.add(PatientPreferences(patient_id=world["pid"], detailed_texts=True))
    db.session.commit()
    r = login(new_browser, world["users"]["patient"]).get(url(world, "calendar.ics"))
    [event] = Calendar.from_ical(r.data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Heart check with Dr. Lee"
    assert "blood pressure" in str(event["DESCRIPTION"])


# ------------------------------------------------------------------ video


def test_join_video_from_fifteen_minutes_before(world, new_browser):
    b = login(new_browser, world["users"]["patient"])

    def page_when_it_starts_in(delta):
        item = fresh(world["appt"])
        item.video_url = "https://video.example.org/join/abc"
        item.starts_at = utcnow() + delta
        db.session.commit()
        return b.page(item_url(world))

    page = page_when_it_starts_in(timedelta(minutes=30))
    assert "video.example.org" not in page and "You can join the video visit from" in page
    page = page_when_it_starts_in(timedelta(minutes=10))
    assert 'href="https://video.example.org/join/abc"' in page and "Join video" in page
    assert "You can join the video visit from" not in page
    page = page_when_it_starts_in(-timedelta(minutes=50))  # under way: still joinable
    assert 'href="https://video.example.org/join/abc"' in page
    assert "appointment/confirm" not in page  # but nothing else to do about it
    assert "video.example.org" not in page_when_it_starts_in(-timedelta(hours=3))


# ------------------------------------------------------------------ the team's form


def test_team_form_checks_video_link_and_phone(world, new_browser):
    b = login(new_browser, world["users"]["team"])
    edit = f"{item_url(world)}/edit"
    page = b.page(edit)
    assert 'name="video_url"' in page and 'name="location_phone"' in page
    from app.careplan.items.forms import form_data
    from app.careplan.items.services import ItemInput

    base = {
        k: ("" if v is None else v)
        for k, v in form_data(ItemInput.from_item(fresh(world["appt"])), world["w"].patient).items()
    }
    base["starts_at"] = world["w"].patient.local(world["appt"].starts_at).strftime("%Y-%m-%dT%H:%M")
    base["interpreter_booked"] = ""
    for bad in (
        {"video_url": "http://video.example.org/x"},
        {"video_url": "javascript:alert(1)"},
        {"location_phone": "not a phone"},
    ):
        r = b.post(edit, {**base, **bad})
        assert r.status_code == 422, bad
    r = b.post(
        edit,
        {**base, "video_url": "https://video.example.org/join/1", "location_phone": "503-555-0123"},
    )
    assert r.status_code == 302
    item = fresh(world["appt"])
    assert item.video_url == "https://video.example.org/join/1"
    assert item.location_phone == "+15035550123"
    assert {"location_phone", "video_url"} <= set(events(item)[-1])


# ------------------------------------------------------------------ texts C and R

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "http://carecircle.test"


def _text(client, body, sender, sid):
    params = {"MessageSid": sid, "From": sender, "Body": body, "To": "+15035550100"}
    signature = RequestValidator(TOKEN).compute_signature(BASE + "/sms/inbound", params)
    return client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})


def test_texted_c_and_r_use_the_same_services(world, app, client):
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    w = world["w"]
    w.patient.mobile_phone = "+15035550177"
    db.session.commit()
    assert _text(client, "C", "+15035550177", "SM" + "1" * 32).status_code == 200
    assert _text(client, "C", "+15035550177", "SM" + "2" * 32).status_code == 200
    item = fresh(world["appt"])
    assert item.patient_confirmed_at is not None
    assert events(item).count(["appointment_confirmed"]) == 1
    assert _text(client, "R", "+15035550177", "SM" + "3" * 32).status_code == 200
    [thread] = threads(item)
    assert thread.topic is Topic.APPOINTMENT
    assert fresh(item).change_requested_at is not None
    request = db.session.scalar(sa.select(AppointmentRequest))
    assert request.suggested is None and request.capacity == "patient"
    # a second R while the first waits goes into the same thread
    assert _text(client, "R", "+15035550177", "SM" + "4" * 32).status_code == 200
    assert len(threads(item)) == 1
    count = db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(Message.thread_id == thread.id)
    )
    assert count == 2
