"""The app shell's files: one stylesheet, fingerprinted URLs cached for a year, compression.

- **One stylesheet.** Pages link `/assets/app.<hash>.css`: every `app/static/css/*.css`
  joined in memory, `carecircle.css` first and then the others by name, so an area's new CSS
  file is picked up with no build step and no file written at run time.
- **Fingerprints.** Every `url_for('static', filename=...)` carries `?v=<hash of the file>`
  (a `url_defaults` hook), the icon sprite and the favicon included. Fingerprinted answers are
  `Cache-Control: public, max-age=31536000, immutable`: a phone asks for them once per release,
  not on every Back tap and every page (issue 14: 1,793 of 2,539 requests were 304s).
- **A hash names one content.** A fingerprinted URL answers only with the bytes it names.
  Another hash (a page of an older or newer release on another host, mid-deploy) is a 404 that
  nobody caches, never today's file under a name a browser would keep for a year.
- **Fresh in development.** With DEBUG or TESTING a file is read again when it changes (an
  edited stylesheet shows on the next page load, no restart); otherwise once per process.
- **The app shell.** Views marked `@app_shell(...)` (static files, the stylesheet, the web app
  manifest, the service worker, the offline page) carry no health data and no secret. They alone
  may be cached (`security.py` makes every other answer `no-store`), the session is not saved on
  them (no `Set-Cookie`, no `Vary: Cookie`, so a proxy may keep them), and they alone are
  compressed (Flask-Compress, view by view). Pages are never compressed: they carry the CSRF
  token and health information next to text a visitor chose (BREACH; docs/deployment.md).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, g, request, url_for
from flask_compress import Compress, DictCache
from werkzeug.security import safe_join

from app.core.access import no_patient_data

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
#: The design system's base; every other stylesheet comes after it, by name.
FIRST_STYLESHEET = "carecircle.css"
#: A fingerprinted URL's content never changes: keep it for a year, never revalidate.
IMMUTABLE = "public, max-age=31536000, immutable"
#: The same file asked for without its fingerprint: keep it, but ask again before using it.
REVALIDATE = "no-cache"
EXTENSION_KEY = "carecircle.assets"
#: A stylesheet may not load other files: the bundle is served from /assets/, so a relative
#: url() would not resolve, and an @import would be a second request (tests check).
FORBIDDEN_IN_CSS = re.compile(r"@import|url\(\s*(?!['\"]?data:)", re.I)

compress = Compress()


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass(frozen=True)
class Asset:
    body: bytes
    digest: str
    mimetype: str


def _mimetype(name: str) -> str:
    if name.endswith(".js"):
        return "text/javascript"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class Assets:
    """The files under one static folder, read into memory with their hashes.

    `reload` (asked on each use, as `app.debug` may be set after the app is made): stat the
    files each time and read a changed one again (development, tests); otherwise each file is
    read once per process (a release never changes its files).
    """

    def __init__(self, root: Path | str, *, reload: Callable[[], bool]) -> None:
        self.root = Path(root)
        self._reload = reload
        self._files: dict[str, tuple[tuple[int, int], Asset]] = {}
        self._bundle: tuple[tuple, Asset] | None = None
        self._memo: dict[str, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    @property
    def reload(self) -> bool:
        return self._reload()

    def file(self, filename: str) -> Asset | None:
        """The static file `filename` (a path under the root), or None if there is none.

        Kept under its normalised path, so `./css/x.css` and `css/x.css` are one entry: what
        is kept is bounded by the files there are, whatever addresses a client makes up."""
        path = safe_join(str(self.root), filename)
        if path is None:
            return None
        cached = self._files.get(path)
        if cached is not None and not self.reload:
            return cached[1]
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if not os.path.isfile(path):
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        body = Path(path).read_bytes()
        asset = Asset(body, digest_of(body), _mimetype(path))
        self._files[path] = (stamp, asset)
        return asset

    def stylesheet_paths(self) -> list[Path]:
        """carecircle.css first, then every other stylesheet by name."""
        css = self.root / "css"
        others = sorted(p for p in css.glob("*.css") if p.name != FIRST_STYLESHEET)
        first = css / FIRST_STYLESHEET
        return ([first] if first.exists() else []) + others

    def bundle(self) -> Asset:
        """Every stylesheet joined into one, in `stylesheet_paths` order."""
        if self._bundle is not None and not self.reload:
            return self._bundle[1]
        paths = self.stylesheet_paths()
        stamp = tuple((p.name, s.st_mtime_ns, s.st_size) for p in paths for s in [p.stat()])
        if self._bundle is not None and self._bundle[0] == stamp:
            return self._bundle[1]
        parts = [b"/* css/%s */\n%s" % (p.name.encode(), p.read_bytes().strip()) for p in paths]
        body = b"\n\n".join(parts) + b"\n"
        asset = Asset(body, digest_of(body), "text/css")
        self._bundle = (stamp, asset)
        return asset

    def memo(self, name: str, build: Callable[[], Any], *, key: Any = None) -> Any:
        """`build()` once per process (and again when `key` changes), or on every call when
        reloading. For what is made from the files (the manifest, the service worker)."""
        if self.reload:
            return build()
        with self._lock:
            cached = self._memo.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        value = build()
        with self._lock:
            self._memo[name] = (key, value)
        return value

    def css_variable(self, name: str, default: str) -> str:
        """A colour of the design system (`--brand: #0b6e4f;` in carecircle.css)."""
        first = self.file(f"css/{FIRST_STYLESHEET}")
        if first is None:
            return default

        def read() -> str:
            pattern = rf"--{re.escape(name)}\s*:\s*([^;}}]+)"
            found = re.search(pattern, first.body.decode("utf-8"))
            return found.group(1).strip() if found else default

        return self.memo(f"css-{name}", read, key=first.digest)


def registry() -> Assets:
    return current_app.extensions[EXTENSION_KEY]


def stylesheets() -> list[str]:
    """The stylesheet every page links: one, made of all of app/static/css."""
    return [url_for("stylesheet", digest=registry().bundle().digest)]


def static_url(filename: str) -> str:
    return url_for("static", filename=filename)


def answer(asset: Asset, given: str | None, *, cache_control: str | None = None):
    """Answer with `asset`: for a year when asked by its fingerprint `given`, to be
    revalidated when asked without one (or as `cache_control` says), and a 404 (kept by
    nobody) for any other hash. Every app-shell view answers through here."""
    if given is not None and given != asset.digest:
        abort(404)
    g.shell_digest = asset.digest  # the compressed copy is kept under it
    response = current_app.response_class(asset.body, mimetype=asset.mimetype)
    response.set_etag(asset.digest)
    if cache_control is None:
        cache_control = IMMUTABLE if given is not None else REVALIDATE
    response.headers["Cache-Control"] = cache_control
    return response.make_conditional(request)


def compressed_key(req) -> str:
    """Flask-Compress keeps each compressed answer under its path and content hash: an app-shell
    file is compressed once per process, whoever asks and however often (/sw.js is asked for on
    every page)."""
    return f"{req.path}#{g.shell_digest}"


def app_shell(reason: str):
    """Mark a view that answers everybody alike, with no health data and no secret: it may be
    cached (it sets its own Cache-Control), the session is not saved on it, and it is
    compressed when the browser accepts it."""

    def decorator(view: Callable) -> Callable:
        wrapper = compress.compressed()(view)
        wrapper.app_shell = True  # type: ignore[attr-defined]
        return no_patient_data(reason)(wrapper)

    return decorator


def is_app_shell(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return bool(getattr(view, "app_shell", False))


@app_shell("the app's own files: stylesheets, icons, scripts")
def static_file(filename: str):
    asset = registry().file(filename)
    if asset is None:
        abort(404)
    return answer(asset, request.args.get("v"))


@app_shell("the one stylesheet: every app/static/css file, joined")
def stylesheet(digest: str):
    return answer(registry().bundle(), digest)


def fingerprint_static(endpoint: str, values: dict) -> None:
    """`url_for('static', filename=...)` -> `/static/<filename>?v=<hash>`."""
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    asset = registry().file(values["filename"])
    if asset is not None:
        values["v"] = asset.digest


class ShellSessionInterface:
    """The app's session interface, which does not save the session on app-shell answers: a
    signed-in visitor's session is not refreshed by a stylesheet, so that answer carries no
    `Set-Cookie` or `Vary: Cookie` and one copy serves everybody."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def save_session(self, app: Flask, session, response) -> None:
        if is_app_shell(request.endpoint):
            return
        self.inner.save_session(app, session, response)


def register(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = Assets(
        app.static_folder or STATIC_DIR, reload=lambda: bool(app.debug or app.testing)
    )
    # Only the app shell is compressed (the views marked @app_shell), never a page; each
    # answer once, so brotli can be asked for a smaller result than its default.
    app.config.setdefault("COMPRESS_REGISTER", False)
    app.config.setdefault("COMPRESS_BR_LEVEL", 6)
    app.config.setdefault("COMPRESS_CACHE_BACKEND", DictCache)
    app.config.setdefault("COMPRESS_CACHE_KEY", compressed_key)
    compress.init_app(app)
    if "static" in app.view_functions:
        app.view_functions["static"] = static_file
    app.add_url_rule("/assets/app.<digest>.css", "stylesheet", stylesheet, methods=["GET"])
    app.url_defaults(fingerprint_static)
    if not isinstance(app.session_interface, ShellSessionInterface):
        app.session_interface = ShellSessionInterface(app.session_interface)
