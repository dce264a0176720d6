"""The SMS gateway: one `send(to, body)` call in front of two backends.

`outbox` (the default) sends nothing, so development, the demo and most tests need no Twilio
account. `twilio` sends through Twilio's Messages API with the official library.

The caller (the dispatcher) decides what to do with a failure, so errors come in three kinds:
- `PermanentSmsError`: Twilio answered with a refusal (a 4xx): nothing was sent, and retrying
  cannot help (bad number, recipient unsubscribed...).
- `TransientSmsError`: nothing was sent, try again later: Twilio answered 429 or 5xx, or the
  connection could not even be opened (refused, connect timeout).
- `SmsOutcomeUnknown` (a kind of transient error): the request may have reached Twilio and the
  answer was lost (a read timeout, a connection dropped after the request left, a 2xx answer
  that cannot be read or has no SID). The text may have gone, so the dispatcher must ask
  Twilio (`find_all_sent`) before it sends it again. See docs/texting.md.

Statuses are in the app's words (see OutboundSms.status): Twilio's first statuses become
"accepted", because "queued" and "sending" mean "not sent yet" here.

Health data rule: message bodies and phone numbers are never logged, nor put in exception
messages (Twilio's own error text often quotes the number). Only SIDs and error codes are.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, Self
from urllib.parse import urlencode
from uuid import uuid4

import requests
import urllib3.exceptions
from flask import Flask, current_app
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

log = logging.getLogger(__name__)
# The library logs every request URL at INFO, and find_sent's URL carries the phone number
# (?To=...). Its own logger is silenced; ours says what matters, without numbers.
_library_http_log = logging.getLogger(f"{__name__}.twilio_http")
_library_http_log.setLevel(logging.WARNING)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
#: Seconds to wait for Twilio to connect or answer (SMS_TIMEOUT_SECONDS); a stuck call would
#: hold a dispatcher lease, so SMS_LEASE_SECONDS must be well above it.
DEFAULT_TIMEOUT = 10.0
STATUS_CALLBACK_PATH = "/sms/status"
#: How many recent messages to a number `find_sent` looks through.
FIND_SENT_LIMIT = 50
_TWILIO_PENDING = {"queued", "accepted", "scheduled", "sending"}

# Twilio error codes the rest of the app reacts to.
INVALID_NUMBER = "21211"
UNSUBSCRIBED = "21610"  # the recipient texted STOP to our sender
NOT_MOBILE = "21614"
REGION_NOT_ENABLED = "21408"


@dataclass
class SmsResult:
    """What the provider said: its message SID and status ("stored", "accepted", "sent"...)."""

    sid: str
    status: str


class SmsError(Exception):
    """A text was not accepted. `code` is the provider's error code, if it gave one."""

    def __init__(
        self, message: str = "", *, code: str | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message or f"SMS not accepted (code {code}, HTTP {http_status})")
        self.code = code
        self.http_status = http_status


class TransientSmsError(SmsError):
    """Try again later: HTTP 429, HTTP 5xx, a network error or a timeout."""


class SmsOutcomeUnknown(TransientSmsError):
    """The request may have reached Twilio but no readable answer came back (read timeout,
    connection dropped after sending, unreadable 2xx): the text may have gone. Ask Twilio
    (`find_all_sent`) before any resend."""


class PermanentSmsError(SmsError):
    """Do not retry: Twilio refused this message (another 4xx). `code` is always set."""

    code: str

    def __init__(self, message: str = "", *, code: str, http_status: int | None = None) -> None:
        super().__init__(message, code=code, http_status=http_status)


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> SmsResult: ...

    def find_sent(self, to: str, body: str, *, since: datetime) -> SmsResult | None: ...

    def find_all_sent(self, to: str, body: str, *, since: datetime) -> list[SmsResult]: ...

    def close(self) -> None: ...


