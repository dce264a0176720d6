"""The measures dashboard (/measures), its CSV exports, the printable report and drill-downs.

Who: administrators and care team members; patients and caregivers get 404. The numbers are
aggregates (counts and shares, no patient named), so the dashboard, its CSV files and the
report touch no single record. A drill-down names patients: only a care team member gets one,
only for patients on their own care teams, each row asked of the policy and each patient shown
audited ("listed"). An administrator sees numbers only.

Filters (forms.py) are one GET form shared by all four, so a CSV or a drill-down answers the
same scope as the page it came from. A care team member's default is their own panel (what a
coordinator looks at first: "how am I doing with my patients"), one choice away from the whole
CCO or another coordinator's panel; an administrator's default is the whole CCO.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.models import Role
from app.core import audit
from app.core.access import Permission, can, finds_patients, no_patient_data, role_required
from app.core.privacy import Capacity
from app.extensions import db
from app.metrics import bp, rollup
from app.metrics import measures as registry
from app.metrics.chart import Chart, trend_chart
from app.metrics.display import format_figure, format_value, share_detail
from app.metrics.export import measure_csv
from app.metrics.forms import MeasureFilterForm
from app.metrics.measures import Figure, Measure, Result, Scope
from app.patients.models import Patient
from app.team.models import CareTeamAssignment, CareTeamMember
from app.team.queries import member_for_user

#: The most rows a drill-down lists (newest first); the page says when there are more.
DRILL_LIMIT = 50
STAFF = (Role.ADMIN, Role.CARE_TEAM)

audit.register_labels(resources={"metrics.drill": _l("A list for checking the quality of care")})


@dataclass
class Card:
    measure: Measure
    result: Result
    chart: Chart | None

    @property
    def headline(self) -> Figure | None:
        return self.result.figures[0] if self.result.figures else None

    @property
    def others(self) -> list[Figure]:
        return self.result.figures[1:]


def _member() -> CareTeamMember | None:
    if current_user.role is not Role.CARE_TEAM:
        return None
    return member_for_user(current_user.id)


def _filters(member: CareTeamMember | None) -> tuple[MeasureFilterForm, Scope | None]:
    form = MeasureFilterForm(request.args, own_member_id=member.id if member else None)
    if not form.validate():
        return form, None
    return form, form.scope()


def _results(scope: Scope, chosen: list[Measure]):
    """Each measure's Result, from the nightly rollup when it has this scope (rollup.py)."""
    return rollup.results(scope, chosen, str(get_locale() or "en"))


def _cards(scope: Scope):
    found, as_of = _results(scope, registry.all_measures())
    return [_card(measure, result, scope) for measure, result in found], as_of


def _card(measure: Measure, result: Result, scope: Scope) -> Card:
    chart = None
    if result.figures:
        headline = result.figures[0]
        buckets = scope.buckets()
        trend = list(result.trend)[: len(buckets)]
        chart = trend_chart(
            str(measure.title),
            buckets,
            trend + [None] * (len(buckets) - len(trend)),
            headline.kind,
            target=headline.target,
        )
    return Card(measure, result, chart)


def _context(form: MeasureFilterForm, **extra) -> dict:
    return {
        "form": form,
        "format_figure": format_figure,
        "format_value": format_value,
        "share_detail": share_detail,
        "drills": current_user.role is Role.CARE_TEAM,
        **extra,
    }


@bp.route("")
@bp.route("/")
@role_required(*STAFF)
@no_patient_data("aggregate counts and shares over the CCO or a panel; no patient is named")
def dashboard():
    form, scope = _filters(_member())
    if scope is None:
        return render_template("metrics/dashboard.html", **_context(form, cards=[])), 422
    cards, as_of = _cards(scope)
    return render_template(
        "metrics/dashboard.html",
        **_context(
            form,
            cards=cards,
            scope=scope,
            as_of=as_of,
            args=form.query_args(),
            scope_words=_words(form),
        ),
    )


