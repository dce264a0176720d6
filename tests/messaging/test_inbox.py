"""The care team side of messaging: routing, inbox views, triage, overdue, response times,
notifications, unread counts and the full loop from the issue."""

import html as html_lib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.core.db import utcnow
from app.core.mail import OutboundEmail
from app.extensions import db
from app.messaging import workqueue
from app.messaging.models import Message, ResponseTime, Thread, ThreadStatus
from app.patients.models import PatientPreferences
from app.team.models import Discipline
from app.texting.models import OutboundSms
from tests.fixtures.browser import signed_in
from tests.fixtures.mail import link_in


@pytest.fixture
def team(make_patient, make_member, assign, make_user, grant, make_org):
    org = make_org()
    patient = make_patient(
        given="Maria",
        family="Lopez",
        mobile_phone="+15035550101",
        language="es",
        timezone="America/Los_Angeles",
    )
    members = {
        "nurse": make_member(Discipline.NURSING, org=org, name="Nina Patel"),
        "pharmacist": make_member(Discipline.PHARMACY, org=org, name="Dev Sharma"),
        "chw": make_member(Discipline.SOCIAL_SERVICES, org=org, name="Lupe Fernandez"),
    }
    assign(patient, members["nurse"], coordinator=True)
    assign(patient, members["pharmacist"])
    assign(patient, members["chw"])
    outsider = make_member(Discipline.PHARMACY, org=org)
    me = db.session.get(User, patient.user_id)
    me.locale = "es"
    helper = make_user(Role.CAREGIVER, name="Ana Carter", email="ana@example.test")
    grant(patient, helper, scopes=["messages"])
    db.session.add(
        PatientPreferences(
            patient_id=patient.id,
            contact_channels=["sms", "portal"],
            quiet_start=utcnow().time().replace(second=0, microsecond=0),
            quiet_end=utcnow().time().replace(second=0, microsecond=0),
        )
    )
    db.session.commit()
    users = {k: db.session.get(User, m.user_id) for k, m in members.items()}
    users.update(patient=me, caregiver=helper, outsider=db.session.get(User, outsider.user_id))
    return {"patient": patient, "members": members, "users": users}


def write(browser, patient, topic="medication", body="¿Puedo tomar la metformina con café?"):
    response = browser.post(
        f"/patients/{patient.id}/messages/new",
        {"topic": topic, "subject": "Pregunta", "body": body},
        form_url="/auth/account",
    )
    assert response.status_code == 302
    return response.headers["Location"]


