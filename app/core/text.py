"""Text rules that hold wherever a name is stored, whichever way it arrives (forms, the demo,
imports).

A name is shown on other people's screens, in lists, emails and texts. Unicode's bidirectional
controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) turn the text after them around, so a
name could make "Ana" read as someone else's or flip the words beside it; they have no place
in a name and are removed. Right-to-left names (Arabic, Hebrew) need none of them: the browser
lays them out from the letters themselves.
"""

from __future__ import annotations

import re

#: LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI; LRM, RLM, ALM.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_SPACES = re.compile(r"\s+")


def plain_name(value: str | None) -> str | None:
    """The name without bidirectional controls, runs of white space made one space, trimmed."""
    if value is None:
        return None
    return _SPACES.sub(" ", _BIDI.sub("", value)).strip()
