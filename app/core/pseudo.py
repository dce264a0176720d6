"""The pseudo-locale: every string of a fresh extraction of app/, wrapped in ⟦markers⟧.

Served as English (Babel has no locale "xx"): a page rendered with it shows every translated
string marked, so any text a reader sees without markers was never wrapped in `_()` (or was
translated once at import time). The crawl in tests/i18n uses it; `make pseudo` serves the demo
with it for a developer to look at.

Only the words are wrapped: placeholders (`%(name)s`, `{name}`) and HTML tags inside a string
stay outside the markers, so the values put into a sentence are checked on their own (a status
shown as its raw value is still caught) and links keep working.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

OPEN, CLOSE = "⟦", "⟧"

#: What stays outside the markers: printf- and brace-style placeholders, and HTML tags.
KEEP_RE = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]"
    r"|\{\w*\}"
    r"|</?[A-Za-z][^<>]*>"
)
#: A marked span (innermost first, so run it until nothing changes).
MARKED_RE = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")


def wrap(text: str) -> str:
    """`text` with each run of words between placeholders and tags wrapped in markers."""
    out: list[str] = []
    position = 0
    for match in KEEP_RE.finditer(text):
        out.append(_mark(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_mark(text[position:]))
    return "".join(out)


def _mark(chunk: str) -> str:
    return f"{OPEN}{chunk}{CLOSE}" if chunk.strip() else chunk


def unmarked(text: str, gap: str = "") -> str:
    """`text` without its marked spans (nested ones too), each replaced by `gap`."""
    previous = None
    while previous != text:
        previous, text = text, MARKED_RE.sub(gap, text)
    return text


def pseudo_catalog(pot: Path):
    """The extracted template with every msgstr its msgid, wrapped (plural forms both)."""
    from babel.messages.pofile import read_po

    with pot.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            singular, plural = message.id[0], message.id[1]
            message.string = (wrap(singular), wrap(plural))
        else:
            message.string = wrap(message.id)
        message.flags.discard("fuzzy")
    return catalog


def build(target: Path, extract: Callable[[Path], None]) -> Path:
    """Extract app/ now (with `flask translate`'s `extract`, the same keywords) and write the
    pseudo catalog as target/en/LC_MESSAGES/messages.mo (point BABEL_TRANSLATION_DIRECTORIES
    at `target`). Returns the .mo file's path."""
    from babel.messages.mofile import write_mo

    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        catalog = pseudo_catalog(pot)
    mo = Path(target) / "en" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True, exist_ok=True)
    with mo.open("wb") as fh:
        write_mo(fh, catalog)
    return mo