class _Closable:
    """Backends are context managers so a batch can reuse one HTTP connection and release it."""

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OutboxBackend(_Closable):
    """Sends nothing: the row stays in the database for admins to read (status "stored")."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = config

    def send(self, to: str, body: str) -> SmsResult:
        result = SmsResult(sid=f"OUTBOX{uuid4().hex}", status="stored")
        log.info("sms stored in outbox sid=%s", result.sid)
        return result

    def find_sent(self, to: str, body: str, *, since: datetime) -> SmsResult | None:
        """Nothing ever leaves the outbox, so an interrupted send never went out."""
        return None

    def find_all_sent(self, to: str, body: str, *, since: datetime) -> list[SmsResult]:
        return []


class TwilioBackend(_Closable):
    """Twilio's Messages API through the official `twilio` library.

    `TWILIO_API_BASE_URL` replaces the API host (the library builds every URL from
    `client.api.base_url`), so tests can point it at a local fake server.
    """

    def __init__(self, config: Mapping[str, Any], *, timeout: float | None = None) -> None:
        account_sid = config.get("TWILIO_ACCOUNT_SID") or ""
        auth_token = config.get("TWILIO_AUTH_TOKEN") or ""
        if not account_sid or not auth_token:
            raise RuntimeError("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.messaging_service_sid = config.get("TWILIO_MESSAGING_SERVICE_SID") or ""
        self.from_number = config.get("TWILIO_FROM_NUMBER") or ""
        if not self.messaging_service_sid and not self.from_number:
            raise RuntimeError(
                "SMS_BACKEND=twilio needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER"
            )
        base_url = (config.get("TWILIO_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/")
        public_base = config.get("PUBLIC_BASE_URL") or ""
        if not public_base:
            raise RuntimeError("SMS_BACKEND=twilio needs PUBLIC_BASE_URL for status callbacks")
        self.status_callback = public_base.rstrip("/") + STATUS_CALLBACK_PATH

        if timeout is None:
            timeout = float(config.get("SMS_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT)
        self._http = PooledHttpClient(timeout=timeout)
        self.client = Client(
            username=account_sid,
            password=auth_token,
            account_sid=account_sid,
            http_client=self._http,
        )
        self.client.api.base_url = base_url
        if base_url != DEFAULT_API_BASE_URL:
            # TWILIO_EDGE / TWILIO_REGION from the environment would rewrite the host name,
            # which only makes sense for api.twilio.com.
            self.client.edge = None
            self.client.region = None

    def send(self, to: str, body: str) -> SmsResult:
        sender = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        with _twilio_errors("send"):
            message = self.client.messages.create(
                to=to, body=body, status_callback=self.status_callback, **sender
            )
        if not message.sid:
            log.warning("sms send outcome unknown: Twilio answer without a SID")
            raise SmsOutcomeUnknown("Twilio answered without a message SID")
        result = SmsResult(sid=message.sid, status=normalise_status(message.status))
        log.info("sms accepted by Twilio sid=%s status=%s", result.sid, result.status)
        return result

    def find_sent(self, to: str, body: str, *, since: datetime) -> SmsResult | None:
        """The newest message Twilio holds to `to` with exactly `body`, created at or after
        `since`, or None (see `find_all_sent`)."""
        found = self.find_all_sent(to, body, since=since)
        return found[0] if found else None

    def find_all_sent(self, to: str, body: str, *, since: datetime) -> list[SmsResult]:
        """Every message Twilio holds to `to` with exactly `body`, created at or after `since`,
        newest first.

        Used to settle a send whose outcome was lost (worker died, timeout). All of them, not
        the newest: one may already belong to another outbox row with the same words, which
        the caller knows and this does not. Lists by recipient only: Twilio's DateSent filters
        would miss messages still queued (no date_sent yet). Raises TransientSmsError /
        PermanentSmsError like `send` (never SmsOutcomeUnknown: a lookup changes nothing).
        """
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        with _twilio_errors("lookup"):
            messages = self.client.messages.list(to=to, limit=FIND_SENT_LIMIT)
        found = []
        for message in messages:  # newest first
            if not str(message.direction or "").startswith("outbound"):
                continue
            if message.date_created is not None and message.date_created < since:
                break
            if message.body == body and message.sid:
                log.info("sms found at Twilio sid=%s", message.sid)
                found.append(SmsResult(sid=message.sid, status=normalise_status(message.status)))
        return found

    def close(self) -> None:
        self._http.close()


class PooledHttpClient(HttpClient):
    """The `twilio` library's HTTP client interface on a urllib3 pool with keep-alive.

    The library's own client goes through `requests`, which costs about 1.5 ms of CPU per
    call in environment merging, hooks and cookies: at hundreds of texts a second that, not
    the network, was the dispatcher's ceiling. This does the same HTTP (basic auth, form
    bodies, query strings, no retries, no redirects, one timeout for connect and read) and
    raises the same `requests` exceptions for network failures, so `_twilio_errors` tells
    "never connected" from "may have reached Twilio" exactly as before. One per thread.
    """

    def __init__(self, timeout: float | None = None) -> None:
        super().__init__(logger=_library_http_log, is_async=False, timeout=timeout)
        import certifi

        self._pool = urllib3.PoolManager(
            num_pools=4, maxsize=1, retries=False, ca_certs=certifi.where()
        )
        self._auth: tuple[tuple[str, str], str] | None = None

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        timeout = timeout if timeout is not None else self.timeout
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = self._basic(auth)
        if params:
            query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
            uri = f"{uri}{'&' if '?' in uri else '?'}{query}"
        body = None
        if data and method.upper() not in ("GET", "DELETE"):
            if "json" in headers.get("Content-Type", ""):
                body = json.dumps(data).encode()
            else:
                fields = {k: v for k, v in data.items() if v is not None}
                body = urlencode(fields, doseq=True).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = self._pool.request(
                method.upper(),
                uri,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                redirect=allow_redirects,
                retries=False,
            )
        except urllib3.exceptions.NewConnectionError as exc:  # refused, no route
            raise requests.ConnectionError(_never_sent(uri, exc)) from exc
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise requests.exceptions.ConnectTimeout(_never_sent(uri, exc)) from exc
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(str(type(exc).__name__)) from exc
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(str(type(exc).__name__)) from exc
        except urllib3.exceptions.HTTPError as exc:  # dropped after sending, bad answer...
            raise requests.ConnectionError(str(type(exc).__name__)) from exc
        text = response.data.decode("utf-8", errors="replace")
        return TwilioResponse(response.status, text, dict(response.headers))

    def _basic(self, auth: tuple[str, str]) -> str:
        if self._auth is None or self._auth[0] != auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self._auth = (auth, f"Basic {token}")
        return self._auth[1]

    def close(self) -> None:
        self._pool.clear()


def _never_sent(uri: str, exc: Exception) -> urllib3.exceptions.MaxRetryError:
    """What `requests` wraps a connection failure in (see `_never_connected`)."""
    return urllib3.exceptions.MaxRetryError(None, uri.partition("?")[0], reason=exc)


def normalise_status(status: str | None) -> str:
    """Twilio's first statuses (queued, accepted, scheduled, sending) all become "accepted".

    "queued" and "sending" already mean something here (waiting for / claimed by a dispatcher),
    so storing Twilio's word would make the dispatcher send the text again.
    """
    status = str(status or "")
    return "accepted" if status in _TWILIO_PENDING or not status else status


def _never_connected(exc: Exception) -> bool:
    """True only when the request cannot have reached Twilio: the connection was never opened
    (refused, no route, name not found, connect timeout). Anything later is ambiguous."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return False
    reason = getattr(exc.args[0], "reason", None)  # urllib3's MaxRetryError
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)  # NewConnectionError too


