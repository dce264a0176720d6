"""The app `make bench` serves: wsgi:app plus one page that is all floor and no content.

`/patients/<id>/bench-floor` goes through everything a patient page must do (the session row
checked against the database, the patient loaded by the policy, an audit row written and
committed, the layout with its navigation and record tabs rendered) and shows nothing else. Its
ratio to /healthz is the most any patient page can reach with these rules on this stack; see
docs/performance.md ("The floor"). Served only by the benchmark, never by wsgi.py.
"""

from __future__ import annotations

from functools import cache

from flask import current_app

from app.core.access import Permission, patient_route
from wsgi import app

FLOOR = """{% extends "base.html" %}
{% from "macros/record_nav.html" import record_nav %}
{% block title %}Floor{% endblock %}
{% block content %}{{ record_nav(patient, 'today') }}<h1>Floor</h1>{% endblock %}"""


@cache
def _template():
    return current_app.jinja_env.from_string(FLOOR)  # compiled once, like a file template


@patient_route(Permission.VIEW_PLAN, "bench.floor")
def floor(patient):
    context = {"patient": patient}
    current_app.update_template_context(context)  # the context processors, as render_template
    return _template().render(context)


app.add_url_rule("/patients/<int:patient_id>/bench-floor", "bench_floor", floor)
