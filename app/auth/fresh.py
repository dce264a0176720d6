"""Confirm it's you: some changes need a recent proof of who is at the keyboard."""

from __future__ import annotations

from functools import wraps

from flask import redirect, request, url_for
from flask_login import current_user

from app.auth import services


def fresh_auth_required(view):
    """For a change that could take the account or someone's access over (password, email,
    phone, two-step sign-in, caregiver access): the person must have given their password (and
    code) in the last FRESH_AUTH_MINUTES, or confirm it now. Put it below `patient_route`, so
    "not yours" is still a 404 first."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated and not services.is_fresh():
            if request.method == "GET":
                target = request.full_path.rstrip("?")
            elif request.url_rule is not None and "GET" in request.url_rule.methods:
                target = request.path
            else:
                target = url_for("auth.account")
            return redirect(url_for("auth.confirm", next=target))
        return view(*args, **kwargs)

    return wrapped