@contextmanager
def _twilio_errors(action: str) -> Iterator[None]:
    """Turn the library's and requests' exceptions into Transient/PermanentSmsError, or
    SmsOutcomeUnknown when a send may have reached Twilio without us hearing the answer."""
    try:
        yield
    except (TwilioRestException, TwilioServiceException) as exc:
        raise _classify(exc.status, exc.code, action) from None  # its text may quote the number
    except (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as exc:
        name = type(exc).__name__
        if action == "send" and not _never_connected(exc):
            log.warning("sms send outcome unknown: network error %s after connecting", name)
            raise SmsOutcomeUnknown(f"no answer from Twilio: {name}") from exc
        log.warning("sms %s failed: network error %s", action, name)
        raise TransientSmsError(f"network error talking to Twilio: {name}") from exc
    except ValueError as exc:  # a 2xx answer that is not JSON: the text may have gone
        log.warning("sms %s outcome unknown: unreadable Twilio answer", action)
        error = SmsOutcomeUnknown if action == "send" else TransientSmsError
        raise error("unreadable answer from Twilio") from exc
    except TwilioException as exc:  # list() failures: TwilioException("...", response)
        response = next((arg for arg in exc.args if hasattr(arg, "status_code")), None)
        if response is None:
            log.warning("sms %s failed: %s", action, type(exc).__name__)
            raise TransientSmsError(f"Twilio library error: {type(exc).__name__}") from None
        raise _classify(response.status_code, _error_code(response.text), action) from None


def _error_code(text: str) -> object:
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    return payload.get("code") if isinstance(payload, dict) else None


def _classify(http_status: int, error_code: object, action: str) -> SmsError:
    """429 and 5xx are worth retrying; any other refusal is final for this message."""
    status = int(http_status)
    code = str(error_code) if error_code is not None else str(status)
    if status == 429 or status >= 500:
        log.warning("sms %s failed: Twilio HTTP %s code=%s (retry later)", action, status, code)
        return TransientSmsError(code=code, http_status=status)
    log.warning("sms %s refused: Twilio HTTP %s code=%s", action, status, code)
    return PermanentSmsError(code=code, http_status=status)


BACKENDS: dict[str, type[OutboxBackend] | type[TwilioBackend]] = {
    "outbox": OutboxBackend,
    "twilio": TwilioBackend,
}


def get_backend(app: Flask | None = None) -> OutboxBackend | TwilioBackend:
    """The backend named by SMS_BACKEND, built from the app's current config."""
    return backend_for((app or current_app).config)


def backend_for(config: Mapping[str, Any]) -> OutboxBackend | TwilioBackend:
    """The backend named by SMS_BACKEND in `config` (no app context needed: the dispatcher's
    send threads each make their own, so each keeps its own HTTP connection alive)."""
    name = config.get("SMS_BACKEND") or "outbox"
    try:
        backend_class = BACKENDS[name]
    except KeyError:
        raise RuntimeError(f"Unknown SMS_BACKEND {name!r}; use one of {sorted(BACKENDS)}") from None
    return backend_class(config)
