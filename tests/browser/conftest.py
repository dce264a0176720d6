"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if not Path(CHROMIUM).exists():
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"Chromium not found at {CHROMIUM}: run `make test` as root to "
                        "install it, or `apt-get install chromium`"
                    )
                )


@pytest.fixture(scope="session")
def live_app(live_server):
    """The app behind `live_server` (to read what it emailed, as the recipient would)."""
    return live_server.app


class LiveServer(str):
    """The live server's base URL, carrying its app."""

    app = None


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app on a real socket, with its own SQLite database holding the demo data."""
    from werkzeug.serving import make_server

    from app import create_app
    from app.demo import seed
    from app.extensions import db

    path = tmp_path_factory.mktemp("live") / "live.db"
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "RATELIMIT_ENABLED": False,
        },
    )
    with app.app_context():
        db.create_all()
        seed()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = LiveServer(f"http://127.0.0.1:{server.server_port}")
    url.app = app
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = context.new_page()
    yield page
    context.close()


def type_demo_code(live_server, page, email) -> None:
    """The second step for the demo's staff: the code their app shows for the published demo
    key (README). A code is good once per account, and tests sign the same person in more
    often than every 30 seconds, so the account's last used step is forgotten first."""
    import pyotp
    import sqlalchemy as sa

    from app.auth.mfa import DEMO_MFA_SECRET
    from app.auth.models import User
    from app.extensions import db

    with live_server.app.app_context():
        db.session.execute(
            sa.update(User).where(User.email == email.lower()).values(mfa_last_step=None)
        )
        db.session.commit()
    page.fill("#code", pyotp.TOTP(DEMO_MFA_SECRET).now())
    page.click("main button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def login(live_server):
    def do(page, email, password="carecircle-demo"):
        page.goto(f"{live_server}/auth/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("button:has-text('Sign in'), button:has-text('Iniciar sesión')")
        page.wait_for_load_state()
        if page.url.endswith("/auth/mfa"):
            type_demo_code(live_server, page, email)

    return do
