"""Medicines (issue 15, part 2): dose times, "Taken" per dose (and undo), the 7-day strip,
refill requests and the pharmacy team's one-step answer; who may do each, and what happens
once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.careplan.items.doses import MedicationDose, parse_times
from app.careplan.items.models import ItemKind, OwnerKind, PlanItem, TaskCompletion
from app.careplan.items.refills import RefillRequest, RefillState
from app.core.db import utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from app.messaging.models import Message, Thread, ThreadStatus, Topic
from app.patients.models import PatientPreferences
from app.team.models import Discipline
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add


def med(patient, org, title="Take metformin", **kw):
    kw.setdefault("medication_name", title.removeprefix("Take ").capitalize())
    kw.setdefault("dose", "500 mg")
    kw.setdefault("prescriber_name", "Dr. X")
    kw.setdefault("area", "medicines")
    return add(patient, org, kind=ItemKind.MEDICATION, title=title, **kw)


@pytest.fixture
def world(two_patients, make_member, assign):
    w = two_patients
    w.ana = w.helper("Ana Carter", ["plan", "messages"])
    w.plan_only = w.helper("Plan Only", ["plan"])
    w.messages_only = w.helper("Messages Only", ["messages"])
    w.bare = w.helper("No Scopes", [])
    w.pharmacist = make_member(discipline=Discipline.PHARMACY, org=w.org, name="Dev Sharma")
    assign(w.patient, w.pharmacist)
    w.pharmacist_user = db.session.get(type(w.patient_user), w.pharmacist.user_id)
    w.colleague = make_member(discipline=Discipline.PHARMACY, org=w.org, name="Pat Pharm")
    assign(w.patient, w.colleague)
    w.colleague_user = db.session.get(type(w.patient_user), w.colleague.user_id)
    w.pills = med(w.patient, w.org, dose_times=["08:00", "20:00"])
    w.once = med(w.patient, w.org, title="Take apixaban")
    w.secret = med(
        w.patient, w.org, title="Take sertraline", sensitivity=Sensitivity.BEHAVIORAL_HEALTH
    )
    w.team_med = med(
        w.patient,
        w.org,
        title="Take insulin shot",
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=w.member.id,
    )
    w.others = med(w.other, w.org, title="Take lisinopril")
    db.session.add(
        PatientPreferences(patient_id=w.patient.id, preferred_pharmacy="Hillside Pharmacy")
    )
    db.session.commit()
    return w


def dose_url(w, item):
    return f"/patients/{w.patient.id}/plan/items/{item.id}/doses"


def take(b, w, item, slot=0, *, undo=False, day=None, back="home", patient=None):
    patient = patient or w.patient
    data = {"day": (day or patient.today()).isoformat(), "slot": str(slot), "back": back}
    if undo:
        data["undo"] = "1"
    return b.post(
        f"/patients/{patient.id}/plan/items/{item.id}/doses",
        data,
        form_url=f"/patients/{patient.id}/home",
    )


def logged(item=None):
    query = sa.select(MedicationDose.item_id, MedicationDose.for_date, MedicationDose.slot)
    if item is not None:
        query = query.where(MedicationDose.item_id == item.id)
    return sorted(tuple(r) for r in db.session.execute(query))


# ------------------------------------------------------------------ dose times


def test_times_of_day_are_parsed_or_refused():
    assert parse_times("8:00, 20:30 08:00") == ["08:00", "20:30"]
    assert parse_times("") == []
    for bad in ("25:00", "8", "8:60", "noon", "08:00,9:00,10:00,11:00,12:00,13:00,14:00"):
        with pytest.raises(ValueError):
            parse_times(bad)


def test_the_team_edits_the_times_of_day_with_a_translated_error(world, new_browser):
    b = signed_in(new_browser, world.member_user)
    url = f"/patients/{world.patient.id}/plan/items/{world.once.id}/edit"
    page = b.page(url)
    assert "Times of day" in page
    form = {
        "title": "Take apixaban",
        "area": "medicines",
        "status": "active",
        "discipline": "nursing",
        "source_organization": world.org.id,
        "owner": "patient",
        "sensitivity": "",
        "medication_name": "Apixaban",
        "dose": "5 mg",
        "prescriber_name": "Dr. X",
    }
    bad = b.post(url, {**form, "dose_times": "8:00, 26:00"})
    assert bad.status_code == 422
    assert "Write times like 08:00 or 20:30" in bad.get_data(as_text=True)
    assert db.session.get(PlanItem, world.once.id).dose_times is None
    ok = b.post(url, {**form, "dose_times": "20:00, 8:00"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(PlanItem, world.once.id).dose_times == ["08:00", "20:00"]
    again = b.page(url)
    assert 'value="08:00, 20:00"' in again


# ------------------------------------------------------------------ taken


def test_the_patient_marks_each_dose_taken_from_home_and_undoes_one(world, new_browser):
    b = signed_in(new_browser, world.patient_user)
    home = f"/patients/{world.patient.id}/home"
    html = b.page(home)
    # One row per dose, with its time, and one for the medicine without times.
    assert f'id="dose-{world.pills.id}-0"' in html and f'id="dose-{world.pills.id}-1"' in html
    assert "8:00\u202fAM" in html or "8:00 AM" in html
    assert f'id="dose-{world.once.id}-0"' in html and "Once today" in html
    assert "Take sertraline" in html  # his own view shows his private medicine
    response = take(b, world, world.pills, 1)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{home}#dose-{world.pills.id}-1"
    take(b, world, world.pills, 0)
    take(b, world, world.pills, 0)  # a double tap logs it once
    today = world.patient.today()
    assert logged(world.pills) == [(world.pills.id, today, 0), (world.pills.id, today, 1)]
    html = b.page(home)
    assert "Taken. Undo: Take metformin" in html
    take(b, world, world.pills, 1, undo=True)
    take(b, world, world.pills, 1, undo=True)  # undo twice: nothing more happens
    assert logged(world.pills) == [(world.pills.id, today, 0)]
    # Medicines no longer go through the task ticks, and never count as due.
    assert db.session.scalar(sa.select(sa.func.count(TaskCompletion.id))) == 0
    tick = b.post(
        f"/patients/{world.patient.id}/plan/items/{world.pills.id}/done",
        {"day": today.isoformat()},
        form_url=home,
    )
    assert tick.status_code == 400


def test_today_lists_the_doses_and_the_medicine_page_shows_the_week(world, new_browser):
    b = signed_in(new_browser, world.patient_user)
    today = world.patient.today()
    for back, slot in ((1, 0), (2, 0), (2, 1)):
        db.session.add(
            MedicationDose(item_id=world.pills.id, for_date=today - timedelta(days=back), slot=slot)
        )
    db.session.execute(
        sa.update(PlanItem)
        .where(PlanItem.id == world.pills.id)
        .values(created_at=utcnow() - timedelta(days=10))
    )
    db.session.commit()
    week = b.page(f"/patients/{world.patient.id}/today")
    assert "Your medicines" in week and f'id="dose-{world.pills.id}-1"' in week
    take(b, world, world.pills, 0, back="today")
    page = b.page(f"/patients/{world.patient.id}/plan/items/{world.pills.id}")
    strip = page[page.index('class="dose-strip"') :]
    strip = strip[: strip.index("</ol>")]
    texts = re.findall(r'<span class="strip-text[^"]*">(.*?)</span>\s*</li>', strip, re.S)
    texts = [re.sub(r"<[^>]+>.*?</span>", "", t).strip() for t in texts]
    # Oldest first: 4 days with nothing, both two days ago, one of two yesterday, and today
    # (one of two so far) not yet over.
    assert texts[-3:] == ["All taken", "1 of 2", "Not yet"]
    assert texts[:4] == ["None taken"] * 4
    assert "Taken. Undo: Take metformin" in page  # today's first dose, from the page too


def test_the_strip_says_when_a_medicine_was_not_in_the_plan_yet(world, new_browser):
    b = signed_in(new_browser, world.patient_user)
    page = b.page(f"/patients/{world.patient.id}/plan/items/{world.once.id}")
    assert page.count("Not in the plan yet") == 6 and "Not yet" in page


@pytest.mark.parametrize(
    "who, status",
    [
        ("patient_user", 302),
        ("ana", 302),  # plan scope: may complete tasks
        ("plan_only", 302),
        ("messages_only", 404),
        ("bare", 404),
        ("member_user", 302),  # his team may (a nurse on a home visit)
        ("other_user", 404),
        ("other_member_user", 404),
        ("admin", 404),
    ],
)
def test_who_may_mark_a_dose_taken(world, new_browser, who, status):
    b = signed_in(new_browser, getattr(world, who))
    assert take(b, world, world.pills).status_code == status
    assert bool(logged()) is (status == 302)


def test_hidden_items_and_other_patients_ids_are_404_and_write_nothing(world, new_browser):
    ana = signed_in(new_browser, world.ana)
    assert take(ana, world, world.secret).status_code == 404  # category not shared with her
    html = ana.page(f"/patients/{world.patient.id}/home")
    assert "sertraline" not in html.lower()
    james = signed_in(new_browser, world.patient_user)
    assert take(james, world, world.others).status_code == 404  # Maria's medicine, his URL
    assert take(james, world, world.others, patient=world.other).status_code == 404
    # After reclassification, the medicine she could mark is gone for her too.
    assert take(ana, world, world.once).status_code == 302
    db.session.execute(
        sa.update(PlanItem)
        .where(PlanItem.id == world.once.id)
        .values(sensitivity=Sensitivity.BEHAVIORAL_HEALTH)
    )
    db.session.commit()
    assert take(ana, world, world.once, undo=True).status_code == 404
    assert take(ana, world, world.once).status_code == 404
    assert logged() == [(world.once.id, world.patient.today(), 0)]


@pytest.mark.parametrize(
    "change",
    [
        {"slot": "2"},  # metformin has two doses: 0 and 1
        {"slot": "-1"},
        {"slot": "99999999999999999999"},
        {"slot": "one"},
        {"slot": ""},
        {"day": "yesterday"},
        {"day": "9999-12-31"},
        {"day": "+1"},
    ],
)
def test_hostile_or_wrong_doses_are_refused_and_write_nothing(world, new_browser, change):
    b = signed_in(new_browser, world.patient_user)
    data = {"day": world.patient.today().isoformat(), "slot": "0", "back": "home", **change}
    response = b.post(
        dose_url(world, world.pills), data, form_url=f"/patients/{world.patient.id}/home"
    )
    assert response.status_code in (400, 409)
    assert logged() == []


def test_a_dose_for_another_day_than_today_is_refused(world, new_browser):
    b = signed_in(new_browser, world.patient_user)
    today = world.patient.today()
    for day in (today - timedelta(days=1), today + timedelta(days=1), today - timedelta(days=8)):
        assert take(b, world, world.pills, day=day).status_code == 400
    assert logged() == []


def test_team_owned_and_closed_medicines_cannot_be_marked(world, new_browser):
    b = signed_in(new_browser, world.patient_user)
    assert take(b, world, world.team_med).status_code == 409
    html = b.page(f"/patients/{world.patient.id}/home")
    assert f'id="dose-{world.team_med.id}-0"' not in html  # Home lists only his own
    db.session.execute(
        sa.update(PlanItem).where(PlanItem.id == world.once.id).values(status="stopped")
    )
    db.session.commit()
    assert take(b, world, world.once).status_code in (404, 409)
    assert logged() == []


def test_the_migration_moved_no_task_ticks(world):
    """Tasks keep their ticks: only medicines moved to the dose log (see the migration)."""
    task = add(world.patient, world.org, title="Walk")
    db.session.add(TaskCompletion(item_id=task.id, for_date=world.patient.today()))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(TaskCompletion.id))) == 1


# ------------------------------------------------------------------ refill requests


def refill_url(w, item, patient=None):
    return f"/patients/{(patient or w.patient).id}/plan/items/{item.id}/refill"


def ask(b, w, item, data=None, patient=None):
    url = refill_url(w, item, patient)
    return b.post(url, data or {"note": "3 pills left"}, form_url=url)


def requests():
    return list(db.session.scalars(sa.select(RefillRequest).order_by(RefillRequest.id)))


def test_the_patient_requests_a_refill_once(world, new_browser):
    b = signed_in(new_browser, world.patient_user)
    page = b.page(f"/patients/{world.patient.id}/plan/items/{world.pills.id}")
    assert "Request a refill" in page
    confirm = b.page(refill_url(world, world.pills))
    assert "Metformin" in confirm and "Hillside Pharmacy" in confirm
    response = ask(b, world, world.pills)
    assert response.status_code == 302
    [made] = requests()
    thread = db.session.get(Thread, made.thread_id)
    assert response.headers["Location"] == f"/patients/{world.patient.id}/messages/{thread.id}"
    assert (thread.topic, thread.plan_item_id) == (Topic.MEDICATION, world.pills.id)
    assert thread.subject == "Refill request: Metformin"
    body = db.session.scalar(sa.select(Message.body).where(Message.thread_id == thread.id))
    assert "Hillside Pharmacy" in body and "3 pills left" in body
    assert (made.state, made.pharmacy) == (RefillState.REQUESTED, "Hillside Pharmacy")
    # A second request while one is open shows the open one: no second thread.
    again = ask(b, world, world.pills)
    assert again.headers["Location"] == response.headers["Location"]
    assert b.get(refill_url(world, world.pills)).headers["Location"] == response.headers["Location"]
    assert len(requests()) == 1
    assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == 1
    thread_page = b.page(response.headers["Location"])
    assert "Refill request" in thread_page and "Waiting for the pharmacy team" in thread_page
    assert "Sent to pharmacy</button>" not in thread_page  # the patient does not answer
    item_page = b.page(f"/patients/{world.patient.id}/plan/items/{world.pills.id}")
    assert "Waiting for the pharmacy team" in item_page and "Request a refill</a>" not in item_page


def test_without_a_pharmacy_the_requester_names_one(world, new_browser):
    db.session.execute(sa.delete(PatientPreferences))
    db.session.commit()
    b = signed_in(new_browser, world.patient_user)
    missing = ask(b, world, world.once, {"pharmacy": "  ", "note": ""})
    assert missing.status_code == 422
    assert "Say which pharmacy should fill it." in missing.get_data(as_text=True)
    assert requests() == []
    too_long = ask(b, world, world.once, {"pharmacy": "x" * 161})
    assert too_long.status_code == 422 and requests() == []
    huge_note = ask(b, world, world.once, {"pharmacy": "Main St", "note": "x" * 5000})
    assert huge_note.status_code == 422 and requests() == []
    ok = ask(b, world, world.once, {"pharmacy": "Main Street Drugs", "note": ""})
    assert ok.status_code == 302
    assert [r.pharmacy for r in requests()] == ["Main Street Drugs"]


def test_a_double_submit_of_the_refill_form_makes_one_request(world, new_browser):
    b = signed_in(new_browser, world.patient_user)
    url = refill_url(world, world.pills)
    page = b.page(url)
    from tests.fixtures.browser import csrf_from, key_from

    data = {"csrf_token": csrf_from(page), "idempotency_key": key_from(page), "note": ""}
    first = b.client.post(url, data=data)
    second = b.client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(requests()) == 1
    assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == 1


@pytest.mark.parametrize(
    "who, status",
    [
        ("ana", 302),
        ("messages_only", 302),  # may write for him, and may see the (non-sensitive) item
        ("plan_only", 404),  # sees the plan, may not send messages
        ("bare", 404),
        ("other_user", 404),
        ("admin", 404),
    ],
)
def test_who_may_request_a_refill(world, new_browser, who, status):
    b = signed_in(new_browser, getattr(world, who))
    assert ask(b, world, world.once).status_code == status
    assert len(requests()) == (1 if status == 302 else 0)


def test_a_caregiver_cannot_request_a_hidden_medicine_or_another_patients(world, new_browser):
    ana = signed_in(new_browser, world.ana)
    assert ask(ana, world, world.secret).status_code == 404
    assert ana.get(refill_url(world, world.secret)).status_code == 404
    james = signed_in(new_browser, world.patient_user)
    assert ask(james, world, world.others).status_code == 404
    assert ask(james, world, world.others, patient=world.other).status_code == 404
    task = add(world.patient, world.org, title="Walk")
    assert ask(james, world, task).status_code == 404  # not a medicine
    assert requests() == []


# ------------------------------------------------------------------ the pharmacist's answer


def answer_url(w, made, state="sent_to_pharmacy", patient=None):
    return f"/patients/{(patient or w.patient).id}/refills/{made.id}/answer/{state}"


def thread_url(w, made):
    return f"/patients/{w.patient.id}/messages/{made.thread_id}"


@pytest.fixture
def asked(world, new_browser):
    b = signed_in(new_browser, world.patient_user)
    assert ask(b, world, world.pills).status_code == 302
    [made] = requests()
    return made


def test_the_pharmacist_answers_in_one_step_in_the_patients_language(
    world, asked, new_browser, monkeypatch
):
    from flask_babel import get_locale

    from app.auth.models import User
    from app.careplan.items import refills

    written_in = []
    real = refills.answer_text

    def spy(refill, state):
        written_in.append(str(get_locale()))
        return real(refill, state)

    monkeypatch.setattr(refills, "answer_text", spy)

    db.session.execute(sa.update(User).where(User.id == world.patient_user.id).values(locale="es"))
    db.session.commit()
    dev = signed_in(new_browser, world.pharmacist_user)
    page = dev.page(thread_url(world, asked))
    assert "Sent to pharmacy</button>" in page.replace("\n", "") or "Sent to pharmacy" in page
    response = dev.post(answer_url(world, asked), {}, form_url=thread_url(world, asked))
    assert response.status_code == 302
    assert response.headers["Location"] == thread_url(world, asked)
    db.session.expire_all()
    made = db.session.get(RefillRequest, asked.id)
    assert made.state is RefillState.SENT_TO_PHARMACY
    assert made.handled_by_id == world.pharmacist_user.id and made.handled_at is not None
    thread = db.session.get(Thread, asked.thread_id)
    assert thread.status is ThreadStatus.RESOLVED
    last = db.session.scalars(
        sa.select(Message).where(Message.thread_id == thread.id).order_by(Message.id.desc())
    ).first()
    assert last.capacity == "care_team" and last.author_id == world.pharmacist_user.id
    assert "Hillside Pharmacy" in last.body
    assert "Metformin" in last.body
    assert written_in == ["es"]  # the patient's language, not the pharmacist's (English)
    # The patient sees the state on the thread and on the medicine.
    james = signed_in(new_browser, world.patient_user)
    item_page = james.page(f"/patients/{world.patient.id}/plan/items/{world.pills.id}")
    assert "Hillside Pharmacy" in item_page
    assert "Request a refill" in item_page or "Pedir" in item_page  # may ask again now


def test_needs_a_visit_tells_the_patient_and_the_caregiver(world, asked, new_browser):
    dev = signed_in(new_browser, world.pharmacist_user)
    dev.post(answer_url(world, asked, "needs_visit"), {}, form_url=thread_url(world, asked))
    james = signed_in(new_browser, world.patient_user)
    page = james.page(f"/patients/{world.patient.id}/plan/items/{world.pills.id}")
    assert "Needs a visit" in page and "Your team wants to see you before refilling it." in page
    ana = signed_in(new_browser, world.ana)
    page = ana.page(thread_url(world, asked))
    assert "The team wants to see James before refilling it." in page
    assert "Needs a visit</button>" not in page


def test_a_double_tap_and_a_second_pharmacist_change_nothing(world, asked, new_browser):
    dev = signed_in(new_browser, world.pharmacist_user)
    first = dev.post(answer_url(world, asked), {}, form_url=thread_url(world, asked))
    again = dev.post(answer_url(world, asked), {}, form_url=thread_url(world, asked))
    assert first.status_code == again.status_code == 302
    pat = signed_in(new_browser, world.colleague_user)
    late = pat.post(
        answer_url(world, asked, "needs_visit"), {}, form_url=f"/patients/{world.patient.id}"
    )
    assert late.status_code == 409
    assert "Dev Sharma already answered this request: Sent to pharmacy." in late.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(RefillRequest, asked.id).state is RefillState.SENT_TO_PHARMACY
    team_messages = db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(
            Message.thread_id == asked.thread_id, Message.capacity == "care_team"
        )
    )
    assert team_messages == 1


def test_two_pharmacists_at_once_one_answer_wins(world, asked, new_browser):
    from tests.fixtures.concurrency import race

    browsers = [
        signed_in(new_browser, world.pharmacist_user),
        signed_in(new_browser, world.colleague_user),
    ]
    tokens = [b.token(thread_url(world, asked)) for b in browsers]
    answers = race(
        (browsers[0].client, answer_url(world, asked), {"csrf_token": tokens[0]}),
        (browsers[1].client, answer_url(world, asked, "needs_visit"), {"csrf_token": tokens[1]}),
    )
    assert sorted(a.status_code for a in answers) == [302, 409]
    loser = next(a for a in answers if a.status_code == 409).get_data(as_text=True)
    assert "already answered this request" in loser
    db.session.expire_all()
    assert db.session.get(RefillRequest, asked.id).state is not RefillState.REQUESTED
    team_messages = db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(
            Message.thread_id == asked.thread_id, Message.capacity == "care_team"
        )
    )
    assert team_messages == 1


@pytest.mark.parametrize("who", ["patient_user", "ana", "other_member_user", "admin"])
def test_only_the_patients_team_answers(world, asked, new_browser, who):
    b = signed_in(new_browser, getattr(world, who))
    response = b.post(answer_url(world, asked), {}, form_url=f"/patients/{world.patient.id}/home")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(RefillRequest, asked.id).state is RefillState.REQUESTED


def test_wrong_answers_and_ids_are_refused(world, asked, new_browser):
    dev = signed_in(new_browser, world.pharmacist_user)
    form = thread_url(world, asked)
    assert dev.post(answer_url(world, asked, "requested"), {}, form_url=form).status_code == 404
    assert dev.post(answer_url(world, asked, "lol"), {}, form_url=form).status_code == 404
    other = f"/patients/{world.other.id}/refills/{asked.id}/answer/sent_to_pharmacy"
    assert dev.post(other, {}, form_url=form).status_code == 404
    huge = f"/patients/{world.patient.id}/refills/99999999999999999999/answer/sent_to_pharmacy"
    assert dev.post(huge, {}, form_url=form).status_code == 404
    no_csrf = dev.client.post(answer_url(world, asked))
    assert no_csrf.status_code == 400
    db.session.expire_all()
    assert db.session.get(RefillRequest, asked.id).state is RefillState.REQUESTED


def test_the_answer_panel_follows_the_medicines_category(world, new_browser):
    """A caregiver without the category never sees a hidden medicine's request (the thread is
    hidden too), also after the medicine is reclassified."""
    james = signed_in(new_browser, world.patient_user)
    assert ask(james, world, world.once).status_code == 302
    [made] = requests()
    ana = signed_in(new_browser, world.ana)
    assert "Refill request" in ana.page(thread_url(world, made))
    db.session.execute(
        sa.update(PlanItem)
        .where(PlanItem.id == world.once.id)
        .values(sensitivity=Sensitivity.BEHAVIORAL_HEALTH)
    )
    db.session.commit()
    assert ana.get(thread_url(world, made)).status_code == 404
    assert "apixaban" not in ana.page(f"/patients/{world.patient.id}/messages").lower()
