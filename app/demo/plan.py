"""Demo care plans for María (in Spanish), James and Leo, with the flags they raise.

Items are added through the plan's own service, as each author: "What changed" and the audit
trail read as if the team had typed them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.careplan.items import services
from app.careplan.items.models import (
    Area,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanItem,
    ReferralNeed,
    ReferralStatus,
    Schedule,
)
from app.careplan.items.services import ItemInput
from app.core.db import utcnow
from app.core.privacy import Actor, Capacity, Sensitivity, acting_as
from app.demo.accounts import Demo
from app.extensions import db
from app.team.models import Discipline


def at(patient, days: int, hour: int, minute: int = 0) -> datetime:
    """`days` from today at hour:minute, on the patient's clock."""
    day = patient.today() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), patient.zone)


def _add(patient, author, **fields) -> PlanItem:
    fields.setdefault("status", ItemStatus.ACTIVE)
    with acting_as(Actor(user_id=author.id, capacity=Capacity.CARE_TEAM, patient=patient)):
        return services.add_item(patient.id, ItemInput(**fields))


def seed(demo: Demo) -> None:
    for key, builder in (("maria", _maria), ("james", _james), ("leo", _leo)):
        patient = demo.patients[key]
        has_items = db.session.scalar(
            sa.select(PlanItem.id).where(PlanItem.patient_id == patient.id).limit(1)
        )
        if has_items is None:
            builder(patient, demo.users, demo.members, demo.orgs)
    db.session.flush()


def _maria(p, users, members, orgs):
    clinic, pharmacy = orgs["Riverbend Family Clinic"], orgs["Hillside Community Pharmacy"]
    social = orgs["Community Connections"]
    nurse, doctor, chw = members["nurse"], members["doctor"], members["chw"]
    author = users["doctor"]
    _add(
        p,
        author,
        kind=ItemKind.MEDICATION,
        title="Tomar metformina con el desayuno y la cena",
        medication_name="Metformina",
        dose="500 mg, dos veces al día",
        ingredients=["metformin"],
        prescriber_member_id=doctor.id,
        why_it_matters="Ayuda a bajar el azúcar en la sangre y protege sus riñones y ojos.",
        area=Area.MEDICINES,
        discipline=Discipline.PRIMARY_CARE,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        author,
        kind=ItemKind.MEDICATION,
        title="Ibuprofeno para el dolor de espalda",
        medication_name="Ibuprofeno",
        dose="400 mg cuando haga falta, máximo 3 al día",
        ingredients=["ibuprofen"],
        prescriber_member_id=doctor.id,
        why_it_matters="Calma el dolor para que pueda moverse.",
        area=Area.MEDICINES,
        discipline=Discipline.PRIMARY_CARE,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["pharmacist"],
        kind=ItemKind.MEDICATION,
        title="Advil para el dolor de cabeza",
        medication_name="Advil",
        dose="200 mg",
        ingredients=["ibuprofen"],
        prescriber_name="Urgent Care Salem",
        why_it_matters="Para el dolor de cabeza.",
        area=Area.MEDICINES,
        discipline=Discipline.PHARMACY,
        source_organization_id=pharmacy.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["nurse"],
        kind=ItemKind.APPOINTMENT,
        title="Cita de control de diabetes",
        starts_at=at(p, 1, 10),
        location="Riverbend Family Clinic, 120 Main St, Salem",
        with_whom="Dr. Samuel Okafor",
        interpreter_booked=True,
        preparation="Traiga sus medicinas y su medidor de azúcar. No coma 8 horas antes.",
        why_it_matters="Revisamos su azúcar y ajustamos el plan juntos.",
        area=Area.PHYSICAL_HEALTH,
        discipline=Discipline.PRIMARY_CARE,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=nurse.id,
    )
    _add(
        p,
        users["doctor"],
        kind=ItemKind.TEST,
        title="Análisis de sangre A1c",
        code="4548-4",
        code_system="LOINC",
        ordering_member_id=doctor.id,
        ordered_on=utcnow().date() - timedelta(days=3),
        due_date=utcnow().date() + timedelta(days=2),
        why_it_matters="Muestra su azúcar promedio de los últimos 3 meses.",
        area=Area.PHYSICAL_HEALTH,
        discipline=Discipline.PRIMARY_CARE,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["nurse"],
        kind=ItemKind.TASK,
        title="Caminar 20 minutos después de cenar",
        schedule=Schedule.DAILY,
        why_it_matters="Caminar baja el azúcar y le da energía.",
        area=Area.DAILY_LIVING,
        discipline=Discipline.NURSING,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["nurse"],
        kind=ItemKind.TASK,
        title="Revisar sus pies",
        schedule=Schedule.WEEKLY,
        weekday=6,
        why_it_matters="Así notamos heridas a tiempo.",
        area=Area.DAILY_LIVING,
        discipline=Discipline.NURSING,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["chw"],
        kind=ItemKind.REFERRAL,
        title="Caja de alimentos cada semana",
        referred_to="Banco de Alimentos Marion-Polk",
        referral_need=ReferralNeed.FOOD,
        referral_status=ReferralStatus.CONTACTED,
        why_it_matters="Comida sana cada semana ayuda a controlar la diabetes.",
        area=Area.HOME_FOOD_TRANSPORT,
        discipline=Discipline.SOCIAL_SERVICES,
        source_organization_id=social.id,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=chw.id,
    )
    _add(
        p,
        users["nurse"],
        kind=ItemKind.EDUCATION,
        title="Clase: comer bien con diabetes",
        resource_url="https://www.cdc.gov/diabetes/es/",
        details="Video de 10 minutos.",
        why_it_matters="Aprender a elegir comidas le da más control.",
        area=Area.DAILY_LIVING,
        discipline=Discipline.NURSING,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["therapist"],
        kind=ItemKind.APPOINTMENT,
        title="Sesión de consejería",
        starts_at=at(p, 3, 15),
        location="Cascade Behavioral Health (video)",
        with_whom="Leah Cohen",
        interpreter_booked=True,
        why_it_matters="Hablar del estrés ayuda con la salud.",
        area=Area.EMOTIONAL_HEALTH,
        discipline=Discipline.BEHAVIORAL_HEALTH,
        source_organization_id=orgs["Cascade Behavioral Health"].id,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=members["therapist"].id,
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )


