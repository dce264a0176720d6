"""A fake Twilio Messages API on 127.0.0.1, for tests that drive the real `twilio` library.

    with FakeTwilioServer(account_sid, auth_token) as server:
        app.config["TWILIO_API_BASE_URL"] = server.url
        ...                                  # send texts
        server.messages                      # the form of every accepted message
        server.fail_next(429)                # the next create answers 429
        server.fail_next(400, code=21610)    # ... or a Twilio-style 4xx error
        server.drop_next()                   # ... or the connection closes with no answer
        server.drop_next(accept=True)        # ... accepted, but the answer is lost
        server.delay_next(0.5)               # ... accepted, answered late (client timeouts)
        gate = server.hold_next()            # ... accepted, answered when the test says so:
        gate.set()                           #     (deterministic "a text in flight")
        server.send_status_callback(client, sid, "delivered")

GET .../Messages.json?To=... lists stored messages newest first (what `find_sent` uses);
`fail_next(..., on="list")` injects failures there instead.

MMS media: `server.add_media(url, data, content_type)` serves `data` at the path of Twilio's
media `url` (https://api.twilio.com/2010-04-01/Accounts/AC.../Messages/MM.../Media/ME...) to a
GET with the account's basic auth, as Twilio does; anything not added is a 404.
`server.media_requests` counts the GETs of each path.

It answers HTTP/1.0 and closes every connection, so no keep-alive socket outlives a test
(pytest turns ResourceWarning into an error).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "test-token-0123456789abcdef"
DEFAULT_CALLBACK_URL = "http://carecircle.test/sms/status"

#: The Twilio error code used when a test injects a failure without one.
DEFAULT_CODES = {400: 21211, 401: 20003, 403: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service is unavailable. Please try again",
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by "
    "the 'To' number: {to}.",
    21602: "Message body is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number "
    "for this destination.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number {to} is not a valid mobile number",
}


@dataclass
class Failure:
    """One injected outcome for the next create request."""

    kind: str  # "error", "drop", "delay" or "hold"
    status: int = 0
    accept: bool = False  # drop, hold: store the message first
    code: int | None = None
    message: str | None = None
    body: str | None = None
    seconds: float = 0.0
    gate: threading.Event | None = None  # hold: answered once set


@dataclass
class ReceivedRequest:
    """Every request the server saw, answered or not (for retry assertions)."""

    method: str
    path: str
    form: dict[str, Any]
    headers: dict[str, str]
    status: int | None = None  # None: the connection was dropped
    outcome: str = ""


@dataclass
class _State:
    messages: list[dict[str, Any]] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    #: sid -> the resource as the API shows it (status follows send_status_callback).
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[ReceivedRequest] = field(default_factory=list)
    failures: dict[str, deque[Failure]] = field(
        default_factory=lambda: {"create": deque(), "list": deque()}
    )
    #: path -> (bytes, content type) of each MMS media file served.
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_requests: dict[str, int] = field(default_factory=dict)


def _parse_form(raw: bytes) -> dict[str, Any]:
    """Form fields as strings; a repeated field (MediaUrl) as a list."""
    parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def _segments(body: str) -> int:
    gsm = all(ord(ch) < 128 for ch in body)
    single, multi = (160, 153) if gsm else (70, 67)
    if len(body) <= single:
        return 1
    return -(-len(body) // multi)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers

    def log_message(self, format: str, *args: Any) -> None:
        return None  # keep test output quiet (and free of phone numbers)

    # -------------------------------------------------------------- plumbing

    def _read_form(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return _parse_form(self.rfile.read(length)) if length else {}

    def _json(self, status: int, payload: Any, *, raw: str | None = None) -> None:
        data = (raw if raw is not None else json.dumps(payload)).encode()
        self.send_response(status)
        ctype = "application/json" if raw is None else "text/html; charset=utf-8"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: int, message: str | None = None, **fmt: Any) -> None:
        text = message or ERROR_MESSAGES.get(code, "Error").format(**fmt)
        self._json(
            status,
            {
                "code": code,
                "message": text,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def _authorised(self, account_sid: str) -> bool:
        fake = self.server.fake
        header = self.headers.get("Authorization") or ""
        scheme, _sep, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _sep, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return (
            hmac.compare_digest(user, fake.account_sid)
            and hmac.compare_digest(password, fake.auth_token)
            and account_sid == fake.account_sid
        )

    # -------------------------------------------------------------- routes

    def _messages_path(self) -> str | None:
        """The account SID if this is .../Accounts/<sid>/Messages.json, else None."""
        parts = urlsplit(self.path).path.strip("/").split("/")
        if (
            len(parts) == 4
            and parts[0] == API_VERSION
            and parts[1] == "Accounts"
            and parts[3] == "Messages.json"
        ):
            return parts[2]
        return None

    def _injected(self, failure: Failure, form: dict[str, Any]) -> None:
        code = failure.code or DEFAULT_CODES.get(failure.status, failure.status)
        self._record(form, failure.status, f"injected {code}")
        if failure.body is not None:
            self._json(failure.status, None, raw=failure.body)
        else:
            self._error(failure.status, code, failure.message, to=form.get("To", ""))

    def _media(self) -> bool:
        """GET of an MMS media file (.../Messages/MM.../Media/ME...): True when answered."""
        fake = self.server.fake
        path = urlsplit(self.path).path
        parts = path.strip("/").split("/")
        if len(parts) != 7 or parts[1] != "Accounts" or parts[5] != "Media":
            return False
        with fake._lock:
            fake._state.media_requests[path] = fake._state.media_requests.get(path, 0) + 1
            found = fake._state.media.get(path)
        if not self._authorised(parts[2]):
            self._record({}, 401, "unauthorised")
            self._error(401, 20003)
        elif found is None:
            self._record({}, 404, "no media")
            self._error(404, 20404)
        else:
            data, content_type = found
            self._record({}, 200, "media")
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        return True

    def do_GET(self) -> None:
        fake = self.server.fake
        if self._media():
            return
        query = _parse_form(urlsplit(self.path).query.encode())
        account_sid = self._messages_path()
        if account_sid is None:
            self._record(query, 404, "not found")
            self._error(404, 20404)
            return
        if not self._authorised(account_sid):
            self._record(query, 401, "unauthorised")
            self._error(401, 20003)
            return
        failure = fake._take_failure("list")
        if failure is not None and failure.kind == "drop":
            self._record(query, None, "dropped")
            return
        if failure is not None and failure.kind == "error":
            self._injected(failure, query)
            return
        if failure is not None:
            fake._wait_out(failure)
        page_size = int(query.get("PageSize") or 50)
        with fake._lock:
            records = [
                dict(fake._state.records[sid])
                for sid in reversed(fake._state.sids)
                if not query.get("To") or fake._state.records[sid]["to"] == query["To"]
            ][:page_size]
        uri = f"/{API_VERSION}/Accounts/{fake.account_sid}/Messages.json"
        self._record(query, 200, "listed")
        self._json(
            200,
            {
                "messages": records,
                "end": max(len(records) - 1, 0),
                "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize={page_size}&Page=0",
            },
        )

    def do_POST(self) -> None:
        fake = self.server.fake
        form = self._read_form()
        account_sid = self._messages_path()
        if account_sid is None:
            self._record(form, 404, "not found")
            self._error(404, 20404)
            return

        failure = fake._take_failure("create")
        if failure is not None and failure.kind == "drop" and not failure.accept:
            self._record(form, None, "dropped")
            return  # the socket closes without a word

        if not self._authorised(account_sid):
            self._record(form, 401, "unauthorised")
            self._error(401, 20003)
            return

        if failure is not None and failure.kind == "error":
            self._injected(failure, form)
            return

        problem = self._validate(form)
        if problem:
            self._record(form, 400, f"invalid {problem}")
            self._error(400, problem, to=form.get("To", ""))
            return

        if failure is not None and failure.kind == "hold" and not failure.accept:
            fake._wait_out(failure)  # never stored: the connection closes with no answer
            self._record(form, None, "held, dropped")
            return

        sid = "SM" + secrets.token_hex(16)
        record = fake._message_json(sid, form)
        with fake._lock:
            fake._state.messages.append(form)
            fake._state.sids.append(sid)
            fake._state.records[sid] = record
        if failure is not None and failure.kind == "drop":
            self._record(form, None, "accepted, dropped")
            return  # Twilio has it; the client never hears
        if failure is not None:  # delay or hold: accepted now, answered late
            fake._wait_out(failure)
        self._record(form, 201, "created")
        self._json(201, record)

    def _validate(self, form: dict[str, Any]) -> int | None:
        if not form.get("To"):
            return 21604
        if not form.get("Body") and not form.get("MediaUrl"):
            return 21602
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 21606
        return None

    def _record(self, form: dict[str, Any], status: int | None, outcome: str) -> None:
        entry = ReceivedRequest(
            method=self.command,
            path=self.path,
            form=form,
            headers=dict(self.headers.items()),
            status=status,
            outcome=outcome,
        )
        with self.server.fake._lock:
            self.server.fake._state.received.append(entry)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeTwilioServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout test) makes the late answer fail; that is expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FakeTwilioServer:
    """The Messages API on a random free port of 127.0.0.1, served from a daemon thread."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        initial_status: str = "queued",
        sender_number: str = "+15005550006",
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        #: The status a new message gets ("queued"; real Twilio says "accepted" for some
        #: Messaging Service sends).
        self.initial_status = initial_status
        #: The From reported in status callbacks for messages sent through a service.
        self.sender_number = sender_number
        self._lock = threading.Lock()
        self._state = _State()
        self._stopping = threading.Event()
        #: Set when a held request has arrived (and its message is stored).
        self._held = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- lifecycle

    def start(self) -> FakeTwilioServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering; later requests get "connection refused". Safe to call twice."""
        if self._httpd is None:
            return
        self._stopping.set()  # wake delayed answers
        self._httpd.shutdown()
        self._httpd.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeTwilioServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeTwilioServer is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The value for TWILIO_API_BASE_URL."""
        return f"http://127.0.0.1:{self.port}"

    # -------------------------------------------------------------- what it saw

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The form (To, Body, From or MessagingServiceSid, StatusCallback...) of each message
        accepted, oldest first."""
        with self._lock:
            return list(self._state.messages)

    @property
    def sids(self) -> list[str]:
        """The SID given to each accepted message, in the same order as `messages`."""
        with self._lock:
            return list(self._state.sids)

    @property
    def received(self) -> list[ReceivedRequest]:
        """Every request, including refused and dropped ones."""
        with self._lock:
            return list(self._state.received)

    def message(self, sid: str) -> dict[str, Any]:
        """The form posted for message `sid`."""
        with self._lock:
            return self._state.messages[self._state.sids.index(sid)]

    def record(self, sid: str) -> dict[str, Any]:
        """Message `sid` as the API shows it (the JSON of a fetch)."""
        with self._lock:
            return dict(self._state.records[sid])

    def add_media(self, url: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Serve `data` at the path of Twilio media link `url` (to the account's basic auth)."""
        with self._lock:
            self._state.media[urlsplit(url).path] = (data, content_type)

    @property
    def media_requests(self) -> dict[str, int]:
        """path -> how many GETs it got (answered or not)."""
        with self._lock:
            return dict(self._state.media_requests)

    def reset(self) -> None:
        """Forget messages, requests and pending failures."""
        with self._lock:
            self._state = _State()

    # -------------------------------------------------------------- failure injection

    def fail_next(
        self,
        status: int = 500,
        code: int | str | None = None,
        times: int = 1,
        *,
        message: str | None = None,
        body: str | None = None,
        on: str = "create",
    ) -> None:
        """The next `times` creates (or lists, with on="list") answer HTTP `status` with a
        Twilio-style JSON error ({"code", "message", "more_info", "status"}). `code` defaults
        by status (400: 21211, 429: 20429, 500: 20500...); `body` sends that text instead
        (e.g. a proxy's HTML error page). Nothing is stored."""
        failure = Failure(
            "error",
            status=status,
            code=int(code) if code is not None else None,
            message=message,
            body=body,
        )
        self._queue(on, failure, times)

    def drop_next(self, times: int = 1, *, accept: bool = False, on: str = "create") -> None:
        """The next `times` requests are read, then the connection closes with no answer.
        With accept=True the message is stored first (Twilio took it; the answer was lost)."""
        self._queue(on, Failure("drop", accept=accept), times)

    def delay_next(self, seconds: float, times: int = 1, *, on: str = "create") -> None:
        """The next `times` requests are handled (a message is stored at once) and answered
        after `seconds`, or when the server stops."""
        self._queue(on, Failure("delay", seconds=seconds), times)

    def hold_next(self, *, accept: bool = True, on: str = "create") -> threading.Event:
        """The next request is handled at once (a create stores its message) and answered
        only when the returned event is set (or the server stops): a text in flight for as
        long as the test needs. With accept=False a create is held before it is stored, and
        then dropped unanswered (the worker died before Twilio took it). `wait_held()` waits
        for that request to arrive."""
        gate = threading.Event()
        self._held.clear()
        self._queue(on, Failure("hold", accept=accept, gate=gate), 1)
        return gate

    def wait_held(self, timeout: float = 30.0) -> bool:
        """Wait until the held request has arrived; False if it did not within `timeout`."""
        return self._held.wait(timeout)

    def _queue(self, on: str, failure: Failure, times: int) -> None:
        if on not in ("create", "list"):
            raise ValueError(f"on must be 'create' or 'list', not {on!r}")
        with self._lock:
            self._state.failures[on].extend([failure] * times)

    def _wait_out(self, failure: Failure) -> None:
        """A delay's seconds, or a hold's gate (either cut short when the server stops)."""
        if failure.kind != "hold" or failure.gate is None:
            self._stopping.wait(failure.seconds)
            return
        self._held.set()
        while not failure.gate.wait(0.05) and not self._stopping.is_set():
            pass

    def _take_failure(self, on: str) -> Failure | None:
        with self._lock:
            queue = self._state.failures[on]
            return queue.popleft() if queue else None

    def set_status(self, sid: str, status: str, error_code: int | str | None = None) -> None:
        """Change what the API reports for message `sid` (as delivery progresses)."""
        with self._lock:
            record = self._state.records[sid]
            record["status"] = status
            record["date_updated"] = formatdate(usegmt=True)
            if error_code is not None:
                record["error_code"] = int(error_code)

    # -------------------------------------------------------------- answers

    def _message_json(self, sid: str, form: dict[str, Any]) -> dict[str, Any]:
        now = formatdate(usegmt=True)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        body = form.get("Body", "")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": self.initial_status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form.get("To"),
            "uri": f"{uri}.json",
        }

    # -------------------------------------------------------------- status callbacks

    def status_callback_params(
        self, sid: str, status: str, error_code: int | str | None = None
    ) -> dict[str, str]:
        """The form Twilio posts to StatusCallback for message `sid`."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        with self._lock:
            known = sid in self._state.sids
        if known:
            form = self.message(sid)
            params["To"] = str(form.get("To", ""))
            params["From"] = str(form.get("From") or self.sender_number)
            if form.get("MessagingServiceSid"):
                params["MessagingServiceSid"] = str(form["MessagingServiceSid"])
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    def sign(self, url: str, params: dict[str, str], auth_token: str | None = None) -> str:
        """X-Twilio-Signature for a POST of `params` to the full public `url`."""
        return RequestValidator(auth_token or self.auth_token).compute_signature(url, params)

    def send_status_callback(
        self,
        client_or_url: Any,
        sid: str,
        status: str,
        error_code: int | str | None = None,
        *,
        url: str = DEFAULT_CALLBACK_URL,
        auth_token: str | None = None,
        extra: dict[str, str] | None = None,
        signature: str | None = None,
    ) -> Any:
        """POST a status callback the way Twilio does, signed with `auth_token` (default: this
        server's token).

        `client_or_url` is a Flask test client (then `url` is the public URL Twilio was given,
        used for the signature; the request goes to its path, with the test client's
        base_url set to its origin so request.url matches too) or a full URL to post to over
        HTTP (loopback only in tests). `extra` adds or overrides fields; `signature` replaces
        the computed one (to test rejection). Returns the response (Flask's or requests').
        """
        params = self.status_callback_params(sid, status, error_code)
        params.update(extra or {})
        if sid in self.sids:
            self.set_status(sid, status, error_code)
        target = client_or_url if isinstance(client_or_url, str) else url
        headers = {"X-Twilio-Signature": signature or self.sign(target, params, auth_token)}
        if isinstance(client_or_url, str):
            with requests.post(target, data=params, headers=headers, timeout=5) as response:
                _ = response.content
            return response
        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return client_or_url.post(
            path,
            data=params,
            headers=headers,
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
