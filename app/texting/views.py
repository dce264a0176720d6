"""The short links in texts: /r/<code> stands for a portal path."""

from __future__ import annotations

from flask import abort, redirect

from app.core.access import no_patient_data
from app.texting import bp, links


@bp.route("/r/<code>")
@no_patient_data("a short link in a text: redirects to a portal path, which checks access itself")
def short(code: str):
    path = links.resolve(code)
    if path is None:
        abort(404)
    return redirect(path)
