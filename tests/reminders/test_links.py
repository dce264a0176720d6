"""A link on the texting pages is shown exactly when the viewer may open it (issue 14: Rosa,
Leo's mother, was shown "Texts we sent" and "Text reminders" links that answered 404).

Every person of the demo opens every texting page of every record they have, and follows
every link those pages show into a record: none of them may answer "not found"."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.careplan.items.models import ItemKind, PlanItem
from app.demo import DEMO_PASSWORD
from app.extensions import db

PEOPLE = ["maria", "james", "leo", "ana", "rosa", "nurse", "admin"]
#: The texting pages of a record, and the record pages that link to them.
PAGES = [
    "/patients/{pid}/reminders",
    "/patients/{pid}/texts",
    "/patients/{pid}/phone",
    "/patients/{pid}/plan/items/{item}/reminders",
    "/patients/{pid}/preferences",
]
#: The same, once the preferences form links to "Text reminders" only for who may open it
#: (app/patients/templates/patients/preferences_form.html; see the issue 14 note).
FORM = "/patients/{pid}/preferences/edit"
#: Links to a texting page or a preferences page of a record.
LINK_RE = re.compile(
    r'href="(/patients/\d+/(?:texts|reminders|phone(?:/verify)?|preferences(?:/edit)?'
    r'|(?:plan/items|goals)/\d+/reminders))"'
)


def followed_links(browser, pages: list[str]) -> dict[str, int]:
    """{link: status} for every texting or preferences link shown on those of `pages` the
    viewer may open."""
    seen: dict[str, int] = {}
    for page in pages:
        response = browser.get(page)
        if response.status_code != 200:
            continue
        for link in set(LINK_RE.findall(response.get_data(as_text=True))):
            if link not in seen:
                seen[link] = browser.get(link).status_code
    return seen


def pages_of(pid: int, templates: list[str]) -> list[str]:
    """The pages for record `pid`, with its first medicine as the item."""
    item = db.session.scalar(
        sa.select(PlanItem.id)
        .where(PlanItem.patient_id == pid, PlanItem.kind == ItemKind.MEDICATION)
        .order_by(PlanItem.id)
        .limit(1)
    )
    return [t.format(pid=pid, item=item) for t in templates]


@pytest.mark.parametrize("who", PEOPLE)
def test_every_link_on_the_texting_pages_opens(seeded, new_browser, who):
    b = new_browser()
    assert b.login(f"{who}@demo.carecircle.test", DEMO_PASSWORD).status_code == 302
    for pid in (1, 2, 3):
        broken = {
            link: status
            for link, status in followed_links(b, pages_of(pid, PAGES)).items()
            if status == 404
        }
        assert broken == {}, f"{who} on record {pid}"


def test_rosa_sees_no_link_to_texts_she_may_not_read(seeded, new_browser):
    """Leo's texts and text settings are his own: his mother is not shown a way to them."""
    rosa = new_browser()
    rosa.login("rosa@demo.carecircle.test", DEMO_PASSWORD)
    assert rosa.get("/patients/3/texts").status_code == 404
    assert rosa.get("/patients/3/reminders").status_code == 404
    page = rosa.get("/patients/3/preferences").get_data(as_text=True)
    assert "/patients/3/texts" not in page and "/patients/3/reminders" not in page
    leo = new_browser()
    leo.login("leo@demo.carecircle.test", DEMO_PASSWORD)
    settings = leo.get("/patients/3/reminders").get_data(as_text=True)
    assert 'href="/patients/3/texts"' in settings  # the patient has both
    assert leo.get("/patients/3/texts").status_code == 200


@pytest.mark.parametrize("who", PEOPLE)
def test_every_link_on_the_preferences_form_opens(seeded, new_browser, who):
    b = new_browser()
    assert b.login(f"{who}@demo.carecircle.test", DEMO_PASSWORD).status_code == 302
    for pid in (1, 2, 3):
        broken = {
            link: status
            for link, status in followed_links(b, [FORM.format(pid=pid)]).items()
            if status == 404
        }
        assert broken == {}, f"{who} on record {pid}"


class Without:
    """The app's policy, less some permissions: a viewer who may open the Text reminders page
    but not every page it links to."""

    def __init__(self, inner, denied):
        self.inner, self.denied = inner, frozenset(denied)

    def load_patient(self, patient_id):
        return self.inner.load_patient(patient_id)

    def decide(self, user, permission, patient):
        if permission in self.denied:
            return None
        return self.inner.decide(user, permission, patient)


@pytest.mark.parametrize(
    ("denied", "hidden_link", "shown_link"),
    [
        ({"VIEW_TEXTS"}, "/texts", "/phone"),
        ({"CHANGE_PHONE"}, "/phone", "/texts"),
    ],
)
def test_the_settings_page_links_follow_the_permission_of_their_target(
    app, make_patient, new_browser, denied, hidden_link, shown_link
):
    from app.core.access import Permission

    patient = make_patient(mobile_phone="+15035550101")
    me = new_browser()
    me.login(_email(patient))
    url = f"/patients/{patient.id}/reminders"
    page = me.get(url).get_data(as_text=True)
    assert f'href="/patients/{patient.id}{hidden_link}"' in page
    policy = app.extensions["carecircle.policy"]
    app.extensions["carecircle.policy"] = Without(policy, {Permission[d] for d in denied})
    try:
        page = me.get(url).get_data(as_text=True)
        assert me.get(f"/patients/{patient.id}{hidden_link}").status_code == 404
    finally:
        app.extensions["carecircle.policy"] = policy
    assert f'href="/patients/{patient.id}{hidden_link}"' not in page
    assert f'href="/patients/{patient.id}{shown_link}"' in page


def _email(patient) -> str:
    from app.auth.models import User

    return db.session.get(User, patient.user_id).email
