"""Writing to the team (issue 15, part 4): the subject is optional, the topic is chosen (no
default), "I'm not sure" goes to the care coordinator, "Ask about this" picks the topic from the
item, the thread says when to expect an answer, and staff see the patient's language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.careplan.items.models import ItemKind, ReferralNeed
from app.core.db import utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from app.messaging import workqueue
from app.messaging.forms import derive_subject
from app.messaging.models import Message, Thread, Topic
from app.team.models import Discipline
from tests.fixtures.browser import key_from, signed_in
from tests.fixtures.plan import add, med

CHEST_PAIN = "Tengo dolor en el pecho desde anoche"


@pytest.fixture
def world(make_patient, make_member, assign, make_user, grant, make_org):
    """María reads Spanish and wants an interpreter (her own screens are in English here, so
    the tests read the words this part adds); her care team: a coordinating nurse, a
    pharmacist and a community health worker; Ana helps with messages, Bo only with the plan;
    Jim is another patient with his own nurse."""
    org = make_org()
    maria = make_patient(given="María", family="López", language="es", interpreter_needed=True)
    members = {
        "nurse": make_member(Discipline.NURSING, org=org, name="Nina Patel"),
        "pharmacist": make_member(Discipline.PHARMACY, org=org, name="Dev Sharma"),
        "chw": make_member(Discipline.SOCIAL_SERVICES, org=org, name="Lupe Fernandez"),
    }
    assign(maria, members["nurse"], coordinator=True)
    assign(maria, members["pharmacist"])
    assign(maria, members["chw"])
    ana = make_user(Role.CAREGIVER, name="Ana Carter")
    grant(maria, ana, scopes=["messages", "plan"])
    bo = make_user(Role.CAREGIVER, name="Bo Plan")
    grant(maria, bo, scopes=["plan"])
    jim = make_patient(given="Jim", family="Other")
    jims_nurse = make_member(Discipline.NURSING, org=org, name="Other Nurse")
    assign(jim, jims_nurse, coordinator=True)
    users = {k: db.session.get(User, m.user_id) for k, m in members.items()}
    users.update(
        maria=db.session.get(User, maria.user_id),
        ana=ana,
        bo=bo,
        jim=db.session.get(User, jim.user_id),
        jims_nurse=db.session.get(User, jims_nurse.user_id),
    )
    return {"maria": maria, "jim": jim, "org": org, "members": members, "users": users}


def new_url(patient, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/patients/{patient.id}/messages/new" + (f"?{query}" if query else "")


def threads() -> list[Thread]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Thread).order_by(Thread.id)))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def inbox(browser, view="unassigned") -> str:
    response = browser.get(f"/team/inbox?view={view}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def selected_topic(page: str) -> str | None:
    select = re.search(r'<select[^>]*name="topic"[^>]*>(.*?)</select>', page, re.S)
    assert select, "no topic select"
    found = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', select.group(1)) or re.search(
        r'<option[^>]*value="([^"]*)"[^>]*selected', select.group(1)
    )
    return found.group(1) if found else None


# ------------------------------------------------------------------ subject and topic


def test_chest_pain_with_only_the_topic_is_accepted_and_goes_to_nursing(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    response = maria.post(new_url(world["maria"]), {"topic": "symptoms", "body": CHEST_PAIN})
    assert response.status_code == 302
    (thread,) = threads()
    assert (thread.subject, thread.topic) == (CHEST_PAIN, Topic.SYMPTOMS)
    assert thread.due_at - thread.awaiting_since == timedelta(hours=4)
    page = maria.get(response.headers["Location"]).get_data(as_text=True)
    assert f">{CHEST_PAIN}</h1>" in page
    nurse = signed_in(new_browser, world["users"]["nurse"])
    assert CHEST_PAIN in inbox(nurse)
    pharmacist = signed_in(new_browser, world["users"]["pharmacist"])
    assert CHEST_PAIN not in inbox(pharmacist)  # not pharmacy's, as the old default sent it


def test_the_subject_is_the_first_whole_words_of_the_message():
    long = "Me duele   la cabeza\ndesde el lunes y no sé si tomar otra pastilla o esperar a mañana"
    subject = derive_subject(long)
    assert "\n" not in subject and "  " not in subject
    assert subject.endswith("…") and len(subject) <= 61
    assert subject[:-1] == long.replace("\n", " ").replace("   ", " ")[: len(subject) - 1]
    assert " ".join(long.split()).startswith(subject[:-1] + " ")  # whole words only
    assert derive_subject("Hola") == "Hola"
    assert derive_subject("x" * 200) == "x" * 60 + "…"


def test_a_typed_subject_is_kept(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    data = {"topic": "billing", "subject": "  A   bill  ", "body": "I got a bill."}
    assert maria.post(new_url(world["maria"]), data).status_code == 302
    assert threads()[0].subject == "A bill"


def test_nothing_is_preselected_and_no_topic_is_refused_keeping_the_text(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    page = maria.get(new_url(world["maria"])).get_data(as_text=True)
    assert selected_topic(page) in (None, "")
    assert re.search(r'<option[^>]*value=""[^>]*>Choose one</option>', page)
    assert re.search(r'<option value="not_sure">I(&#39;|\')m not sure</option>', page)
    for topic in (None, "", "pharmacy", "medication; DROP TABLE", "9" * 30):
        data = {"body": CHEST_PAIN} if topic is None else {"topic": topic, "body": CHEST_PAIN}
        response = maria.post(new_url(world["maria"]), data)
        assert response.status_code == 422, topic
        text = response.get_data(as_text=True)
        assert "Choose what your message is about." in text
        assert CHEST_PAIN in text  # what she typed is still there
    assert (count(Thread), count(Message)) == (0, 0)


def test_not_sure_lands_with_the_care_coordinator(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    body = "No sé a quién preguntar por el transporte"
    assert maria.post(new_url(world["maria"]), {"topic": "not_sure", "body": body}).status_code == (
        302
    )
    (thread,) = threads()
    assert thread.topic is Topic.NOT_SURE
    assert thread.due_at - thread.awaiting_since == timedelta(hours=24)
    nurse = signed_in(new_browser, world["users"]["nurse"])
    page = inbox(nurse)
    assert body in page and "María López · I" in page and "m not sure</span>" in page
    for other in ("pharmacist", "chw"):
        b = signed_in(new_browser, world["users"][other])
        assert body not in inbox(b), other
        assert body in inbox(b, "all")  # everyone on the team can still see and answer
    # the inbox's topic filter knows the new topic
    assert body in nurse.get("/team/inbox?view=all&topic=not_sure").get_data(as_text=True)
    # a rebuilt queue routes it the same way
    workqueue.rebuild()
    db.session.commit()
    assert body in inbox(nurse)


def test_a_non_coordinating_nurse_also_gets_not_sure(world, new_browser, make_member, assign):
    second = make_member(Discipline.NURSING, org=world["org"], name="Second Nurse")
    assign(world["maria"], second)
    maria = signed_in(new_browser, world["users"]["maria"])
    maria.post(new_url(world["maria"]), {"topic": "not_sure", "body": "¿Quién me ayuda?"})
    b = signed_in(new_browser, db.session.get(User, second.user_id))
    assert "¿Quién me ayuda?" in inbox(b)


# ------------------------------------------------------------------ "Ask about this"


def item_of(kind, world, **fields):
    maria, org = world["maria"], world["org"]
    if kind is ItemKind.MEDICATION:
        return med(maria, org, "metformin", ["metformin"], None, **fields)
    if kind is ItemKind.APPOINTMENT:
        return add(maria, org, kind=kind, title="Eye exam", location="Clinic", **fields)
    if kind is ItemKind.REFERRAL:
        return add(maria, org, kind=kind, title="Referral", **fields)
    return add(maria, org, kind=kind, title=f"A {kind.value}", **fields)


@pytest.mark.parametrize(
    ("kind", "fields", "topic"),
    [
        (ItemKind.MEDICATION, {}, "medication"),
        (ItemKind.APPOINTMENT, {}, "appointment"),
        (ItemKind.REFERRAL, {"referral_need": ReferralNeed.FOOD}, "social_needs"),
        (ItemKind.REFERRAL, {"referral_need": ReferralNeed.HOUSING}, "social_needs"),
        (ItemKind.REFERRAL, {"referral_need": ReferralNeed.CLINICAL}, "care_plan"),
        (ItemKind.TASK, {}, "care_plan"),
        (ItemKind.EDUCATION, {}, "care_plan"),
    ],
    ids=lambda v: getattr(v, "value", None) or str(v),
)
def test_ask_about_this_picks_the_topic_from_the_kind(world, new_browser, kind, fields, topic):
    item = item_of(kind, world, **fields)
    maria = signed_in(new_browser, world["users"]["maria"])
    page = maria.get(new_url(world["maria"], item=item.id)).get_data(as_text=True)
    assert selected_topic(page) == topic
    assert f'value="Question about: {item.title}"' in page  # the subject is still prefilled


def test_ask_about_a_medicine_reaches_the_pharmacist_within_24_hours(world, new_browser):
    metformin = item_of(ItemKind.MEDICATION, world)
    maria = signed_in(new_browser, world["users"]["maria"])
    url = new_url(world["maria"], item=metformin.id)
    page = maria.get(url).get_data(as_text=True)
    subject = re.search(r'name="subject"[^>]*value="([^"]*)"', page).group(1)
    data = {
        "topic": selected_topic(page),
        "subject": subject,
        "body": "¿La tomo con comida?",
        "item": metformin.id,
    }
    assert maria.post(url, data).status_code == 302
    (thread,) = threads()
    assert (thread.topic, thread.plan_item_id) == (Topic.MEDICATION, metformin.id)
    assert thread.due_at - thread.awaiting_since == timedelta(hours=24)
    pharmacist = signed_in(new_browser, world["users"]["pharmacist"])
    assert "Question about: Take metformin" in inbox(pharmacist)


def test_ask_about_someone_elses_or_a_hidden_item_is_a_404(world, new_browser, grant):
    jims = add(world["jim"], world["org"], title="Jim's walk")
    secret = item_of(ItemKind.MEDICATION, world, sensitivity=Sensitivity.BEHAVIORAL_HEALTH)
    maria = signed_in(new_browser, world["users"]["maria"])
    assert maria.get(new_url(world["maria"], item=jims.id)).status_code == 404
    assert (
        maria.post(
            new_url(world["maria"], item=jims.id), {"topic": "other", "body": "x"}
        ).status_code
        == 404
    )
    assert maria.get(new_url(world["maria"], item=2**62)).status_code == 404
    ana = signed_in(new_browser, world["users"]["ana"])
    assert ana.get(new_url(world["maria"], item=secret.id)).status_code == 404
    data = {"topic": "medication", "body": "x"}
    assert ana.post(new_url(world["maria"], item=secret.id), data).status_code == 404
    # Bo (plan only) may not write at all; Jim's nurse is not on María's team
    bo = signed_in(new_browser, world["users"]["bo"])
    assert bo.get(new_url(world["maria"])).status_code == 404
    assert bo.post(new_url(world["maria"]), {"topic": "other", "body": "x"}).status_code == 404
    other = signed_in(new_browser, world["users"]["jims_nurse"])
    assert other.post(new_url(world["maria"]), {"topic": "other", "body": "x"}).status_code == 404
    assert count(Thread) == 0


def test_a_thread_about_a_reclassified_item_disappears_for_the_caregiver(world, new_browser):
    metformin = item_of(ItemKind.MEDICATION, world)
    ana = signed_in(new_browser, world["users"]["ana"])
    url = new_url(world["maria"], item=metformin.id)
    body = "¿Mi mamá la toma con comida?"
    response = ana.post(url, {"topic": "medication", "body": body, "item": metformin.id})
    assert response.status_code == 302
    thread_url = response.headers["Location"]
    assert "The care team usually answers within 24 hours." in ana.page(thread_url)
    metformin.sensitivity = Sensitivity.BEHAVIORAL_HEALTH
    db.session.commit()
    assert ana.get(thread_url).status_code == 404
    assert ana.post(thread_url, {"body": "¿Hola?"}, form_url="/auth/account").status_code == 404
    assert ana.post(thread_url, {"body": ""}, form_url="/auth/account").status_code == 404
    assert body not in ana.page(f"/patients/{world['maria'].id}/messages")
    assert count(Message) == 1


# ------------------------------------------------------------------ when to expect an answer


def test_the_thread_says_when_to_expect_an_answer_and_apologises_when_late(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    url = maria.post(new_url(world["maria"]), {"topic": "symptoms", "body": CHEST_PAIN})
    url = url.headers["Location"]
    page = maria.page(url)
    assert "Your team usually answers within 4 hours." in page
    assert "taking longer than usual" not in page
    ana = signed_in(new_browser, world["users"]["ana"])
    assert "The care team usually answers within 4 hours." in ana.page(url)
    nurse = signed_in(new_browser, world["users"]["nurse"])
    assert "usually answers within" not in nurse.page(url)  # the team sees "Answer by"

    thread = threads()[0]
    thread.due_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    late = maria.page(url)
    assert "Sorry, this is taking longer than usual." in late
    assert 'href="tel:911"' in late and "usually answers within" not in late

    assert nurse.post(url, {"body": "Llame al 911 si el dolor sigue."}).status_code == 302
    answered = maria.page(url)
    assert "usually answers within" not in answered
    assert "taking longer than usual" not in answered
    # she writes again: waiting again, with the topic's time
    assert maria.post(url, {"body": "Ya estoy mejor."}).status_code == 302
    assert "Your team usually answers within 4 hours." in maria.page(url)


# ------------------------------------------------------------------ language for the team


def test_staff_see_spanish_and_interpreter_on_the_inbox_thread_and_summary(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    url = maria.post(new_url(world["maria"]), {"topic": "symptoms", "body": CHEST_PAIN})
    url = url.headers["Location"]
    nurse = signed_in(new_browser, world["users"]["nurse"])

    row = re.search(r'<li class="thread-row.*?</li>', inbox(nurse), re.S).group(0)
    assert "lang-badge" in row and "Spanish" in row and "wants an interpreter" in row

    page = nurse.page(url)
    header = re.search(
        r'<div class="convo-patient">.*?</div>\s*<p class="convo-patient-links">', page, re.S
    )
    assert header and "Spanish" in header.group(0) and "wants an interpreter" in header.group(0)
    assert "Write in Spanish · wants an interpreter" in page
    textarea = re.search(r"<textarea[^>]*name=\"body\"[^>]*>", page).group(0)
    assert 'lang="es"' in textarea and 'placeholder="Your message in Spanish"' in textarea

    summary = nurse.page(f"/patients/{world['maria'].id}")
    glance = re.search(r'<section class="glance".*?</section>', summary, re.S).group(0)
    assert "Spanish" in glance and "wants an interpreter" in glance

    # the patient side gets no staff cue on the reply box
    mine = maria.page(url)
    assert "Write in Spanish" not in mine and 'lang="es" placeholder' not in mine


def test_an_english_patient_without_interpreter_gets_no_badge_on_the_row(
    world, new_browser, make_patient, assign
):
    pat = make_patient(given="Pat", family="English")
    assign(pat, world["members"]["nurse"], coordinator=True)
    me = signed_in(new_browser, db.session.get(User, pat.user_id))
    url = me.post(new_url(pat), {"topic": "billing", "body": "A bill"}).headers["Location"]
    nurse = signed_in(new_browser, world["users"]["nurse"])
    row = re.search(r'<li class="thread-row.*?</li>', inbox(nurse), re.S).group(0)
    assert "A bill" in row and "lang-badge" not in row
    page = nurse.page(url)
    assert "Write in English" in page and "wants an interpreter" not in page.split("convo-reply")[1]


def test_the_inbox_does_not_run_a_query_per_row(
    world, new_browser, make_patient, assign, count_queries
):
    nurse_member = world["members"]["nurse"]
    nurse = signed_in(new_browser, world["users"]["nurse"])

    def write_as_new_patient(i):
        p = make_patient(given=f"P{i}", family="Spanish", language="es", interpreter_needed=True)
        assign(p, nurse_member, coordinator=True)
        b = signed_in(new_browser, db.session.get(User, p.user_id))
        assert b.post(new_url(p), {"topic": "other", "body": f"Hola {i}"}).status_code == 302

    write_as_new_patient(0)
    inbox(nurse)
    with count_queries() as small:
        inbox(nurse)
    for i in range(1, 6):
        write_as_new_patient(i)
    with count_queries() as large:
        page = inbox(nurse)
    assert page.count("interpreter-badge") == 6
    assert large.count == small.count


# ------------------------------------------------------------------ hostile input, once


def test_hostile_input_writes_nothing(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    url = new_url(world["maria"])
    for data in (
        {"topic": "symptoms", "subject": "Dolor\x00", "body": CHEST_PAIN},
        {"topic": "symptoms", "body": "Dolor\x00 en el pecho"},
        {"topic": "symp\x00toms", "body": CHEST_PAIN},
    ):
        assert maria.post(url, data).status_code == 400
    huge = maria.post(url, {"topic": "symptoms", "body": "a " * 50_000})
    assert huge.status_code == 422
    assert "Messages can be at most 2000 characters." in huge.get_data(as_text=True)
    long_subject = maria.post(url, {"topic": "symptoms", "subject": "s" * 161, "body": "x"})
    assert long_subject.status_code == 422
    assert "A subject can be at most 160 characters." in long_subject.get_data(as_text=True)
    blank = maria.post(url, {"topic": "symptoms", "subject": "   ", "body": " \n "})
    assert blank.status_code == 422 and "Write a message first." in blank.get_data(as_text=True)
    assert (count(Thread), count(Message)) == (0, 0)


def test_a_double_submit_without_a_subject_starts_one_thread(world, new_browser):
    maria = signed_in(new_browser, world["users"]["maria"])
    url = new_url(world["maria"])
    key = key_from(maria.page(url))
    data = {"topic": "symptoms", "body": CHEST_PAIN, "idempotency_key": key}
    first = maria.post(url, data)
    second = maria.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert (count(Thread), count(Message)) == (1, 1)


def test_answer_times_from_the_environment_know_the_new_topic(app):
    from config import Config, parse_topic_hours

    assert app.config["MESSAGE_ROUTING"]["not_sure"] == ["nursing"]
    assert set(app.config["MESSAGE_RESPONSE_HOURS"]) == {t.value for t in Topic}
    assert set(Config.MESSAGE_ROUTING) == {t.value for t in Topic}
    routing = Config.MESSAGE_ROUTING
    assert parse_topic_hours("not_sure=8, symptoms=2", routing) == {"not_sure": 8, "symptoms": 2}
    for bad in ("notsure=8", "symptoms=0", "symptoms=two"):
        with pytest.raises(RuntimeError, match="MESSAGE_RESPONSE_HOURS"):
            parse_topic_hours(bad, routing)
