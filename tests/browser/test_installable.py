"""Installable, in real Chromium: the manifest is found, the service worker activates, nothing
of a patient's ever lands in its caches, and with no network a page shows the offline page."""

from __future__ import annotations

from pathlib import Path

import pytest

TAP_TARGETS_JS = (Path(__file__).parent / "tap_targets.js").read_text()

#: Every entry of every cache on this origin, with its body as text.
READ_CACHES_JS = """async () => {
  const out = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      out.push({cache: name, url: request.url, body: await response.text()});
    }
  }
  return out;
}"""

ACTIVE_WORKER_JS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (worker.state !== "activated") {
    await new Promise((done) => worker.addEventListener("statechange", () => {
      if (worker.state === "activated") done();
    }));
  }
  return {state: worker.state, script: worker.scriptURL, scope: registration.scope};
}"""

#: Jim's pages a patient opens in a day.
JIM_PAGES = [
    "/",
    "/patients/2",
    "/patients/2/today",
    "/patients/2/plan",
    "/patients/2/plan/items/12",
    "/patients/2/messages",
    "/patients/2/goals",
    "/patients/2/decisions",
    "/patients/2/access-log",
    "/patients/2/preferences",
]


def jims_record(live_app) -> tuple[str, ...]:
    """What only Jim's record holds: his names and email, and his plan's titles."""
    import sqlalchemy as sa

    from app.careplan.items.models import PlanItem
    from app.extensions import db
    from app.patients.models import Patient

    with live_app.app_context():
        jim = db.session.get(Patient, 2)
        titles = db.session.scalars(sa.select(PlanItem.title).where(PlanItem.patient_id == 2))
        words = (f"{jim.given_name} {jim.family_name}", jim.family_name, *titles)
    assert "Carter" in words and len(words) > 5
    return words


def worker_ready(page) -> dict:
    """Wait until the service worker is active and this page is under its control."""
    active = page.evaluate(ACTIVE_WORKER_JS)
    if page.evaluate("navigator.serviceWorker.controller === null"):
        page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
    return active


def test_the_manifest_is_linked_and_the_app_is_installable(chromium, live_server, tmp_path):
    """Chromium's own installability check, in a profile of its own (a throwaway context is
    "incognito", where nothing can be installed)."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

    context = chromium.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=PHONE
    )
    try:
        page = context.new_page()
        manifests = []
        page.on("request", lambda r: manifests.append(r.url) if "webmanifest" in r.url else None)
        page.goto(f"{live_server}/auth/login")
        worker_ready(page)
        cdp = context.new_cdp_session(page)
        found = cdp.send("Page.getAppManifest")
        assert "/manifest.webmanifest?v=" in found["url"]
        assert found["errors"] == [], found["errors"]
        assert '"short_name": "CareCircle"' in found["data"]
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
        assert manifests, "Chromium fetched the manifest"
    finally:
        context.close()


def test_the_service_worker_registers_and_activates(phone, live_server):
    phone.goto(f"{live_server}/auth/login")
    active = worker_ready(phone)
    assert active["state"] == "activated"
    assert active["script"] == f"{live_server}/sw.js"
    assert active["scope"] == f"{live_server}/"


