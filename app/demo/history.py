"""Twelve weeks of the demo CCO's past, so the measures dashboard (/measures) tells a story.

Eighteen neighbours of the demo patients (no demo login: their accounts are on
HISTORY_DOMAIN) with the care team's past work: conversations answered within their topic's
target or late (several late ones of the demo nurse's patients, one with only an internal
note for days), portal invitations and first sign-ins in seven languages, plan updates (five
plans not reviewed in 90 days), goals in the patient's words (some reached), shared decisions
made, appointment reminder texts with their final delivery status, a confirmation by text and
one STOP, past appointments with attendance (more missed among those not reminded), duplicate
tests cancelled and medicine conflicts settled, caregivers' visits, and social needs
screenings with a referral at each step of the loop.

Everything is over: threads resolved and read by the patient, texts delivered or not (never
queued), appointments in the past with attendance recorded, referrals sent or further, so
nothing new appears on anyone's Home, badges, inbox lanes or outbox today. Dates are relative
to the seed's clock (`utcnow()`), and the same seed gives the same past (random.Random(18)).

Messages go through the messaging services with `now=` (so ResponseTime rows are the real
ones); where a service has no past time, the rows it would write are written with the
past time. Idempotent: nothing is done when the first neighbour exists. Adds and flushes only.
"""

# The patients write in their own languages (Cyrillic, full-width marks are theirs).
# ruff: noqa: RUF001

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.auth.models import AccountToken, Role, TokenPurpose, User, UserSession
from app.auth.services import create_account
from app.caregivers.models import CaregiverGrant, GrantKind, Relation
from app.caregivers.models import Scope as GrantScope
from app.careplan.decisions.models import (
    Decision,
    DecisionEntry,
    DecisionEntryKind,
    DecisionOption,
    DecisionStatus,
)
from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.items.models import (
    Area,
    Attendance,
    FlagKind,
    FlagResolution,
    FlagStatus,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanFlag,
    PlanItem,
    ReferralStatus,
)
from app.careplan.models import ChangeKind, ChangeSubject, PlanChange
from app.core import audit
from app.core.db import utcnow
from app.core.privacy import Actor, Capacity, acting_as
from app.demo.accounts import Demo
from app.demo.screening import NOTHING_FOUND
from app.extensions import db
from app.messaging import services as messaging
from app.messaging import workqueue
from app.messaging.models import ThreadStatus, Topic
from app.patients.models import Patient, PatientPreferences
from app.screening import services as screening
from app.screening.models import ScreeningReferral
from app.team.models import CareTeamAssignment
from app.texting import bodies
from app.texting.links import short_link
from app.texting.models import InboundSms, OutboundSms, PhoneOptOut

HISTORY_DOMAIN = "history.carecircle.test"
SEED = 18
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Neighbour:
    key: str
    given: str
    family: str
    language: str
    born: date
    #: Invited this many days ago (more than 84: before the dashboard's default range).
    invited_days: int
    #: Signed in this many days after the invitation (None: not yet).
    signed_in_after: int | None
    on_nurse_panel: bool
    phone: str | None
    #: The portal language saved on their account, when not their own (language access).
    portal_locale: str | None = None


NEIGHBOURS = [
    Neighbour("rivera", "Carmen", "Rivera", "es", date(1961, 5, 2), 240, 1, True, "+15035550201"),
    Neighbour("nguyen", "Thao", "Nguyễn", "vi", date(1955, 9, 19), 300, 2, True, "+15035550202"),
    Neighbour("brooks", "Dale", "Brooks", "en", date(1949, 1, 7), 200, 0, True, "+15035550203"),
    Neighbour("ivanova", "Olga", "Ivanova", "ru", date(1958, 11, 30), 180, 3, True, None),
    Neighbour("hassan", "Amina", "Hassan", "so", date(1984, 2, 14), 260, 1, True, "+15035550205"),
    Neighbour("chen", "Wei", "Chen", "zh", date(1970, 7, 4), 220, 0, False, "+15035550206"),
    Neighbour("reed", "Tanya", "Reed", "en", date(1990, 3, 22), 150, 2, False, "+15035550207"),
    Neighbour(
        "farah", "Hodan", "Farah", "so", date(1977, 8, 8), 210, 1, False, "+15035550208", "en"
    ),
    Neighbour("morales", "Luis", "Morales", "es", date(1966, 12, 1), 80, 1, True, "+15035550209"),
    Neighbour("tran", "Minh Anh", "Trần", "vi", date(1992, 6, 16), 74, 4, False, "+15035550210"),
    Neighbour("haddad", "Rania", "Haddad", "ar", date(1981, 4, 27), 66, 2, True, "+15035550211"),
    Neighbour("walker", "Gene", "Walker", "en", date(1952, 10, 9), 59, None, True, None),
    Neighbour(
        "ortiz", "Rosa Elena", "Ortiz", "es", date(1988, 1, 30), 52, 6, False, "+15035550213"
    ),
    Neighbour("petrov", "Ivan", "Petrov", "ru", date(1963, 5, 5), 45, 1, False, "+15035550214"),
    Neighbour("liu", "Mei", "Liu", "zh", date(1975, 9, 12), 38, 12, True, "+15035550215"),
    Neighbour("ali", "Yusuf", "Ali", "so", date(1995, 2, 3), 31, None, False, "+15035550216"),
    Neighbour("young", "Pat", "Young", "en", date(1958, 4, 18), 24, 1, True, "+15035550217"),
    Neighbour("garcia", "Ana Sofía", "García", "es", date(1999, 11, 11), 10, None, True, None),
]

