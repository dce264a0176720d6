"""No English leftovers in each shipped language: every page of every demo account, visited in
Spanish, Vietnamese, Russian, Chinese, Arabic and Somali, shows none of the catalog's English
whose translation differs (a lazy string evaluated too early, a `_()` at import time, a text
rendered outside `for_recipient`), and neither do the texts and emails the demo queues, in their
reader's language (issue 16). English itself is checked by the pseudo-locale crawl
(test_pseudo_locale.py).

This is about rendering, not the database: it runs on SQLite only (the pseudo crawl runs on
both). One test per language and group of accounts, so test workers share them out.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.mail import OutboundEmail
from app.extensions import db
from app.texting.models import OutboundSms
from config import Config
from tests.fixtures import i18n_crawl as crawl
from tests.fixtures.app import ON_POSTGRES, ROOT
from tests.fixtures.browser import Browser

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="rendering, not the database: SQLite only")

#: Every shipped language but English (which the pseudo crawl checks).
LANGUAGES = [code for code in Config.LANGUAGES if code != Config.BABEL_DEFAULT_LOCALE]
#: The accounts of each test. Within a test, a page (or a form's 4xx page) another account of
#: the same role already showed is not visited again: the care team's members see the same
#: pages of the same patients, and a record's own pages without rows of their own (Home, My
#: plan, a form) are read for the first patient who has them, since the same template says the
#: same words; each record's rows (items of each kind, goals, threads) are read for each. The
#: pseudo crawl visits every page for every account.
GROUPS = {
    "patients": ["visitor", *crawl.PATIENTS[:2]],
    "more_patients": crawl.PATIENTS[2:],
    "caregivers": crawl.CAREGIVERS,
    "care_team": [a for a in crawl.STAFF if a != "admin"],
    "admin": ["admin"],
}


_checks: dict[str, crawl.EnglishCheck] = {}


def english_check(app, language: str) -> crawl.EnglishCheck:
    """The catalog's English for `language`, with the demo's data (the same in every test's
    copy of the seeded database) taken out."""
    if language not in _checks:
        po = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
        _checks[language] = crawl.EnglishCheck.from_catalog(
            language, po, crawl.allowed(app, babel_locale=None)
        )
    return _checks[language]


def outbound(language: str, after: tuple[int, int] = (0, 0)) -> list[tuple[str, str]]:
    """(what, text) of the texts in `language` and the emails to readers of `language`."""
    from app.auth.models import User

    texts = db.session.execute(
        sa.select(OutboundSms.id, OutboundSms.body).where(
            OutboundSms.locale == language, OutboundSms.id > after[0]
        )
    )
    emails = db.session.execute(
        sa.select(OutboundEmail.id, OutboundEmail.subject, OutboundEmail.body)
        .join(User, User.id == OutboundEmail.user_id)
        .where(User.locale == language, OutboundEmail.id > after[1])
    )
    found = [(f"text {row.id}", row.body) for row in texts]
    for row in emails:
        found += [(f"email {row.id} subject", row.subject), (f"email {row.id}", row.body)]
    return found


def last_ids() -> tuple[int, int]:
    return (
        db.session.scalar(sa.select(sa.func.max(OutboundSms.id))) or 0,
        db.session.scalar(sa.select(sa.func.max(OutboundEmail.id))) or 0,
    )


def message_findings(check, messages, account="(outbox)") -> list[crawl.Finding]:
    found = []
    for what, text in messages:
        for line in text.splitlines():
            left = check.leftover(line)
            if left:
                found.append(crawl.Finding(account, what, 0, "message", crawl.normal(line), left))
    return found


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_on_any_page(demo_app, language, group):
    with demo_app() as app:
        check = english_check(app, language)
        crawl.read_as(language)
        before = last_ids()
        pages, seen = [], set()
        for account in GROUPS[group]:
            pages += crawl.account_pages(
                app,
                lambda: Browser(app.test_client()),
                account,
                language,
                each_status=False,
                seen=seen,
                per_rule=True,
            )
        found = crawl.findings(pages, check.leftover)
        # what the crawl's own form posts queued, to people who now all read `language`
        found += message_findings(check, outbound(language, before))
    assert pages
    assert not found, crawl.report(found)


def test_the_demos_texts_and_emails_are_in_their_readers_language(demo_app):
    with demo_app() as app:
        languages = set(db.session.scalars(sa.select(OutboundSms.locale).distinct()))
        assert {"es", "vi"} <= languages  # María's and Lan's texts
        found = []
        for language in sorted(languages - {"en"}):
            messages = outbound(language)
            assert messages
            found += message_findings(english_check(app, language), messages)
    assert not found, crawl.report(found)


def test_the_check_catches_english_left_on_a_spanish_page(demo_app):
    """A translated label rendered in English (as `_()` at import time does) is caught, with
    the page, the account and the words."""
    with demo_app() as app:

        @app.after_request
        def leave_english(response):
            from flask import request

            if request.path == "/patients/1/plan" and response.mimetype == "text/html":
                page = response.get_data(as_text=True)
                page = page.replace("</main>", "<button>Mark done</button></main>", 1)
                response.set_data(page)
            return response

        check = english_check(app, "es")
        crawl.read_as("es")
        pages = crawl.account_pages(app, lambda: Browser(app.test_client()), "maria", "es")
        found = crawl.findings(pages, check.leftover)
    caught = [(f.account, f.url, f.leftover) for f in found]
    assert ("maria", "/patients/1/plan", "Mark done") in caught, crawl.report(found)
    on_the_page = [f.leftover for f in found if f.url == "/patients/1/plan"]
    assert on_the_page == ["Mark done"], crawl.report(found)
