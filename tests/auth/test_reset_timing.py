"""Finding 7 of issue 11: /auth/reset took 41.6 ms for a known email and 11.0 ms for an unknown
one (a token, an email rendered and sent before the answer). Now the request does the same
work for both, and whatever depends on the account happens after the response has gone."""

from __future__ import annotations

import logging
import re

from app.auth.models import Role
from tests.fixtures.browser import csrf_from
from tests.fixtures.mail import outbox_emails


def ask(client, email, count_queries):
    """POST the reset form; count the queries up to the answer, then close it (the server has
    sent it) and return the answer and the queries it took."""
    token = csrf_from(client.get("/auth/reset").get_data(as_text=True))
    with count_queries() as counter:
        response = client.post(
            "/auth/reset", data={"email": email, "csrf_token": token}, buffered=False
        )
        body = response.get_data()
    statements = list(counter.statements)
    response.close()  # now the work after the response runs
    return response, body, statements


def normalised(statements):
    return [re.sub(r"\s+", " ", s) for s in statements]


def test_known_and_unknown_emails_do_the_same_work_before_the_answer(app, make_user, count_queries):
    user = make_user(Role.PATIENT, email="real@example.test")
    known, known_body, known_sql = ask(app.test_client(), user.email, count_queries)
    unknown, unknown_body, unknown_sql = ask(app.test_client(), "ghost@example.test", count_queries)
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known_body == unknown_body
    assert normalised(known_sql) == normalised(unknown_sql)  # the same statements, in order
    assert [e.to_address for e in outbox_emails()] == ["real@example.test"]


def test_the_email_is_sent_after_the_response_and_works(app, make_user, count_queries):
    user = make_user(Role.CAREGIVER, email="helper@example.test")
    _response, _body, statements = ask(app.test_client(), user.email, count_queries)
    assert not any("outbound_emails" in s for s in statements)  # not before the answer
    [email] = outbox_emails()
    assert email.status == "stored" and "/auth/reset/" in email.body


def test_a_failure_after_the_response_is_logged_without_the_email(
    app, make_user, count_queries, monkeypatch, caplog
):
    from app.auth import services

    def broken(email):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(services, "send_password_reset_to", broken)
    with caplog.at_level(logging.ERROR):
        response, _body, _sql = ask(app.test_client(), "secret.person@example.test", count_queries)
    assert response.status_code == 302
    assert "work after the response failed" in caplog.text
    assert "secret.person" not in caplog.text
    assert outbox_emails() == []
