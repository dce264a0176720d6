import re

import pytest
import sqlalchemy as sa

from app import create_app
from app.auth.models import Role, User
from app.extensions import db


def test_production_refuses_to_start_without_secrets(monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_refuses_the_mail_outbox(production_env):
    with pytest.raises(RuntimeError, match="MAIL_BACKEND"):
        create_app("production", {**production_env, "MAIL_BACKEND": "outbox"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SMS_BACKEND": "outbox"}, "SMS_BACKEND"),
        ({"SECRET_KEY": "x" * 40}, "SECRET_KEY looks made by hand"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"DEBUG": True}, "FLASK_DEBUG"),
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"MFA_REQUIRED_ROLES": ("admin",)}, "MFA_REQUIRED_ROLES"),
    ],
)
def test_production_refuses_what_would_leak_or_not_hold(production_env, change, message):
    with pytest.raises(RuntimeError, match=message):
        create_app("production", {**production_env, **change})


def test_production_refuses_the_debugger_from_the_environment(production_env, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="FLASK_DEBUG"):
        create_app("production", production_env)


def test_production_starts_with_its_secrets(production_app):
    app = production_app
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_security_headers(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_forms_work_over_https_with_the_referer_browsers_send(client):
    """Browsers send a Referer only to this site (same-origin); Flask-WTF needs it over HTTPS."""
    https = "https://portal.example.test"
    page = client.get("/auth/login", base_url=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "email": "nobody@example.test", "password": "wrong password"}
    without = client.post("/auth/login", data=form, base_url=https)
    assert without.status_code == 400  # what every POST got with no-referrer
    same_site = client.post(
        "/auth/login", data=form, base_url=https, headers={"Referer": f"{https}/auth/login"}
    )
    assert same_site.status_code != 400
    assert "Sign in" in same_site.get_data(as_text=True)


def test_pages_have_no_inline_script_or_style(browser, make_user):
    user = make_user(Role.ADMIN)
    browser.login(user.email)
    for url in ("/auth/login", "/admin/", "/admin/users", "/auth/account"):
        html = browser.get(url, follow_redirects=True).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert "style=" not in html and "<style" not in html, url


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [("GET", "/nope", 404), ("DELETE", "/auth/login", 405), ("GET", "/patients/abc", 404)],
)
def test_malformed_requests_are_friendly_4xx(client, method, url, status):
    response = client.open(url, method=method)
    assert response.status_code == status
    assert "CareCircle" in response.get_data(as_text=True)


def test_a_post_without_csrf_is_refused_and_writes_nothing(browser, make_user):
    admin = make_user(Role.ADMIN)
    browser.login(admin.email)
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    response = browser.client.post(
        "/admin/invite/care-team",
        data={"full_name": "X", "email": "x@example.test", "language": "en", "title": "RN"},
    )
    assert response.status_code == 400
    assert "This form was open too long" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def test_garbage_in_a_select_is_a_422_not_a_500(browser, make_user, make_org):
    admin = make_user(Role.ADMIN)
    make_org()
    browser.login(admin.email)
    response = browser.post(
        "/admin/invite/care-team",
        {
            "full_name": "X",
            "email": "x@example.test",
            "language": "en",
            "title": "RN",
            "organization": "not-a-number",
            "discipline": "astrology",
        },
    )
    assert response.status_code == 422
    assert (
        db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == "x@example.test"))
        == 0
    )


def test_server_errors_are_friendly_and_translated(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    boom.access_rule = ("none", "test only")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom", headers={"Accept-Language": "es"})
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "RuntimeError" not in html and "Traceback" not in html
    assert '<html lang="es" dir="ltr">' in html


def test_healthz_answers_ok_without_the_database_or_a_cookie(client, count_queries):
    with count_queries() as counter:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert "Set-Cookie" not in response.headers
    assert counter.count == 0  # liveness: a database outage must not restart every host


def test_healthz_answers_while_the_database_is_down():
    broken = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none"}
    )
    client = broken.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "database unavailable\n"