def inbox_html(browser, view="unassigned", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = browser.get(f"/team/inbox?view={view}&{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_routing_sends_each_topic_to_its_discipline_and_the_coordinator(team, new_browser):
    maria = signed_in(new_browser, team["users"]["patient"])
    write(maria, team["patient"], "medication")
    pharmacist = signed_in(new_browser, team["users"]["pharmacist"])
    nurse = signed_in(new_browser, team["users"]["nurse"])
    chw = signed_in(new_browser, team["users"]["chw"])
    assert "Pregunta" in inbox_html(pharmacist)
    assert "Pregunta" in inbox_html(nurse)  # the coordinator sees everything
    assert "Pregunta" not in inbox_html(chw)  # not routed to social services...
    assert "Pregunta" in inbox_html(chw, "all")  # ...but the whole team can see it
    write(maria, team["patient"], "social_needs", body="Necesito ayuda con comida")
    assert "Necesito" not in inbox_html(pharmacist)
    html = inbox_html(chw)
    assert html.count("thread-row") == 1
    # the badge counts what is waiting for each person
    assert 'class="nav-badge"' in chw.get("/team/patients").get_data(as_text=True)


def test_claim_reply_notify_and_read_the_full_loop(team, new_browser):
    """The issue's loop: Maria writes in Spanish about a medication, the pharmacist claims and
    replies, Maria gets a Spanish text (in the outbox), reads the reply, unread drops."""
    prefs = db.session.scalar(sa.select(PatientPreferences))
    prefs.quiet_start, prefs.quiet_end = (
        (utcnow() + timedelta(hours=1)).time(),
        (utcnow() + timedelta(hours=2)).time(),
    )
    db.session.commit()
    maria = signed_in(new_browser, team["users"]["patient"])
    url = write(maria, team["patient"])
    pid = team["patient"].id
    tid = int(url.rsplit("/", 1)[1])
    pharmacist = signed_in(new_browser, team["users"]["pharmacist"])
    assert pharmacist.post(f"{url}/claim", {}, form_url="/auth/account").status_code == 302
    assert "Pregunta" in inbox_html(pharmacist, "mine")
    assert "Pregunta" not in inbox_html(pharmacist, "unassigned")
    reply = pharmacist.post(url, {"body": "Sí, con el desayuno. Vea https://example.org/a."})
    assert reply.status_code == 302

    [sms] = db.session.scalars(sa.select(OutboundSms)).all()
    assert sms.to_number == "+15035550101"
    assert sms.body.startswith("CareCircle: su equipo de atención le envió un mensaje.")
    assert f"/patients/{pid}" not in sms.body  # a short link: no record numbers on a lock screen
    short = maria.get(link_in(sms.body))
    assert short.status_code == 302
    assert short.headers["Location"].endswith(f"/patients/{pid}/messages/{tid}")
    assert "desayuno" not in sms.body and "metformina" not in sms.body
    assert sms.status == "stored"  # outside quiet hours: handed to the outbox backend at once
    [mail] = db.session.scalars(sa.select(OutboundEmail)).all()  # Ana, messages scope
    assert mail.to_address == "ana@example.test" and "desayuno" not in mail.body

    before = maria.get(f"/patients/{pid}/messages").get_data(as_text=True)
    assert "1 unread message" in before or "1 mensaje sin leer" in before
    page = maria.get(url).get_data(as_text=True)
    assert "Sí, con el desayuno." in page
    assert 'href="https://example.org/a"' in page  # links are clickable, the dot is not in it
    after = maria.get(f"/patients/{pid}/messages").get_data(as_text=True)
    assert "0 mensajes sin leer" in after

    [rt] = db.session.scalars(sa.select(ResponseTime)).all()
    assert rt.responder_id == team["users"]["pharmacist"].id
    assert rt.target_seconds == 24 * 3600 and rt.seconds >= 0


def test_quiet_hours_hold_the_text(app, team, new_browser):
    from zoneinfo import ZoneInfo

    prefs = db.session.scalar(sa.select(PatientPreferences))
    now = utcnow()
    local = now.astimezone(ZoneInfo("America/Los_Angeles"))  # quiet hours are the patient's
    prefs.quiet_start = (local - timedelta(hours=1)).time()
    prefs.quiet_end = (local + timedelta(hours=3)).time()
    db.session.commit()
    maria = signed_in(new_browser, team["users"]["patient"])
    url = write(maria, team["patient"])
    nurse = signed_in(new_browser, team["users"]["nurse"])
    nurse.post(url, {"body": "Hola María"})
    [sms] = db.session.scalars(sa.select(OutboundSms)).all()
    assert sms.status == "queued"
    assert sms.send_after > now + timedelta(hours=2)
    from app.texting.outbox import deliver_due

    later = sms.send_after + timedelta(seconds=1)
    app.config["SMS_BACKEND"] = "twilio"  # the dispatcher's job: the cron line leaves it be
    assert deliver_due(now=later) == 0
    db.session.refresh(sms)
    assert sms.status == "queued" and sms.sent_at is None
    app.config["SMS_BACKEND"] = "outbox"
    assert deliver_due(now=later) == 1


def test_portal_only_patient_gets_no_text(team, new_browser):
    prefs = db.session.scalar(sa.select(PatientPreferences))
    prefs.contact_channels = ["portal"]
    db.session.commit()
    maria = signed_in(new_browser, team["users"]["patient"])
    url = write(maria, team["patient"])
    signed_in(new_browser, team["users"]["nurse"]).post(url, {"body": "Hola"})
    assert db.session.scalars(sa.select(OutboundSms)).all() == []


def test_internal_notes_never_reach_the_patient_side(team, new_browser):
    maria = signed_in(new_browser, team["users"]["patient"])
    url = write(maria, team["patient"])
    nurse = signed_in(new_browser, team["users"]["nurse"])
    assert (
        nurse.post(
            f"{url}/note", {"body": "Check her kidney labs first"}, form_url="/auth/account"
        ).status_code
        == 302
    )
    assert "Check her kidney labs first" in nurse.get(url).get_data(as_text=True)
    for who in ("patient", "caregiver"):
        b = signed_in(new_browser, team["users"][who])
        assert "kidney" not in b.get(url).get_data(as_text=True)
        assert b.post(f"{url}/note", {"body": "x"}, form_url="/auth/account").status_code == 404
    assert db.session.scalars(sa.select(OutboundSms)).all() == []  # a note notifies nobody


def test_assign_to_a_colleague_on_this_team_only(team, new_browser):
    maria = signed_in(new_browser, team["users"]["patient"])
    url = write(maria, team["patient"])
    nurse = signed_in(new_browser, team["users"]["nurse"])
    outsider = db.session.scalar(sa.select(User).where(User.id == team["users"]["outsider"].id))
    from app.team.queries import member_for_user

    bad = nurse.post(
        f"{url}/assign", {"member": member_for_user(outsider.id).id}, form_url="/auth/account"
    )
    assert bad.status_code == 409  # refused: nothing is written
    assert "not on this patient" in bad.get_data(as_text=True)
    thread = db.session.scalar(sa.select(Thread))
    assert thread.assignee_id is None
    nurse.post(
        f"{url}/assign", {"member": team["members"]["pharmacist"].id}, form_url="/auth/account"
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(Thread)).assignee_id == team["members"]["pharmacist"].id


def test_resolve_and_a_patient_reply_reopens(team, new_browser):
    maria = signed_in(new_browser, team["users"]["patient"])
    url = write(maria, team["patient"])
    nurse = signed_in(new_browser, team["users"]["nurse"])
    nurse.post(f"{url}/resolve", {}, form_url="/auth/account")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Thread)).status is ThreadStatus.RESOLVED
    assert "Pregunta" not in inbox_html(nurse)
    maria.post(url, {"body": "Una pregunta más"})
    db.session.expire_all()
    thread = db.session.scalar(sa.select(Thread))
    assert thread.status is ThreadStatus.OPEN and thread.due_at is not None


