"""Fixtures for SMS tests: a fake Twilio API on 127.0.0.1 that the real library talks to."""

from __future__ import annotations

import pytest

from tests.fakes.twilio_server import FakeTwilioServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-token-0123456789abcdef"
MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2
FROM_NUMBER = "+15035550199"


@pytest.fixture
def fake_twilio(app):
    """A running FakeTwilioServer, with the app set to send through it (SMS_BACKEND=twilio).

    Both a Messaging Service SID and a From number are set; the gateway prefers the service.
    """
    with FakeTwilioServer(ACCOUNT_SID, AUTH_TOKEN) as server:
        app.config.update(
            SMS_BACKEND="twilio",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_MESSAGING_SERVICE_SID=MESSAGING_SERVICE_SID,
            TWILIO_FROM_NUMBER=FROM_NUMBER,
            TWILIO_API_BASE_URL=server.url,
        )
        yield server
