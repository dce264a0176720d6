"""Care content in the reader's language (issue 16, scope 4): the team translates an item, goal
or decision; a Spanish reader sees the translation, marked, with the original one tap away; an
English reader sees the original; an edit of the original marks the translation out of date; the
staff summary lists what is not yet translated. Attacks: another patient's ids, caregivers,
hidden categories (also after a reclassification), bad languages and input, double submits."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from app.careplan.decisions.models import DecisionOption
from app.careplan.decisions.services import DecisionInput, OptionInput, open_decision
from app.careplan.goals.models import Goal, GoalLifecycle
from app.careplan.items.models import ItemKind, OwnerKind, PlanItem
from app.careplan.models import PlanChange
from app.careplan.translations.models import ContentTranslation
from app.core.audit import AuditEvent
from app.core.privacy import Actor, Capacity, Sensitivity, acting_as
from app.extensions import db
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add

MARKER = "Translated by your care team"


def es(msgid: str) -> str:
    """`msgid` as a Spanish reader reads it (the catalog's words, once merged)."""
    with force_locale("es"):
        return gettext(msgid)


@pytest.fixture
def MARKER_ES(app):
    with app.test_request_context():
        return es(MARKER)


@pytest.fixture
def world(two_patients):
    w = two_patients
    rosa = w.helper("Rosa Martinez", ["plan", "decisions", "goals"])
    rosa.locale = "es"
    bare = w.helper("Bea Nobody", [])
    bare.locale = "es"
    item = add(
        w.patient,
        w.org,
        title="Brush twice a day",
        details="Use a soft brush.",
        why_it_matters="It keeps cavities away.",
    )
    hidden_item = add(
        w.patient,
        w.org,
        kind=ItemKind.APPOINTMENT,
        title="Counseling visit",
        starts_at=None,
        location="BH",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=w.member.id,
    )
    other_item = add(w.other, w.org, title="Other patient's task")
    db.session.commit()
    return {
        "w": w,
        "rosa": rosa,
        "bare": bare,
        "item": item,
        "hidden": hidden_item,
        "other_item": other_item,
    }


def _url(patient, entity, entity_id, language=None):
    base = f"/patients/{patient.id}/plan/translate/{entity}/{entity_id}"
    return f"{base}/{language}" if language else base


def _translate_item(b, patient, item, language="es", **texts):
    data = {
        "t_title": "Cepíllese dos veces al día",
        "t_details": "Use un cepillo suave.",
        "t_why_it_matters": "Evita las caries.",
    }
    data.update(texts)
    return b.post(_url(patient, "plan_item", item.id, language), data)


def _rows():
    return db.session.scalars(sa.select(ContentTranslation)).all()


def test_a_spanish_reader_sees_the_translation_and_can_open_the_original(
    world, new_browser, MARKER_ES
):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    response = _translate_item(team, w.patient, world["item"])
    assert response.status_code == 302
    rosa = signed_in(new_browser, world["rosa"])
    page = rosa.page(f"/patients/{w.patient.id}/plan/items/{world['item'].id}")
    assert "Cepíllese dos veces al día" in page
    assert "Evita las caries." in page
    assert MARKER_ES in page
    # The original is behind "Show the original", marked as English.
    original = re.search(r"<details>.*?</details>", page.split(MARKER_ES, 1)[1], re.S).group(0)
    assert 'lang="en"' in original and "Brush twice a day" in original
    # My plan's card shows it too.
    plan = rosa.page(f"/patients/{w.patient.id}/plan")
    assert "Cepíllese dos veces al día" in plan and "Brush twice a day" not in plan


def test_an_english_reader_sees_the_original(world, new_browser):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    _translate_item(team, w.patient, world["item"])
    patient = signed_in(new_browser, w.patient_user)
    page = patient.page(f"/patients/{w.patient.id}/plan/items/{world['item'].id}")
    assert "Brush twice a day" in page
    assert "Cepíllese" not in page and MARKER not in page


def test_no_translation_shows_the_original_with_its_language(world, new_browser, MARKER_ES):
    w = world["w"]
    rosa = signed_in(new_browser, world["rosa"])
    page = rosa.page(f"/patients/{w.patient.id}/plan/items/{world['item'].id}")
    assert re.search(r'<h1 lang="en" dir="ltr">Brush twice a day</h1>', page)
    assert MARKER_ES not in page


def test_an_edit_of_the_original_marks_the_translation_out_of_date(world, new_browser, app):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    _translate_item(team, w.patient, world["item"])
    item = db.session.get(PlanItem, world["item"].id)
    item.details = "Use a soft brush and floss."
    db.session.commit()
    rosa = signed_in(new_browser, world["rosa"])
    page = rosa.page(f"/patients/{w.patient.id}/plan/items/{item.id}")
    assert "Cepíllese dos veces al día" in page  # still shown, marked
    with app.test_request_context():
        assert es("The original changed after this was translated.") in page
    languages = team.page(_url(w.patient, "plan_item", item.id))
    assert "Out of date" in languages


def test_double_submit_writes_one_row_and_a_change_entry(world, new_browser, app):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    assert _translate_item(team, w.patient, world["item"]).status_code == 302
    assert _translate_item(team, w.patient, world["item"]).status_code == 302  # a double tap
    assert len(_rows()) == 1

    def translated():
        changes = db.session.scalars(
            sa.select(PlanChange).where(PlanChange.subject_id == world["item"].id)
        ).all()
        return [c for c in changes if c.fields == ["translated:es"]]

    assert len(translated()) == 1  # the same translation twice is one change
    assert _translate_item(team, w.patient, world["item"], t_title="Cepíllese").status_code == 302
    rows = _rows()
    assert len(rows) == 1 and rows[0].fields["title"] == "Cepíllese"
    assert len(translated()) == 2
    page = signed_in(new_browser, world["rosa"]).page(f"/patients/{w.patient.id}/changes")
    with app.test_request_context():
        assert es("Translated into Spanish") in page


def test_delete_removes_the_translation(world, new_browser):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    _translate_item(team, w.patient, world["item"])
    url = _url(w.patient, "plan_item", world["item"].id, "es") + "/delete"
    response = team.post(url, form_url=_url(w.patient, "plan_item", world["item"].id, "es"))
    assert response.status_code == 302
    assert _rows() == []


# ------------------------------------------------------------------ attacks


def test_another_patients_item_is_404_and_writes_nothing(world, new_browser):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    url = _url(w.patient, "plan_item", world["other_item"].id, "es")
    assert team.get(url).status_code == 404
    assert _translate_item(team, w.patient, world["other_item"]).status_code == 404
    # Through the other patient's own URL: not this member's patient.
    assert _translate_item(team, w.other, world["other_item"]).status_code == 404
    assert _rows() == []


@pytest.mark.parametrize("who", ["rosa", "bare", "patient"])
def test_caregivers_and_the_patient_cannot_translate(world, new_browser, who):
    w = world["w"]
    user = {"rosa": world["rosa"], "bare": world["bare"], "patient": w.patient_user}[who]
    b = signed_in(new_browser, user)
    assert b.get(_url(w.patient, "plan_item", world["item"].id)).status_code == 404
    assert _translate_item(b, w.patient, world["item"]).status_code == 404
    assert _rows() == []


@pytest.mark.parametrize("language", ["xx", "en", "es-MX", "1" * 40])
def test_unsupported_or_same_language_is_404(world, new_browser, language):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    assert _translate_item(team, w.patient, world["item"], language=language).status_code == 404
    assert _rows() == []


@pytest.mark.parametrize(
    ("texts", "status"),
    [
        ({"t_title": "Cepíllese\x00"}, 400),  # NUL bytes: refused before any view runs
        ({"t_details": "x" * 100_000}, 422),
        ({"t_title": "x" * 401}, 422),
        ({"t_title": ""}, 422),  # the first part is needed
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(world, new_browser, texts, status):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    response = _translate_item(team, w.patient, world["item"], **texts)
    assert response.status_code == status
    assert _rows() == []


def test_a_caregiver_without_the_category_sees_nothing_of_a_hidden_items_translation(
    world, new_browser
):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    hidden = world["hidden"]
    assert (
        _translate_item(team, w.patient, hidden, t_title="Visita de consejería").status_code == 302
    )
    rosa = signed_in(new_browser, world["rosa"])
    for url in (
        f"/patients/{w.patient.id}/plan",
        f"/patients/{w.patient.id}/today",
        f"/patients/{w.patient.id}/home",
        f"/patients/{w.patient.id}/changes",
    ):
        page = rosa.page(url)
        assert "consejería" not in page and "Counseling" not in page, url
    assert rosa.get(f"/patients/{w.patient.id}/plan/items/{hidden.id}").status_code == 404


def test_reclassifying_an_item_as_sensitive_hides_its_translation(world, new_browser):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    _translate_item(team, w.patient, world["item"])
    item = db.session.get(PlanItem, world["item"].id)
    item.sensitivity = Sensitivity.BEHAVIORAL_HEALTH
    db.session.commit()
    rosa = signed_in(new_browser, world["rosa"])
    assert "Cepíllese" not in rosa.page(f"/patients/{w.patient.id}/plan")
    assert rosa.get(f"/patients/{w.patient.id}/plan/items/{item.id}").status_code == 404
    assert "Cepíllese" not in rosa.page(f"/patients/{w.patient.id}/changes")


# ------------------------------------------------------------------ the worklist


def _summary(b, patient):
    return b.page(f"/patients/{patient.id}")


def _gap_card(page: str, language_name: str) -> str | None:
    found = re.search(r'<section class="card dash-card translation-gaps".*?</section>', page, re.S)
    if found is None or f"Not yet in {language_name}" not in found.group(0):
        return None
    return found.group(0)


def test_the_worklist_lists_what_a_reader_cannot_read_yet(world, new_browser):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    card = _gap_card(_summary(team, w.patient), "Spanish")
    assert card is not None
    assert "Brush twice a day" in card
    # Sensitive content is the patient's own: not listed for the caregiver's language.
    assert "Counseling visit" not in card
    assert f"/plan/translate/plan_item/{world['item'].id}/es" in card
    _translate_item(team, w.patient, world["item"])
    card = _gap_card(_summary(team, w.patient), "Spanish")
    assert card is None or "Brush twice a day" not in card
    # An edit of the original puts it back, as out of date.
    item = db.session.get(PlanItem, world["item"].id)
    item.title = "Brush your teeth twice a day"
    db.session.commit()
    card = _gap_card(_summary(team, w.patient), "Spanish")
    assert "Brush your teeth twice a day" in card and "Out of date" in card


def test_no_card_when_everyone_reads_the_content_language(world, new_browser):
    w = world["w"]
    for user in (world["rosa"], world["bare"]):
        user.locale = "en"
    db.session.commit()
    team = signed_in(new_browser, w.member_user)
    page = _summary(team, w.patient)
    assert "translation-gaps" not in page


def test_the_worklist_is_bounded(world, new_browser):
    w = world["w"]
    for n in range(25):
        add(w.patient, w.org, title=f"Task number {n}", commit=False)
    db.session.commit()
    team = signed_in(new_browser, w.member_user)
    card = _gap_card(_summary(team, w.patient), "Spanish")
    assert card.count('class="row-link"') == 20
    assert '<span class="dash-count">26</span>' in card


def test_the_patients_language_lists_sensitive_content_too(world, new_browser):
    w = world["w"]
    w.patient.language = "vi"
    patient_user = w.patient_user
    patient_user.locale = "vi"
    db.session.commit()
    team = signed_in(new_browser, w.member_user)
    card = _gap_card(_summary(team, w.patient), "Vietnamese")
    assert card is not None and "Counseling visit" in card


def test_caregivers_never_see_the_worklist(world, new_browser):
    w = world["w"]
    rosa = signed_in(new_browser, world["rosa"])
    assert "translation-gaps" not in _summary(rosa, w.patient)


# ------------------------------------------------------------------ goals and decisions


def test_a_translated_decision_and_its_options_read_in_spanish(world, new_browser, MARKER_ES):
    w = world["w"]
    with acting_as(Actor(user_id=w.member_user.id, capacity=Capacity.CARE_TEAM, patient=w.patient)):
        decision = open_decision(
            w.patient.id,
            DecisionInput(
                question="Sealants or wait?",
                background="Deep grooves.",
                options=[
                    OptionInput("Sealants", "Fewer cavities", "Small cost", "One short visit"),
                    OptionInput("Wait", "No visit", "Cavities may start", "Brush well"),
                ],
            ),
            author_id=w.member_user.id,
        )
        db.session.commit()
    first, second = db.session.scalars(
        sa.select(DecisionOption)
        .where(DecisionOption.decision_id == decision.id)
        .order_by(DecisionOption.position)
    ).all()
    team = signed_in(new_browser, w.member_user)
    url = _url(w.patient, "decision", decision.id, "es")
    response = team.post(
        url,
        {
            "t_question": "¿Selladores o esperar?",
            f"t_option_{first.id}_title": "Selladores",
            f"t_option_{second.id}_title": "Esperar",
        },
    )
    assert response.status_code == 302
    rosa = signed_in(new_browser, world["rosa"])
    page = rosa.page(f"/patients/{w.patient.id}/decisions/{decision.id}")
    assert "¿Selladores o esperar?" in page and "Selladores" in page and "Esperar" in page
    assert "Fewer cavities" in page  # not translated: the original shows
    assert MARKER_ES in page


def test_a_translated_goal_reads_in_spanish(world, new_browser):
    w = world["w"]
    goal = Goal(
        patient_id=w.patient.id,
        description="Walk every day",
        lifecycle_status=GoalLifecycle.ACTIVE,
        expressed_by_capacity="care_team",
    )
    db.session.add(goal)
    db.session.commit()
    team = signed_in(new_browser, w.member_user)
    response = team.post(_url(w.patient, "goal", goal.id, "es"), {"t_description": "Caminar"})
    assert response.status_code == 302
    rosa = signed_in(new_browser, world["rosa"])
    assert "Caminar" in rosa.page(f"/patients/{w.patient.id}/goals/{goal.id}")
    assert "Caminar" in rosa.page(f"/patients/{w.patient.id}/goals")
    english = signed_in(new_browser, w.patient_user)
    assert "Caminar" not in english.page(f"/patients/{w.patient.id}/goals")


def test_translating_is_audited(world, new_browser):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    _translate_item(team, w.patient, world["item"])
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.patient_id == w.patient.id,
            AuditEvent.resource == "careplan.item",
            AuditEvent.action == "update",
        )
    ).all()
    assert events


# ------------------------------------------------------------------ new content's language


def test_new_content_defaults_to_the_patients_language(world, new_browser):
    w = world["w"]
    w.patient_user.locale = "es"
    db.session.commit()
    team = signed_in(new_browser, w.member_user)
    form = team.page(f"/patients/{w.patient.id}/plan/new/task")
    assert re.search(r'<option selected value="es">|<option value="es" selected>', form), (
        "Written in defaults to the patient's language"
    )
    goal_form = team.page(f"/patients/{w.patient.id}/goals/new")
    assert re.search(r'<option selected value="es">|<option value="es" selected>', goal_form)
    decision_form = team.page(f"/patients/{w.patient.id}/decisions/new")
    assert re.search(r'<option selected value="es">|<option value="es" selected>', decision_form)


def test_the_team_can_say_it_writes_in_english(world, new_browser):
    w = world["w"]
    w.patient_user.locale = "es"
    db.session.commit()
    team = signed_in(new_browser, w.member_user)
    response = team.post(
        f"/patients/{w.patient.id}/goals/new",
        {"description": "Walk to the mailbox", "content_language": "en"},
    )
    assert response.status_code == 302
    goal = db.session.scalar(sa.select(Goal).where(Goal.description == "Walk to the mailbox"))
    assert goal.content_language == "en"
    bad = team.post(
        f"/patients/{w.patient.id}/goals/new",
        {"description": "Another goal", "content_language": "xx"},
    )
    assert bad.status_code == 422


def test_the_patients_own_goal_is_in_their_interface_language(world, new_browser):
    w = world["w"]
    w.patient_user.locale = "vi"
    db.session.commit()
    patient = signed_in(new_browser, w.patient_user)
    response = patient.post(f"/patients/{w.patient.id}/goals/new", {"description": "Đi bộ"})
    assert response.status_code == 302
    goal = db.session.scalar(sa.select(Goal).where(Goal.description == "Đi bộ"))
    assert goal.content_language == "vi"


def test_a_spanish_readers_plan_costs_one_query_more_whatever_its_size(
    world, new_browser, count_queries
):
    from tests.test_query_counts import queries_for

    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    _translate_item(team, w.patient, world["item"])
    rosa = signed_in(new_browser, world["rosa"])
    url = f"/patients/{w.patient.id}/plan"
    rosa.get(url)
    small = queries_for(count_queries, rosa, url)
    for n in range(8):
        extra = add(w.patient, w.org, title=f"Task {n}")
        _translate_item(team, w.patient, extra, t_title=f"Tarea {n}")
    large = queries_for(count_queries, rosa, url)
    assert large == small
    assert "Tarea 7" in rosa.page(url)


def test_the_caregivers_summary_and_today_show_the_translation(world, new_browser):
    w = world["w"]
    team = signed_in(new_browser, w.member_user)
    _translate_item(team, w.patient, world["item"])
    rosa = signed_in(new_browser, world["rosa"])
    for url in (f"/patients/{w.patient.id}", f"/patients/{w.patient.id}/today"):
        page = rosa.page(url)
        assert "Cepíllese dos veces al día" in page and "Brush twice a day" not in page, url