#: Who answers each topic, what the patient asks (in their own language) and the answer
#: (written in English, the same for everyone).
QUESTIONS = {
    Topic.MEDICATION: (
        "pharmacist",
        {
            "en": ("Refill question", "Can I get my refill a few days early? I travel Friday."),
            "es": ("Pregunta de medicina", "¿Puedo tomar esta pastilla con el café?"),
            "vi": ("Hỏi về thuốc", "Tôi có thể uống thuốc này trước khi ăn không?"),
            "ru": ("Вопрос о лекарстве", "Можно ли пить это лекарство вечером?"),
            "zh": ("用药问题", "这个药可以饭前吃吗？"),
            "ar": ("سؤال عن الدواء", "هل أستطيع أن آخذ الدواء قبل الأكل؟"),
            "so": ("Su'aal daawo", "Ma qaadan karaa daawada ka hor cuntada?"),
        },
        "Yes, that is fine. Call the pharmacy if anything changes.",
    ),
    Topic.APPOINTMENT: (
        "nurse",
        {
            "en": ("Changing my visit", "Can I move my visit to the afternoon?"),
            "es": ("Cambiar mi cita", "¿Puedo cambiar mi cita para la tarde?"),
            "vi": ("Đổi lịch hẹn", "Tôi có thể đổi lịch hẹn sang buổi chiều không?"),
            "ru": ("Перенести приём", "Можно перенести приём на после обеда?"),
            "zh": ("改预约时间", "我可以把预约改到下午吗？"),
            "ar": ("تغيير الموعد", "هل يمكن نقل موعدي إلى بعد الظهر؟"),
            "so": ("Beddel ballanta", "Ma u wareejin karaa ballantayda galabta?"),
        },
        "Done: your visit is now in the afternoon. See you then.",
    ),
    Topic.SYMPTOMS: (
        "nurse",
        {
            "en": ("Dizzy this morning", "I felt dizzy when I stood up this morning."),
            "es": ("Mareo en la mañana", "Me sentí mareada al levantarme esta mañana."),
            "vi": ("Chóng mặt", "Sáng nay tôi thấy chóng mặt khi đứng dậy."),
            "ru": ("Кружится голова", "Утром закружилась голова, когда я встала."),
            "zh": ("头晕", "我今天早上站起来的时候头晕。"),
            "ar": ("دوخة في الصباح", "شعرت بدوخة عندما وقفت هذا الصباح."),
            "so": ("Dawakh subaxnimo", "Waxaan dareemay dawakh markaan istaagay subaxdan."),
        },
        "Thanks for telling us. Drink water, stand up slowly, and call if it comes back.",
    ),
    Topic.CARE_PLAN: (
        "nurse",
        {
            "en": ("My walking goal", "Can we change my walking goal to 20 minutes?"),
            "es": ("Mi meta de caminar", "¿Podemos cambiar mi meta a 20 minutos?"),
            "vi": ("Mục tiêu đi bộ", "Chúng ta có thể đổi mục tiêu thành 20 phút không?"),
            "ru": ("Моя цель", "Можно изменить мою цель на 20 минут ходьбы?"),
            "zh": ("走路目标", "可以把我的走路目标改成20分钟吗？"),
            "ar": ("هدف المشي", "هل يمكن تغيير هدف المشي إلى 20 دقيقة؟"),
            "so": ("Hadafka socodka", "Ma beddeli karnaa hadafkayga socodka 20 daqiiqo?"),
        },
        "Good idea. I changed it in your plan.",
    ),
    Topic.SOCIAL_NEEDS: (
        "chw",
        {
            "en": ("Help with food", "Money is short this month. Is there a food bank near me?"),
            "es": ("Ayuda con comida", "Este mes no alcanza el dinero. ¿Hay comida cerca?"),
            "vi": ("Giúp về thực phẩm", "Tháng này tôi thiếu tiền. Có nơi phát đồ ăn không?"),
            "ru": ("Помощь с едой", "В этом месяце не хватает денег. Где можно получить еду?"),
            "zh": ("食物帮助", "这个月钱不够。附近有食物银行吗？"),
            "ar": ("مساعدة في الطعام", "المال قليل هذا الشهر. هل يوجد بنك طعام قريب؟"),
            "so": ("Caawimo cunto", "Lacagtu way yar tahay bishan. Ma jiraa bangi cunto?"),
        },
        "Yes: Marion County Food Share is open Tuesday and Friday. I can drive you.",
    ),
}

