"""Two-step sign-in pages, and "Confirm it's you" before changes that could take an account or
someone's access over (auth.mfa holds the rules)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.auth import bp, mfa, services
from app.auth.forms import CodeForm, ConfirmForm, SetupCodeForm
from app.auth.fresh import fresh_auth_required
from app.auth.passwords import verify_password
from app.core import links
from app.core.access import no_patient_data
from app.core.forms import EmptyForm
from app.core.urls import safe_next
from app.extensions import limiter

ENROL_KEY = "mfa_new_secret"
SHOW_CODES_KEY = "mfa_show_codes"
CONFIRM_TRIES_KEY = "confirm_tries"
CONFIRM_TRIES = 5


def _rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _code_ok(user, code: str) -> tuple[bool, bool]:
    """(right, was a recovery code)."""
    if mfa.verify(user, code):
        return True, False
    if mfa.use_recovery_code(user, code):
        return True, True
    return False, False


def _recovery_notice(user) -> None:
    left = mfa.recovery_codes_left(user)
    flash(
        ngettext(
            "You used a recovery code. %(num)d is left; make new ones on your account page.",
            "You used a recovery code. %(num)d are left; make new ones on your account page.",
            left,
        ),
        "info",
    )


# ------------------------------------------------------------------ at sign-in


@bp.route("/mfa", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@no_patient_data("the second step of signing in to one's own account")
def mfa_code():
    pending = services.pending_sign_in()
    if pending is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    user, _state = pending
    if not mfa.is_enrolled(user):
        return redirect(url_for("auth.mfa_setup"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        # While sign-in is slowed down, a stranger's browser gets no answer about any code.
        blocked = services.second_step_blocked(user)
        right, recovery = (False, False) if blocked else _code_ok(user, form.code.data)
        if right:
            target = services.finish_sign_in(user)
            if recovery:
                _recovery_notice(user)
            return redirect(target)
        if not blocked:
            services.second_step_failed(user)
        left = services.pending_failed()
        if left <= 0:
            flash(_("That code did not work several times. Please sign in again."), "error")
            return redirect(url_for("auth.login"))
        # 200, not 4xx: a 4xx rolls the request back, and the wrong try must be counted.
        form.code.errors.append(_("That code is not right. Check the app and try again."))
    elif form.is_submitted():
        status = 422
    return render_template("auth/mfa_code.html", form=form), status


# ------------------------------------------------------------------ setting it up


@bp.route("/mfa/setup", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@no_patient_data("sets up two-step sign-in for one's own account")
def mfa_setup():
    if current_user.is_authenticated:
        if not services.is_fresh():
            return redirect(url_for("auth.confirm", next=url_for("auth.mfa_setup")))
        user, signing_in = current_user._get_current_object(), False
    else:
        pending = services.pending_sign_in()
        if pending is None:
            flash(_("Please sign in again."), "info")
            return redirect(url_for("auth.login"))
        user, signing_in = pending[0], True
        if mfa.is_enrolled(user):
            return redirect(url_for("auth.mfa_code"))
    secret = session.get(ENROL_KEY)
    if not isinstance(secret, str) or not mfa.usable_secret(secret):
        secret = session[ENROL_KEY] = mfa.new_secret()
    form = SetupCodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = mfa.enable(user, secret, form.code.data)
        except mfa.ChangedMeanwhile:
            session.pop(ENROL_KEY, None)
            flash(_("Two-step sign-in was already set up from another page or tab."), "info")
            return redirect(url_for("auth.mfa_code" if signing_in else "auth.account"))
        if codes is not None:
            session.pop(ENROL_KEY, None)
            target = services.finish_sign_in(user) if signing_in else url_for("auth.account")
            services.end_all_sessions_but_this(user.id, "mfa_change")
            session[SHOW_CODES_KEY] = {"codes": codes, "next": target}
            flash(_("Two-step sign-in is on."), "success")
            return redirect(url_for("auth.mfa_codes"))
        form.code.errors.append(
            _("That code is not right. Check that the app shows CareCircle and try again.")
        )
        status = 422
    elif form.is_submitted():
        status = 422
    uri = mfa.provisioning_uri(user, secret)
    return (
        render_template(
            "auth/mfa_setup.html",
            form=form,
            qr=mfa.qr_svg(uri, _("QR code for your authenticator app")),
            secret=mfa.spaced(secret),
            required=mfa.required_for(user),
            signing_in=signing_in,
        ),
        status,
    )


@bp.route("/mfa/codes")
@login_required
@no_patient_data("shows one's own new recovery codes, once")
def mfa_codes():
    shown = session.pop(SHOW_CODES_KEY, None)
    if not isinstance(shown, dict):
        return redirect(url_for("auth.account"))
    return render_template(
        "auth/mfa_codes.html",
        codes=shown["codes"],
        next=safe_next(shown.get("next"), url_for("patients.home")),
    )


@bp.route("/mfa/codes/new", methods=["POST"])
@login_required
@fresh_auth_required
@no_patient_data("makes new recovery codes for one's own account")
def mfa_new_codes():
    user = current_user._get_current_object()
    if EmptyForm().validate_on_submit() and mfa.is_enrolled(user):
        session[SHOW_CODES_KEY] = {
            "codes": mfa.new_recovery_codes(user),
            "next": url_for("auth.account"),
        }
        flash(_("You have new recovery codes. The old ones no longer work."), "success")
        return redirect(url_for("auth.mfa_codes"))
    return redirect(url_for("auth.account"))


@bp.route("/mfa/off", methods=["POST"])
@login_required
@fresh_auth_required
@no_patient_data("turns off two-step sign-in for one's own account")
def mfa_off():
    user = current_user._get_current_object()
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.account"))
    if mfa.required_for(user):
        flash(_("Your role needs two-step sign-in; it stays on."), "error")
        return redirect(url_for("auth.account"))
    mfa.disable(user)
    services.end_all_sessions_but_this(user.id, "mfa_change")
    flash(_("Two-step sign-in is off. You were signed out everywhere else."), "success")
    return redirect(url_for("auth.account"))


# ------------------------------------------------------------------ "is it you?"


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
@limiter.limit(_rate_limit, methods=["POST"])
@no_patient_data("asks the signed-in user for their password (and code) again")
def confirm():
    user = current_user._get_current_object()
    target = safe_next(request.args.get("next"), url_for("auth.account"))
    form = ConfirmForm()
    enrolled = mfa.is_enrolled(user)
    status = 200
    if form.validate_on_submit():
        right = verify_password(user.password_hash or "", form.password.data)
        if not right:
            form.password.errors.append(_("That is not your password."))
        elif enrolled:
            right, recovery = _code_ok(user, form.code.data or "")
            if not right:
                form.code.errors.append(_("That code is not right. Check the app and try again."))
            elif recovery:
                _recovery_notice(user)
        if right:
            session.pop(CONFIRM_TRIES_KEY, None)
            services.mark_fresh()
            return redirect(target)
        services.second_step_failed(user)
        tries = session.get(CONFIRM_TRIES_KEY, 0) + 1
        session[CONFIRM_TRIES_KEY] = tries
        if tries >= CONFIRM_TRIES:
            session.pop(CONFIRM_TRIES_KEY, None)
            services.end_session("confirm_failed")
            flash(_("For your safety you were signed out. Please sign in again."), "info")
            return redirect(url_for("auth.login"))
        # 200, not 4xx: a 4xx rolls the request back, and the wrong try must be counted.
    elif form.is_submitted():
        status = 422
    return render_template("auth/confirm.html", form=form, enrolled=enrolled), status


# ------------------------------------------------------------------ lifting a slow-down


@bp.route("/unlock/<token>")
@no_patient_data("the owner's link from the 'sign-in slowed' email; lands on a clean page")
def unlock_link(token: str):
    return links.land("unlock", token, "auth.unlock_account")


@bp.route("/unlock", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@no_patient_data("lifts the sign-in slow-down on the owner's own account")
def unlock_account():
    token = links.landed("unlock")
    user = services.user_for_unlock(token) if token else None
    if user is None:
        links.forget("unlock")
        return render_template("auth/token_problem.html", reason="invalid"), 400
    form = EmptyForm()
    if form.validate_on_submit():
        services.unlock(user)
        links.forget("unlock")
        flash(_("You can sign in now, on this phone or computer without waiting."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/unlock.html", form=form)