@bp.route("/report")
@role_required(*STAFF)
@no_patient_data("the dashboard's aggregates on one printable page; no patient is named")
def report():
    form, scope = _filters(_member())
    if scope is None:
        return render_template("metrics/dashboard.html", **_context(form, cards=[])), 422
    cards, as_of = _cards(scope)
    return render_template(
        "metrics/report.html",
        as_of=as_of,
        **_context(
            form, cards=cards, scope=scope, args=form.query_args(), scope_words=_words(form)
        ),
    )


@bp.route("/<key>.csv")
@role_required(*STAFF)
@no_patient_data("one measure's aggregates as CSV: figures, trend, breakdowns; no names")
def export(key: str):
    measure = registry.REGISTRY.get(key)
    if measure is None:
        abort(404)
    form, scope = _filters(_member())
    if scope is None:
        return render_template("metrics/dashboard.html", **_context(form, cards=[])), 422
    [(_measure, result)], _as_of = _results(scope, [measure])
    body = measure_csv(measure, result, scope)
    name = f"carecircle-{key}-{scope.start.isoformat()}-{scope.end.isoformat()}.csv"
    return (
        "\ufeff" + body,  # a BOM: spreadsheets then read the words as UTF-8
        200,
        {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _where(row, patient: Patient) -> tuple[Permission, str]:
    """What a drill-down row opens, and the permission that takes."""
    if row.thread_id is not None:
        return Permission.VIEW_MESSAGES, url_for(
            "messaging.thread", patient_id=patient.id, thread_id=row.thread_id
        )
    if row.item_id is not None:
        return Permission.VIEW_PLAN, url_for(
            "careplan.items.detail", patient_id=patient.id, item_id=row.item_id
        )
    return Permission.VIEW_SUMMARY, url_for("patients.summary", patient_id=patient.id)


@bp.route("/<key>/<figure>")
@role_required(Role.CARE_TEAM)
@finds_patients(
    "the patients behind a measure's number, on the viewer's own care teams only: each row "
    "asked of the policy, a view of each patient shown"
)
def drill(key: str, figure: str):
    measure = registry.REGISTRY.get(key)
    member = member_for_user(current_user.id)
    if measure is None or measure.drill is None or member is None:
        abort(404)
    form, scope = _filters(member)
    if scope is None:
        return render_template(
            "metrics/drill.html", **_context(form, measure=measure, figure=None, rows=[])
        ), 422
    [(_measure, result)], _as_of = _results(scope, [measure])
    chosen = next((f for f in result.figures if f.key == figure and f.drill), None)
    if chosen is None:
        abort(404)
    visible = sa.select(CareTeamAssignment.patient_id).where(
        CareTeamAssignment.member_id == member.id
    )
    found = measure.drill(scope, figure, visible, DRILL_LIMIT + 1)
    more = len(found) > DRILL_LIMIT
    found = found[:DRILL_LIMIT]
    ids = {row.patient_id for row in found}
    patients = {p.id: p for p in db.session.scalars(sa.select(Patient).where(Patient.id.in_(ids)))}
    rows = []
    for row in found:
        patient = patients.get(row.patient_id)
        if patient is None:
            continue
        permission, href = _where(row, patient)
        if can(current_user, permission, patient):
            rows.append((row, patient, href))
    audit.record_listed(
        "metrics.drill",
        [patient.id for _row, patient, _href in rows],
        actor_id=current_user.id,
        capacity=Capacity.CARE_TEAM.value,
    )
    return render_template(
        "metrics/drill.html",
        **_context(
            form,
            measure=measure,
            figure=chosen,
            rows=rows,
            more=more,
            limit=DRILL_LIMIT,
            args=form.query_args(),
            scope_words=_words(form),
        ),
    )


def _words(form: MeasureFilterForm) -> dict[str, str]:
    """The chosen organization and team as their names, for headings."""
    names = dict(form.organization.choices)
    teams = dict(form.team.choices)
    return {
        "organization": names.get(form.organization.data or "", ""),
        "team": teams.get(form.team.data or "", ""),
    }
