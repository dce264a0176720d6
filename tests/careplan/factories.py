"""Helpers to build plan items directly (through the service, as the app does)."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import date

from app.careplan.items import services
from app.careplan.items.models import Area, ItemKind, ItemStatus, OwnerKind, PlanItem, Schedule
from app.careplan.items.services import ItemInput
from app.extensions import db
from app.team.models import Discipline

INPUT_FIELDS = {f.name for f in dataclass_fields(ItemInput)}


def add(patient, org, *, kind=ItemKind.TASK, title="Walk", commit=True, **fields) -> PlanItem:
    defaults = {
        "area": Area.DAILY_LIVING,
        "discipline": Discipline.NURSING,
        "status": ItemStatus.ACTIVE,
        "owner_kind": OwnerKind.PATIENT,
        "source_organization_id": org.id,
    }
    if kind is ItemKind.TASK:
        defaults["schedule"] = Schedule.DAILY
    defaults.update(fields)
    extra = {k: v for k, v in defaults.items() if k not in INPUT_FIELDS}
    data = {k: v for k, v in defaults.items() if k in INPUT_FIELDS}
    item = services.add_item(patient.id, ItemInput(kind=kind, title=title, **data))
    for name, value in extra.items():  # columns no form sets (e.g. created_at)
        setattr(item, name, value)
    if commit:
        db.session.commit()
    return item


def lab_test(patient, org, code="4548-4", ordered_on=date(2026, 11, 1), **kw) -> PlanItem:
    return add(
        patient,
        org,
        kind=ItemKind.TEST,
        title=kw.pop("title", "A1c"),
        code=code,
        code_system=kw.pop("code_system", "LOINC"),
        ordered_on=ordered_on,
        ordering_provider_name="Dr. X",
        **kw,
    )


def med(patient, org, name, ingredients, prescriber, **kw) -> PlanItem:
    return add(
        patient,
        org,
        kind=ItemKind.MEDICATION,
        title=kw.pop("title", f"Take {name}"),
        medication_name=name,
        dose="1 pill",
        ingredients=ingredients,
        prescriber_name=prescriber,
        area=Area.MEDICINES,
        **kw,
    )
