"""The app shell: one fingerprinted stylesheet, static files cached for a year and compressed,
pages never cached or compressed, the web app manifest, the service worker and the offline page.

What a phone notices: after the first page, the stylesheet and icons come from its own cache
(no request on Back or on the next page); a release's new CSS shows at once; nothing with
health data is ever kept; the app can be installed and shows a page of its own offline.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import struct
from pathlib import Path

import brotli
import pytest

from app.core.assets import (
    EXTENSION_KEY,
    FIRST_STYLESHEET,
    FORBIDDEN_IN_CSS,
    Assets,
    digest_of,
)
from tests.fixtures.browser import signed_in

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"
YEAR = "public, max-age=31536000, immutable"
STYLESHEET_RE = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
PRECACHE_RE = re.compile(r"const PRECACHE = (\[.*?\]);")


def head_of(html: str) -> str:
    return html.split("</head>", 1)[0]


def stylesheet_links(html: str) -> list[str]:
    return STYLESHEET_RE.findall(head_of(html))


def link_href(html: str, rel: str) -> str:
    found = re.search(rf'<link rel="{rel}" href="([^"]+)"', head_of(html))
    assert found, f"no <link rel={rel}>"
    return found.group(1).replace("&amp;", "&")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def css_files() -> list[Path]:
    css = STATIC / "css"
    others = sorted(p for p in css.glob("*.css") if p.name != FIRST_STYLESHEET)
    return [css / FIRST_STYLESHEET, *others]


@pytest.fixture
def patient_browser(make_patient, new_browser):
    """A signed-in patient, Rosalind Quarrington, on a browser of her own."""
    from app.auth.models import User
    from app.extensions import db

    patient = make_patient(given="Rosalind", family="Quarrington")
    return patient, signed_in(new_browser, db.session.get(User, patient.user_id))


@pytest.fixture
def static_copy(app, tmp_path):
    """The app's static files in a folder of the test's own, read again when they change (as
    in development), so a test can edit a stylesheet without touching app/static."""
    root = tmp_path / "static"
    shutil.copytree(STATIC, root)
    app.extensions[EXTENSION_KEY] = Assets(root, reload=lambda: True)
    return root


# ------------------------------------------------------------------ one stylesheet


def test_a_page_links_one_stylesheet_made_of_every_css_file_in_order(client):
    links = stylesheet_links(client.get("/auth/login").get_data(as_text=True))
    assert len(links) == 1, links
    assert re.fullmatch(r"/assets/app\.[0-9a-f]{12}\.css", links[0])
    response = client.get(links[0])
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    bundle = response.get_data(as_text=True)
    positions = []
    for path in css_files():
        text = path.read_text(encoding="utf-8").strip()
        assert text in bundle, f"{path.name} is not in the stylesheet"
        positions.append(bundle.index(text))
    assert positions == sorted(positions), "carecircle.css first, then the others by name"


def test_the_stylesheet_link_changes_with_the_css_and_an_old_link_never_gets_new_css(
    client, static_copy
):
    before = stylesheet_links(client.get("/auth/login").get_data(as_text=True))[0]
    old_css = client.get(before).get_data(as_text=True)

    with (static_copy / "css" / FIRST_STYLESHEET).open("a") as css:
        css.write("\n.h1-test-edited { color: #123456; }\n")
    after = stylesheet_links(client.get("/auth/login").get_data(as_text=True))[0]
    assert after != before
    assert ".h1-test-edited" in client.get(after).get_data(as_text=True)
    stale = client.get(before)
    assert stale.status_code == 404, "an old link must not answer with the new stylesheet"
    assert stale.headers["Cache-Control"] == "no-store"
    assert ".h1-test-edited" not in old_css

    (static_copy / "css" / "zz-new-area.css").write_text(".zz-new-area { margin: 0; }\n")
    newest = stylesheet_links(client.get("/auth/login").get_data(as_text=True))[0]
    assert newest not in (before, after)
    body = client.get(newest).get_data(as_text=True)
    assert body.index(".h1-test-edited") < body.index(".zz-new-area"), "a new file comes last"


def test_the_stylesheet_is_read_once_per_process_outside_development(tmp_path):
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / FIRST_STYLESHEET).write_text("body { margin: 0; }\n")
    assets = Assets(root, reload=lambda: False)
    first = assets.bundle()
    (root / "css" / FIRST_STYLESHEET).write_text("body { margin: 1px; }\n")
    assert assets.bundle() is first, "a release's files do not change: no stat per page"
    assert Assets(root, reload=lambda: False).bundle().digest != first.digest


def test_stylesheets_load_no_other_file():
    """The stylesheet is served from /assets/: a relative url() in it would point nowhere,
    and an @import would be a second request on every first visit."""
    for path in css_files():
        found = FORBIDDEN_IN_CSS.search(path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name} loads another file: {found.group(0)!r}"


# ------------------------------------------------------------------ fingerprints and caching


def test_static_urls_carry_the_hash_of_their_file(app, client):
    from app.core.icons import icon

    html = client.get("/auth/login").get_data(as_text=True)
    favicon = (STATIC / "favicon.svg").read_bytes()
    assert f"/static/favicon.svg?v={digest_of(favicon)}" in link_href(html, "icon")
    with app.test_request_context("/"):
        use = str(icon("pill"))
    sprite = (STATIC / "icons" / "sprite.svg").read_bytes()
    assert f"/static/icons/sprite.svg?v={digest_of(sprite)}#i-pill" in use


def shell_urls(client, page: str = "/auth/login") -> list[str]:
    """What a page's <head> links to: the stylesheet, the icons, the manifest, the script."""
    html = client.get(page).get_data(as_text=True)
    script = re.search(r'<script defer src="([^"]+)"', head_of(html)).group(1)
    return [
        stylesheet_links(html)[0],
        link_href(html, "icon"),
        link_href(html, "apple-touch-icon"),
        link_href(html, "manifest"),
        script,
    ]


