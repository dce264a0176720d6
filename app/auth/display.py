"""Display settings: the signed-in user changes their own text size, high contrast and less
motion (`POST /auth/account/display`, from `macros/display.html`), and a patient's own screen
follows the "Larger text" and "High contrast" care preferences they save (and the other way
round), so the care team still reads them on the summary.

Each button of the controls sends one setting with the value it sets, never "toggle": a double
tap, or the same form sent twice, sets the same value twice and changes nothing the second
time. Anything that is not one of the choices is refused (400) and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth import bp
from app.auth.models import Role, User
from app.core import audit
from app.core.access import Permission, can, no_patient_data
from app.core.display import TextSize
from app.core.errors import RuleError, on_rule_error
from app.core.privacy import Capacity
from app.core.urls import safe_next
from app.extensions import db, limiter
from app.patients import queries as patient_queries

#: The values a setting's button sends.
SWITCH_VALUES = {"1": True, "0": False}
FIELDS = ("text_size", "high_contrast", "reduced_motion")
#: Where the controls are on a page: the redirect lands there again.
ANCHOR = "display-settings"


@dataclass(frozen=True)
class DisplayChange:
    """What one submit asks for; None leaves a setting as it is."""

    text_size: TextSize | None = None
    high_contrast: bool | None = None
    reduced_motion: bool | None = None


class NotAChoice(ValueError):
    pass


def parse(form) -> DisplayChange:
    """The change a submitted form asks for, or NotAChoice: a value that is not one of the
    choices, a setting sent twice, or no setting at all."""
    values = {}
    for name in FIELDS:
        sent = form.getlist(name)
        if not sent:
            continue
        if len(sent) > 1:
            raise NotAChoice(name)
        if name == "text_size":
            if sent[0] not in {size.value for size in TextSize}:
                raise NotAChoice(name)
            values[name] = TextSize(sent[0])
        else:
            if sent[0] not in SWITCH_VALUES:
                raise NotAChoice(name)
            values[name] = SWITCH_VALUES[sent[0]]
    if not values:
        raise NotAChoice("nothing")
    return DisplayChange(**values)


def change_display(user: User, change: DisplayChange) -> bool:
    """Set `user`'s own display settings; True when anything changed. For a patient, the care
    preference that matches a changed setting follows (see `_care_preferences_follow`)."""
    changed = {
        name: value
        for name in FIELDS
        if (value := getattr(change, name)) is not None and getattr(user, name) != value
    }
    for name, value in changed.items():
        setattr(user, name, value)
    if changed and user.role is Role.PATIENT:
        _care_preferences_follow(user, changed)
    db.session.flush()
    return bool(changed)


def _care_preferences_follow(user: User, changed: dict) -> None:
    """The patient's "Larger text" / "High contrast" care preferences follow what they just
    chose for their screen, so their care team reads it on the summary. Only what changed is
    copied; the change is on the record's audit trail like any edit of the preferences."""
    patient = patient_queries.patient_for_user(user.id)
    if patient is None or not can(user, Permission.EDIT_PREFERENCES, patient):
        return
    prefs = patient_queries.preferences(patient.id)
    wanted = {}
    if "text_size" in changed:
        wanted["large_text"] = changed["text_size"] is not TextSize.STANDARD
    if "high_contrast" in changed:
        wanted["high_contrast"] = changed["high_contrast"]
    wanted = {name: value for name, value in wanted.items() if getattr(prefs, name) != value}
    if not wanted:
        return
    for name, value in wanted.items():
        setattr(prefs, name, value)
    if prefs.id is None:
        db.session.add(prefs)
    audit.record(
        action="update",
        resource="patient.preferences",
        patient_id=patient.id,
        actor_id=user.id,
        capacity=Capacity.PATIENT.value,
    )


def follow_care_preferences(user: User, prefs, *, was: dict) -> None:
    """The patient saved their care preferences (`was`: the values before): their own screen
    follows what they changed of "Larger text" and "High contrast". A bigger step they chose
    before stays when "Larger text" stays on."""
    if prefs.large_text != was.get("large_text"):
        if not prefs.large_text:
            user.text_size = TextSize.STANDARD
        elif user.text_size is TextSize.STANDARD:
            user.text_size = TextSize.LARGE
    if prefs.high_contrast != was.get("high_contrast"):
        user.high_contrast = bool(prefs.high_contrast)


def _per_user() -> str:
    return f"display:{current_user.id}"


@bp.route("/account/display", methods=["POST"])
@login_required
@limiter.limit("30 per minute", key_func=_per_user)
@no_patient_data(
    "the signed-in user's own display settings (a patient's matching care preference follows, "
    "audited on their own record)"
)
def display_settings():
    target = safe_next(request.form.get("next"), url_for("auth.account"))
    on_rule_error(back=target)
    try:
        change = parse(request.form)
    except NotAChoice:
        raise RuleError(_("That is not one of the choices."), status=400) from None
    change_display(current_user._get_current_object(), change)
    flash(_("Saved."), "success")
    if "#" not in target:
        target = f"{target}#{ANCHOR}"
    return redirect(target, code=303)
