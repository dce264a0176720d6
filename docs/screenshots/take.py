"""Phone-size screenshots of the demo for the README and docs: `make screenshots`.

Runs the app on a throwaway SQLite database with the demo data and drives Debian's Chromium.
`python docs/screenshots/take.py -- -ar.png chart` takes only the shots whose file names contain
one of the words given.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.demo import DEMO_PASSWORD, seed  # noqa: E402
from app.extensions import db  # noqa: E402

OUT = Path(__file__).parent
APP: dict = {}
SHOTS = [
    # (file, login, path)
    ("home-phone.png", None, "/auth/login"),
    # The app: Home, the plan, messages and a decision for María (Spanish), James and Ana.
    ("maria-home-es.png", "maria", "/"),
    ("maria-plan-es.png", "maria", "/patients/1/plan"),
    ("maria-messages-es.png", "maria", "/patients/1/messages"),
    ("maria-decision-es.png", "maria", "/patients/1/decisions/first"),
    ("james-home.png", "james", "/"),
    ("james-messages.png", "james", "/patients/2/messages"),
    ("james-decision.png", "james", "/patients/2/decisions/first"),
    ("james-more.png", "james", "/patients/2/more"),
    ("ana-home.png", "ana", "/"),
    ("ana-messages.png", "ana", "/patients/2/messages"),
    ("ana-decision.png", "ana", "/patients/2/decisions/first"),
    ("maria-record-es.png", "maria", "/patients/1"),
    ("who-has-seen-my-record.png", "james", "/patients/2/access-log"),
    ("caregiver-people.png", "ana", "/caregivers/"),
    ("caregiver-acting-for.png", "ana", "/patients/2"),
    ("care-team-my-patients.png", "nurse", "/team/patients"),
    ("admin-accounts.png", "admin", "/admin/users"),
    ("maria-today-es.png", "maria", "/patients/1/today"),
    ("james-plan.png", "james", "/patients/2/plan"),
    ("james-goals.png", "james", "/patients/2/goals"),
    ("james-decisions.png", "james", "/patients/2/decisions"),
    ("nurse-summary-flags.png", "nurse", "/patients/2"),
    ("ana-plan-no-sensitive.png", "ana", "/patients/2/plan"),
    ("pharmacist-inbox.png", "pharmacist", "/team/inbox?view=all"),
    ("maria-new-message-es.png", "maria", "/patients/1/messages/new"),
    ("pharmacist-thread.png", "pharmacist", "/patients/1/messages/1"),
    ("chw-inbox-es.png", "chw", "/team/inbox"),
    ("maria-texts-es.png", "maria", "/patients/1/texts"),
    ("maria-goals-es.png", "maria", "/patients/1/goals"),
    ("maria-text-reminders-es.png", "maria", "/patients/1/reminders"),
    ("maria-reminder-times-es.png", "maria", "/patients/1/plan/items/1/reminders"),
    ("james-people-who-help.png", "james", "/patients/2/caregivers"),
    ("james-invite-helper.png", "james", "/patients/2/caregivers/invite"),
    ("nurse-team-grant.png", "nurse", "/patients/3/caregivers/team-grant"),
    ("leo-private-thread.png", "leo", "/patients/3/messages/4"),
    ("rosa-leo-plan-es.png", "rosa", "/patients/3/plan"),
    # Acting on the plan (item ids of the demo: María's check-up 4, James's blood thinner 11,
    # his heart check-up 14, his weigh-in 15).
    ("maria-appointment-es.png", "maria", "/patients/1/plan/items/4"),
    ("james-medicine.png", "james", "/patients/2/plan/items/11"),
    ("james-weigh-in.png", "james", "/patients/2/plan/items/15/reading"),
    ("ana-ask-to-change.png", "ana", "/patients/2/plan/items/14/appointment/change"),
    ("james-ankles-photo.png", "james", "/patients/2/messages/3"),
    # Lan reads Vietnamese; her son Minh reads English.
    ("lan-home-vi.png", "lan", "/"),
    ("minh-home.png", "minh", "/"),
]

#: Each language at phone width: the person's interface language set for the shot (and put
#: back). Spanish and Vietnamese are María's and Lan's own (SHOTS). Arabic reads right to left:
#: the layout, the tab bar, the arrows and the goal's trend chart mirror. (file, login, path,
#: language, what to scroll to the middle of the screen first or None.)
LANGUAGE_SHOTS = [
    ("james-home-ar.png", "james", "/patients/2/home", "ar", None),
    ("james-medicine-ar.png", "james", "/patients/2/plan/items/11", "ar", None),
    ("james-new-message-ar.png", "james", "/patients/2/messages/new", "ar", None),
    # His A1c goal (demo goal 4) and its check-ins: time runs from right to left.
    ("james-goal-chart-ar.png", "james", "/patients/2/goals/4", "ar", "svg.goal-chart"),
    ("nurse-inbox-ar.png", "nurse", "/team/inbox", "ar", None),
    ("james-home-ru.png", "james", "/patients/2/home", "ru", None),
    ("james-home-zh.png", "james", "/patients/2/home", "zh", None),
    ("james-home-so.png", "james", "/patients/2/home", "so", None),
]

#: Only the shots whose file names contain one of these words (all when none is given).
ONLY = [word for word in sys.argv[1:] if word != "--"]


def wanted(name: str) -> bool:
    return not ONLY or any(word in name for word in ONLY)


WIDE_SHOTS = [
    ("nurse-desk-inbox.png", "nurse", "/team/inbox?view=all&open=1-1"),
    ("nurse-desk-summary.png", "nurse", "/patients/2"),
    ("pharmacist-desk-refill.png", "pharmacist", "/team/inbox?view=all&open=2-5"),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            "testing",
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db", "RATELIMIT_ENABLED": False},
        )
        with app.app_context():
            db.create_all()
            seed()
            db.session.commit()
        APP["app"] = app
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                ],
            )
            # James's record is looked at by his nurse and daughter first, so the log has rows.
            for who, path in (("nurse", "/patients/2"), ("ana", "/patients/2")):
                ctx = browser.new_context()
                page = ctx.new_page()
                login(page, base, who)
                page.goto(base + path)
                ctx.close()
            for name, who, path in (shot for shot in SHOTS if wanted(shot[0])):
                ctx = browser.new_context(
                    viewport={"width": 360, "height": 740}, device_scale_factor=1, is_mobile=True
                )
                page = ctx.new_page()
                if who:
                    login(page, base, who)
                if path.endswith("/first"):  # the first one the list links to
                    page.goto(base + path.removesuffix("/first"))
                    path = page.locator("main a[href*='/decisions/']").first.get_attribute("href")
                page.goto(base + path)
                # Pages with the app's fixed tab bar: the first screen, as a phone shows it
                # (a full-page shot would paint the bar in the middle of the page).
                full = page.locator(".tabbar").count() == 0
                page.screenshot(path=str(OUT / name), full_page=full)
                print("wrote", OUT / name)
                ctx.close()
            for name, who, path in (s for s in WIDE_SHOTS if wanted(s[0])):  # the desk, 1280 x 800
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                page = ctx.new_page()
                login(page, base, who)
                page.goto(base + path)
                page.wait_for_load_state("networkidle")  # the desk fetches the open pane
                page.wait_for_timeout(500)
                page.screenshot(path=str(OUT / name))
                print("wrote", OUT / name)
                ctx.close()
            language_shots(browser, base)
            if wanted("invitation-code.png"):
                invitation_shots(browser, base, app)
            if wanted("mfa-code.png") or wanted("mfa-setup.png"):
                mfa_shots(browser, base)
            browser.close()
        server.shutdown()


def invitation_shots(browser, base: str, app) -> None:
    """James invites Bea; Bea opens the link on her phone and is asked for the emailed code."""
    import re

    import sqlalchemy as sa

    from app.core.mail import OutboundEmail

    ctx = browser.new_context()
    page = ctx.new_page()
    login(page, base, "james")
    page.goto(base + "/patients/2/caregivers/invite")
    page.fill("#full_name", "Bea Carter")
    page.fill("#email", "bea@example.test")
    page.fill("#relationship", "sister")
    page.click("main button[type=submit]")
    ctx.close()
    with app.app_context():
        body = db.session.scalars(
            sa.select(OutboundEmail).order_by(OutboundEmail.id.desc())
        ).first()
        link = re.search(r"/caregivers/accept/\S+", body.body).group(0)
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=1, is_mobile=True
    )
    page = ctx.new_page()
    page.goto(base + link)
    page.click("button:has-text('Send me a code')")
    page.wait_for_load_state()
    page.screenshot(path=str(OUT / "invitation-code.png"), full_page=True)
    print("wrote", OUT / "invitation-code.png")
    ctx.close()


def language_shots(browser, base: str) -> None:
    """Pages in each language; Arabic reads right to left: the layout, the tab bar, the arrows
    and the trend chart mirror."""
    import sqlalchemy as sa

    from app.auth.models import User

    def set_locale(email: str, locale: str | None) -> None:
        with APP["app"].app_context():
            db.session.execute(sa.update(User).where(User.email == email).values(locale=locale))
            db.session.commit()

    for name, who, path, language, focus in (s for s in LANGUAGE_SHOTS if wanted(s[0])):
        email = f"{who}@demo.carecircle.test"
        with APP["app"].app_context():
            before = db.session.scalar(sa.select(User.locale).where(User.email == email))
        set_locale(email, language)
        try:
            ctx = browser.new_context(
                viewport={"width": 360, "height": 740}, device_scale_factor=1, is_mobile=True
            )
            page = ctx.new_page()
            login(page, base, who)
            page.goto(base + path)
            if focus:
                page.locator(focus).evaluate("e => e.scrollIntoView({block: 'center'})")
            page.screenshot(path=str(OUT / name))
            print("wrote", OUT / name)
            ctx.close()
        finally:
            set_locale(email, before)


def login(page, base: str, who: str) -> None:
    page.goto(base + "/auth/login")
    page.fill("#email", f"{who}@demo.carecircle.test")
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if page.url.endswith("/auth/mfa"):  # staff: the code for the published demo key (README)
        type_demo_code(page, f"{who}@demo.carecircle.test")


def type_demo_code(page, email: str) -> None:
    """A code is good once per account; the shots sign the same person in again within its 30
    seconds, so the account's last used step is forgotten first (the demo database only)."""
    import pyotp
    import sqlalchemy as sa

    from app.auth.mfa import DEMO_MFA_SECRET
    from app.auth.models import User

    with APP["app"].app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(mfa_last_step=None))
        db.session.commit()
    page.fill("#code", pyotp.TOTP(DEMO_MFA_SECRET).now())
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def mfa_shots(browser, base: str) -> None:
    """The nurse's second step at sign-in; James turning two-step sign-in on."""
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=1, is_mobile=True
    )
    page = ctx.new_page()
    page.goto(base + "/auth/login")
    page.fill("#email", "nurse@demo.carecircle.test")
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.screenshot(path=str(OUT / "mfa-code.png"), full_page=True)
    print("wrote", OUT / "mfa-code.png")
    ctx.close()
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=1, is_mobile=True
    )
    page = ctx.new_page()
    login(page, base, "james")
    page.goto(base + "/auth/mfa/setup")
    page.screenshot(path=str(OUT / "mfa-setup.png"), full_page=True)
    print("wrote", OUT / "mfa-setup.png")
    ctx.close()


if __name__ == "__main__":
    main()