def test_fingerprinted_files_are_kept_for_a_year(client):
    for url in shell_urls(client):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == YEAR, url
        assert "Pragma" not in response.headers, url


def test_fingerprinted_files_carry_no_session_for_a_signed_in_patient(patient_browser):
    """A signed-in visitor's session is not refreshed on the stylesheet: no Set-Cookie and no
    Vary: Cookie, so one copy serves everybody (and a proxy may keep it)."""
    patient, browser = patient_browser
    for url in shell_urls(browser.client, f"/patients/{patient.id}"):
        response = browser.get(url)
        assert response.headers["Cache-Control"] == YEAR, url
        assert "Set-Cookie" not in response.headers, url
        assert "Cookie" not in response.headers.get("Vary", ""), url
    assert browser.get("/auth/account").status_code == 200, "still signed in afterwards"


def test_a_file_asked_for_without_its_hash_is_revalidated(client):
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get("/static/favicon.svg", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "url",
    [
        "/static/favicon.svg?v=000000000000",
        "/static/icons/sprite.svg?v=",
        "/assets/app.000000000000.css",
        "/assets/app..css",
        "/manifest.webmanifest?v=000000000000",
        "/static/../config.py",
        "/static/%2e%2e/config.py",
        "/static/css",
        "/static/no-such-file.css",
        "/offline/fr",
        "/offline/..",
    ],
)
def test_a_wrong_hash_or_a_path_outside_static_is_a_404_kept_by_nobody(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"
    assert "SECRET_KEY" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/sw.js", "/manifest.webmanifest", "/offline/en", "/offline"])
def test_the_app_shell_takes_no_post(client, url):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/auth/login").text)
    response = client.post(url, data={"csrf_token": token.group(1)})
    assert response.status_code == 405
    assert response.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------------ compression


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [("gzip", "gzip", gzip.decompress), ("br", "br", brotli.decompress)],
)
def test_the_app_shell_is_compressed_when_the_browser_accepts_it(client, accept, encoding, decode):
    for url in [*shell_urls(client), "/sw.js", "/offline/en"]:
        plain = client.get(url)
        assert "Content-Encoding" not in plain.headers, url
        packed = client.get(url, headers={"Accept-Encoding": accept})
        if plain.mimetype == "image/png" or len(plain.data) < 500:
            # A PNG is compressed already; a few hundred bytes gain nothing.
            assert "Content-Encoding" not in packed.headers, url
            continue
        assert packed.headers.get("Content-Encoding") == encoding, url
        assert "Accept-Encoding" in packed.headers["Vary"], url
        assert decode(packed.data) == plain.data, url
        assert len(packed.data) < len(plain.data), url


