"""Rosa reads Spanish; her son Leo's plan is written in English (issue 16, scope 4). On a
360 px phone in real Chromium she reads his dental visit and his dental decision in the team's
Spanish, marked "Translated by your care team", opens the English original, and nothing scrolls
sideways; the care team's summary lists what is not yet in Spanish."""

from __future__ import annotations

import sqlalchemy as sa

from tests.browser.test_main_action import sign_in

ROSA = "rosa@demo.carecircle.test"
NURSE = "nurse@demo.carecircle.test"


def _leo(live_server):
    from app.careplan.decisions.models import Decision
    from app.careplan.items.models import PlanItem
    from app.extensions import db
    from app.patients.models import Patient

    with live_server.app.app_context():
        leo = db.session.scalar(sa.select(Patient).where(Patient.given_name == "Leo"))
        item = db.session.scalar(
            sa.select(PlanItem.id).where(
                PlanItem.patient_id == leo.id, PlanItem.title == "Dental cleaning and sealants"
            )
        )
        decision = db.session.scalar(sa.select(Decision.id).where(Decision.patient_id == leo.id))
        return leo.id, item, decision


def _es(live_server, msgid: str) -> str:
    from flask_babel import force_locale, gettext

    with live_server.app.test_request_context(), force_locale("es"):
        return gettext(msgid)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_rosa_reads_leos_plan_in_spanish(phone, live_server):
    page = phone
    leo_id, item_id, decision_id = _leo(live_server)
    marker = _es(live_server, "Translated by your care team")
    sign_in(page, live_server, ROSA)

    page.goto(f"{live_server}/patients/{leo_id}/plan/items/{item_id}")
    assert page.locator("h1").inner_text() == "Limpieza dental y selladores"
    assert page.get_by_text(marker).first.is_visible()
    original = page.locator(".translated-note details")
    assert not original.get_by_text("Dental cleaning and sealants").is_visible()
    original.locator("summary").click()
    english = original.locator('p[lang="en"]').first
    assert english.is_visible() and english.inner_text() == "Dental cleaning and sealants"
    _no_sideways_scroll(page)

    page.goto(f"{live_server}/patients/{leo_id}/plan")
    assert page.get_by_text("Limpieza dental y selladores").first.is_visible()
    # Not translated yet: shown as written, marked as English for screen readers.
    assert page.locator('[lang="en"]', has_text="Use your controller inhaler").count() == 1
    _no_sideways_scroll(page)

    page.goto(f"{live_server}/patients/{leo_id}/decisions/{decision_id}")
    assert "¿Cómo quiere proteger sus muelas de las caries?" in page.locator("h1").inner_text()
    assert page.get_by_text("Barniz de flúor").first.is_visible()
    _no_sideways_scroll(page)


def test_the_team_sees_what_is_not_yet_in_spanish(phone, live_server):
    page = phone
    leo_id, _item, _decision = _leo(live_server)
    sign_in(page, live_server, NURSE)
    page.goto(f"{live_server}/patients/{leo_id}")
    card = page.locator(".translation-gaps")
    assert card.count() == 1
    assert "Spanish" in card.locator("h2").inner_text()
    assert card.get_by_text("Use your controller inhaler").is_visible()
    assert card.get_by_text("Dental cleaning and sealants").count() == 0
    card.get_by_text("Use your controller inhaler").click()
    page.wait_for_load_state()
    assert "/plan/translate/plan_item/" in page.url and page.url.endswith("/es")
    _no_sideways_scroll(page)
