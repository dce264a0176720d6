"""Medicine routes: "Taken" per dose (and undo), "Request a refill", and the pharmacy team's
one-step answer to a refill request (from the thread, or the inbox's side pane)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.careplan.items import bp, doses, queries, refills
from app.careplan.items.models import ItemKind, PlanItem
from app.careplan.items.refills import ANSWER_LABELS, NOTE_MAX, RefillInput, RefillState
from app.core import idempotency
from app.core.access import Permission, patient_route
from app.core.errors import on_rule_error
from app.core.forms import EmptyForm
from app.core.idempotency import IdempotentForm
from app.core.privacy import current_actor, hidden
from app.extensions import db
from app.patients.models import PatientPreferences

#: Where a tap on "Taken" goes back to: a fixed choice, never a posted address.
BACK = {
    "home": "patients.home_page",
    "today": "careplan.items.today",
    "item": "careplan.items.detail",
}


class DoseForm(FlaskForm):
    day = HiddenField(validators=[DataRequired()])
    slot = HiddenField(validators=[DataRequired()])


class RefillForm(IdempotentForm):
    pharmacy = StringField(
        _l("Pharmacy"),
        validators=[Optional(), Length(max=160)],
        description=_l("The name of the pharmacy, and its town or street."),
    )
    note = TextAreaField(
        _l("Anything to add? (optional)"),
        validators=[
            Optional(),
            Length(
                max=NOTE_MAX,
                message=_l("Notes can be at most %(max)d characters.", max=NOTE_MAX),
            ),
        ],
    )

    def __init__(self, *args, known_pharmacy: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_pharmacy = known_pharmacy

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.known_pharmacy and not (self.pharmacy.data or "").strip():
            self.pharmacy.errors = [*self.pharmacy.errors, _l("Say which pharmacy should fill it.")]
            ok = False
        return ok


def _medicine_or_404(patient, item_id: int) -> PlanItem:
    found = queries.item(patient.id, item_id, hidden())
    if found is None or found.kind is not ItemKind.MEDICATION:
        abort(404)
    return found


def _item_url(patient, item_id: int) -> str:
    return url_for("careplan.items.detail", patient_id=patient.id, item_id=item_id)


def _slot(raw: str | None) -> int:
    if raw is None or not raw.isdigit() or len(raw) > 2:
        abort(400)
    return int(raw)


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/doses", methods=["POST"])
@patient_route(Permission.COMPLETE_TASKS, "careplan.item")
def dose(patient, item_id: int):
    """ "Taken" (or undo) for one of today's doses. Only today, in the patient's calendar."""
    medicine = _medicine_or_404(patient, item_id)
    form = DoseForm()
    if not form.validate_on_submit() or form.day.data != patient.today().isoformat():
        abort(400)
    slot = _slot(form.slot.data)
    back = request.form.get("back")
    endpoint = BACK.get(back, "careplan.items.today")
    if back == "item":
        target = _item_url(patient, medicine.id) + "#doses"
    else:
        target = url_for(endpoint, patient_id=patient.id) + f"#dose-{medicine.id}-{slot}"
    on_rule_error(back=target)
    if request.form.get("undo"):
        doses.undo(medicine, patient.today(), slot)
    else:
        doses.take(medicine, patient.today(), slot)
    return redirect(target)


def _pharmacy_of(patient_id: int) -> str | None:
    return db.session.scalar(
        sa.select(PatientPreferences.preferred_pharmacy).where(
            PatientPreferences.patient_id == patient_id
        )
    )


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/refill", methods=["GET", "POST"])
@patient_route(Permission.SEND_MESSAGES, "careplan.item")
def refill(patient, item_id: int):
    """ "Request a refill": a short page to confirm (the medicine, the pharmacy, a note). While
    a request is open, it shows that one instead of making another."""
    medicine = _medicine_or_404(patient, item_id)
    if not medicine.is_open:
        abort(404)
    already = refills.open_request(medicine.id)
    if already is not None:
        flash(_("This refill was already asked for. The pharmacy team will answer here."), "info")
        return redirect(_refill_url(patient, already))
    known = (_pharmacy_of(patient.id) or "").strip() or None
    form = RefillForm(known_pharmacy=known)
    if form.validate_on_submit():
        if (again := idempotency.replay(form)) is not None:
            return again
        on_rule_error(back=_item_url(patient, medicine.id))
        made, created = refills.request_refill(
            medicine,
            RefillInput(pharmacy=known or form.pharmacy.data, note=form.note.data or None),
            author_id=current_user.id,
            capacity=current_actor().capacity.value,
        )
        url = _refill_url(patient, made)
        idempotency.remember(form, url)
        if created:
            flash(_("Your refill request was sent to the pharmacy team."), "success")
        else:
            flash(
                _("This refill was already asked for. The pharmacy team will answer here."), "info"
            )
        return redirect(url)
    return render_template(
        "items/refill_request.html",
        patient=patient,
        item=medicine,
        form=form,
        known_pharmacy=known,
    ), 422 if form.is_submitted() else 200


def _refill_url(patient, made) -> str:
    if made.thread_id is None:
        return _item_url(patient, made.item_id)
    return url_for("messaging.thread", patient_id=patient.id, thread_id=made.thread_id)


@bp.route("/patients/<int:patient_id>/refills/<int:refill_id>/answer/<answer>", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "careplan.item")
def answer_refill(patient, refill_id: int, answer: str):
    """The pharmacy team's answer in one step: sets the state, writes to the patient in their
    language and resolves the thread. Of two at once, the second is told who answered."""
    try:
        state = RefillState(answer)
    except ValueError:
        abort(404)
    if state not in ANSWER_LABELS:
        abort(404)
    found = refills.of_patient(patient.id, refill_id, hidden())
    if found is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    back = _refill_url(patient, found)
    on_rule_error(back=back)
    if refills.answer(found, state, user_id=current_user.id, patient=patient):
        flash(_("Answered: %(answer)s. The patient gets a notice.", answer=ANSWER_LABELS[state]))
    else:
        flash(_("You already answered this request."), "info")
    return redirect(back)


@bp.app_context_processor
def refill_globals():
    """`refill_for(thread)` for messaging/_thread_refill.html: the request a thread was opened
    for (a query only for a medication thread about a plan item)."""
    return {
        "refill_for": lambda thread: refills.for_thread(thread, hidden()),
        "refill_answers": ANSWER_LABELS,
    }
