"""The action first (issue 14): on a 360 x 740 phone, each page's main action (the element marked
`data-main-action`) is on the first screen, or pinned (sticky or fixed) and in view, and nothing
covers it (the app's tab bar included); the page never scrolls sideways, its tap targets are 44 px
and axe-core finds nothing serious. Table-driven: add a row to PAGES for a new page (and mark
its main action)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

TAP_TARGETS_JS = (Path(__file__).parent / "tap_targets.js").read_text()

JAMES = "james@demo.carecircle.test"
MARIA = "maria@demo.carecircle.test"
NURSE = "nurse@demo.carecircle.test"
ANA = "ana@demo.carecircle.test"

#: Where the main action is, how it is pinned, what covers the bottom of the screen.
MEASURE_JS = """(el) => {
  const r = el.getBoundingClientRect();
  let pinned = null;
  for (let n = el; n && n !== document.body; n = n.parentElement) {
    const position = getComputedStyle(n).position;
    if (position === 'sticky' || position === 'fixed') { pinned = position; break; }
  }
  let screenBottom = window.innerHeight;
  for (const bar of document.querySelectorAll('body *')) {
    const s = getComputedStyle(bar);
    if (s.position !== 'fixed' || bar.contains(el) || s.display === 'none') continue;
    const b = bar.getBoundingClientRect();
    if (b.width > 0 && b.top > window.innerHeight / 2 && b.top < screenBottom) screenBottom = b.top;
  }
  // The first point of the action a thumb could reach: what is drawn there must be the action.
  const y = Math.min(r.top + 8, r.bottom - 1, screenBottom - 1);
  const hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 40), y);
  return {top: r.top, bottom: r.bottom, pinned, screenBottom,
          onTop: !!hit && el.contains(hit), scrollY: window.scrollY};
}"""


@dataclass(frozen=True)
class Page:
    """A page and who opens it. `path` is a path, or a function (page, base URL) -> path that
    finds it the way a person would (a link on a list)."""

    name: str
    who: str
    path: str | Callable
    lang: str = "en"


def link_on(listing: str, text: str) -> Callable:
    """The page a link on `listing` whose words contain `text` leads to."""

    def find(page, base: str) -> str:
        page.goto(base + listing)
        for link in page.locator("main a[href]").all():
            href = link.get_attribute("href") or ""
            if re.search(r"/\d+$", href) and text in link.inner_text():
                return href
        raise AssertionError(f"no link to {text!r} on {listing}")

    return find


PAGES = [
    Page("a decision", JAMES, link_on("/patients/2/decisions", "knee")),
    Page("a goal", JAMES, link_on("/patients/2/goals", "A1c")),
    Page("a suggested goal", JAMES, link_on("/patients/2/goals", "feet")),
    Page("a new goal", JAMES, "/patients/2/goals/new"),
    Page("text reminders", JAMES, "/patients/2/reminders"),
    Page("preferences", JAMES, "/patients/2/preferences/edit"),
    Page("profile", JAMES, "/patients/2/profile"),
    Page("a decision", MARIA, link_on("/patients/1/decisions", "tomarse"), "es"),
    Page("a goal", MARIA, link_on("/patients/1/goals", "Caminar"), "es"),
    Page("text reminders", MARIA, "/patients/1/reminders", "es"),
    Page("preferences", MARIA, "/patients/1/preferences/edit", "es"),
    Page("profile", MARIA, "/patients/1/profile", "es"),
    Page("a new message", JAMES, "/patients/2/messages/new"),
    Page("a new message", MARIA, "/patients/1/messages/new", "es"),
    Page("a decision, acting for Jim", ANA, link_on("/patients/2/decisions", "knee")),
    Page("a decision, care team", NURSE, link_on("/patients/2/decisions", "knee")),
    Page("a new decision, care team", NURSE, "/patients/2/decisions/new"),
]


@pytest.fixture(scope="module")
def maria_has_an_open_decision(live_app):
    """María's demo decision is already made; her team opens another one (in Spanish, with
    option texts long enough to be shortened in the comparison)."""
    import sqlalchemy as sa

    from app.auth.models import User
    from app.careplan.decisions import services
    from app.careplan.decisions.models import Decision
    from app.extensions import db
    from app.patients.models import Patient

    question = "¿Cuándo quiere tomarse la medicina de la presión?"
    with live_app.app_context():
        maria = db.session.scalar(
            sa.select(Patient).join(User, User.id == Patient.user_id).where(User.email == MARIA)
        )
        if db.session.scalar(sa.select(Decision.id).where(Decision.question == question)):
            return
        doctor = db.session.scalar(
            sa.select(User).where(User.email == "doctor@demo.carecircle.test")
        )
        services.open_decision(
            maria.id,
            services.DecisionInput(
                question=question,
                background="Su presión sigue alta por la mañana.",
                sensitivity=None,
                options=[
                    services.OptionInput(
                        "Por la mañana",
                        "Es fácil de recordar con el desayuno. La presión baja durante el día, "
                        "cuando usted trabaja y se mueve más.",
                        "Puede ir más al baño por la mañana, en el trabajo.",
                        "Una pastilla con el desayuno.",
                    ),
                    services.OptionInput(
                        "Por la noche",
                        "Protege mejor en las primeras horas de la mañana, cuando hay más "
                        "riesgo de un ataque al corazón.",
                        "Puede levantarse de noche para ir al baño. Es más fácil olvidarla "
                        "si se queda dormida temprano.",
                        "Una pastilla antes de dormir.",
                    ),
                ],
            ),
            author_id=doctor.id,
        )
        db.session.commit()


def sign_in(page, live_server, email: str) -> None:
    """Sign in with the demo password; staff type the code of the published demo key. (The
    buttons are those of the page's form, not the header's language switch.)"""
    import pyotp
    import sqlalchemy as sa

    from app.auth.mfa import DEMO_MFA_SECRET
    from app.auth.models import User
    from app.demo import DEMO_PASSWORD
    from app.extensions import db

    page.goto(f"{live_server}/auth/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if page.url.endswith("/auth/mfa"):
        with live_server.app.app_context():  # a code is good once per account
            db.session.execute(
                sa.update(User).where(User.email == email).values(mfa_last_step=None)
            )
            db.session.commit()
        page.fill("#code", pyotp.TOTP(DEMO_MFA_SECRET).now())
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    assert "/auth/" not in page.url, f"{email} could not sign in"


def check_main_action(phone, url: str, lang: str) -> None:
    phone.goto(url)
    assert phone.evaluate("document.documentElement.lang") == lang, url
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{url} scrolls sideways: {width}px"
    small = phone.evaluate(TAP_TARGETS_JS)
    assert small == [], f"{url} has small tap targets: {small}"
    actions = phone.locator("[data-main-action]")
    assert actions.count() == 1, f"{url} marks {actions.count()} main actions"
    action = actions.first
    assert action.is_visible(), url
    m = action.evaluate(MEASURE_JS)
    assert m["scrollY"] == 0, url
    if m["pinned"]:
        # Pinned: wholly in view, above the tab bar.
        assert m["top"] >= 0 and m["bottom"] <= m["screenBottom"] + 0.5, (url, m)
    else:
        # On the first screen: it starts above the fold (and above the tab bar).
        assert 0 <= m["top"] < m["screenBottom"] - 24, (url, m)
    assert m["onTop"], f"{url}: something covers the main action {m}"


def check_axe(phone, url: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(phone)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{url}: {serious}"


@pytest.mark.parametrize("who", sorted({p.who for p in PAGES}), ids=lambda w: w.split("@")[0])
def test_the_main_action_is_on_the_first_screen(
    phone, live_server, maria_has_an_open_decision, who
):
    sign_in(phone, live_server, who)
    for spec in (p for p in PAGES if p.who == who):
        path = spec.path(phone, live_server) if callable(spec.path) else spec.path
        url = live_server + path
        check_main_action(phone, url, spec.lang)
        check_axe(phone, url)


def test_the_save_bar_stays_in_view_while_the_form_scrolls(phone, live_server):
    """Halfway down a long form the Save button is still in view, above the tab bar; past the
    form's end it sits where the form ends and covers nothing after it."""
    sign_in(phone, live_server, JAMES)
    phone.goto(live_server + "/patients/2/preferences/edit")
    save = phone.locator("[data-main-action]")
    phone.mouse.wheel(0, 600)
    phone.wait_for_function("window.scrollY > 0")
    m = save.evaluate(MEASURE_JS)
    assert m["pinned"] == "sticky"
    assert m["bottom"] <= m["screenBottom"] + 0.5 and m["top"] >= 0, m
    assert m["onTop"], m
    phone.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    footer = phone.locator("footer .tel").first
    footer.scroll_into_view_if_needed()
    box, bar = footer.bounding_box(), phone.locator(".save-bar").bounding_box()
    assert bar["y"] + bar["height"] <= box["y"], "the save bar covers the emergency numbers"


def test_have_your_say_without_javascript(chromium, live_server):
    """The say works with plain HTML: the jump link, the disclosures, the form."""
    context = chromium.new_context(
        viewport={"width": 360, "height": 740}, java_script_enabled=False
    )
    page = context.new_page()
    sign_in(page, live_server, JAMES)
    path = link_on("/patients/2/decisions", "knee")(page, live_server)
    page.goto(live_server + path)
    page.click("#ask summary")
    assert page.locator("#question_text").is_visible()
    page.click("a[href='#options']")
    assert page.url.endswith("#options")
    assert page.locator("#options").bounding_box()["y"] < 200
    context.close()