#: Each week has these questions (topic, late?); the late ones of the nurse's topics go to
#: her patients, so her "Answered late" lists them.
WEEK_PLAN = [
    [(Topic.SYMPTOMS, True), (Topic.MEDICATION, False), (Topic.APPOINTMENT, False)],
    [(Topic.CARE_PLAN, False), (Topic.MEDICATION, False), (Topic.SYMPTOMS, False)],
    [(Topic.APPOINTMENT, True), (Topic.SOCIAL_NEEDS, False), (Topic.SYMPTOMS, False)],
    [(Topic.MEDICATION, True), (Topic.CARE_PLAN, False), (Topic.APPOINTMENT, False)],
    [(Topic.SYMPTOMS, False), (Topic.APPOINTMENT, False), (Topic.MEDICATION, False)],
    [(Topic.CARE_PLAN, True), (Topic.SOCIAL_NEEDS, False), (Topic.SYMPTOMS, False)],
    [(Topic.SYMPTOMS, False), (Topic.MEDICATION, False), (Topic.APPOINTMENT, False)],
    [(Topic.APPOINTMENT, True), (Topic.CARE_PLAN, False), (Topic.MEDICATION, False)],
    [(Topic.MEDICATION, False), (Topic.SYMPTOMS, True), (Topic.SOCIAL_NEEDS, True)],
    [(Topic.CARE_PLAN, False), (Topic.APPOINTMENT, False), (Topic.SYMPTOMS, False)],
    [(Topic.SYMPTOMS, False), (Topic.MEDICATION, False), (Topic.CARE_PLAN, False)],
    [(Topic.APPOINTMENT, False), (Topic.MEDICATION, False), (Topic.SYMPTOMS, False)],
]


