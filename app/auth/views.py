from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth import bp, mfa, services
from app.auth import display as _display  # noqa: F401  (its route is on bp)
from app.auth.forms import ChangePasswordForm, LoginForm, ResetRequestForm, SetPasswordForm
from app.auth.fresh import fresh_auth_required
from app.auth.models import TokenPurpose, UserSession
from app.auth.passwords import verify_password
from app.core import links
from app.core.access import no_patient_data
from app.core.db import utcnow
from app.core.forms import EmptyForm
from app.core.uow import after_response
from app.core.urls import safe_next
from app.extensions import db, limiter


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def login_failure_limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


def _failed(response) -> bool:
    """A sign-in that did not pass the password (the form shown again)."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
@limiter.limit(login_failure_limit, methods=["POST"], deduct_when=_failed)
@no_patient_data("signs a user in")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("patients.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            target = safe_next(request.args.get("next"), url_for("patients.home"))
            return redirect(services.begin_sign_in(user, target))
        # One answer for every failure: unknown account, wrong password, locked, not activated.
        form.password.errors.append(
            _(
                "That email and password do not match an account that can sign in now. "
                "Check them and try again, or reset your password."
            )
        )
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@no_patient_data("signs the current user out")
def logout():
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("patients.home"))
    services.end_session("logout")
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


def _token_problem(reason: str):
    return render_template("auth/token_problem.html", reason=reason), 400


# The links in emails land (GET only): the token goes into the session, and the page and its
# form are at a clean address, so the token is never in a later request (see app.core.links).
WELCOME, RESET = "welcome", "reset"


@bp.route("/welcome/<token>", methods=["GET"])
@limiter.limit(login_rate_limit, methods=["POST"])
@no_patient_data("keeps the invitation link's token for this browser; shows nothing")
def accept_invitation(token: str):
    return links.land(WELCOME, token, "auth.welcome")


@bp.route("/welcome", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
@no_patient_data("activates the invited user's own account")
def welcome():
    return _set_password_with_token(WELCOME, TokenPurpose.INVITATION)


@bp.route("/reset/<token>", methods=["GET"])
@limiter.limit(login_rate_limit, methods=["POST"])
@no_patient_data("keeps the reset link's token for this browser; shows nothing")
def reset_password(token: str):
    return links.land(RESET, token, "auth.new_password")


@bp.route("/reset/new-password", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
@no_patient_data("resets the user's own password")
def new_password():
    return _set_password_with_token(RESET, TokenPurpose.PASSWORD_RESET)


def _set_password_with_token(kind: str, purpose: TokenPurpose):
    token = links.landed(kind)
    if token is None:
        return _token_problem("invalid")
    try:
        row = services.check_token(token, purpose)
    except services.TokenError as exc:
        return _token_problem(str(exc))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.use_token(row)
        except services.TokenError as exc:
            return _token_problem(str(exc))
        links.forget(kind)
        user = row.user
        if current_user.is_authenticated:
            services.end_session("logout")
        services.set_password(user, form.password.data)
        services.end_all_sessions(user.id, "password_change")
        # A link proves the email, not the second factor: an enrolled user still gives a code,
        # and a role that needs two-step sign-in sets it up before the first session.
        target = services.begin_sign_in(user, url_for("patients.home"))
        if purpose is TokenPurpose.INVITATION:
            flash(_("Welcome to CareCircle, %(name)s.", name=user.full_name), "success")
        else:
            flash(_("Your password is changed."), "success")
        return redirect(target)
    status = 422 if form.is_submitted() else 200
    return (
        render_template("auth/set_password.html", form=form, purpose=purpose.value, user=row.user),
        status,
    )


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
@no_patient_data("starts a password reset for an email address")
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        # The same answer, after the same work, whether or not the account exists: who it is
        # and the email are dealt with after the response has gone.
        email = form.email.data
        after_response(lambda: services.send_password_reset_to(email))
        flash(
            _(
                "If that email belongs to an account, we sent it a link. "
                "The link works for %(minutes)d minutes.",
                minutes=current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"],
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_request.html", form=form), status


@bp.route("/account", methods=["GET"])
@login_required
@no_patient_data("the signed-in user's own account settings")
def account():
    return _render_account(ChangePasswordForm())


def _render_account(form, status: int = 200):
    sessions = db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == current_user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    ).all()
    return (
        render_template(
            "auth/account.html",
            form=form,
            end_form=EmptyForm(),
            sessions=sessions,
            this_session_id=g.get("user_session").id if g.get("user_session") else None,
            mfa_on=mfa.is_enrolled(current_user),
            mfa_required=mfa.required_for(current_user),
            codes_left=mfa.recovery_codes_left(current_user) if current_user.mfa_enabled else 0,
        ),
        status,
    )


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit(login_rate_limit)
@fresh_auth_required
@no_patient_data("changes the signed-in user's own password")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash or "", form.current.data):
            form.current.errors.append(_("That is not your current password."))
            return _render_account(form, 422)
        user = current_user._get_current_object()
        services.set_password(user, form.password.data)
        services.end_all_sessions(user.id, "password_change")
        services.start_session(user)
        flash(_("Your password is changed. You were signed out everywhere else."), "success")
        return redirect(url_for("auth.account"))
    return _render_account(form, 422)


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
@no_patient_data("ends the signed-in user's own other sessions")
def end_other_sessions():
    form = EmptyForm()
    if form.validate_on_submit():
        db.session.execute(
            sa.update(UserSession)
            .where(
                UserSession.user_id == current_user.id,
                UserSession.ended_at.is_(None),
                UserSession.id != g.user_session.id,
            )
            .values(ended_at=utcnow(), end_reason="logout")
        )
        flash(_("You are signed out on your other devices."), "success")
    return redirect(url_for("auth.account"))


def unauthorized():
    """flask-login's answer to a signed-out visitor: sign in, saying why the session ended."""
    reason = g.get("session_end_reason")
    if reason == "idle":
        flash(
            _("You were signed out because you were away for a while. Please sign in again."),
            "info",
        )
    elif reason in ("expired", "ended"):
        flash(_("Your session ended. Please sign in again."), "info")
    else:
        flash(_("Please sign in to see this page."), "info")
    next_path = request.full_path if request.method == "GET" else None
    if next_path and next_path.endswith("?"):
        next_path = next_path[:-1]
    return redirect(url_for("auth.login", next=next_path))