def test_pages_are_never_compressed_nor_cached(client, patient_browser):
    """Pages carry the CSRF token and health information next to text a visitor chose
    (BREACH, docs/deployment.md): never compressed. They are never kept either."""
    patient, browser = patient_browser
    everything = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    for answer in (
        browser.get(f"/patients/{patient.id}", headers=everything),
        browser.get(f"/patients/{patient.id}/plan", headers=everything),
        client.get("/auth/login?next=/patients/1", headers=everything),
    ):
        assert answer.status_code == 200
        assert "Content-Encoding" not in answer.headers
        assert answer.headers["Cache-Control"] == "no-store"
        assert "public" not in answer.headers["Cache-Control"]
        assert "immutable" not in answer.headers["Cache-Control"]
    assert "Rosalind" in browser.get(f"/patients/{patient.id}").get_data(as_text=True)


def test_another_patients_page_stays_a_404(patient_browser, make_patient):
    other = make_patient(given="Other", family="Person")
    _patient, browser = patient_browser
    answer = browser.get(f"/patients/{other.id}", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 404
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Other" not in answer.get_data(as_text=True)


def test_pages_allow_the_service_worker_and_the_manifest(client):
    csp = client.get("/auth/login").headers["Content-Security-Policy"]
    assert "worker-src 'self'" in csp
    assert "manifest-src 'self'" in csp


# ------------------------------------------------------------------ installable


def test_the_manifest_names_the_app_and_its_icons(client):
    html = client.get("/auth/login").get_data(as_text=True)
    response = client.get(link_href(html, "manifest"))
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] == manifest["short_name"] == "CareCircle"
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    css = (STATIC / "css" / FIRST_STYLESHEET).read_text()
    brand = re.search(r"--brand:\s*([^;]+);", css).group(1).strip()
    wash = re.search(r"--wash:\s*([^;]+);", css).group(1).strip()
    assert manifest["theme_color"] == brand
    assert manifest["background_color"] == wash
    assert f'<meta name="theme-color" content="{brand}">' in head_of(html)

    sizes = set()
    for entry in manifest["icons"]:
        icon = client.get(entry["src"])
        assert icon.status_code == 200, entry
        assert icon.mimetype == entry["type"], entry
        assert icon.headers["Cache-Control"] == YEAR, entry
        if entry["type"] == "image/png":
            width, height = png_size(icon.data)
            assert entry["sizes"] == f"{width}x{height}", entry
        sizes.add((entry["sizes"], entry.get("purpose", "any")))
    assert {
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
        ("any", "any"),
    } <= sizes

    touch = client.get(link_href(html, "apple-touch-icon"))
    assert png_size(touch.data) == (180, 180)


def worker(client):
    response = client.get("/sw.js")
    return response, response.get_data(as_text=True)


def test_the_service_worker_keeps_only_the_app_shell(client):
    response, source = worker(client)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache", "a new release's worker is seen"
    precache = json.loads(PRECACHE_RE.search(source).group(1))
    html = client.get("/auth/login").get_data(as_text=True)
    assert stylesheet_links(html)[0] in precache
    assert any(url.startswith("/static/icons/sprite.svg?v=") for url in precache)
    assert {"/offline/en", "/offline/es"} <= set(precache)
    for url in precache:
        assert url.startswith(("/static/", "/assets/", "/offline/")), url
        assert "/patients" not in url, url
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "public" in answer.headers["Cache-Control"], url