class History:
    """The seed's clock, random numbers and the people the past is about."""

    def __init__(self, demo: Demo, password_hash: str):
        self.demo = demo
        self.password_hash = password_hash
        self.now = utcnow().replace(microsecond=0)
        self.rng = random.Random(SEED)
        self.patients: dict[str, Patient] = {}
        self.users: dict[str, User] = {}
        self.specs = {n.key: n for n in NEIGHBOURS}
        self._serial = 0

    def ago(self, days: float, hours: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def serial(self) -> int:
        self._serial += 1
        return self._serial

    def member(self, key: str):
        return self.demo.members[key]

    def staff(self, key: str) -> User:
        return self.demo.users[key]

    def signed_in_at(self, key: str) -> datetime | None:
        spec = self.specs[key]
        if spec.signed_in_after is None:
            return None
        return self.ago(spec.invited_days - spec.signed_in_after, 3)


def seed(demo: Demo, password_hash: str) -> None:
    first = NEIGHBOURS[0]
    if (
        db.session.scalar(sa.select(User.id).where(User.email == f"{first.key}@{HISTORY_DOMAIN}"))
        is not None
    ):
        return
    h = History(demo, password_hash)
    _neighbours(h)
    _plans(h)
    _goals(h)
    _decisions(h)
    _threads(h)
    _appointments(h)
    _flags(h)
    _caregivers(h)
    _screenings(h)
    db.session.flush()


# ------------------------------------------------------------------ people, invitations


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _neighbours(h: History) -> None:
    """Each neighbour's account, invitation, first and later sign-ins, and care team (the
    nurse coordinates half of them)."""
    cco = h.demo.orgs["Willamette Valley Care Partners"]
    for n, spec in enumerate(NEIGHBOURS):
        user = create_account(
            email=f"{spec.key}@{HISTORY_DOMAIN}",
            full_name=f"{spec.given} {spec.family}",
            role=Role.PATIENT,
            locale=spec.portal_locale or spec.language,
            password_hash=h.password_hash,
        )
        invited = h.ago(spec.invited_days, 5)
        user.created_at = user.updated_at = invited
        patient = Patient(
            member_number=f"WVCP-2{n:05d}",
            user_id=user.id,
            given_name=spec.given,
            family_name=spec.family,
            date_of_birth=spec.born,
            language=spec.language,
            interpreter_needed=spec.language != "en",
            timezone="America/Los_Angeles",
            mobile_phone=spec.phone,
            organization_id=cco.id,
        )
        db.session.add(patient)
        db.session.flush()
        patient.created_at = patient.updated_at = h.ago(400 + n)
        db.session.add(
            PatientPreferences(
                patient_id=patient.id,
                # The portal only: the team's answers wait there (no text or email today).
                contact_channels=["portal"],
                reminder_lead_hours=[24],
                created_at=h.ago(400 + n),
                updated_at=h.ago(400 + n),
            )
        )
        h.patients[spec.key], h.users[spec.key] = patient, user
        team = ["doctor", "pharmacist", "chw"] + (["nurse"] if spec.on_nurse_panel else [])
        for key in team:
            db.session.add(
                CareTeamAssignment(
                    patient_id=patient.id,
                    member_id=h.member(key).id,
                    is_coordinator=key == ("nurse" if spec.on_nurse_panel else "doctor"),
                    added_at=h.ago(390 + n),
                )
            )
        db.session.add(
            AccountToken(
                user_id=user.id,
                purpose=TokenPurpose.INVITATION,
                secret_hash=_digest(f"history-invitation-{spec.key}"),
                created_at=invited,
                expires_at=invited + 14 * DAY,
                used_at=h.signed_in_at(spec.key),
                created_by_id=h.staff("admin").id,
            )
        )
        first = h.signed_in_at(spec.key)
        if first is None:
            continue
        # Signed in about every ten days since (a session of a quarter of an hour, ended).
        visit, number = first, 0
        while visit < h.ago(1):
            number += 1
            db.session.add(
                UserSession(
                    token_hash=_digest(f"history-session-{spec.key}-{number}"),
                    user_id=user.id,
                    created_at=visit,
                    last_seen_at=visit + timedelta(minutes=15),
                    expires_at=visit + 12 * HOUR,
                    ended_at=visit + timedelta(minutes=16),
                    end_reason="logout",
                )
            )
            visit += timedelta(days=h.rng.randint(6, 12), hours=h.rng.randint(-3, 3))
    db.session.flush()


# ------------------------------------------------------------------ plans


def _item(h: History, key: str, at: datetime, by: str, **fields) -> PlanItem:
    """A plan item added by a team member at `at`, with its "What changed" row."""
    patient = h.patients[key]
    member = h.member(by)
    values = {
        "discipline": member.discipline,
        "source_organization_id": member.organization_id,
        "owner_kind": OwnerKind.PATIENT,
        "area": Area.PHYSICAL_HEALTH,
        "status": ItemStatus.ACTIVE,
        "content_language": "en",
        "created_by_id": h.staff(by).id,
        **fields,
    }
    item = PlanItem(patient_id=patient.id, created_at=at, updated_at=at, **values)
    db.session.add(item)
    db.session.flush()
    _change(h, key, item, ChangeKind.ADDED, at, by)
    return item


def _change(
    h: History, key: str, item: PlanItem, change: ChangeKind, at: datetime, by: str, fields=None
) -> None:
    db.session.add(
        PlanChange(
            patient_id=h.patients[key].id,
            subject=ChangeSubject.ITEM,
            subject_id=item.id,
            change=change,
            title=item.title,
            fields=fields,
            actor_id=h.staff(by).id,
            capacity="care_team",
            occurred_at=at,
        )
    )


#: Medicines in everyone's plan (name, dose, ingredient).
MEDICINES = [
    ("Lisinopril", "10 mg once a day", "lisinopril"),
    ("Metformin", "500 mg twice a day", "metformin"),
    ("Atorvastatin", "20 mg at bedtime", "atorvastatin"),
    ("Sertraline", "50 mg once a day", "sertraline"),
    ("Amlodipine", "5 mg once a day", "amlodipine"),
]
#: Plans the team has not touched in 90 days (the "Not reviewed" drill-down).
NOT_REVIEWED = ("ivanova", "walker", "farah", "petrov", "garcia")


def _plans(h: History) -> None:
    """Each neighbour's medicines, added long ago by the doctor; the team's later updates at
    varied dates (a dose changed), none in the last 90 days for a few."""
    for n, spec in enumerate(NEIGHBOURS):
        name, dose, ingredient = MEDICINES[n % len(MEDICINES)]
        item = _item(
            h,
            spec.key,
            h.ago(380 - n),
            "doctor",
            kind=ItemKind.MEDICATION,
            title=name,
            area=Area.MEDICINES,
            medication_name=name,
            dose=dose,
            ingredients=[ingredient],
            prescriber_member_id=h.member("doctor").id,
        )
        if spec.key in NOT_REVIEWED:
            when = h.ago(100 + 4 * n)
        else:
            when = h.ago(3 + (n * 5) % 80, h.rng.randint(0, 8))
        item.updated_at = when
        _change(
            h, spec.key, item, ChangeKind.CHANGED, when, h.rng.choice(("doctor", "nurse")), ["dose"]
        )
    db.session.flush()


# ------------------------------------------------------------------ goals


GOALS = {
    "en": "Walk to the mailbox and back every day",
    "es": "Caminar 20 minutos después de cenar",
    "vi": "Đi bộ 20 phút mỗi sáng",
    "ru": "Гулять 20 минут каждый день",
    "zh": "每天散步20分钟",
    "ar": "المشي 20 دقيقة كل يوم",
    "so": "Socod 20 daqiiqo maalin kasta",
}
#: Who reached their goal, this many days ago.
REACHED = {"rivera": 60, "brooks": 33, "chen": 18, "reed": 75, "haddad": 9}


def _goals(h: History) -> None:
    """A goal in the patient's own words for most neighbours, set at varied dates; five
    reached (a check-in that says so, then the goal completed)."""
    for n, spec in enumerate(NEIGHBOURS):
        if spec.signed_in_after is None or n % 6 == 5:
            continue
        patient, user = h.patients[spec.key], h.users[spec.key]
        start = h.signed_in_at(spec.key) + DAY
        goal = Goal(
            patient_id=patient.id,
            description=GOALS[spec.language],
            content_language=spec.language,
            start_date=start.date(),
            lifecycle_status=GoalLifecycle.ACTIVE,
            achievement_status=GoalAchievement.IN_PROGRESS,
            expressed_by_id=user.id,
            expressed_by_capacity="patient",
            created_at=start,
            updated_at=start,
        )
        db.session.add(goal)
        db.session.flush()
        _goal_change(h, spec.key, goal, ChangeKind.ADDED, start)
        days = REACHED.get(spec.key)
        if days is None or h.ago(days) <= start:
            continue
        reached = h.ago(days, 2)
        db.session.add(
            GoalCheckIn(
                goal_id=goal.id,
                achievement_status=GoalAchievement.ACHIEVED,
                recorded_by_id=user.id,
                capacity="patient",
                recorded_at=reached,
            )
        )
        goal.achievement_status = GoalAchievement.ACHIEVED
        goal.lifecycle_status = GoalLifecycle.COMPLETED
        goal.updated_at = reached
        _goal_change(h, spec.key, goal, ChangeKind.COMPLETED, reached)
    db.session.flush()


def _goal_change(h: History, key: str, goal: Goal, change: ChangeKind, at: datetime) -> None:
    db.session.add(
        PlanChange(
            patient_id=h.patients[key].id,
            subject=ChangeSubject.GOAL,
            subject_id=goal.id,
            change=change,
            title=goal.description,
            actor_id=h.users[key].id,
            capacity="patient",
            occurred_at=at,
        )
    )


# ------------------------------------------------------------------ shared decisions


DECISIONS = [
    # (who, opened days ago, decided days ago, question, options)
    ("brooks", 110, 70, "How do you want to treat your knee pain?", ("Physical therapy", "A shot")),
    ("chen", 100, 52, "Start a statin now, or try diet changes first?", ("Statin", "Diet first")),
    ("reed", 95, 38, "Which birth control fits your life best?", ("The pill", "An implant")),
    ("rivera", 90, 24, "Insulin now, or one more medicine first?", ("Insulin", "Medicine")),
    ("nguyen", 85, 11, "Hearing aids or wait and check again?", ("Hearing aids", "Wait")),
    ("hassan", 30, 4, "Sleep help: therapy or medicine?", ("Therapy", "Medicine")),
]


def _decisions(h: History) -> None:
    """Shared decisions opened by the doctor and decided together at varied dates."""
    doctor = h.staff("doctor")
    for key, opened_days, decided_days, question, titles in DECISIONS:
        opened, decided = h.ago(opened_days, 4), h.ago(decided_days, 3)
        decision = Decision(
            patient_id=h.patients[key].id,
            question=question,
            status=DecisionStatus.DECIDED,
            opened_by_id=doctor.id,
            decided_by_id=doctor.id,
            decided_at=decided,
            created_at=opened,
            updated_at=decided,
        )
        db.session.add(decision)
        db.session.flush()
        options = [
            DecisionOption(
                decision_id=decision.id,
                position=i,
                title=title,
                benefits="-",
                risks="-",
                day_to_day="-",
            )
            for i, title in enumerate(titles)
        ]
        db.session.add_all(options)
        db.session.flush()
        decision.preferred_option_id = decision.final_option_id = options[0].id
        user = h.users[key]
        for kind, option, author, capacity, at in (
            (DecisionEntryKind.OPENED, None, doctor, "care_team", opened),
            (DecisionEntryKind.PREFERENCE, options[0], user, "patient", decided - 2 * DAY),
            (DecisionEntryKind.FINAL, options[0], doctor, "care_team", decided),
        ):
            db.session.add(
                DecisionEntry(
                    decision_id=decision.id,
                    kind=kind,
                    option_id=option.id if option else None,
                    author_id=author.id,
                    capacity=capacity,
                    created_at=at,
                )
            )
        for change, at in ((ChangeKind.ADDED, opened), (ChangeKind.COMPLETED, decided)):
            db.session.add(
                PlanChange(
                    patient_id=decision.patient_id,
                    subject=ChangeSubject.DECISION,
                    subject_id=decision.id,
                    change=change,
                    title=question,
                    actor_id=doctor.id,
                    capacity="care_team",
                    occurred_at=at,
                )
            )
    db.session.flush()


# ------------------------------------------------------------------ conversations


def _target(topic: Topic) -> timedelta:
    return timedelta(hours=current_app.config["MESSAGE_RESPONSE_HOURS"][topic.value])


def _threads(h: History) -> None:
    """Closed conversations of the last twelve weeks, each answered by its topic's team after
    a wait within the target or past it, resolved and read by the patient."""
    rng = h.rng
    with_login = [n.key for n in NEIGHBOURS if n.signed_in_after is not None]
    nurse_side = [k for k in with_login if h.specs[k].on_nurse_panel]
    internal_note_done = False
    for week, questions in enumerate(WEEK_PLAN):
        for index, (topic, late) in enumerate(questions):
            asked = h.ago(82 - week * 7 - index * 2, rng.randint(0, 9) - 12)
            responder, texts, answer = QUESTIONS[topic]
            nurse_topic = responder == "nurse"
            pool = nurse_side if (late and nurse_topic) or rng.random() < 0.5 else with_login
            pool = [k for k in pool if h.signed_in_at(k) < asked]
            key = pool[rng.randrange(len(pool))]
            spec, patient, user = h.specs[key], h.patients[key], h.users[key]
            if nurse_topic and not spec.on_nurse_panel:
                responder = "doctor"  # symptoms, plan and visits go to primary care too
            target = _target(topic)
            share = rng.uniform(1.3, 3.0) if late else rng.uniform(0.1, 0.85)
            answered = asked + target * share
            if answered > h.ago(1):
                answered = h.ago(1, 2)
            subject, body = texts[spec.language]
            thread = messaging.start_thread(
                patient_id=patient.id,
                topic=topic,
                subject=subject,
                body=body,
                author_id=user.id,
                capacity="patient",
                now=asked,
            )
            staff = h.staff(responder)
            if late and nurse_topic and not internal_note_done and responder == "nurse":
                # Only an internal note at first: the question still waited past its target.
                internal_note_done = True
                messaging.add_message(
                    thread,
                    body="Called her, no answer. Will try again tomorrow.",
                    author_id=staff.id,
                    capacity="care_team",
                    internal=True,
                    now=asked + target * 0.5,
                )
            messaging.add_message(
                thread, body=answer, author_id=staff.id, capacity="care_team", now=answered
            )
            # Marked resolved by the team, then read by the patient: closed, nothing waits.
            thread.status = ThreadStatus.RESOLVED
            thread.resolved_at = answered + 2 * HOUR
            thread.resolved_by_id = staff.id
            thread.awaiting_since = thread.due_at = None
            db.session.flush()
            workqueue.sync_threads([thread.id])
            messaging.mark_read(thread.id, user.id, answered + 5 * HOUR)
    db.session.flush()


# ------------------------------------------------------------------ appointments, texts


VISITS = [
    ("Check-up with Dr. Okafor", "doctor", "Riverbend Family Clinic, 1200 River Rd, Salem"),
    ("Nurse visit: blood pressure", "nurse", "Riverbend Family Clinic, 1200 River Rd, Salem"),
    ("Medicine review with Dev", "pharmacist", "Hillside Community Pharmacy"),
]
#: Text outcomes in turn (most delivered).
OUTCOMES = ["delivered"] * 8 + ["undelivered", "delivered", "failed", "delivered"]
#: The neighbour who texted STOP, and how many days ago.
STOPPED = ("ortiz", 40)


def _appointments(h: History) -> None:
    """About three past appointments a week with the attendance the team recorded; a
    reminder text the day before for those who take texts (final delivery status), a
    confirmation by text, one STOP; more missed among those not reminded."""
    rng = h.rng
    keys = [n.key for n in NEIGHBOURS]
    stop_key, stop_days = STOPPED
    stop_at = h.ago(stop_days, 6)
    for number, day in enumerate(range(82, 2, -2), start=1):
        key = keys[(day * 7) % len(keys)]
        spec = h.specs[key]
        title, by, location = VISITS[number % len(VISITS)]
        # 9 a.m. to 2 p.m. in Oregon.
        starts = h.ago(day).replace(hour=16 + number % 6, minute=0, second=0)
        item = _item(
            h,
            key,
            starts - 21 * DAY,
            by,
            kind=ItemKind.APPOINTMENT,
            title=title,
            location=location,
            with_whom=h.demo.users[by].full_name,
            starts_at=starts,
            owner_kind=OwnerKind.TEAM_MEMBER,
            owner_member_id=h.member(by).id,
        )
        sms = None
        sent = starts - DAY
        opted_out = key == stop_key and sent > stop_at
        if spec.phone and not opted_out and number % 4 != 0:
            status = OUTCOMES[number % len(OUTCOMES)]
            with_user = h.users[key]
            sms = OutboundSms(
                created_at=sent - timedelta(minutes=1),
                to_number=spec.phone,
                user_id=with_user.id,
                patient_id=h.patients[key].id,
                purpose="appointment",
                locale=spec.language,
                body=bodies.appointment(
                    locale=spec.language,
                    link=short_link(f"/patients/{h.patients[key].id}/plan/{item.id}"),
                    when_at=starts,
                    zone="America/Los_Angeles",
                    detailed=False,
                ),
                send_after=sent,
                status=status,
                sent_at=sent,
                provider_sid=f"SMhistory{number:06d}",
                error_code={"undelivered": "30003", "failed": "30006"}.get(status),
                attempts=1,
                plan_item_id=item.id,
                reminder_key=f"history:{item.id}:24",
            )
            db.session.add(sms)
        delivered = sms is not None and sms.status == "delivered"
        missed = rng.random() < (0.08 if delivered else 0.3)
        if delivered and number % 5 == 1:
            confirmed = sent + 40 * timedelta(minutes=1)
            item.patient_confirmed_at = confirmed
            db.session.add(
                InboundSms(
                    message_sid=f"SMhistoryin{number:06d}",
                    from_number=spec.phone,
                    patient_id=h.patients[key].id,
                    handled_as="confirm",
                    received_at=confirmed,
                )
            )
            missed = False
        item.status = ItemStatus.COMPLETED
        item.attendance = Attendance.NO_SHOW if missed else Attendance.ATTENDED
        item.attendance_recorded_at = starts + 3 * HOUR
        item.updated_at = starts + 3 * HOUR
        _change(h, key, item, ChangeKind.COMPLETED, starts + 3 * HOUR, by, ["status"])
    # One STOP: she asked for no more texts (her number stays off every text).
    spec = h.specs[stop_key]
    db.session.add(
        InboundSms(
            message_sid="SMhistoryinstop",
            from_number=spec.phone,
            patient_id=h.patients[stop_key].id,
            handled_as="opt_out",
            received_at=stop_at,
        )
    )
    db.session.add(PhoneOptOut(phone=spec.phone, opted_out=True, reason="stop", changed_at=stop_at))
    db.session.flush()


# ------------------------------------------------------------------ flags


#: (who, days ago resolved, kind, resolution, [test code] or medicine names)
FLAGS = [
    ("brooks", 79, FlagKind.DUPLICATE_TEST, FlagResolution.CANCELLED_ONE, "4548-4"),
    ("chen", 71, FlagKind.SAME_INGREDIENT, FlagResolution.KEEP_BOTH, None),
    ("rivera", 64, FlagKind.DUPLICATE_TEST, FlagResolution.CANCELLED_ONE, "57698-3"),
    ("reed", 57, FlagKind.DUPLICATE_TEST, FlagResolution.KEEP_BOTH, "24356-8"),
    ("nguyen", 50, FlagKind.SAME_INGREDIENT, FlagResolution.CANCELLED_ONE, None),
    ("hassan", 43, FlagKind.DUPLICATE_TEST, FlagResolution.CANCELLED_ONE, "24362-6"),
    ("morales", 29, FlagKind.DUPLICATE_TEST, FlagResolution.CANCELLED_ONE, "4548-4"),
    ("haddad", 22, FlagKind.DUPLICATE_MEDICATION, FlagResolution.CANCELLED_ONE, None),
    ("young", 15, FlagKind.DUPLICATE_TEST, FlagResolution.CANCELLED_ONE, "57698-3"),
    ("ortiz", 8, FlagKind.DUPLICATE_TEST, FlagResolution.CANCELLED_ONE, "4548-4"),
]
TESTS = {
    "4548-4": "A1c blood test",
    "57698-3": "Cholesterol blood test",
    "24356-8": "Urine test",
    "24362-6": "Kidney function blood test",
}


def _flags(h: History) -> None:
    """Possible duplicate tests (the same test ordered twice by two clinics) settled by
    cancelling the duplicate (cost avoided) or keeping both, and medicine conflicts settled."""
    for key, days, kind, resolution, code in FLAGS:
        found, settled = h.ago(days + 2, 6), h.ago(days, 3)
        if kind is FlagKind.DUPLICATE_TEST:
            common = {
                "kind": ItemKind.TEST,
                "title": TESTS[code],
                "code": code,
                "code_system": "LOINC",
                "status": ItemStatus.PLANNED,
            }
            a = _item(
                h,
                key,
                found - 9 * DAY,
                "doctor",
                **common,
                ordered_on=(found - 9 * DAY).date(),
                ordering_member_id=h.member("doctor").id,
            )
            b = _item(
                h,
                key,
                found,
                "nurse",
                **common,
                ordered_on=found.date(),
                ordering_provider_name="Salem Urgent Care",
            )
            # The first one was done since (out of "to do"), the second was the duplicate.
            a.status, a.updated_at = ItemStatus.COMPLETED, settled
            _change(h, key, a, ChangeKind.COMPLETED, settled, "doctor", ["status"])
            by = "nurse"
        else:
            name = "Ibuprofen" if kind is FlagKind.SAME_INGREDIENT else "Omeprazole"
            other = "Naproxen" if kind is FlagKind.SAME_INGREDIENT else "Omeprazole"
            ingredient = "ibuprofen" if kind is FlagKind.SAME_INGREDIENT else "omeprazole"
            common = {"kind": ItemKind.MEDICATION, "area": Area.MEDICINES}
            a = _item(
                h,
                key,
                found - 30 * DAY,
                "doctor",
                **common,
                title=name,
                medication_name=name,
                dose="as needed",
                ingredients=[ingredient],
                prescriber_member_id=h.member("doctor").id,
            )
            b = _item(
                h,
                key,
                found,
                "pharmacist",
                **common,
                title=f"{other} (new)",
                medication_name=other,
                dose="as needed",
                ingredients=[ingredient],
                prescriber_name="Urgent Care Salem",
            )
            by = "pharmacist"
        db.session.add(
            PlanFlag(
                patient_id=h.patients[key].id,
                kind=kind,
                item_a_id=a.id,
                item_b_id=b.id,
                status=FlagStatus.RESOLVED,
                resolution=resolution,
                reason="Ordered twice by two clinics." if code else "Talked with the patient.",
                resolved_by_id=h.staff(by).id,
                resolved_at=settled,
                created_at=found,
            )
        )
        if resolution is FlagResolution.CANCELLED_ONE:
            b.status = ItemStatus.CANCELLED if code else ItemStatus.STOPPED
            b.updated_at = settled
            _change(h, key, b, ChangeKind.STOPPED, settled, by, ["status"])
        elif code:  # both kept: the second test was done as well
            b.status, b.updated_at = ItemStatus.COMPLETED, settled
            _change(h, key, b, ChangeKind.COMPLETED, settled, "nurse", ["status"])
    db.session.flush()


# ------------------------------------------------------------------ caregivers


#: (patient, caregiver name, relation, visits: every this many days)
CAREGIVERS = [
    ("brooks", "Karen Brooks", Relation.DAUGHTER, 4),
    ("nguyen", "Bảo Nguyễn", Relation.SON, 9),
    ("walker", "Diane Walker", Relation.SPOUSE, 15),
    ("ivanova", "Sergei Ivanov", Relation.SON, 30),
]


def _caregivers(h: History) -> None:
    """Four neighbours' caregivers (grants since long ago, without messages: the team's
    answers are the patient's own) and their visits to the record, as the audit trail has
    them."""
    for key, name, relation, every in CAREGIVERS:
        patient = h.patients[key]
        local = name.split()[0].lower().replace("ả", "a")
        caregiver = create_account(
            email=f"{local}.{key}@{HISTORY_DOMAIN}",
            full_name=name,
            role=Role.CAREGIVER,
            locale=h.specs[key].language,
            password_hash=h.password_hash,
        )
        caregiver.created_at = caregiver.updated_at = h.ago(200)
        db.session.add(
            CaregiverGrant(
                patient_id=patient.id,
                caregiver_id=caregiver.id,
                relation=relation,
                scopes=[GrantScope.PLAN.value, GrantScope.APPOINTMENTS.value],
                granted_by_id=h.users[key].id,
                starts_at=h.ago(200),
                kind=GrantKind.DELEGATE,
            )
        )
        db.session.flush()
        day = 83 - h.rng.randint(0, every)
        while day > 1:
            event = audit.record(
                action="view",
                resource="patient.summary",
                patient_id=patient.id,
                actor_id=caregiver.id,
                capacity="caregiver",
            )
            event["occurred_at"] = h.ago(day, h.rng.randint(0, 10))
            day -= every
    db.session.flush()


# ------------------------------------------------------------------ social needs screening


#: (who, days ago, needs found -> the referral's step today)
SCREENINGS = [
    ("rivera", 80, {"food": ReferralStatus.ENROLLED}),
    ("brooks", 73, {}),
    ("nguyen", 66, {"housing": ReferralStatus.CONTACTED}),
    ("hassan", 59, {"food": ReferralStatus.DECLINED}),
    ("chen", 52, {}),
    ("reed", 45, {"transportation": ReferralStatus.ENROLLED}),
    ("morales", 38, {}),
    ("haddad", 31, {"utilities": ReferralStatus.SENT}),
    ("tran", 24, {}),
    ("young", 17, {"food": ReferralStatus.CONTACTED}),
    ("petrov", 10, {}),
]
#: What changes for each need found (from screening.NOTHING_FOUND).
FOUND = {
    "food": {"88122-7": ["LA28397-0"]},
    "housing": {"71802-3": ["LA31994-9"]},
    "transportation": {"93030-5": ["LA33-6"]},
    "utilities": {"96779-4": ["LA33-6"]},
}
WHERE = {
    "food": "Marion County Food Share",
    "housing": "Salem Housing Authority",
    "transportation": "Cherriots LIFT rides",
    "utilities": "Mid-Willamette Energy Assistance",
}


def _screenings(h: History) -> None:
    """Social needs screenings answered by the patients (through the screening service), and
    for each need found the referral Lupe sent and moved on, each at a step of the loop."""
    chw = h.staff("chw")
    for key, days, found in SCREENINGS:
        patient, user, spec = h.patients[key], h.users[key], h.specs[key]
        answered = h.ago(days, 4)
        answers = dict(NOTHING_FOUND)
        for need in found:
            answers.update(FOUND[need])
        with acting_as(Actor(user_id=user.id, capacity=Capacity.PATIENT, patient=patient)):
            response = screening.record_screening(
                patient, screening.ScreeningInput(answers=answers, language=spec.language)
            )
        response.authored_at = answered
        links = db.session.scalars(
            sa.select(ScreeningReferral).where(ScreeningReferral.response_id == response.id)
        ).all()
        for link in links:
            link.created_at = answered
            item = db.session.get(PlanItem, link.item_id) if link.item_id else None
            if item is None:
                continue
            step = found.get(link.need)
            with acting_as(Actor(user_id=chw.id, capacity=Capacity.CARE_TEAM, patient=patient)):
                screening.send_referral(item, WHERE.get(link.need))
            item.referral_status = step
            if step in (ReferralStatus.ENROLLED, ReferralStatus.DECLINED):
                item.status = ItemStatus.COMPLETED
            sent = answered + 2 * DAY
            item.created_at, item.updated_at = answered, sent + 5 * DAY
            changes = db.session.scalars(
                sa.select(PlanChange)
                .where(PlanChange.subject_id == item.id, PlanChange.subject == ChangeSubject.ITEM)
                .order_by(PlanChange.id)
            ).all()
            for n, change in enumerate(changes):
                change.occurred_at = answered if n == 0 else sent
            if step is not ReferralStatus.SENT:
                _change(
                    h, key, item, ChangeKind.CHANGED, sent + 5 * DAY, "chw", ["referral_status"]
                )
    db.session.flush()
