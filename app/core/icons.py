"""Icons: one vendored SVG sprite (app/static/icons/sprite.svg) of Lucide icons (ISC licence,
app/static/icons/LICENSE-lucide.txt), used in templates as `{{ icon('pill') }}`.

The sprite holds only the icons in ICONS. To add one, add its Lucide name here and rebuild the
sprite from the `lucide-static` npm package, once, on a developer's machine (never at run time):

    npm pack lucide-static && tar xzf lucide-static-*.tgz
    flask icons sprite package/icons

tests/core/test_icons.py checks that every icon a template names is in the sprite.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask import url_for
from flask.cli import AppGroup
from markupsafe import Markup, escape

SPRITE = Path(__file__).resolve().parents[1] / "static" / "icons" / "sprite.svg"

ICONS = (
    "accessibility",
    "activity",
    "apple",
    "arrow-right",
    "bell",
    "brain",
    "building-2",
    "calendar",
    "calendar-clock",
    "camera",
    "check",
    "chevron-left",
    "chevron-right",
    "circle-check",
    "circle-help",
    "circle-pause",
    "clipboard-check",
    "clipboard-list",
    "clock",
    "contrast",
    "dumbbell",
    "ellipsis",
    "eye",
    "file-text",
    "flag",
    "footprints",
    "globe",
    "hand-heart",
    "heart",
    "heart-pulse",
    "history",
    "hourglass",
    "house",
    "inbox",
    "info",
    "keyboard",
    "languages",
    "list-checks",
    "lock",
    "log-out",
    "map",
    "map-pin",
    "message-circle",
    "message-square-text",
    "paperclip",
    "phone",
    "pill",
    "plus",
    "rotate-cw",
    "scale",
    "search",
    "send",
    "settings",
    "shield",
    "smile",
    "sparkles",
    "stethoscope",
    "sun",
    "syringe",
    "target",
    "thermometer",
    "triangle-alert",
    "type",
    "undo-2",
    "user",
    "user-round",
    "users",
    "video",
    "wifi-off",
    "x",
)

ATTRS = (
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
    'stroke-linejoin="round"'
)


#: Icons that point one way: mirrored when the page reads right to left (a11y.css).
DIRECTIONAL = frozenset({"arrow-right", "chevron-left", "chevron-right", "send", "log-out"})


def icon(name: str, cls: str = "") -> Markup:
    """A decorative icon (hidden from screen readers: the text next to it says what it is)."""
    classes = f"icon {'icon-dir ' if name in DIRECTIONAL else ''}{cls}".strip()
    href = f"{url_for('static', filename='icons/sprite.svg')}#i-{name}"
    return Markup(  # noqa: S704 - every value in it is escaped
        f'<svg class="{escape(classes)}" aria-hidden="true" focusable="false">'
        f'<use href="{escape(href)}"></use></svg>'
    )


def build_sprite(source: Path, names: list[str] | tuple[str, ...] = ICONS) -> str:
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg">',
        "<!-- Lucide icons (lucide-static), ISC License: see LICENSE-lucide.txt. "
        "Built by `flask icons sprite`. -->",
    ]
    for name in sorted(names):
        text = (source / f"{name}.svg").read_text(encoding="utf-8")
        found = re.search(r"<svg[^>]*>(.*)</svg>", text, re.S)
        if found is None:
            raise click.ClickException(f"{name}.svg holds no <svg> element")
        body = re.sub(r"\s*\n\s*", "", found.group(1))
        parts.append(f'<symbol id="i-{name}" viewBox="0 0 24 24" {ATTRS}>{body}</symbol>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


icons_cli = AppGroup("icons", help="The vendored icon sprite.")


@icons_cli.command("sprite")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
def sprite_command(source: Path) -> None:
    """Rebuild app/static/icons/sprite.svg from lucide-static's icons/ folder."""
    SPRITE.write_text(build_sprite(source), encoding="utf-8")
    click.echo(f"{len(ICONS)} icons -> {SPRITE}")