def test_overdue_against_the_topic_target(app, team, new_browser):
    app.config["MESSAGE_RESPONSE_HOURS"] = dict(app.config["MESSAGE_RESPONSE_HOURS"], symptoms=2)
    maria = signed_in(new_browser, team["users"]["patient"])
    write(maria, team["patient"], "symptoms", body="Me duele la cabeza")
    thread = db.session.scalar(sa.select(Thread))
    assert thread.due_at - thread.awaiting_since == timedelta(hours=2)
    nurse = signed_in(new_browser, team["users"]["nurse"])
    assert "Me duele" not in inbox_html(nurse, "overdue") and "thread-row" not in inbox_html(
        nurse, "overdue"
    )
    db.session.execute(
        sa.update(Thread).values(
            awaiting_since=utcnow() - timedelta(hours=3), due_at=utcnow() - timedelta(hours=1)
        )
    )
    workqueue.sync_threads([thread.id])  # a write behind the services' back: re-derive
    db.session.commit()
    html = inbox_html(nurse, "overdue")
    assert "is-overdue" in html and "Overdue since" in html
    from app.messaging.cli import send_digest

    assert send_digest() == 1  # the nurse (coordinator); symptoms do not route to pharmacy
    mail = db.session.scalars(sa.select(OutboundEmail)).all()[-1]
    assert mail.to_address == team["users"]["nurse"].email
    assert "1 overdue conversation" in mail.subject and "Maria" not in mail.body


def test_filters_by_topic_and_patient(team, new_browser, make_patient, assign):
    other = make_patient(given="James", family="Carter")
    assign(other, team["members"]["nurse"])
    maria = signed_in(new_browser, team["users"]["patient"])
    write(maria, team["patient"], "medication")
    write(maria, team["patient"], "appointment", body="Cambiar cita")
    nurse = signed_in(new_browser, team["users"]["nurse"])
    assert inbox_html(nurse, "all", topic="appointment").count("thread-row") == 1
    assert inbox_html(nurse, "all", patient=other.id).count("thread-row") == 0
    assert nurse.get("/team/inbox?view=bogus").status_code == 404
    assert nurse.get("/team/inbox?topic=bogus").status_code == 404


