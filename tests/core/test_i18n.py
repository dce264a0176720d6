from pathlib import Path

import pytest

from app.auth.models import Role, User
from app.core.cli import catalog_problems
from app.extensions import db
from config import Config

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


def test_browser_language_is_used_when_nothing_else_is_known(client):
    html = client.get("/auth/login", headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="es" dir="ltr">' in html
    assert "Iniciar sesión" in html


def test_unsupported_browser_language_falls_back_to_english(client):
    html = client.get("/auth/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    assert "Sign in to CareCircle" in html


def test_cookie_beats_browser_and_switcher_sets_it(browser):
    response = browser.post(
        "/language", {"language": "es", "next": "/auth/login"}, form_url="/auth/login"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    html = browser.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html


def test_user_preference_beats_cookie_and_browser(browser, make_user):
    user = make_user(Role.CAREGIVER, locale="es")
    browser.client.set_cookie("cc_lang", "en")
    browser.login(user.email)
    html = browser.get("/caregivers/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html
    assert "Personas a las que ayudo" in html or 'lang="es"' in html


def test_switching_language_when_signed_in_saves_the_preference(browser, make_user):
    user = make_user(Role.CAREGIVER, locale="en")
    browser.login(user.email)
    browser.post("/language", {"language": "es", "next": "/caregivers/"}, form_url="/caregivers/")
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "es"


def test_switcher_refuses_unknown_language_and_offsite_next(browser):
    response = browser.post(
        "/language", {"language": "xx", "next": "https://evil.example/"}, form_url="/auth/login"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "cc_lang" not in response.headers.get("Set-Cookie", "")


def test_switcher_needs_csrf(client):
    assert client.post("/language", data={"language": "es"}).status_code == 400


def test_error_pages_are_translated(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "es"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html
    assert "Page not found" not in html


@pytest.mark.parametrize("lang", list(Config.LANGUAGES))
def test_catalog_is_complete(lang, tmp_path):
    """Fails on any untranslated, fuzzy or missing string (the same check as CI's
    `flask translate check`)."""
    from app.core.cli import extract

    pot = tmp_path / "messages.pot"
    extract(pot)
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    assert po.exists(), f"no catalog for {lang}"
    assert catalog_problems(po, pot) == []


def test_catalog_check_catches_untranslated_and_fuzzy(tmp_path):
    po = tmp_path / "messages.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Hello"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Bye"\nmsgstr "Adiós"\n',
        encoding="utf-8",
    )
    problems = catalog_problems(po)
    assert "untranslated: 'Hello'" in problems
    assert "fuzzy: 'Bye'" in problems


def test_every_page_has_a_language_switcher_and_lang_attribute(browser, make_user):
    user = make_user(Role.ADMIN)
    for url in ("/auth/login", "/auth/reset"):
        html = browser.get(url).get_data(as_text=True)
        assert 'action="/language"' in html and '<html lang="' in html
    browser.login(user.email)
    for url in ("/admin/", "/admin/users", "/auth/account"):
        html = browser.get(url).get_data(as_text=True)
        assert 'action="/language"' in html, url
