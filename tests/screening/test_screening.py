"""The social needs screening (issue 18, scope item 5): who may answer and read it, what is
stored (a valid FHIR QuestionnaireResponse), the referral a need suggests and where the
community health worker finds it, once-only writes, hostile input, the 12-month re-offer,
the audit trail and the pages' query counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from app.auth.models import Role, User
from app.caregivers.models import Scope
from app.careplan.items.models import ItemKind, ItemStatus, PlanItem, ReferralNeed, ReferralStatus
from app.core.audit import AuditEvent
from app.core.privacy import Sensitivity
from app.extensions import db
from app.screening.models import ScreeningReferral, ScreeningResponse
from app.screening.questions import QUESTIONS, Need, needs_found
from app.team.models import CareRole, Discipline
from tests.fixtures.browser import key_from, signed_in
from tests.fixtures.plan import add

T0 = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)  # 11:00 in Oregon

#: Worried about losing the place (the rent), nothing else.
RENT = {"q_71802_3": "LA31994-9"}
NEVER = "LA6270-8"
FREQUENTLY = "LA6482-9"
SAFETY_FIELDS = ("q_95618_5", "q_95617_7", "q_95616_9", "q_95615_1")


@pytest.fixture
def world(make_patient, make_org, make_member, make_user, assign, grant, frozen_clock):
    frozen_clock(T0)
    clinic = make_org(name="Riverbend Family Clinic")
    social = make_org(name="Community Connections")
    patient = make_patient(given="María", family="López", timezone="America/Los_Angeles")
    db.session.get(User, patient.user_id).locale = "es"
    other = make_patient(given="Otto", family="Other", timezone="America/Los_Angeles")
    nurse = make_member(Discipline.NURSING, org=clinic, name="Nina Patel")
    chw = make_member(
        Discipline.SOCIAL_SERVICES,
        org=social,
        role=CareRole.COMMUNITY_HEALTH_WORKER,
        name="Lupe Fernández",
    )
    assign(patient, nurse, coordinator=True)
    assign(patient, chw)
    assign(other, nurse, coordinator=True)
    helper = make_user(Role.CAREGIVER, name="Lucía López")
    grant(patient, helper, scopes=[Scope.PLAN.value, Scope.GOALS.value])
    plan_only = make_user(Role.CAREGIVER, name="Pablo López")
    grant(patient, plan_only, scopes=[Scope.PLAN.value, Scope.MESSAGES.value])
    db.session.commit()
    return {
        "patient": patient,
        "other": other,
        "me": db.session.get(User, patient.user_id),
        "other_user": db.session.get(User, other.user_id),
        "nurse": nurse,
        "chw": chw,
        "nurse_user": db.session.get(User, nurse.user_id),
        "chw_user": db.session.get(User, chw.user_id),
        "helper": helper,
        "plan_only": plan_only,
        "clinic": clinic,
        "url": f"/patients/{patient.id}/screening",
    }


def responses(patient_id=None) -> int:
    query = sa.select(sa.func.count(ScreeningResponse.id))
    if patient_id is not None:
        query = query.where(ScreeningResponse.patient_id == patient_id)
    return db.session.scalar(query)


def referrals(patient_id) -> list[PlanItem]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(PlanItem)
            .where(PlanItem.patient_id == patient_id, PlanItem.kind == ItemKind.REFERRAL)
            .order_by(PlanItem.id)
        )
    )


def answer(browser, url, answers) -> object:
    return browser.post(url, dict(answers))


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ------------------------------------------------------------------ the done-when


def test_maria_answers_in_spanish_worries_about_rent_and_the_chw_finds_the_referral(
    world, new_browser
):
    me = signed_in(new_browser, world["me"])
    page = me.get(world["url"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="es"' in html  # her language
    assert html.count('type="radio"') > 20  # the questions' answers as big radio rows
    for field in ("q_71802_3", "q_96778_6", "q_88122_7", "q_93030_5", "q_96779_4", *SAFETY_FIELDS):
        assert f'name="{field}"' in html

    response = answer(me, world["url"], {**RENT, "q_88122_7": "LA28398-8"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/screening/done")
    done = me.get(response.headers["Location"]).get_data(as_text=True)
    assert "screening-needs" in done  # what she asked help with
    assert "screening-urgent" not in done  # no safety need: no alarm

    saved = db.session.scalars(sa.select(ScreeningResponse)).one()
    assert saved.patient_id == world["patient"].id
    assert (saved.answered_as, saved.language, saved.needs, saved.positive) == (
        "patient",
        "es",
        ["housing"],
        True,
    )
    # A valid FHIR R4 QuestionnaireResponse, the answers as LOINC codings.
    fhir = QuestionnaireResponse.model_validate(saved.response)
    assert fhir.status == "completed"
    assert fhir.questionnaire == "http://loinc.org/q/96777-8"
    assert fhir.subject.reference == f"Patient/{world['patient'].id}"
    assert fhir.author.reference == f"Patient/{world['patient'].id}"
    items = {item.linkId: item for item in fhir.item}
    assert items["71802-3"].answer[0].valueCoding.code == "LA31994-9"
    assert items["71802-3"].answer[0].valueCoding.system == "http://loinc.org"
    assert items["88122-7"].answer[0].valueCoding.code == "LA28398-8"
    assert "93030-5" not in items  # skipped: no item

    # One suggested referral for housing, owned by the community health worker, not sent yet.
    (item,) = referrals(world["patient"].id)
    assert item.referral_need is ReferralNeed.HOUSING
    assert item.owner_member_id == world["chw"].id
    assert item.status is ItemStatus.PLANNED and item.referral_status is None
    assert item.sensitivity is None
    assert item.content_language == "es"

    # Lupe finds it in her inbox under "Suggested referrals"; the nurse's inbox has none.
    lupe = signed_in(new_browser, world["chw_user"])
    inbox = lupe.get("/team/inbox").get_data(as_text=True)
    assert "suggested-referrals-heading" in inbox
    section = inbox[inbox.index("suggested-referrals-heading") :]
    assert "María López" in section
    assert f"/patients/{world['patient'].id}/plan/items/{item.id}" in section
    nina = signed_in(new_browser, world["nurse_user"])
    assert "suggested-referrals-heading" not in nina.get("/team/inbox").get_data(as_text=True)

    # The item's page offers her the first step; she sends it and the loop starts.
    item_url = f"/patients/{world['patient'].id}/plan/items/{item.id}"
    page = lupe.get(item_url).get_data(as_text=True)
    assert f"/screening/referrals/{item.id}/send" in page
    sent = lupe.post(
        f"/patients/{world['patient'].id}/screening/referrals/{item.id}/send",
        {"referred_to": "Salem Housing Authority"},
        form_url=item_url,
    )
    assert sent.status_code == 302
    (item,) = referrals(world["patient"].id)
    assert item.referral_status is ReferralStatus.SENT and item.status is ItemStatus.ACTIVE
    assert item.referred_to == "Salem Housing Authority"
    # ... and it leaves the worklist; the plan's own steps take it from here.
    assert "suggested-referrals-heading" not in lupe.get("/team/inbox").get_data(as_text=True)
    again = lupe.post(
        f"/patients/{world['patient'].id}/screening/referrals/{item.id}/send",
        {"referred_to": "Twice"},
        form_url=item_url,
    )
    assert again.status_code == 409
    assert referrals(world["patient"].id)[0].referred_to == "Salem Housing Authority"


def test_the_summary_card_says_when_the_last_screening_was(world, new_browser):
    nina = signed_in(new_browser, world["nurse_user"])
    summary = f"/patients/{world['patient'].id}"
    assert "Not screened yet." in text_of(nina.get(summary).get_data(as_text=True))
    answer(signed_in(new_browser, world["me"]), world["url"], RENT)
    card = text_of(nina.get(summary).get_data(as_text=True))
    assert "Last screening: Tue, Mar 10, 11:00 AM" in card
    assert "Housing" in card and "Suggested referral: not sent yet" in card


def test_the_team_fills_it_in_for_the_patient(world, new_browser):
    nina = signed_in(new_browser, world["nurse_user"])
    page = nina.get(world["url"]).get_data(as_text=True)
    assert 'name="q_95618_5"' in page  # the team asks the safety questions too
    response = answer(nina, world["url"], {"q_93030_5": "LA33-6"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/screening/answers")
    saved = db.session.scalars(sa.select(ScreeningResponse)).one()
    assert saved.answered_as == "care_team" and saved.answered_by_id == world["nurse_user"].id
    fhir = QuestionnaireResponse.model_validate(saved.response)
    assert fhir.author.reference == f"Practitioner/{world['nurse'].id}"
    (item,) = referrals(world["patient"].id)
    assert item.referral_need is ReferralNeed.TRANSPORT
    assert item.owner_member_id == world["chw"].id
    answers = text_of(nina.get(f"/patients/{world['patient'].id}/screening/answers").data.decode())
    assert "Transportation" in answers and "Yes" in answers


def test_without_a_chw_the_coordinator_gets_the_suggestion(
    make_patient, make_member, assign, new_browser, frozen_clock
):
    frozen_clock(T0)
    patient = make_patient()
    doctor = make_member(Discipline.PRIMARY_CARE)
    nurse = make_member(Discipline.NURSING)
    assign(patient, doctor)
    assign(patient, nurse, coordinator=True)
    me = signed_in(new_browser, db.session.get(User, patient.user_id))
    answer(me, f"/patients/{patient.id}/screening", {"q_88123_5": "LA6729-3"})
    (item,) = referrals(patient.id)
    assert item.owner_member_id == nurse.id and item.referral_need is ReferralNeed.FOOD


# ------------------------------------------------------------------ who may


def test_another_patients_screening_is_404(world, new_browser):
    me = signed_in(new_browser, world["me"])
    other = world["other"].id
    for url in (
        f"/patients/{other}/screening",
        f"/patients/{other}/screening/done",
        f"/patients/{other}/screening/answers",
    ):
        assert me.get(url).status_code == 404, url
    assert answer(me, f"/patients/{other}/screening", RENT).status_code == 404
    assert responses() == 0
    # A team member of another patient cannot send this patient's suggestion either.
    answer(me, world["url"], RENT)
    (item,) = referrals(world["patient"].id)
    outsider = signed_in(new_browser, world["other_user"])
    sent = outsider.post(f"/patients/{world['patient'].id}/screening/referrals/{item.id}/send", {})
    assert sent.status_code == 404
    # ... nor, through another patient's URL, with an item id that is not theirs.
    nina = signed_in(new_browser, world["nurse_user"])
    wrong = nina.post(f"/patients/{other}/screening/referrals/{item.id}/send", {})
    assert wrong.status_code == 404
    assert referrals(world["patient"].id)[0].referral_status is None


def test_a_caregiver_without_the_scope_gets_404(world, new_browser):
    pablo = signed_in(new_browser, world["plan_only"])
    assert pablo.get(world["url"]).status_code == 404
    assert answer(pablo, world["url"], RENT).status_code == 404
    assert pablo.get(f"{world['url']}/answers").status_code == 404
    assert responses() == 0
    denied = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "denied", AuditEvent.actor_id == world["plan_only"].id
        )
    ).all()
    assert {e.resource for e in denied} == {"screening.response"}


def test_a_caregiver_answers_without_the_safety_questions_and_never_sees_safety(world, new_browser):
    lucia = signed_in(new_browser, world["helper"])
    page = lucia.get(world["url"]).get_data(as_text=True)
    assert 'name="q_71802_3"' in page
    for field in SAFETY_FIELDS:
        assert f'name="{field}"' not in page
    # Safety answers slipped into the post are dropped, never recorded in her name.
    sneaky = {**RENT, **{field: FREQUENTLY for field in SAFETY_FIELDS}}
    assert answer(lucia, world["url"], sneaky).status_code == 302
    saved = db.session.scalars(sa.select(ScreeningResponse)).one()
    assert saved.answered_as == "caregiver" and saved.needs == ["housing"]
    assert {i["linkId"] for i in saved.response["item"]} == {"71802-3"}
    assert lucia.get(f"{world['url']}/answers").status_code == 404  # answers: patient, team

    # María herself says someone hurts her: a private referral the caregiver never sees.
    me = signed_in(new_browser, world["me"])
    answer(me, world["url"], {field: FREQUENTLY for field in SAFETY_FIELDS})
    safety = [
        i for i in referrals(world["patient"].id) if i.referral_need is ReferralNeed.OTHER_SOCIAL
    ]
    (item,) = safety
    assert item.sensitivity is Sensitivity.CONFIDENTIAL
    assert "screening-urgent" in me.get(f"{world['url']}/done").get_data(as_text=True)
    assert lucia.get(f"/patients/{world['patient'].id}/plan/items/{item.id}").status_code == 404
    plan = lucia.get(f"/patients/{world['patient'].id}/plan").get_data(as_text=True)
    assert item.title not in plan and f"/plan/items/{item.id}" not in plan
    done = lucia.get(f"{world['url']}/done").get_data(as_text=True)
    assert "Safety" not in text_of(done) and "screening-urgent" not in done
    # Never in a text or an email.
    from app.core.mail import OutboundEmail
    from app.texting.models import OutboundSms

    assert db.session.scalar(sa.select(sa.func.count(OutboundSms.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 0


# ------------------------------------------------------------------ once


def test_a_double_submit_writes_one_response_and_one_referral(world, new_browser):
    me = signed_in(new_browser, world["me"])
    form = me.get(world["url"]).get_data(as_text=True)
    data = {**RENT, "idempotency_key": key_from(form)}
    first = me.post(world["url"], data)
    second = me.post(world["url"], data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert responses() == 1
    assert len(referrals(world["patient"].id)) == 1


def test_a_repeat_screening_with_an_open_referral_for_the_need_suggests_none(world, new_browser):
    me = signed_in(new_browser, world["me"])
    answer(me, world["url"], RENT)
    answer(me, world["url"], {**RENT, "q_88122_7": "LA28397-0"})
    assert responses() == 2
    items = referrals(world["patient"].id)
    assert sorted(i.referral_need for i in items) == [ReferralNeed.FOOD, ReferralNeed.HOUSING]
    links = db.session.scalars(sa.select(ScreeningReferral).order_by(ScreeningReferral.id)).all()
    housing = [link for link in links if link.need == "housing"]
    assert len(housing) == 2 and housing[0].item_id == housing[1].item_id
    assert [link.suggested for link in housing] == [True, False]
    # A referral the team made by hand for food counts as open for food, too.
    other = world["other"]
    add(
        other,
        world["clinic"],
        kind=ItemKind.REFERRAL,
        title="Food bank",
        referral_need=ReferralNeed.FOOD,
    )
    you = signed_in(new_browser, world["other_user"])
    answer(you, f"/patients/{other.id}/screening", {"q_88122_7": "LA28397-0"})
    assert len(referrals(other.id)) == 1


# ------------------------------------------------------------------ hostile input


@pytest.mark.parametrize(
    "data",
    [
        {"q_71802_3": "LA99999-9"},  # not one of its options
        {"q_71802_3": "LA28397-0"},  # another question's option
        {"q_71802_3": "LA31994-9\x00"},
        {"q_96778_6": ["LA28580-1", "LA9-3"]},  # "none of the above" and a problem
        {"q_96778_6": "LA33-6"},
        {"q_95618_5": "x" * 5000},
    ],
    ids=["unknown", "other-question", "nul", "none-and-one", "bad-multi", "huge"],
)
def test_an_answer_not_in_the_list_is_refused_and_nothing_is_written(world, new_browser, data):
    me = signed_in(new_browser, world["me"])
    response = me.post(world["url"], data)
    assert response.status_code in (400, 422)  # a NUL byte is refused before the form
    if response.status_code == 422:
        assert "error" in response.get_data(as_text=True)
    assert responses() == 0 and referrals(world["patient"].id) == []


def test_a_nul_byte_in_referred_to_is_refused(world, new_browser):
    answer(signed_in(new_browser, world["me"]), world["url"], RENT)
    (item,) = referrals(world["patient"].id)
    lupe = signed_in(new_browser, world["chw_user"])
    url = f"/patients/{world['patient'].id}/screening/referrals/{item.id}/send"
    assert lupe.post(url, {"referred_to": "Food\x00bank"}).status_code == 400
    assert lupe.post(url, {"referred_to": "x" * 500}).status_code == 400
    assert referrals(world["patient"].id)[0].referral_status is None


def test_everything_skipped_is_a_screening_without_needs(world, new_browser):
    me = signed_in(new_browser, world["me"])
    skipped = {"q_71802_3": "skip", "q_88122_7": "skip"}
    assert answer(me, world["url"], skipped).status_code == 302
    saved = db.session.scalars(sa.select(ScreeningResponse)).one()
    assert saved.needs == [] and saved.positive is False and saved.response["item"] == []
    assert referrals(world["patient"].id) == []


def test_not_needed_closes_the_suggestion(world, new_browser):
    answer(signed_in(new_browser, world["me"]), world["url"], RENT)
    (item,) = referrals(world["patient"].id)
    lupe = signed_in(new_browser, world["chw_user"])
    url = f"/patients/{world['patient'].id}/screening/referrals/{item.id}/not-needed"
    assert lupe.post(url, {}).status_code == 302
    assert referrals(world["patient"].id)[0].status is ItemStatus.CANCELLED
    assert lupe.post(url, {}).status_code == 409


# ------------------------------------------------------------------ the scoring


def test_the_tools_scoring_rules():
    assert needs_found({}) == []
    assert needs_found({"71802-3": ["LA31993-1"]}) == []
    assert needs_found({"71802-3": ["LA31995-6"]}) == [Need.HOUSING]
    assert needs_found({"96778-6": ["LA9-3"]}) == []
    assert needs_found({"96778-6": ["LA28580-1"]}) == [Need.HOUSING]
    assert needs_found({"88123-5": ["LA28398-8"]}) == []
    assert needs_found({"88123-5": ["LA6729-3"]}) == [Need.FOOD]
    assert needs_found({"96779-4": ["LA32002-0"]}) == [Need.UTILITIES]
    assert needs_found({"93030-5": ["LA32-8"]}) == []
    # Safety: 1..5 points each; 11 or more is a need (10 is not).
    sometimes, rarely = "LA10082-8", "LA10066-1"
    ten = {"95618-5": [sometimes], "95617-7": [sometimes], "95616-9": [rarely], "95615-1": [rarely]}
    assert needs_found(ten) == []
    eleven = {**ten, "95615-1": [sometimes]}
    assert needs_found(eleven) == [Need.SAFETY]
    assert needs_found({"95618-5": [FREQUENTLY], "95617-7": ["LA6482-9"], "95616-9": ["LA16644-9"]})
    assert len({q.link_id for q in QUESTIONS}) == 10


# ------------------------------------------------------------------ offered again after a year


def test_home_offers_the_questions_when_none_in_the_last_12_months(
    world, new_browser, frozen_clock
):
    me = signed_in(new_browser, world["me"])
    home = f"/patients/{world['patient'].id}/home"
    assert "screening-offer" in me.get(home).get_data(as_text=True)
    answer(me, world["url"], {})
    assert "screening-offer" not in me.get(home).get_data(as_text=True)
    frozen_clock(T0 + timedelta(days=364))
    me = signed_in(new_browser, world["me"])  # a new day, a new sign-in
    assert "screening-offer" not in me.get(home).get_data(as_text=True)
    frozen_clock(T0 + timedelta(days=366))
    me = signed_in(new_browser, world["me"])
    assert "screening-offer" in me.get(home).get_data(as_text=True)
    # A caregiver without the scope is never offered it.
    pablo = signed_in(new_browser, world["plan_only"])
    assert "screening-offer" not in pablo.get(home).get_data(as_text=True)


# ------------------------------------------------------------------ the audit trail


def test_answers_reads_and_lists_are_audited(world, new_browser):
    me = signed_in(new_browser, world["me"])
    answer(me, world["url"], RENT)
    lupe = signed_in(new_browser, world["chw_user"])
    lupe.get("/team/inbox")
    lupe.get(f"/patients/{world['patient'].id}/screening/answers")
    events = db.session.execute(
        sa.select(AuditEvent.actor_id, AuditEvent.action, AuditEvent.resource).where(
            AuditEvent.patient_id == world["patient"].id,
            AuditEvent.resource.like("screening.%"),
        )
    ).all()
    assert (world["me"].id, "create", "screening.response") in events
    assert (world["chw_user"].id, "view", "screening.referral") in events  # the inbox listed her
    assert (world["chw_user"].id, "view", "screening.response") in events
    # The system added the suggestion (What changed), not María.
    item = referrals(world["patient"].id)[0]
    added = db.session.execute(
        sa.select(AuditEvent.actor_id, AuditEvent.capacity).where(
            AuditEvent.resource == "careplan.item",
            AuditEvent.resource_id == str(item.id),
            AuditEvent.action == "create",
        )
    ).all()
    assert added == [(None, "system")]


# ------------------------------------------------------------------ what a page costs


def queries_for(count_queries, browser, url) -> int:
    with count_queries() as counter:
        response = browser.get(url)
    assert response.status_code == 200, url
    return counter.count


def test_the_pages_cost_the_same_with_more_screenings_and_suggestions(
    world, new_browser, count_queries, make_patient, assign
):
    me = signed_in(new_browser, world["me"])
    lupe = signed_in(new_browser, world["chw_user"])
    base = f"/patients/{world['patient'].id}"
    answer(me, world["url"], RENT)
    mine = [world["url"], f"{world['url']}/done", f"{world['url']}/answers", f"{base}/home"]
    team = ["/team/inbox", base, f"{base}/screening/answers"]
    for url in mine:
        me.get(url)
    for url in team:
        lupe.get(url)
    small = [queries_for(count_queries, me, u) for u in mine]
    small_team = [queries_for(count_queries, lupe, u) for u in team]
    for n in range(4):
        answer(me, world["url"], {"q_88122_7": "LA28397-0", "q_93030_5": "LA33-6", **RENT})
        patient = make_patient(given=f"P{n}")
        assign(patient, world["chw"])
        you = signed_in(new_browser, db.session.get(User, patient.user_id))
        answer(you, f"/patients/{patient.id}/screening", RENT)
    large = [queries_for(count_queries, me, u) for u in mine]
    large_team = [queries_for(count_queries, lupe, u) for u in team]
    assert large == small, list(zip(mine, small, large, strict=True))
    assert large_team == small_team, list(zip(team, small_team, large_team, strict=True))
    # session, patient, policy, the page's one or two reads, the audit row (head, insert; and
    # the chain lock on PostgreSQL).
    assert max(small[:3]) <= 9, small