@pytest.mark.parametrize("who", ["patient", "caregiver", "outsider"])
def test_inbox_and_triage_are_for_this_patients_team(team, new_browser, who):
    maria = signed_in(new_browser, team["users"]["patient"])
    url = write(maria, team["patient"])
    b = signed_in(new_browser, team["users"][who])
    if who != "outsider":
        assert b.get("/team/inbox").status_code == 404
    else:
        assert "Pregunta" not in inbox_html(b, "all")
        assert b.get(url).status_code == 404
    for action in ("claim", "resolve"):
        assert b.post(f"{url}/{action}", {}, form_url="/auth/account").status_code == 404


def test_inbox_is_paginated_with_fixed_queries(team, new_browser, count_queries):
    from app.messaging import services

    nurse = signed_in(new_browser, team["users"]["nurse"])
    inbox_html(nurse, "all")

    def count():
        with count_queries() as c:
            inbox_html(nurse, "all")
        return c.count

    for n in range(3):
        services.start_thread(
            patient_id=team["patient"].id,
            topic=services.Topic.OTHER,
            subject=f"T{n}",
            body="hola",
            author_id=team["users"]["patient"].id,
            capacity="patient",
        )
    db.session.commit()
    small = count()
    for n in range(40):
        t = services.start_thread(
            patient_id=team["patient"].id,
            topic=services.Topic.OTHER,
            subject=f"More {n}",
            body="hola",
            author_id=team["users"]["patient"].id,
            capacity="patient",
        )
        db.session.add(
            Message(
                thread_id=t.id,
                author_id=team["users"]["patient"].id,
                capacity="patient",
                body="again",
            )
        )
    db.session.commit()
    assert count() == small
    first = inbox_html(nurse, "all")
    assert "43 conversations" in first and first.count("thread-row") == 20
    assert "More 39" in first and "T0" not in first  # latest message first
    pages = [first]
    while (more := re.search(r'href="([^"]*after=\d+[^"]*)"', pages[-1])) is not None:
        pages.append(nurse.get(html_lib.unescape(more.group(1))).get_data(as_text=True))
    assert [p.count("thread-row") for p in pages] == [20, 20, 3]
    assert "T0" in pages[-1] and "Previous" in pages[-1]
    shown = re.findall(r'class="person-name">([^<]+)<', "".join(pages))
    assert len(shown) == len(set(shown)) == 43  # every thread once, none skipped or repeated
    back = re.search(r'href="([^"]*before=\d+[^"]*)"', pages[-1]).group(1)
    again = nurse.get(html_lib.unescape(back)).get_data(as_text=True)
    assert re.findall(r'class="person-name">([^<]+)<', again) == re.findall(
        r'class="person-name">([^<]+)<', pages[1]
    )


def test_admins_see_that_the_text_went_not_what_it_says(team, new_browser, make_user):
    maria = signed_in(new_browser, team["users"]["patient"])
    url = write(maria, team["patient"])
    signed_in(new_browser, team["users"]["pharmacist"]).post(url, {"body": "Sí"})
    admin = signed_in(new_browser, make_user(Role.ADMIN))
    html = admin.get("/admin/outbox").get_data(as_text=True)
    assert "New message from your care team" in html and "ending in 0101" in html
    assert "CareCircle: su equipo de atención le envió un mensaje." not in html
    assert "/r/" not in html


def test_patient_thread_list_queries_do_not_grow(team, new_browser, count_queries):
    from app.messaging import services

    maria = signed_in(new_browser, team["users"]["patient"])
    pid = team["patient"].id

    def count():
        with count_queries() as c:
            assert maria.get(f"/patients/{pid}/messages").status_code == 200
        return c.count

    write(maria, team["patient"])
    small = count()
    for n in range(30):
        services.start_thread(
            patient_id=pid,
            topic=services.Topic.OTHER,
            subject=f"S{n}",
            body="hola",
            author_id=team["users"]["nurse"].id,
            capacity="care_team",
        )
    db.session.commit()
    assert count() == small
    page = maria.get(f"/patients/{pid}/messages").get_data(as_text=True)
    assert page.count('class="thread-row') == 20  # one page of 20 out of 31
    assert f"/patients/{pid}/messages?page=2" in page