def test_the_service_worker_never_stores_what_it_fetches(client):
    """The cache is filled once, at install, without cookies; the fetch handler reads it and
    never writes to it; pages go to the network, the offline page only when that fails."""
    _response, source = worker(client)
    writes = re.findall(r"\.(?:put|add|addAll)\(", source)
    assert len(writes) == 2, writes  # addAll at install; the chosen language's offline page
    assert 'credentials: "omit"' in source
    handler = source[source.index('addEventListener("fetch"') :]
    assert not re.search(r"\.(?:put|add|addAll)\(|caches\.open", handler)
    assert "fetch(request).catch(offlinePage)" in handler
    install = source[source.index('addEventListener("install"') :]
    install = install[: install.index("addEventListener(", 1)]
    assert "addAll(PRECACHE" in install
    message = source[source.index('addEventListener("message"') :]
    message = message[: message.index("function browserLanguage")]
    assert "cache.put(CHOSEN, page)" in message and "cache.match(OFFLINE[language])" in message
    activate = source[source.index('addEventListener("activate"') :]
    assert "caches.delete(key)" in activate[: activate.index("addEventListener(", 1)]


def test_a_new_stylesheet_is_a_new_worker_with_a_new_cache(client, static_copy):
    _r, before = worker(client)
    (static_copy / "css" / FIRST_STYLESHEET).write_text("body { margin: 2px; }\n")
    _r, after = worker(client)
    version = re.compile(r'const VERSION = "([0-9a-f]+)"')
    assert version.search(before).group(1) != version.search(after).group(1)


# ------------------------------------------------------------------ the offline page


def test_the_offline_page_in_english_holds_nothing_about_anybody(client):
    response = client.get("/offline/en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in html
    assert "You are offline" in html
    assert "Your care plan will be here when you are back online." in html
    assert 'href="tel:911"' in html and 'href="tel:988"' in html
    assert "csrf_token" not in html and "<form" not in html
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=86400"


def test_the_offline_page_in_spanish(client):
    html = client.get("/offline/es").get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html
    assert "Está sin conexión" in html
    assert "Su plan de atención estará aquí cuando vuelva a tener conexión." in html
    assert "En una emergencia, llame al" in html
    assert "You are offline" not in html


def test_the_offline_page_is_the_same_for_a_signed_in_patient(client, patient_browser):
    _patient, browser = patient_browser
    mine = browser.get("/offline/en")
    assert mine.data == client.get("/offline/en").data
    assert "Rosalind" not in mine.get_data(as_text=True)
    assert "Set-Cookie" not in mine.headers


def test_offline_sends_the_visitor_to_their_language(client):
    response = client.get("/offline", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/offline/es"
    assert response.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------------ public pages


@pytest.mark.parametrize(
    ("url", "english", "spanish"),
    [
        (
            "/auth/login",
            "Sign in to CareCircle to see your care plan",
            "Inicie sesión en CareCircle",
        ),
        ("/auth/reset", "Forgot your CareCircle password?", "¿Olvidó su contraseña de CareCircle?"),
        ("/auth/welcome/not-a-token", "CareCircle shows your care plan", "CareCircle le muestra"),
    ],
)
def test_public_pages_describe_themselves(client, url, english, spanish):
    described = re.compile(r'<meta name="description" content="([^"]+)">')
    for language, words in (("en", english), ("es", spanish)):
        page = client.get(url, headers={"Accept-Language": language}, follow_redirects=True)
        html = page.get_data(as_text=True)
        found = described.findall(head_of(html))
        assert len(found) == 1, (url, language, found)
        assert words in found[0], (url, language, found)


def test_pages_behind_sign_in_have_no_description(patient_browser):
    patient, browser = patient_browser
    html = browser.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert '<meta name="description"' not in head_of(html)


def test_made_up_addresses_of_one_file_are_kept_once(tmp_path):
    """However many spellings of a path a client sends, the app keeps each file once."""
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / FIRST_STYLESHEET).write_text("body { margin: 0; }\n")
    assets = Assets(root, reload=lambda: False)
    spellings = ["css/carecircle.css", "./css/carecircle.css", "css/./carecircle.css"]
    assert len({id(assets.file(name)) for name in spellings}) == 1
    assert assets.file("../static/css/carecircle.css") is None
    assert len(assets._files) == 1