def test_no_cache_holds_anything_of_a_patients_after_a_day_of_use(
    phone, live_server, live_app, login
):
    jims_words = jims_record(live_app)
    login(phone, "james@demo.carecircle.test")
    worker_ready(phone)
    for path in JIM_PAGES:
        response = phone.goto(live_server + path)
        assert response.ok, path
    phone.goto(live_server + "/patients/2/plan")
    seen = phone.content()
    assert sum(word in seen for word in jims_words) >= 3, "he did see his own plan"

    entries = phone.evaluate(READ_CACHES_JS)
    assert entries, "the app shell is cached"
    for entry in entries:
        assert entry["cache"].startswith("carecircle-shell-"), entry["cache"]
        assert "/patients" not in entry["url"], entry["url"]
        for word in jims_words:
            assert word not in entry["body"], f"{entry['url']} holds {word!r}"
    urls = {entry["url"].removeprefix(live_server) for entry in entries}
    assert any(url.startswith("/assets/app.") for url in urls)
    assert any(url.startswith("/static/icons/sprite.svg?v=") for url in urls)
    assert {"/offline/en", "/offline/es"} <= urls
    assert all(url.startswith(("/assets/", "/static/", "/offline")) for url in urls), urls

    # And with no network, his plan is not shown from anywhere: the offline page is.
    phone.context.set_offline(True)
    try:
        phone.goto(live_server + "/patients/2/plan")
        assert phone.locator("h1").inner_text().strip() == "You are offline"
        text = phone.locator("body").inner_text()
        assert not any(word in text for word in (*jims_words, "Jim"))
        assert phone.locator("a[href='tel:911']").count() == 1
        assert phone.locator("a[href='tel:988']").count() == 1
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        assert phone.evaluate(TAP_TARGETS_JS) == []
        from axe_playwright_python.sync_playwright import Axe

        serious = [
            v["id"]
            for v in Axe().run(phone).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == []
    finally:
        phone.context.set_offline(False)
    phone.goto(live_server + "/patients/2/plan")
    assert phone.locator("h1").inner_text().strip() != "You are offline"


def test_offline_the_page_is_in_the_readers_language(phone, live_server, login):
    """María reads Spanish on an English phone: the offline page is in Spanish."""
    login(phone, "maria@demo.carecircle.test")
    worker_ready(phone)
    phone.goto(live_server + "/patients/1")
    assert phone.evaluate("document.documentElement.lang") == "es"
    phone.wait_for_timeout(300)  # the page told the worker its language
    phone.context.set_offline(True)
    try:
        phone.goto(live_server + "/patients/1/plan")
        assert phone.evaluate("document.documentElement.lang") == "es"
        text = phone.locator("body").inner_text()
        assert "Está sin conexión" in text
        assert "En una emergencia, llame al" in text
        assert "María" not in text and "López" not in text
    finally:
        phone.context.set_offline(False)


def test_a_new_worker_drops_the_old_caches(chromium, live_server):
    context = chromium.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    # The offline page registers no worker: an earlier release's cache, made by hand.
    page.goto(f"{live_server}/offline/en")
    page.evaluate(
        "caches.open('carecircle-shell-0ld').then(c => c.put('/old', new Response('old')))"
    )
    assert "carecircle-shell-0ld" in page.evaluate("caches.keys()")
    page.goto(f"{live_server}/auth/login")
    worker_ready(page)
    page.wait_for_function("caches.keys().then(k => !k.includes('carecircle-shell-0ld'))")
    keys = page.evaluate("caches.keys()")
    assert len(keys) == 1 and keys[0].startswith("carecircle-shell-"), keys
    context.close()


@pytest.mark.parametrize("path", ["/auth/login", "/patients/2"])
def test_pages_work_the_same_without_the_worker(chromium, live_server, login, path):
    """Service workers blocked (as some browsers and settings do): every page still works."""
    context = chromium.new_context(viewport={"width": 360, "height": 740}, service_workers="block")
    page = context.new_page()
    if path != "/auth/login":
        login(page, "james@demo.carecircle.test")
    response = page.goto(live_server + path)
    assert response.ok
    assert page.evaluate("navigator.serviceWorker.controller") is None
    assert page.locator("h1").count() >= 1
    context.close()


def test_the_demo_server_compresses_the_app_shell_and_not_pages(live_server):
    """Over a real socket, as `make demo` serves it: the stylesheet comes gzipped, a page not."""
    import gzip
    import http.client
    import re
    from urllib.parse import urlsplit

    def get(path):
        server = urlsplit(live_server)
        connection = http.client.HTTPConnection(server.hostname, server.port, timeout=10)
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            return response.headers, response.read()
        finally:
            connection.close()

    headers, page = get("/auth/login")
    assert headers.get("Content-Encoding") is None
    assert headers["Cache-Control"] == "no-store"
    css = re.search(rb'<link rel="stylesheet" href="([^"]+)"', page).group(1).decode()
    headers, body = get(css)
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b".site-header" in gzip.decompress(body)
    assert int(headers["Content-Length"]) == len(body) < len(gzip.decompress(body)) / 3
