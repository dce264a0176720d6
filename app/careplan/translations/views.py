"""The care team's translate pages: which languages a thing is in, and the form for one.

Only who may edit the patient's plan (EDIT_PLAN: the care team) reaches them; the thing is
loaded for this patient with the viewer's hidden categories, so another patient's id or a
hidden thing is a 404 like a missing one.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.caregivers.queries import grants_in_force
from app.careplan import bp
from app.careplan.translations import queries, services
from app.careplan.translations.forms import key_name, part_label, translate_form
from app.careplan.translations.models import Entity
from app.core.access import Permission, patient_route
from app.core.errors import on_rule_error
from app.core.forms import EmptyForm
from app.core.privacy import hidden

RESOURCE = {
    Entity.PLAN_ITEM: "careplan.item",
    Entity.GOAL: "careplan.goal",
    Entity.DECISION: "careplan.decision",
}


def _thing_or_404(patient, entity: str, entity_id: int):
    try:
        kind = Entity(entity)
    except ValueError:
        abort(404)
    thing = queries.thing(kind, patient.id, entity_id, hidden())
    if thing is None:
        abort(404)
    return kind, thing


def thing_url(patient, kind: Entity, thing) -> str:
    if kind is Entity.PLAN_ITEM:
        return url_for("careplan.items.detail", patient_id=patient.id, item_id=thing.id)
    if kind is Entity.GOAL:
        return url_for("careplan.goals.detail", patient_id=patient.id, goal_id=thing.id)
    return url_for("careplan.decisions.detail", patient_id=patient.id, decision_id=thing.id)


def _language_or_404(code: str) -> str:
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    return code


@bp.route("/patients/<int:patient_id>/plan/translate/<entity>/<int:entity_id>")
@patient_route(Permission.EDIT_PLAN, "careplan.translation")
def languages(patient, entity: str, entity_id: int):
    kind, thing = _thing_or_404(patient, entity, entity_id)
    offered = services.reader_languages(
        patient, grants_in_force(patient_id=patient.id), thing.content_language, thing.sensitivity
    )
    existing = queries.translations_of(kind, thing.id)
    current = services.originals(kind, thing)
    shipped = current_app.config["LANGUAGES"]
    others = [code for code in shipped if code != thing.content_language and code not in offered]
    return render_template(
        "careplan/translate_languages.html",
        patient=patient,
        kind=kind,
        thing=thing,
        back=thing_url(patient, kind, thing),
        offered=offered,
        others=others,
        existing=existing,
        stale={code: services.is_stale(row, current) for code, row in existing.items()},
    )


@bp.route(
    "/patients/<int:patient_id>/plan/translate/<entity>/<int:entity_id>/<language>",
    methods=["GET", "POST"],
)
@patient_route(Permission.EDIT_PLAN, "careplan.translation")
def translate(patient, entity: str, entity_id: int, language: str):
    kind, thing = _thing_or_404(patient, entity, entity_id)
    language = _language_or_404(language)
    if language == thing.content_language:
        abort(404)
    originals = services.originals(kind, thing)
    positions = {str(o.id): o.position for o in thing.options} if kind is Entity.DECISION else {}
    row = queries.translations_of(kind, thing.id).get(language)
    form_class, data = translate_form(kind, originals, row.fields if row else None)
    form = form_class(data=data) if request.method == "GET" else form_class()
    back = url_for(
        "careplan.languages", patient_id=patient.id, entity=kind.value, entity_id=thing.id
    )

    def page(status: int = 200):
        return render_template(
            "careplan/translate.html",
            patient=patient,
            kind=kind,
            thing=thing,
            language=language,
            form=form,
            rows=[
                (part_label(kind, key, positions), text, form[key_name(key)])
                for key, text in originals.items()
            ],
            row=row,
            stale=services.is_stale(row, originals) if row else False,
            back=back,
            delete_form=EmptyForm(),
        ), status

    if form.validate_on_submit():
        on_rule_error(page=page)
        texts = {key: form[key_name(key)].data or "" for key in originals}
        services.save(patient, thing, services.TranslationInput(language=language, texts=texts))
        flash(_("The translation is saved."), "success")
        return redirect(thing_url(patient, kind, thing))
    return page(422 if form.is_submitted() else 200)


@bp.route(
    "/patients/<int:patient_id>/plan/translate/<entity>/<int:entity_id>/<language>/delete",
    methods=["POST"],
)
@patient_route(Permission.EDIT_PLAN, "careplan.translation")
def delete_translation(patient, entity: str, entity_id: int, language: str):
    kind, thing = _thing_or_404(patient, entity, entity_id)
    language = _language_or_404(language)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.delete(patient, thing, language)
    flash(_("The translation is deleted."), "success")
    return redirect(
        url_for("careplan.languages", patient_id=patient.id, entity=kind.value, entity_id=thing.id)
    )
