"""A fast fake Twilio Messages API for `make bench-sms`: several processes, HTTP/1.1 keep-alive.

    .venv/bin/python bench/fake_twilio.py --port 8765 --processes 2 --latency-ms 50 --out DIR

The tests' fake (tests/fakes/twilio_server.py) answers HTTP/1.0 from one thread and tops out
near 350 requests a second, so it cannot show a dispatcher at 500 texts a second. This one:

- forks `--processes` servers that share one listening port (SO_REUSEPORT: the kernel spreads
  connections over them), each an asyncio loop with a minimal HTTP/1.1 parser;
- keeps connections open (keep-alive), as the `twilio` library's pooled session expects;
- answers `POST /2010-04-01/Accounts/<sid>/Messages.json` with the same JSON as the tests' fake
  (201, a fresh SM... SID, status "queued"), and `GET .../Messages.json?To=...` (what the
  dispatcher's reconciliation uses) with the messages every process stored for that number;
- waits `--latency-ms` before each answer (a far-away API), without holding a process;
- writes one line per message it accepted to `<out>/received-<pid>.tsv` (SID, To, Body), so
  the bench counts each message from all processes: none lost, none twice.

`FastFakeTwilio` starts and stops it from Python (bench/dispatcher.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

API_VERSION = "2010-04-01"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


def _segments(body: str) -> int:
    gsm = all(ord(ch) < 128 for ch in body)
    single, multi = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


def message_json(sid: str, to: str, body: str, sender: dict[str, str], created: str) -> dict:
    """The resource as Twilio shows it (the shape of tests/fakes/twilio_server.py)."""
    uri = f"/{API_VERSION}/Accounts/{ACCOUNT_SID}/Messages/{sid}"
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": API_VERSION,
        "body": body,
        "date_created": created,
        "date_sent": None,
        "date_updated": created,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender.get("From"),
        "messaging_service_sid": sender.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": str(_segments(body)),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": to,
        "uri": f"{uri}.json",
    }


class _Server:
    def __init__(self, out: Path, latency: float) -> None:
        self.out = out
        self.latency = latency
        self.fd = os.open(
            out / f"received-{os.getpid()}.tsv", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
        )

    def _store(self, sid: str, to: str, body: str) -> None:
        line = f"{sid}\t{to}\t{body.replace(chr(9), ' ').replace(chr(10), ' ')}\n"
        os.write(self.fd, line.encode())

    def _list(self, to: str) -> list[dict]:
        found = []
        for path in self.out.glob("received-*.tsv"):
            for line in path.read_text().splitlines():
                sid, number, body = line.split("\t", 2)
                if number == to:
                    found.append(message_json(sid, number, body, {}, formatdate(usegmt=True)))
        return found

    def answer(self, method: str, target: str, form: bytes) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        if not path.endswith("/Messages.json"):
            return 404, json.dumps({"code": 20404, "message": "Not found", "status": 404}).encode()
        if method == "POST":
            fields = {k: v[0] for k, v in parse_qs(form.decode(), keep_blank_values=True).items()}
            to, body = fields.get("To", ""), fields.get("Body", "")
            if not to or not body:
                problem = {"code": 21604, "message": "To and Body are required", "status": 400}
                return 400, json.dumps(problem).encode()
            sid = "SM" + secrets.token_hex(16)
            self._store(sid, to, body)
            record = message_json(sid, to, body, fields, formatdate(usegmt=True))
            return 201, json.dumps(record).encode()
        to = parse_qs(query).get("To", [""])[0]
        messages = self._list(to)[::-1]  # newest first
        page = {
            "messages": messages,
            "end": max(0, len(messages) - 1),
            "first_page_uri": urlsplit(target).path,
            "next_page_uri": None,
            "page": 0,
            "page_size": 50,
            "previous_page_uri": None,
            "start": 0,
            "uri": urlsplit(target).path,
        }
        return 200, json.dumps(page).encode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                length, close = 0, False
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "connection" and value.strip().lower() == "close":
                        close = True
                form = await reader.readexactly(length) if length else b""
                status, data = self.answer(method, target, form)
                if self.latency:
                    await asyncio.sleep(self.latency)
                reason = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found"}[status]
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n"
                    f"Twilio-Request-Id: RQ{secrets.token_hex(16)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def serve(sock: socket.socket, out: Path, latency: float) -> None:
    server = _Server(out, latency)

    async def main() -> None:
        srv = await asyncio.start_server(server.handle, sock=sock, backlog=1024)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):  # every line is written already
            loop.add_signal_handler(signum, os._exit, 0)
        async with srv:
            await asyncio.Event().wait()

    asyncio.run(main())


def listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    children = []
    for _ in range(args.processes):
        pid = os.fork()
        if pid == 0:  # each child binds its own socket on the shared port (SO_REUSEPORT)
            serve(listen(args.port), args.out, args.latency_ms / 1000)
            os._exit(0)
        children.append(pid)

    def forward(signum, _frame):
        for child in children:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        os.waitpid(child, 0)


class FastFakeTwilio:
    """Runs bench/fake_twilio.py in the background; `received()` counts per body."""

    def __init__(self, out: Path, *, processes: int = 2, latency_ms: float = 0.0) -> None:
        self.out = out
        self.processes = processes
        self.latency_ms = latency_ms
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FastFakeTwilio:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--port",
                str(self.port),
                "--processes",
                str(self.processes),
                "--latency-ms",
                str(self.latency_ms),
                "--out",
                str(self.out),
            ]
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the fast fake Twilio did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)

    def received(self) -> Counter[str]:
        """How many times each body was accepted, over every process."""
        counts: Counter[str] = Counter()
        for path in self.out.glob("received-*.tsv"):
            for line in path.read_text().splitlines():
                counts[line.split("\t", 2)[2]] += 1
        return counts

    def __enter__(self) -> FastFakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
