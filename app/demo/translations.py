"""Demo: care content in its language, and the team's translations (issue 16, scope 4).

María's plan is written in Spanish and Lan's in Vietnamese: their content is marked so (the
migration marks everything English; it cannot tell). Leo reads English and his mother Rosa reads
Spanish: the care team translated his dental visit, his inhaler and his dental decision into
Spanish, and not yet his daily controller inhaler, so the staff summary's "Not yet in Spanish"
lists it (with his goals).

Idempotent: content already marked is left alone; Leo's translations are added once. Adds and
flushes only; the caller commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.careplan.decisions.models import Decision
from app.careplan.goals.models import Goal
from app.careplan.items.models import PlanItem
from app.careplan.translations import services
from app.careplan.translations.models import ContentTranslation
from app.core.privacy import Actor, Capacity, acting_as
from app.demo.accounts import Demo
from app.extensions import db

#: Leo's items, by their English title: the Spanish the team wrote.
LEO_ITEMS = {
    "Dental cleaning and sealants": {
        "title": "Limpieza dental y selladores",
        "why_it_matters": "Los selladores protegen sus muelas de las caries.",
        "preparation": "Cepíllese los dientes antes de venir.",
    },
    "Asthma inhaler before soccer": {
        "title": "Inhalador para el asma antes del fútbol",
        "why_it_matters": "Mantiene abiertas sus vías respiratorias para que pueda jugar.",
    },
}

LEO_DECISION = {
    "question": "¿Cómo quiere proteger sus muelas de las caries?",
    "background": "Las muelas de Leo tienen surcos profundos donde se queda la comida. Todavía "
    "no tiene caries. Podemos proteger los dientes de más de una manera.",
}
LEO_OPTIONS = [
    {
        "title": "Selladores",
        "benefits": "Una capa delgada llena los surcos para que la comida no se quede ahí. "
        "Protege por años.",
        "risks": "La capa se puede astillar y quizás haya que arreglarla. A algunas personas no "
        "les gusta cómo se siente al principio.",
        "day_to_day": "Una visita de unos 30 minutos. Sin inyecciones y sin taladro. Puede comer "
        "como siempre después.",
    },
    {
        "title": "Barniz de flúor",
        "benefits": "Hace los dientes más fuertes contra las caries. Es rápido y no duele.",
        "risks": "No llena los surcos. Hay que ponerlo otra vez cada 6 meses.",
        "day_to_day": "Unos minutos en cada limpieza. No coma ni beba por 30 minutos después.",
    },
    {
        "title": "Esperar y revisar en la próxima visita",
        "benefits": "No se hace nada ahora.",
        "risks": "Podría empezar una caries antes de la próxima visita y necesitar un empaste.",
        "day_to_day": "Cepíllese dos veces al día y use hilo dental. Próxima revisión en 6 meses.",
    },
]


def _mark(patient, language: str) -> None:
    """Mark the demo content of a patient whose plan is written in `language`."""
    for model in (PlanItem, Goal, Decision):
        db.session.execute(
            sa.update(model)
            .where(model.patient_id == patient.id, model.content_language == "en")
            .values(content_language=language)
            .execution_options(synchronize_session=False)
        )


def _translate_leo(demo: Demo) -> None:
    leo = demo.patients["leo"]
    done = db.session.scalar(
        sa.select(ContentTranslation.id).where(ContentTranslation.patient_id == leo.id).limit(1)
    )
    if done is not None:
        return
    dentist = demo.users["dentist"]
    items = db.session.scalars(
        sa.select(PlanItem).where(
            PlanItem.patient_id == leo.id, PlanItem.title.in_(list(LEO_ITEMS))
        )
    )
    decision = db.session.scalar(
        sa.select(Decision)
        .where(Decision.patient_id == leo.id)
        .options(selectinload(Decision.options))
        .order_by(Decision.id)
        .limit(1)
    )
    with acting_as(Actor(user_id=dentist.id, capacity=Capacity.CARE_TEAM, patient=leo)):
        for item in items:
            services.save(leo, item, services.TranslationInput("es", LEO_ITEMS[item.title]))
        if decision is not None:
            texts = dict(LEO_DECISION)
            for option, spanish in zip(decision.options, LEO_OPTIONS, strict=False):
                texts.update({f"option.{option.id}.{k}": v for k, v in spanish.items()})
            services.save(leo, decision, services.TranslationInput("es", texts))


def seed(demo: Demo) -> None:
    if "maria" in demo.patients:
        _mark(demo.patients["maria"], "es")
    if "lan" in demo.patients:
        _mark(demo.patients["lan"], "vi")
    if "leo" in demo.patients:
        _translate_leo(demo)
    db.session.flush()
