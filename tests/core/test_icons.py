"""The icon sprite holds every icon a template asks for, and nothing is fetched from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.icons import ICONS, SPRITE

APP = Path(__file__).resolve().parents[2] / "app"
USE_RE = re.compile(r"""icon\(\s*['"]([a-z0-9-]+)['"]""")


def sprite_ids() -> set[str]:
    return set(re.findall(r'<symbol id="i-([a-z0-9-]+)"', SPRITE.read_text(encoding="utf-8")))


def test_the_sprite_is_built_from_the_icon_list():
    assert sprite_ids() == set(ICONS)


def test_every_icon_a_template_or_view_names_is_in_the_sprite():
    named = {}
    for path in [*APP.rglob("*.html"), *APP.rglob("*.py")]:
        for name in USE_RE.findall(path.read_text(encoding="utf-8")):
            named.setdefault(name, path)
    missing = {name: str(path) for name, path in named.items() if name not in sprite_ids()}
    assert not missing, f"icons missing from the sprite (add to ICONS, rebuild): {missing}"


def test_the_sprite_is_self_contained():
    text = SPRITE.read_text(encoding="utf-8")
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "<script" not in text


def test_an_icon_is_hidden_from_screen_readers(app):
    from app.core.icons import icon

    with app.test_request_context("/"):
        html = str(icon("pill"))
    assert 'aria-hidden="true"' in html and "#i-pill" in html