def _james(p, users, members, orgs):
    clinic, heart = orgs["Riverbend Family Clinic"], orgs["Salem Heart and Vascular"]
    doctor, cardiologist = members["doctor"], members["cardiologist"]
    _add(
        p,
        users["cardiologist"],
        kind=ItemKind.MEDICATION,
        title="Take your blood thinner",
        medication_name="Apixaban",
        dose="5 mg twice a day",
        ingredients=["apixaban"],
        prescriber_member_id=cardiologist.id,
        why_it_matters="It lowers the chance of a stroke from your irregular heartbeat.",
        area=Area.MEDICINES,
        discipline=Discipline.SPECIALTY,
        source_organization_id=heart.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["doctor"],
        kind=ItemKind.TEST,
        title="Cholesterol blood test",
        code="57698-3",
        code_system="LOINC",
        ordering_member_id=doctor.id,
        ordered_on=utcnow().date() - timedelta(days=10),
        due_date=utcnow().date() + timedelta(days=4),
        why_it_matters="It tells us if your heart medicines are working.",
        area=Area.PHYSICAL_HEALTH,
        discipline=Discipline.PRIMARY_CARE,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["cardiologist"],
        kind=ItemKind.TEST,
        title="Lipid panel",
        code="57698-3",
        code_system="LOINC",
        ordering_member_id=cardiologist.id,
        ordered_on=utcnow().date() - timedelta(days=2),
        why_it_matters="Checks your cholesterol before your heart visit.",
        area=Area.PHYSICAL_HEALTH,
        discipline=Discipline.SPECIALTY,
        source_organization_id=heart.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["nurse"],
        kind=ItemKind.APPOINTMENT,
        title="Heart check-up",
        starts_at=at(p, 2, 9, 30),
        location="Salem Heart and Vascular, 890 Center St",
        with_whom="Dr. Henry Walsh",
        interpreter_booked=False,
        preparation="Bring your list of medicines. Ana can come with you.",
        why_it_matters="We check your heart rhythm and your blood thinner.",
        area=Area.PHYSICAL_HEALTH,
        discipline=Discipline.SPECIALTY,
        source_organization_id=heart.id,
        owner_kind=OwnerKind.CAREGIVER,
        owner_caregiver_id=users["ana"].id,
    )
    _add(
        p,
        users["nurse"],
        kind=ItemKind.TASK,
        title="Weigh yourself every morning",
        schedule=Schedule.DAILY,
        why_it_matters="Quick weight gain can mean fluid build-up.",
        area=Area.DAILY_LIVING,
        discipline=Discipline.NURSING,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["nurse"],
        kind=ItemKind.TASK,
        title="Fill the weekly pill box",
        schedule=Schedule.WEEKLY,
        weekday=6,
        why_it_matters="So no dose is missed.",
        area=Area.MEDICINES,
        discipline=Discipline.NURSING,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.CAREGIVER,
        owner_caregiver_id=users["ana"].id,
    )
    _add(
        p,
        users["chw"],
        kind=ItemKind.REFERRAL,
        title="Rides to medical visits",
        referred_to="Cherriots LIFT paratransit",
        referral_need=ReferralNeed.TRANSPORT,
        referral_status=ReferralStatus.SENT,
        why_it_matters="So you never miss a visit for lack of a ride.",
        area=Area.HOME_FOOD_TRANSPORT,
        discipline=Discipline.SOCIAL_SERVICES,
        source_organization_id=orgs["Community Connections"].id,
        owner_kind=OwnerKind.ORGANIZATION,
        owner_organization_id=orgs["Community Connections"].id,
    )
    _add(
        p,
        users["therapist"],
        kind=ItemKind.APPOINTMENT,
        title="Grief support session",
        starts_at=at(p, 4, 14),
        location="Cascade Behavioral Health",
        with_whom="Leah Cohen",
        why_it_matters="Talking helps after losing your wife.",
        area=Area.EMOTIONAL_HEALTH,
        discipline=Discipline.BEHAVIORAL_HEALTH,
        source_organization_id=orgs["Cascade Behavioral Health"].id,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=members["therapist"].id,
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    _add(
        p,
        users["nurse"],
        kind=ItemKind.EDUCATION,
        title="Living with atrial fibrillation",
        resource_url="https://www.heart.org/en/health-topics/atrial-fibrillation",
        why_it_matters="Knowing the warning signs keeps you safe.",
        area=Area.PHYSICAL_HEALTH,
        discipline=Discipline.NURSING,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )


def _leo(p, users, members, orgs):
    dental, clinic = orgs["Valley Smiles Dental"], orgs["Riverbend Family Clinic"]
    _add(
        p,
        users["dentist"],
        kind=ItemKind.APPOINTMENT,
        title="Dental cleaning and sealants",
        starts_at=at(p, 5, 16),
        location="Valley Smiles Dental, 45 Court St",
        with_whom="Dr. Grace Kim",
        preparation="Brush your teeth before you come.",
        why_it_matters="Sealants protect your back teeth from cavities.",
        area=Area.TEETH,
        discipline=Discipline.DENTAL,
        source_organization_id=dental.id,
        owner_kind=OwnerKind.CAREGIVER,
        owner_caregiver_id=users["rosa"].id,
    )
    _add(
        p,
        users["doctor"],
        kind=ItemKind.MEDICATION,
        title="Asthma inhaler before soccer",
        medication_name="Albuterol inhaler",
        dose="2 puffs 15 minutes before exercise",
        ingredients=["albuterol"],
        prescriber_member_id=members["doctor"].id,
        why_it_matters="It keeps your airways open so you can play.",
        area=Area.MEDICINES,
        discipline=Discipline.PRIMARY_CARE,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
    )
    _add(
        p,
        users["therapist"],
        kind=ItemKind.APPOINTMENT,
        title="Counseling check-in",
        starts_at=at(p, 6, 15, 30),
        location="Cascade Behavioral Health",
        with_whom="Leah Cohen",
        why_it_matters="A private place to talk about anything.",
        area=Area.EMOTIONAL_HEALTH,
        discipline=Discipline.BEHAVIORAL_HEALTH,
        source_organization_id=orgs["Cascade Behavioral Health"].id,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=members["therapist"].id,
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    _add(
        p,
        users["doctor"],
        kind=ItemKind.TASK,
        title="Use your controller inhaler",
        schedule=Schedule.DAILY,
        why_it_matters="It calms your lungs day after day.",
        area=Area.DAILY_LIVING,
        discipline=Discipline.PRIMARY_CARE,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.PATIENT,
        status=ItemStatus.ACTIVE,
    )
