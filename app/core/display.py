"""Display settings: text size, high contrast and less motion, for the person signed in.

They belong to the account (`User.text_size`, `User.high_contrast`, `User.reduced_motion`), not
to the record on the screen: when Ana opens her father's record she reads it at her own text
size, not at his. base.html's `<html>` tag carries them as classes (`display_attrs()`), and
app/static/css/a11y.css does the rest. A signed-out visitor gets the standard look, with the
browser's own "more contrast" and "reduce motion" wishes honoured by media queries in the CSS.

The form that changes them is `macros/display.html` (`display_controls()`), posting to
`auth.display_settings` (app/auth/display.py).
"""

from __future__ import annotations

import enum

from flask import Flask, request
from flask_login import current_user
from markupsafe import Markup


class TextSize(enum.StrEnum):
    """The steps of text size: body text of 17, 20 and 23 px (at the browser's default 16 px
    root; a phone set to bigger text scales all three)."""

    STANDARD = "standard"
    LARGE = "large"
    LARGER = "larger"


#: The class on <html> for each text size (a11y.css).
TEXT_SIZE_CLASSES = {
    TextSize.STANDARD: None,
    TextSize.LARGE: "text-large",
    TextSize.LARGER: "text-larger",
}
CONTRAST_CLASS = "contrast-high"
MOTION_CLASS = "motion-reduce"


def display_classes(user=None) -> list[str]:
    """The <html> classes for `user`'s settings (default: whoever is signed in); none for a
    signed-out visitor."""
    user = current_user if user is None else user
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    classes = []
    size = TEXT_SIZE_CLASSES.get(_text_size(user))
    if size:
        classes.append(size)
    if user.high_contrast:
        classes.append(CONTRAST_CLASS)
    if user.reduced_motion:
        classes.append(MOTION_CLASS)
    return classes


def display_attrs() -> Markup:
    """` class="..."` for base.html's <html> tag, or nothing. The class names are constants,
    never user input."""
    classes = display_classes()
    return Markup(' class="{}"').format(" ".join(classes)) if classes else Markup("")


def _text_size(user) -> TextSize:
    try:
        return TextSize(user.text_size)
    except ValueError:
        return TextSize.STANDARD


def display_settings() -> dict:
    """The signed-in user's settings, for the controls (standard for a signed-out visitor)."""
    if not current_user or not current_user.is_authenticated:
        return {"text_size": TextSize.STANDARD, "high_contrast": False, "reduced_motion": False}
    return {
        "text_size": _text_size(current_user),
        "high_contrast": bool(current_user.high_contrast),
        "reduced_motion": bool(current_user.reduced_motion),
    }


def display_next() -> str | None:
    """Where the controls send the user back to: this page, when it is one a GET can open
    again (after a form's POST, the account page instead)."""
    if request.method != "GET":
        return None
    return request.full_path.rstrip("?")


def register(app: Flask) -> None:
    # Globals rather than a context processor: the controls are an imported macro.
    app.jinja_env.globals.update(
        display_attrs=display_attrs,
        display_settings=display_settings,
        display_next=display_next,
        TextSize=TextSize,
    )
