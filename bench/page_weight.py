"""Home's weight on a phone, as Lighthouse would count it: requests and bytes over the wire on
the first visit (empty cache) and on the next one (the same browser), in real Chromium.

    .venv/bin/python bench/page_weight.py

Runs the app on a throwaway SQLite database with the demo data (like docs/screenshots/take.py),
signs María in, opens Home twice and prints a Markdown table for docs/performance.md. Bytes are
what Chromium's network layer received (headers and compressed bodies: `encodedDataLength`).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.demo import DEMO_PASSWORD, seed  # noqa: E402
from app.extensions import db  # noqa: E402


def visit(page, client, url: str) -> dict:
    seen: dict[str, dict] = {}

    def sent(event):
        seen[event["requestId"]] = {"url": event["request"]["url"], "bytes": 0, "cache": False}

    def cached(event):
        if event["requestId"] in seen:
            seen[event["requestId"]]["cache"] = True

    def finished(event):
        if event["requestId"] in seen:
            seen[event["requestId"]]["bytes"] = event["encodedDataLength"]

    client.on("Network.requestWillBeSent", sent)
    client.on("Network.requestServedFromCache", cached)
    client.on("Network.loadingFinished", finished)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    rows = list(seen.values())
    network = [r for r in rows if not r["cache"] and r["bytes"] > 0]
    return {
        "requests": len(rows),
        "over_network": len(network),
        "bytes": sum(r["bytes"] for r in network),
        "html": sum(r["bytes"] for r in network if r["url"].rstrip("/").endswith("/home")),
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            "testing",
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/w.db", "RATELIMIT_ENABLED": False},
        )
        with app.app_context():
            db.create_all()
            seed()
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox"]
            )
            context = browser.new_context(
                viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
            )
            page = context.new_page()
            page.goto(base + "/auth/login")
            page.fill("#email", "maria@demo.carecircle.test")
            page.fill("#password", DEMO_PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_load_state("networkidle")
            home = page.url
            # A new context: an empty cache, as on the first visit after sign-in.
            fresh = browser.new_context(
                viewport={"width": 360, "height": 740},
                is_mobile=True,
                storage_state=context.storage_state(),
                # The worker answers from its own context, where this page's network events do
                # not see the bytes; the HTTP cache alone is what a repeat visit relies on.
                service_workers="block",
            )
            first_page = fresh.new_page()
            client = fresh.new_cdp_session(first_page)
            client.send("Network.enable")
            first = visit(first_page, client, home)
            repeat = visit(first_page, client, home)
            browser.close()
        server.shutdown()
    print("| Home (María, 360 x 740) | requests | over the network | bytes | of which the page |")
    print("|---|---|---|---|---|")
    for label, row in (("first visit", first), ("repeat visit", repeat)):
        print(
            f"| {label} | {row['requests']} | {row['over_network']} | "
            f"{row['bytes'] / 1024:.1f} KB | {row['html'] / 1024:.1f} KB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
