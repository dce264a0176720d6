"""`flask demo generate --patients N`: a realistic CCO, bulk-inserted on top of the demo.

What it makes (docs/generating-data.md has the figures): organizations of every kind, care
teams of about six across disciplines with one coordinator per ~1,000 patients and the demo
nurse on ~5% of the teams, ~20 plan items and 2 goals with check-ins per patient, ~8 messages
a year over 3 years (1% heavy users with 500+, one thread of 300+), reminders for 10%,
caregiver grants, ~30 audit rows per patient and one patient with 20,000.

Why it is written the way it is:
- speed: no ORM objects per row. Rows are tuples, written per batch of patients with COPY on
  PostgreSQL and one executemany per table on SQLite, one transaction per batch. Ids of rows
  that others point at are reserved in blocks first (PostgreSQL: from the table's sequence,
  which needs no privilege beyond the app role's, and leaves nothing to reset after).
- consistency: every denormalised column is what the services would have left. Threads are
  replayed through the rules of `messaging.services.add_message` (waiting time, due time, the
  first responder takes the thread, response times, read marks); every item, goal and check-in
  has its "What changed" row; plans raise no duplicate/conflict flags (no two open medicines
  share an ingredient, no two tests share a code), so none are missing.
- the audit trail stays one hash chain: rows are linked under the chain lock from the current
  last row, exactly as `core.audit.write` links them, so `flask audit verify` still passes.
- every generated user signs in with the demo password (hashed once) and staff with the demo
  two-step key, so a benchmark can sign in as anyone.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from app.auth import mfa
from app.auth.models import User
from app.auth.passwords import hash_password
from app.caregivers.labels import relation_from_words
from app.core import audit
from app.core.db import utcnow
from app.demo import generate_catalog as cat
from app.demo.accounts import DEMO_PASSWORD, DOMAIN
from app.extensions import db
from app.messaging import workqueue
from app.messaging.models import Topic
from app.patients.models import REMINDER_KINDS
from app.reminders.forms import MORE_TEXTS_WORDING
from app.screening.labels import REFERRAL_AREAS, REFERRAL_NEEDS, REFERRAL_TITLES
from app.screening.questions import Need
from app.team.models import CareTeamMember, Discipline, Organization, OrganizationKind
from app.team.sorting import sort_key

GEN_DOMAIN = "gen.carecircle.example"
DAY = 86_400
YEAR = 365 * DAY
HISTORY = 3 * YEAR
#: The patient with the long audit trail (the first generated in each run).
HEAVY_AUDIT_ROWS = 20_000
#: The heavy user's single long thread (the first heavy user in each run).
LONG_THREAD = 320

_EXPECTED_CHAIN = (
    "chain_seq",
    "occurred_at",
    "actor_id",
    "capacity",
    "acting_for_patient_id",
    "patient_id",
    "action",
    "resource",
    "resource_id",
    "endpoint",
    "ip_address",
)


# ------------------------------------------------------------------ writing rows


class Sink:
    """Writes tuples to tables fast, in the session's transaction, and keeps the figures."""

    def __init__(self, session) -> None:
        self.session = session
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.rows: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self._next_id: dict[str, int] = {}

    @property
    def raw(self):
        return self.session.connection().connection.dbapi_connection

    def ts(self, t: float) -> str:
        """An instant (epoch seconds) as the database's column type reads it."""
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(t)))
        return text + (".000000+00" if self.pg else ".000000")

    def reserve(self, table: str, n: int) -> int:
        """The first of `n` consecutive ids nobody else will use for `table`."""
        if n <= 0:
            return 0
        if self.pg:
            low, high = self.session.execute(
                sa.text(
                    "SELECT min(v), max(v) FROM (SELECT nextval(pg_get_serial_sequence("
                    ":t, 'id')) AS v FROM generate_series(1, :n)) s"
                ),
                {"t": table, "n": n},
            ).one()
            if high - low + 1 != n:
                raise click.ClickException(
                    f"{table}: another writer took ids meanwhile; run the generator alone."
                )
            return low
        if table not in self._next_id:
            top = self.session.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar()  # noqa: S608
            self._next_id[table] = (top or 0) + 1
        first = self._next_id[table]
        self._next_id[table] = first + n
        return first

    def write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        started = time.perf_counter()
        names = ", ".join(columns)
        if self.pg:
            with (
                self.raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        self.rows[table] += len(rows)
        self.seconds[table] += time.perf_counter() - started


def dumps(value) -> str | None:
    return None if value is None else json.dumps(value, separators=(", ", ": "))


# ------------------------------------------------------------------ the run


@dataclass
class Staff:
    member_id: int
    user_id: int
    org_id: int
    discipline: Discipline


@dataclass
class Run:
    rng: random.Random
    sink: Sink
    now: int
    today: date
    password_hash: str
    cco_id: int
    demo_nurse: Staff
    pools: dict[object, list[Staff]] = field(default_factory=dict)
    orgs: dict[OrganizationKind, list[int]] = field(default_factory=dict)
    targets: dict[Topic, int] = field(default_factory=dict)
    wording: dict[str, str] = field(default_factory=dict)
    heavy_audit_done: bool = False
    heavy_chosen: bool = False
    long_thread_given: bool = False
    gen_seconds: Counter[str] = field(default_factory=Counter)
    #: The next free id of each table, from the blocks reserved for the batch.
    next_id: dict[str, int] = field(default_factory=dict)

    def take(self, table: str, n: int = 1) -> int:
        first = self.next_id[table]
        self.next_id[table] = first + n
        return first


def generate(
    patients: int,
    *,
    seed: int | None = None,
    batch: int = 2000,
    echo: Callable[[str], None] = click.echo,
) -> dict[str, int]:
    """Add `patients` generated patients (and their world) to the database; returns rows per
    table. Loads the demo first if it is not there; refuses in production."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("Generated data must never be loaded in production.")
    if tuple(audit.CHAINED) != _EXPECTED_CHAIN:
        raise click.ClickException("The audit chain's fields changed; update the generator.")
    from app.demo import seed as seed_demo

    started = time.perf_counter()
    session = db.session
    if seed_demo():
        echo("Loaded the demo first (its logins keep working).")
    session.commit()

    sink = Sink(session)
    now = utcnow()
    demo_nurse = _demo_nurse()
    run = Run(
        rng=random.Random(seed),
        sink=sink,
        now=int(now.timestamp()),
        today=now.date(),
        password_hash=hash_password(DEMO_PASSWORD),
        cco_id=_cco_id(),
        demo_nurse=demo_nurse,
        targets={
            topic: int(current_app.config["MESSAGE_RESPONSE_HOURS"][topic.value]) * 3600
            for topic in Topic
        },
    )
    for locale in ("en", "es"):
        with force_locale(locale):
            per_day = current_app.config["REMINDER_CAP_OPTED_IN_PER_DAY"]
            run.wording[locale] = str(MORE_TEXTS_WORDING % {"per_day": per_day})

    superuser = sink.pg and bool(
        session.execute(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    )
    synchronous = None
    if not sink.pg:
        synchronous = session.execute(sa.text("PRAGMA synchronous")).scalar()
        session.execute(sa.text("PRAGMA synchronous=OFF"))
    try:
        _organizations_and_staff(run, patients)
        session.commit()
        echo(f"Staff and organizations ready ({time.perf_counter() - started:.1f}s).")
        done = 0
        while done < patients:
            size = min(batch, patients - done)
            if sink.pg:  # a lost batch is run again; no need to wait for the disk each time
                session.execute(sa.text("SET LOCAL synchronous_commit = off"))
                if superuser:
                    # The rows are made consistent (every id they point at is written first,
                    # and the tests load them with the checks on): skip the per-row foreign
                    # key triggers, the bulk of COPY's cost. Only a superuser may, for its
                    # own transaction.
                    session.execute(sa.text("SET LOCAL session_replication_role = replica"))
            _patients(run, size)
            session.commit()
            done += size
            echo(f"  {done:,}/{patients:,} patients ({time.perf_counter() - started:.0f}s)")
    finally:
        if synchronous is not None:
            session.execute(sa.text(f"PRAGMA synchronous={int(synchronous)}"))

    step = time.perf_counter()
    workqueue.rebuild(session, refresh_sort=False)  # the loader wrote patient_sort itself
    session.commit()
    sink.seconds["(work queue rebuild)"] = time.perf_counter() - step
    step = time.perf_counter()
    session.execute(sa.text("ANALYZE"))
    session.commit()
    sink.seconds["(analyze)"] = time.perf_counter() - step

    total = time.perf_counter() - started
    echo("")
    echo(f"{'table':<28}{'rows':>12}{'write s':>10}")
    for table, rows in sorted(sink.rows.items(), key=lambda kv: -kv[1]):
        echo(f"{table:<28}{rows:>12,}{sink.seconds[table]:>10.1f}")
    for name in ("(work queue rebuild)", "(analyze)"):
        echo(f"{name:<28}{'':>12}{sink.seconds[name]:>10.1f}")
    echo(
        "Making the rows (Python): "
        + ", ".join(
            f"{k} {v:.1f}s" for k, v in sorted(run.gen_seconds.items(), key=lambda kv: -kv[1])
        )
    )
    echo(f"{patients:,} patients, {sum(sink.rows.values()):,} rows in {total:.1f}s.")
    echo(
        f"Every generated login uses the password {DEMO_PASSWORD!r}; staff use the demo "
        f"two-step key. Patients are p<patient id>@{GEN_DOMAIN}."
    )
    return dict(sink.rows)


def _demo_nurse() -> Staff:
    row = db.session.execute(
        sa.select(CareTeamMember.id, CareTeamMember.user_id, CareTeamMember.organization_id)
        .join(User, User.id == CareTeamMember.user_id)
        .where(User.email == f"nurse@{DOMAIN}")
    ).one()
    return Staff(row.id, row.user_id, row.organization_id, Discipline.NURSING)


def _cco_id() -> int:
    return db.session.scalar(
        sa.select(Organization.id)
        .where(Organization.kind == OrganizationKind.CCO, Organization.parent_id.is_(None))
        .order_by(Organization.id)
        .limit(1)
    )


# ------------------------------------------------------------------ people


def _name(rng: random.Random, language: str) -> tuple[str, str]:
    if language == "es":
        return rng.choice(cat.GIVEN_ES), rng.choice(cat.FAMILY_ES)
    if language == "en":
        return rng.choice(cat.GIVEN_EN), rng.choice(cat.FAMILY_EN)
    return rng.choice(cat.GIVEN_OTHER), rng.choice(cat.FAMILY_OTHER)


_AREA_CODES = [a for a in range(201, 990) if a % 100 != 11]


def _phone(n: int) -> str:
    """A number in the 555 exchange (never a real subscriber), unique up to ~7 million."""
    area = _AREA_CODES[(n // 10_000) % len(_AREA_CODES)]
    return f"+1{area}555{n % 10_000:04d}"


USER_COLUMNS = (
    "id",
    "email",
    "full_name",
    "role",
    "password_hash",
    "locale",
    "timezone",
    "active",
    "failed_logins",
    "password_changed_at",
    "mobile_phone",
    "mobile_phone_verified_at",
    "mfa_secret",
    "mfa_enabled_at",
    "created_at",
    "updated_at",
    "text_size",
    "high_contrast",
    "reduced_motion",
)


def _user(run: Run, uid: int, email: str, name: str, role: str, locale: str, created: int):
    ts = run.sink.ts(created)
    staff = role == "care_team"
    return (
        uid,
        email,
        name,
        role,
        run.password_hash,
        locale,
        "America/Los_Angeles",
        True,
        0,
        ts,
        None,
        None,
        mfa.DEMO_MFA_SECRET if staff else None,
        ts if staff else None,
        ts,
        ts,
        "standard",  # display settings (app.core.display); see _screens_follow
        False,
        False,
    )


STAFF_SLUG = {
    "coordinator": "rn",
    Discipline.NURSING: "nurse",
    Discipline.PRIMARY_CARE: "md",
    Discipline.PHARMACY: "rph",
    Discipline.DENTAL: "dds",
    Discipline.SOCIAL_SERVICES: "chw",
    Discipline.BEHAVIORAL_HEALTH: "bh",
    Discipline.SPECIALTY: "spec",
}


def _organizations_and_staff(run: Run, patients: int) -> None:
    """This run's organizations and staff, sized to its patients."""
    rng, sink = run.rng, run.sink
    started = time.perf_counter()
    kinds = [(kind, max(1, math.ceil(patients / per))) for kind, (per, _s) in cat.ORG_KINDS.items()]
    first = sink.reserve("organizations", sum(n for _k, n in kinds))
    created = run.now - HISTORY - 30 * DAY
    ts = sink.ts(created)
    orgs, oid = [], first
    for kind, count in kinds:
        suffixes = cat.ORG_KINDS[kind][1]
        for _ in range(count):
            name = f"{rng.choice(cat.TOWNS).replace('-', ' ')} {rng.choice(suffixes)} #{oid}"
            phone = f"+1503555{oid % 10_000:04d}"
            orgs.append((oid, name, kind.value, run.cco_id, phone, ts, ts))
            run.orgs.setdefault(kind, []).append(oid)
            oid += 1
    sink.write(
        "organizations",
        ("id", "name", "kind", "parent_id", "phone", "created_at", "updated_at"),
        orgs,
    )

    plan = [
        (key, max(1, math.ceil(patients * share / per)), org_kind, titles)
        for key, (per, share, org_kind, titles) in cat.STAFF.items()
    ]
    count = sum(n for _k, n, _o, _t in plan)
    uid = sink.reserve("users", count)
    mid = sink.reserve("care_team_members", count)
    users, members = [], []
    for key, n, org_kind, titles in plan:
        discipline = Discipline.NURSING if key == "coordinator" else key
        for _ in range(n):
            given, family = _name(rng, "es" if rng.random() < 0.15 else "en")
            prefix = "Dr. " if discipline in (Discipline.PRIMARY_CARE, Discipline.SPECIALTY) else ""
            locale = (
                "es" if discipline is Discipline.SOCIAL_SERVICES and rng.random() < 0.4 else "en"
            )
            email = f"{STAFF_SLUG[key]}{uid}@{GEN_DOMAIN}"
            users.append(
                _user(run, uid, email, f"{prefix}{given} {family}", "care_team", locale, created)
            )
            org = rng.choice(run.orgs[org_kind])
            title = rng.choice(titles)
            role = cat.TITLE_ROLES[title].value
            members.append((mid, uid, org, discipline.value, role, title, ts, ts))
            run.pools.setdefault(key, []).append(Staff(mid, uid, org, discipline))
            uid += 1
            mid += 1
    sink.write("users", USER_COLUMNS, users)
    sink.write(
        "care_team_members",
        (
            "id",
            "user_id",
            "organization_id",
            "discipline",
            "role",
            "title",
            "created_at",
            "updated_at",
        ),
        members,
    )
    run.gen_seconds["staff"] += time.perf_counter() - started


# ------------------------------------------------------------------ one batch of patients


@dataclass
class P:
    """One generated patient while its rows are made."""

    id: int
    age: int
    language: str
    family: str = ""
    given: str = ""
    created: int = 0
    item_count: int = 0
    decision: bool = False
    user_id: int | None = None
    caregiver_id: int | None = None
    #: Asked for larger text (a care preference): their own screen shows it.
    large_text: bool = False
    grant_kind: str | None = None
    phone: str | None = None
    reminders: bool = False
    heavy: bool = False
    team: dict[object, list[Staff]] = field(default_factory=dict)
    coordinator: Staff | None = None
    #: (id, kind, status, sensitivity, title, schedule)
    items: list[tuple] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)
    #: The items the patient chose reminder times for.
    reminded: list[tuple] = field(default_factory=list)
    #: Social needs screenings: (seconds before now, needs found).
    screenings: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def locale(self) -> str:
        return "es" if self.language == "es" else "en"

    def members(self) -> list[Staff]:
        return [m for ms in self.team.values() for m in ms]


AGES = ((0, 12, 0.15), (13, 17, 0.10), (18, 64, 0.55), (65, 95, 0.20))


def _age(rng: random.Random) -> int:
    r = rng.random()
    for low, high, share in AGES:
        if r < share:
            return rng.randint(low, high)
        r -= share
    return rng.randint(18, 64)


def _language(rng: random.Random) -> str:
    r = rng.random()
    for language, share in cat.LANGUAGES:
        if r < share:
            return language
        r -= share
    return "en"


class Tables:
    """The rows of one batch, per table."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {}

    def add(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)


COLUMNS = {
    "patients": (
        "id",
        "user_id",
        "given_name",
        "family_name",
        "preferred_name",
        "pronouns",
        "date_of_birth",
        "language",
        "interpreter_needed",
        "timezone",
        "mobile_phone",
        "mobile_phone_verified_at",
        "member_number",
        "organization_id",
        "last_viewed_at",
        "created_at",
        "updated_at",
    ),
    "patient_preferences": (
        "patient_id",
        "contact_channels",
        "quiet_start",
        "quiet_end",
        "reminder_lead_hours",
        "detailed_texts",
        "reminder_kinds",
        "large_text",
        "high_contrast",
        "screen_reader",
        "what_matters_most",
        "preferred_pharmacy",
        "decision_involvement",
        "created_at",
        "updated_at",
    ),
    "care_team_assignments": (
        "patient_id",
        "member_id",
        "is_coordinator",
        "added_at",
        "patient_sort",
    ),
    "caregiver_grants": (
        "patient_id",
        "caregiver_id",
        "relation",
        "relationship_label",
        "scopes",
        "sensitive_categories",
        "legal_authority",
        "document_reference",
        "granted_by_id",
        "starts_at",
        "kind",
        "adolescent_notice_sent_at",
        "patient_notice_seen_at",
        "created_at",
        "updated_at",
    ),
    "plan_items": (
        "id",
        "patient_id",
        "kind",
        "title",
        "details",
        "why_it_matters",
        "area",
        "status",
        "discipline",
        "source_organization_id",
        "sensitivity",
        "owner_kind",
        "owner_member_id",
        "owner_organization_id",
        "created_by_id",
        "medication_name",
        "dose",
        "ingredients",
        "prescriber_member_id",
        "starts_at",
        "location",
        "with_whom",
        "preparation",
        "interpreter_booked",
        "referral_status",
        "referral_need",
        "referred_to",
        "schedule",
        "weekday",
        "due_date",
        "code",
        "code_system",
        "ordering_member_id",
        "ordered_on",
        "resource_url",
        "attendance",
        "attendance_recorded_at",
        "created_at",
        "updated_at",
    ),
    "plan_changes": (
        "patient_id",
        "subject",
        "subject_id",
        "change",
        "title",
        "fields",
        "actor_id",
        "capacity",
        "occurred_at",
    ),
    "task_completions": ("item_id", "for_date", "completed_by_id", "completed_at"),
    "goals": (
        "id",
        "patient_id",
        "description",
        "why_it_matters",
        "target_text",
        "target_value",
        "target_unit",
        "higher_is_better",
        "start_date",
        "lifecycle_status",
        "achievement_status",
        "expressed_by_id",
        "expressed_by_capacity",
        "sensitivity",
        "created_at",
        "updated_at",
    ),
    "goal_check_ins": (
        "goal_id",
        "value",
        "note",
        "achievement_status",
        "recorded_by_id",
        "capacity",
        "recorded_at",
    ),
    "decisions": (
        "id",
        "patient_id",
        "question",
        "background",
        "status",
        "opened_by_id",
        "created_at",
        "updated_at",
    ),
    "decision_options": (
        "id",
        "decision_id",
        "position",
        "title",
        "benefits",
        "risks",
        "day_to_day",
    ),
    "decision_entries": ("decision_id", "kind", "text", "author_id", "capacity", "created_at"),
    "message_threads": (
        "id",
        "patient_id",
        "topic",
        "subject",
        "plan_item_id",
        "sensitivity",
        "status",
        "created_by_id",
        "created_at",
        "last_message_at",
        "assignee_id",
        "awaiting_since",
        "due_at",
        "resolved_at",
        "resolved_by_id",
    ),
    "messages": ("thread_id", "author_id", "capacity", "body", "internal", "created_at"),
    "thread_reads": ("thread_id", "user_id", "last_read_at"),
    "message_response_times": (
        "thread_id",
        "patient_id",
        "topic",
        "waiting_since",
        "answered_at",
        "seconds",
        "target_seconds",
        "responder_id",
    ),
    "reminder_schedules": (
        "id",
        "patient_id",
        "plan_item_id",
        "times",
        "weekdays",
        "active",
        "updated_at",
        "updated_by_id",
    ),
    "text_consents": ("patient_id", "given", "wording", "locale", "recorded_at", "recorded_by_id"),
    "screening_responses": (
        "id",
        "patient_id",
        "questionnaire",
        "answered_by_id",
        "answered_as",
        "language",
        "authored_at",
        "needs",
        "positive",
        "response",
    ),
    "screening_referrals": (
        "response_id",
        "patient_id",
        "need",
        "item_id",
        "suggested",
        "created_at",
    ),
    "outbound_sms": (
        "created_at",
        "to_number",
        "user_id",
        "patient_id",
        "purpose",
        "locale",
        "body",
        "send_after",
        "status",
        "sent_at",
        "provider_sid",
        "attempts",
        "plan_item_id",
        "schedule_id",
        "reminder_key",
    ),
}
#: Parents before children (foreign keys are checked as rows go in).
ORDER = (
    "users",
    "patients",
    "patient_preferences",
    "care_team_assignments",
    "caregiver_grants",
    "plan_items",
    "screening_responses",
    "screening_referrals",
    "task_completions",
    "goals",
    "goal_check_ins",
    "decisions",
    "decision_options",
    "decision_entries",
    "plan_changes",
    "message_threads",
    "messages",
    "thread_reads",
    "message_response_times",
    "reminder_schedules",
    "text_consents",
    "outbound_sms",
)


def _patients(run: Run, size: int) -> None:
    rng, sink = run.rng, run.sink
    started = time.perf_counter()
    out = Tables()
    first_pid = sink.reserve("patients", size)
    people = []
    for k in range(size):
        language = _language(rng)
        p = P(id=first_pid + k, age=_age(rng), language=language)
        p.item_count = rng.randint(14, 26)
        p.decision = rng.random() < 0.08
        p.screenings = _choose_screenings(rng)
        people.append(p)
    decisions = sum(p.decision for p in people)
    needs = sum(len(found) for p in people for _ago, found in p.screenings)
    for table, n in (
        ("plan_items", sum(p.item_count for p in people) + needs),
        ("screening_responses", sum(len(p.screenings) for p in people)),
        ("goals", 2 * size),
        ("decisions", decisions),
        ("decision_options", 2 * decisions),
    ):
        run.next_id[table] = sink.reserve(table, n)
    logins = sum(p.age >= 13 for p in people)
    # Every child under 13 has a parent with access; some teens, and some older adults, too.
    for p in people:
        if p.age < 13 or (p.age < 18 and rng.random() < 0.4):
            p.grant_kind = "guardian"
        elif (p.age >= 65 and rng.random() < 0.35) or rng.random() < 0.03:
            p.grant_kind = "delegate"
    carers = sum(p.grant_kind is not None for p in people)
    uid = sink.reserve("users", logins + carers)
    users = []
    for p in people:
        given, p.family = _name(rng, p.language)
        created = run.now - rng.randint(30 * DAY, HISTORY + 20 * DAY)
        if p.age >= 13:
            p.user_id = uid
            uid += 1
            name = f"{given} {p.family}"
            users.append(
                _user(run, p.user_id, f"p{p.id}@{GEN_DOMAIN}", name, "patient", p.locale, created)
            )
            p.reminders = rng.random() < 0.118
            # 1% heavy users, and at least one in every run (the one with the long thread).
            p.heavy = rng.random() < 0.0118 or not run.heavy_chosen
            run.heavy_chosen = True
            if p.reminders or rng.random() < 0.75:
                p.phone = _phone(p.id)
        if p.grant_kind:
            p.caregiver_id = uid
            uid += 1
            carer_given = _name(rng, p.language)[0]
            users.append(
                _user(
                    run,
                    p.caregiver_id,
                    f"c{p.caregiver_id}@{GEN_DOMAIN}",
                    f"{carer_given} {p.family}",
                    "caregiver",
                    p.locale,
                    created,
                )
            )
        p.created, p.given = created, given
    out.rows["users"] = users
    for p in people:
        _patient_rows(run, p, out)
        _team(run, p, out)
        _grant(run, p, out)
        _plan(run, p, out)
        _goals(run, p, out)
        _decision(run, p, out)
        _screenings(run, p, out)
        _choose_reminders(run, p)
    _screens_follow(out, people)
    run.next_id["reminder_schedules"] = sink.reserve(
        "reminder_schedules", sum(len(p.reminded) for p in people)
    )
    for p in people:
        _reminders(run, p, out)
    run.gen_seconds["patients, teams, plans, goals"] += time.perf_counter() - started

    step = time.perf_counter()
    plans = [(p, _thread_plan(run, p)) for p in people]
    thread_count = sum(len(t) for _p, t in plans)
    tid = sink.reserve("message_threads", thread_count)
    for p, threads in plans:
        for spec in threads:
            _thread(run, p, tid, spec, out)
            p.threads.append(tid)
            tid += 1
    run.gen_seconds["messages"] += time.perf_counter() - step

    for table in ORDER:
        rows = out.rows.get(table)
        if rows:
            columns = USER_COLUMNS if table == "users" else COLUMNS[table]
            sink.write(table, columns, rows)

    step = time.perf_counter()
    events = []
    for p in people:
        events.extend(_audit_events(run, p))
    run.gen_seconds["audit"] += time.perf_counter() - step
    _write_audit(run, events)


def _screens_follow(out: Tables, people: list[P]) -> None:
    """A patient who asked for larger text reads their own pages in it (app.core.display), as
    the migration that added display settings did for the patients there were then."""
    large = {p.user_id for p in people if p.large_text and p.user_id}
    if not large:
        return
    at = USER_COLUMNS.index("text_size")
    out.rows["users"] = [
        (*row[:at], "large", *row[at + 1 :]) if row[0] in large else row
        for row in out.rows["users"]
    ]


def _patient_rows(run: Run, p: P, out: Tables) -> None:
    rng, sink = run.rng, run.sink
    born = run.today - timedelta(days=p.age * 365 + rng.randint(1, 360))
    created = sink.ts(p.created)
    verified = sink.ts(p.created + DAY) if p.reminders else None
    viewed = sink.ts(run.now - rng.randint(DAY, 60 * DAY)) if p.user_id else None
    out.add(
        "patients",
        (
            p.id,
            p.user_id,
            p.given,
            p.family,
            None,
            None,
            born.isoformat(),
            p.language,
            p.language != "en" and rng.random() < 0.6,
            "America/Los_Angeles",
            p.phone,
            verified,
            f"GEN-{p.id:08d}",
            run.cco_id,
            viewed,
            created,
            created,
        ),
    )
    channels = ["sms", "portal"] if p.phone else ["portal"]
    if p.phone and not p.reminders and rng.random() < 0.15:
        channels = ["portal"]
    if p.user_id and rng.random() < 0.3:
        channels = [*channels, "email"]
    detailed = rng.random() < 0.2
    p.large_text = p.age >= 70 and rng.random() < 0.4
    out.add(
        "patient_preferences",
        (
            p.id,
            dumps(channels),
            "20:00:00.000000",
            "09:00:00.000000",
            dumps([48, 2]),
            detailed,
            dumps(list(REMINDER_KINDS)),
            p.large_text,
            False,
            rng.random() < 0.01,
            rng.choice(cat.WHAT_MATTERS),
            None,
            None,
            created,
            created,
        ),
    )


def _team(run: Run, p: P, out: Tables) -> None:
    rng, sink = run.rng, run.sink
    added = sink.ts(p.created)
    key = sort_key(p.family, p.given)
    coordinator = rng.choice(run.pools["coordinator"])
    p.coordinator = coordinator
    p.team = {Discipline.NURSING: [coordinator]}
    out.add("care_team_assignments", (p.id, coordinator.member_id, True, added, key))
    for key, (_per, share, _org, _titles) in cat.STAFF.items():
        if key == "coordinator" or rng.random() >= share:
            continue
        member = rng.choice(run.pools[key])
        if member in p.team.get(member.discipline, []):
            continue
        p.team.setdefault(member.discipline, []).append(member)
        out.add("care_team_assignments", (p.id, member.member_id, False, added, key))
    if rng.random() < 0.05:
        p.team[Discipline.NURSING].append(run.demo_nurse)
        out.add("care_team_assignments", (p.id, run.demo_nurse.member_id, False, added, key))


def _grant(run: Run, p: P, out: Tables) -> None:
    if not p.grant_kind:
        return
    rng, sink = run.rng, run.sink
    starts = sink.ts(p.created + DAY)
    if p.grant_kind == "guardian":
        relationship = rng.choice(("mother", "father", "grandmother", "legal guardian"))
        scopes = ["appointments", "decisions", "goals", "messages", "plan", "reminders"]
        authority, document = "Parent of a minor", "Birth certificate on file"
        granted_by = p.coordinator.user_id if p.coordinator else None
        # The lifecycle would have told the parent when the patient turned 12, and the patient
        # has seen the notice that the team set this up: nothing is waiting to be sent.
        adolescent = starts if p.age >= 12 else None
        seen = starts if p.user_id else None
    else:
        relationship = rng.choice(("daughter", "son", "wife", "husband", "neighbor", "friend"))
        # What patients most often share; the generator's caregivers write messages and read
        # the plan, so every delegate may.
        scopes = sorted(
            {"messages", "plan", *rng.sample(["appointments", "reminders", "goals"], 1)}
        )
        authority = document = granted_by = adolescent = seen = None
    out.add(
        "caregiver_grants",
        (
            p.id,
            p.caregiver_id,
            relation_from_words(relationship).value,
            relationship,
            dumps(scopes),
            dumps([]),
            authority,
            document,
            granted_by,
            starts,
            p.grant_kind,
            adolescent,
            seen,
            starts,
            starts,
        ),
    )


# ------------------------------------------------------------------ the plan

ITEM_KINDS = (
    ("medication", 0.32),
    ("appointment", 0.22),
    ("task", 0.16),
    ("test", 0.10),
    ("referral", 0.10),
    ("education", 0.10),
)
OPEN_STATUS = (("active", 0.84), ("planned", 0.11), ("on_hold", 0.05))
CLOSED_STATUS = (("completed", 0.65), ("stopped", 0.2), ("cancelled", 0.15))


def _pick(rng: random.Random, weighted: Iterable[tuple[str, float]]) -> str:
    r = rng.random()
    last = ""
    for value, share in weighted:
        last = value
        if r < share:
            return value
        r -= share
    return last


def _member(p: P, discipline: Discipline, rng: random.Random) -> Staff:
    options = p.team.get(discipline)
    return rng.choice(options) if options else p.coordinator  # type: ignore[return-value]


def _plan(run: Run, p: P, out: Tables) -> None:
    rng, sink = run.rng, run.sink
    count = p.item_count
    first = run.take("plan_items", count)
    meds = list(cat.MEDICATIONS)
    rng.shuffle(meds)
    if rng.random() < 0.06:  # a few plans with a sensitive medicine
        name, dose, ingredient, sensitivity = rng.choice(cat.SENSITIVE_MEDICATIONS)
        meds.insert(0, (name, dose, ingredient, sensitivity))
    pools = {
        "appointment": list(cat.APPOINTMENTS),
        "task": list(cat.TASKS),
        "test": list(cat.TESTS),
        "referral": list(cat.REFERRALS),
        "education": list(cat.EDUCATION),
    }
    for values in pools.values():
        rng.shuffle(values)
    start = p.created
    for n in range(count):
        item_id = first + n
        kind = _pick(rng, ITEM_KINDS)
        if kind != "medication" and not pools[kind]:
            kind = "medication"
        if kind == "medication" and not meds:
            kind = "appointment" if pools["appointment"] else "education"
        created = rng.randint(start, run.now - 3600)
        closed = rng.random() < min(0.6, (run.now - created) / HISTORY * 0.7)
        status = _pick(rng, CLOSED_STATUS if closed else OPEN_STATUS)
        row = dict.fromkeys(COLUMNS["plan_items"])
        row.update(id=item_id, patient_id=p.id, kind=kind, status=status)
        if kind == "medication":
            med = meds.pop()
            discipline = (
                Discipline.BEHAVIORAL_HEALTH
                if len(med) == 4 and med[3] == "behavioral_health"
                else Discipline.PRIMARY_CARE
            )
            author = _member(p, discipline, rng)
            row.update(
                title=f"Take {med[0].lower()}" if rng.random() < 0.5 else med[0],
                medication_name=med[0],
                dose=med[1],
                ingredients=dumps([med[2]]),
                prescriber_member_id=author.member_id,
                area="medicines",
                owner_kind="patient",
                sensitivity=med[3] if len(med) == 4 else None,
                why_it_matters="Your doctor added this to keep you well.",
            )
        elif kind == "appointment":
            title, discipline, area = pools[kind].pop()
            author = _member(p, discipline, rng)
            if status in ("active", "planned", "on_hold"):
                starts = run.now + rng.randint(DAY, 60 * DAY)
            else:
                starts = rng.randint(created, run.now)
            starts -= starts % 900
            row.update(
                title=title,
                area=area.value,
                starts_at=sink.ts(starts),
                location=f"{rng.choice(cat.TOWNS).replace('-', ' ')} clinic, 100 Main St",
                with_whom="Your care team",
                preparation="Bring your medicines and your questions.",
                interpreter_booked=p.language != "en",
                owner_kind="team_member",
                owner_member_id=author.member_id,
                sensitivity="behavioral_health"
                if discipline is Discipline.BEHAVIORAL_HEALTH
                else None,
            )
        elif kind == "task":
            title, schedule, area = pools[kind].pop()
            author = _member(p, Discipline.NURSING, rng)
            row.update(
                title=title,
                area=area.value,
                schedule=schedule,
                weekday=rng.randint(0, 6) if schedule == "weekly" else None,
                due_date=(run.today + timedelta(days=rng.randint(1, 30))).isoformat()
                if schedule == "once"
                else None,
                owner_kind="patient",
                sensitivity="behavioral_health"
                if area.value == "emotional_health" and rng.random() < 0.5
                else None,
            )
        elif kind == "test":
            title, system, code, discipline = pools[kind].pop()
            author = _member(p, discipline, rng)
            ordered = _day(created)
            row.update(
                title=title,
                area="teeth" if discipline is Discipline.DENTAL else "physical_health",
                code=code,
                code_system=system,
                ordering_member_id=author.member_id,
                ordered_on=ordered.isoformat(),
                due_date=(ordered + timedelta(days=rng.randint(7, 45))).isoformat(),
                owner_kind="team_member",
                owner_member_id=author.member_id,
                sensitivity="behavioral_health"
                if discipline is Discipline.BEHAVIORAL_HEALTH
                else None,
            )
        elif kind == "referral":
            title, need, to, discipline, area = pools[kind].pop()
            author = _member(p, discipline, rng)
            if status == "completed":
                step = "enrolled" if rng.random() < 0.8 else "declined"
            elif status in ("active", "on_hold"):
                step = rng.choice(("sent", "contacted"))
            else:
                step = "sent"
            row.update(
                title=title,
                area=area.value,
                referral_status=step,
                referral_need=need.value,
                referred_to=to,
                owner_kind="organization",
                owner_organization_id=author.org_id,
                sensitivity="substance_use" if "Recovery" in title else None,
            )
        else:
            title, url, area = pools[kind].pop()
            author = _member(p, Discipline.NURSING, rng)
            row.update(title=title, area=area.value, resource_url=url, owner_kind="patient")
        row.update(
            discipline=author.discipline.value,
            source_organization_id=author.org_id,
            created_by_id=author.user_id,
        )
        updated = rng.randint(created, run.now) if closed else created
        if kind == "appointment" and status == "completed":
            _attendance(run, p, item_id, starts, row, out)
        row["created_at"], row["updated_at"] = sink.ts(created), sink.ts(updated)
        out.add("plan_items", tuple(row.values()))
        p.items.append((item_id, kind, status, row["sensitivity"], row["title"], row["schedule"]))
        out.add(
            "plan_changes",
            (
                p.id,
                "item",
                item_id,
                "added",
                row["title"],
                None,
                author.user_id,
                "care_team",
                row["created_at"],
            ),
        )
        if closed:
            change = "completed" if status == "completed" else "stopped"
            fields = ["referral_status", "status"] if kind == "referral" else ["status"]
            out.add(
                "plan_changes",
                (
                    p.id,
                    "item",
                    item_id,
                    change,
                    row["title"],
                    dumps(fields),
                    author.user_id,
                    "care_team",
                    row["updated_at"],
                ),
            )
        elif kind == "task" and row["schedule"] == "daily" and status == "active" and p.user_id:
            for back in range(1, 8):
                if rng.random() < 0.6:
                    day = run.today - timedelta(days=back)
                    at = run.now - back * DAY + rng.randint(0, 3600 * 6)
                    out.add("task_completions", (item_id, day.isoformat(), p.user_id, sink.ts(at)))


#: A reminded appointment is missed less often (the no-show measure compares the two).
NO_SHOW_REMINDED, NO_SHOW_NOT_REMINDED = 0.08, 0.17
#: How texts end up (Twilio's final statuses), for reminders sent in the past.
SENT_STATUS = (("delivered", 0.93), ("undelivered", 0.04), ("failed", 0.03))


def _attendance(run: Run, p: P, item_id: int, starts: int, row: dict, out: Tables) -> None:
    """A past appointment's attendance as the team recorded it, and for about half of the
    patients who take texts the reminder the day before (delivered or not)."""
    rng, sink = run.rng, run.sink
    reminded = False
    if p.phone and rng.random() < 0.5:
        status = _pick(rng, SENT_STATUS)
        reminded = status == "delivered"
        sent = starts - DAY
        out.add(
            "outbound_sms",
            (
                sink.ts(sent - 60),
                p.phone,
                p.user_id,
                p.id,
                "appointment",
                p.locale,
                "CareCircle: you have an appointment tomorrow. Reply STOP to stop texts.",
                sink.ts(sent),
                status,
                sink.ts(sent + 2),
                f"SMgenappt{item_id:012d}",
                1,
                item_id,
                None,
                f"appt:{item_id}:24:{p.phone}",
            ),
        )
    missed = rng.random() < (NO_SHOW_REMINDED if reminded else NO_SHOW_NOT_REMINDED)
    row["attendance"] = "no_show" if missed else "attended"
    row["attendance_recorded_at"] = sink.ts(min(run.now, starts + rng.randint(3600, 2 * DAY)))


def _choose_screenings(rng: random.Random) -> list[tuple[int, list[str]]]:
    """About 45% of patients answered the social needs screening in the last year, some of them
    another one the year before; about 3 in 10 screenings find a need (safety the rarest)."""
    if rng.random() >= 0.45:
        return []
    ago = [rng.randint(DAY, YEAR)]
    if rng.random() < 0.3:
        ago.append(ago[0] + rng.randint(300 * DAY, 400 * DAY))
    found = []
    for seconds in ago:
        needs: list[str] = []
        if rng.random() < 0.3:
            needs = rng.sample([n.value for n in NEED_WEIGHTS], rng.choice((1, 1, 1, 2, 3)))
            needs = [n.value for n in Need if n.value in needs]  # the questionnaire's order
        found.append((seconds, needs))
    return found


#: The needs a screening may find.
NEED_WEIGHTS = (Need.FOOD, Need.TRANSPORTATION, Need.HOUSING, Need.UTILITIES, Need.SAFETY)
#: Where a suggested referral stands, by how long ago it was suggested: (referral step, status)
REFERRAL_OUTCOMES = (
    ((None, "planned"), 0.12),  # not sent yet
    (("sent", "active"), 0.25),
    (("contacted", "active"), 0.18),
    (("enrolled", "completed"), 0.35),
    (("declined", "completed"), 0.10),
)


def _screenings(run: Run, p: P, out: Tables) -> None:
    """The patient's screenings (screening_responses), and for each need found the referral it
    suggested (a plan item owned by a social services member of the team, its steps moved on
    as time passed) with the link row (screening_referrals), as app.screening.services saves
    them."""
    rng, sink = run.rng, run.sink
    for ago, needs in p.screenings:
        response_id = run.take("screening_responses")
        at = run.now - ago
        if at < p.created:
            continue
        if p.user_id and rng.random() < 0.7:
            by, capacity = p.user_id, "patient"
        elif p.caregiver_id and "safety" not in needs:
            by, capacity = p.caregiver_id, "caregiver"
        else:
            by, capacity = _member(p, Discipline.NURSING, rng).user_id, "care_team"
        response = {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "questionnaire": "https://carecircle.example/Questionnaire/ahc-hrsn-core",
            "authored": sink.ts(at),
        }
        out.add(
            "screening_responses",
            (
                response_id,
                p.id,
                "ahc-hrsn-core",
                by,
                capacity,
                p.language,
                sink.ts(at),
                dumps(needs),
                bool(needs),
                dumps(response),
            ),
        )
        for need in needs:
            item_id = run.take("plan_items")
            owner = _member(p, Discipline.SOCIAL_SERVICES, rng)
            step, status = None, "planned"  # suggested in the last two weeks: not sent yet
            if ago >= 14 * DAY:
                chosen = _pick(rng, [(str(i), w) for i, (_o, w) in enumerate(REFERRAL_OUTCOMES)])
                step, status = REFERRAL_OUTCOMES[int(chosen)][0]
            row = dict.fromkeys(COLUMNS["plan_items"])
            with force_locale(p.locale):
                title = str(REFERRAL_TITLES[Need(need)])
            row.update(
                id=item_id,
                patient_id=p.id,
                kind="referral",
                title=title,
                area=REFERRAL_AREAS[Need(need)].value,
                status=status,
                discipline=Discipline.SOCIAL_SERVICES.value,
                source_organization_id=owner.org_id,
                sensitivity="confidential" if need == "safety" else None,
                owner_kind="team_member",
                owner_member_id=owner.member_id,
                referral_status=step,
                referral_need=REFERRAL_NEEDS[Need(need)].value,
                created_at=sink.ts(at),
                updated_at=sink.ts(at if step is None else min(run.now, at + 3 * DAY)),
            )
            out.add("plan_items", tuple(row.values()))
            p.items.append((item_id, "referral", status, row["sensitivity"], title, None))
            out.add(
                "plan_changes",
                (p.id, "item", item_id, "added", title, None, None, "system", sink.ts(at)),
            )
            out.add("screening_referrals", (response_id, p.id, need, item_id, True, sink.ts(at)))


def _day(t: int) -> date:
    return datetime.fromtimestamp(t, UTC).date()


def _patient_side(p: P) -> tuple[int, str]:
    """Who writes for the patient: themselves, or (for a young child) their parent."""
    if p.user_id is not None:
        return p.user_id, "patient"
    return p.caregiver_id, "caregiver"  # type: ignore[return-value]


def _goals(run: Run, p: P, out: Tables) -> None:
    rng, sink = run.rng, run.sink
    first = run.take("goals", 2)
    author, capacity = _patient_side(p)
    for n, spec in enumerate(rng.sample(cat.GOALS, 2)):
        goal_id = first + n
        description, target_text, target, unit, higher, sensitivity = spec
        created = rng.randint(p.created, run.now - 20 * DAY)
        r = rng.random()
        if r < 0.75:
            lifecycle, by, cap, achievement = "active", author, capacity, "in-progress"
        elif r < 0.85:
            lifecycle, achievement = "proposed", None
            by, cap = p.coordinator.user_id, "care_team"  # type: ignore[union-attr]
        elif r < 0.95:
            lifecycle, by, cap, achievement = "completed", author, capacity, "in-progress"
        else:
            lifecycle, by, cap, achievement = "on-hold", author, capacity, "in-progress"
        changes = [(p.id, "goal", goal_id, "added", description, None, by, cap, sink.ts(created))]
        last_time = created
        if lifecycle != "proposed":
            if target is None:
                value = None
            elif higher:
                value = round(target * 0.5, 1)
            else:
                value = round(target * 1.4, 1) if target else 10.0
            t = created
            for _ in range(rng.randint(2, 10)):
                t += rng.randint(3 * DAY, 30 * DAY)
                if t >= run.now:
                    break
                previous = value
                note = rng.choice(cat.CHECK_IN_NOTES)
                got = None
                if value is not None:
                    step = (target - value) * rng.uniform(-0.2, 0.5)
                    value = round(value + step, 1)
                    if higher is not None and previous is not None and value != previous:
                        got = "improving" if (value > previous) == higher else "worsening"
                elif note is None:
                    note = "Working on it."
                fields = ["check_in"]
                if got is not None and got != achievement:
                    achievement = got
                    fields = ["achievement_status", "check_in"]
                out.add(
                    "goal_check_ins",
                    (goal_id, value, note, got, author, capacity, sink.ts(t)),
                )
                changes.append(
                    (
                        p.id,
                        "goal",
                        goal_id,
                        "changed",
                        description,
                        dumps(fields),
                        author,
                        capacity,
                        sink.ts(t),
                    )
                )
                last_time = t
            if lifecycle == "completed":
                t = min(last_time + rng.randint(DAY, 10 * DAY), run.now - 60)
                fields = ["lifecycle_status"] + (
                    ["achievement_status"] if achievement != "achieved" else []
                )
                achievement = "achieved"
                changes.append(
                    (
                        p.id,
                        "goal",
                        goal_id,
                        "completed",
                        description,
                        dumps(sorted(fields)),
                        author,
                        capacity,
                        sink.ts(t),
                    )
                )
                last_time = t
        out.add(
            "goals",
            (
                goal_id,
                p.id,
                description,
                None,
                target_text,
                target,
                unit,
                higher,
                _day(created).isoformat(),
                lifecycle,
                achievement,
                by,
                cap,
                sensitivity,
                sink.ts(created),
                sink.ts(last_time),
            ),
        )
        out.rows.setdefault("plan_changes", []).extend(changes)


def _decision(run: Run, p: P, out: Tables) -> None:
    rng, sink = run.rng, run.sink
    if not p.decision:
        return
    decision_id = run.take("decisions")
    option_id = run.take("decision_options", 2)
    question, options = rng.choice(cat.DECISIONS)
    created = rng.randint(run.now - 90 * DAY, run.now - DAY)
    opener = p.coordinator.user_id
    ts = sink.ts(created)
    out.add(
        "decisions",
        (decision_id, p.id, question, "Let's decide together.", "open", opener, ts, ts),
    )
    for position, title in enumerate(options):
        out.add(
            "decision_options",
            (
                option_id + position,
                decision_id,
                position,
                title,
                "It can help.",
                "It has some risks.",
                "What it means day to day.",
            ),
        )
    out.add("decision_entries", (decision_id, "opened", None, opener, "care_team", ts))
    if rng.random() < 0.5:
        author, capacity = _patient_side(p)
        later = sink.ts(rng.randint(created, run.now))
        out.add(
            "decision_entries",
            (decision_id, "what_matters", "Being able to walk my dog.", author, capacity, later),
        )
    out.add(
        "plan_changes",
        (p.id, "decision", decision_id, "added", question, None, opener, "care_team", ts),
    )


def _choose_reminders(run: Run, p: P) -> None:
    if not p.reminders or not p.phone:
        return
    timed = [
        i
        for i in p.items
        if i[1] in ("medication", "task") and i[2] == "active" and i[5] in (None, "daily")
    ]
    if timed:
        p.reminded = run.rng.sample(timed, min(len(timed), run.rng.choice((1, 1, 2))))


def _reminders(run: Run, p: P, out: Tables) -> None:
    """Chosen-time reminders on one or two open medicines or daily tasks, the verified phone
    they need, the consent when there are more than the cap allows, and some texts sent."""
    if not p.reminded:
        return
    rng, sink = run.rng, run.sink
    per_day = 0
    for item in p.reminded:
        schedule_id = run.take("reminder_schedules")
        times = ["08:00"] if rng.random() < 0.6 else ["08:00", "20:00"]
        per_day += len(times)
        set_at = run.now - rng.randint(10 * DAY, 200 * DAY)
        out.add(
            "reminder_schedules",
            (schedule_id, p.id, item[0], dumps(times), None, True, sink.ts(set_at), p.user_id),
        )
        purpose = item[1]
        for back in range(1, 6):
            sent = run.now - back * DAY - 4 * 3600
            status = _pick(rng, SENT_STATUS)
            out.add(
                "outbound_sms",
                (
                    sink.ts(sent - 60),
                    p.phone,
                    p.user_id,
                    p.id,
                    purpose,
                    p.locale,
                    "CareCircle: you have a reminder. Reply STOP to stop texts.",
                    sink.ts(sent),
                    status,
                    sink.ts(sent + 2),
                    f"SMgen{schedule_id:012d}{back:02d}",
                    1,
                    item[0],
                    schedule_id,
                    f"gen:{schedule_id}:{back}",
                ),
            )
    if per_day > current_app.config["REMINDER_CAP_PER_DAY"]:
        out.add(
            "text_consents",
            (
                p.id,
                True,
                run.wording[p.locale],
                p.locale,
                sink.ts(run.now - 200 * DAY - 60),
                p.user_id,
            ),
        )


# ------------------------------------------------------------------ messages


@dataclass
class ThreadSpec:
    topic: Topic
    size: int
    start: int
    gap: float
    private: bool = False
    item: tuple | None = None
    #: No pauses of weeks (the long thread must fit in the history).
    steady: bool = False


ROUTES = {
    Topic.MEDICATION: (Discipline.PHARMACY,),
    Topic.APPOINTMENT: (Discipline.NURSING,),
    Topic.SYMPTOMS: (Discipline.NURSING, Discipline.PRIMARY_CARE),
    Topic.CARE_PLAN: (Discipline.NURSING, Discipline.PRIMARY_CARE),
    Topic.SOCIAL_NEEDS: (Discipline.SOCIAL_SERVICES,),
    Topic.BILLING: (Discipline.NURSING,),
    Topic.OTHER: (Discipline.NURSING,),
    Topic.NOT_SURE: (Discipline.NURSING,),
}
#: "Not sure" (issue 15) is not generated: the shares, and so the generated CCO, stay as they were.
TOPIC_SHARE = (
    (Topic.MEDICATION, 0.26),
    (Topic.APPOINTMENT, 0.22),
    (Topic.SYMPTOMS, 0.18),
    (Topic.CARE_PLAN, 0.10),
    (Topic.SOCIAL_NEEDS, 0.10),
    (Topic.BILLING, 0.04),
    (Topic.OTHER, 0.10),
)


def _thread_plan(run: Run, p: P) -> list[ThreadSpec]:
    """How many messages the patient's side exchanges with the team, cut into threads."""
    rng = run.rng
    total = rng.randint(560, 800) if p.heavy else min(120, int(rng.expovariate(1 / 13)))
    specs: list[ThreadSpec] = []
    if p.heavy and not run.long_thread_given:
        run.long_thread_given = True
        gap = HISTORY * 0.9 / LONG_THREAD
        specs.append(
            ThreadSpec(Topic.SYMPTOMS, LONG_THREAD, run.now - HISTORY + DAY, gap, steady=True)
        )
        total = max(total - LONG_THREAD, 260)
    while total > 0:
        size = min(total, 1 + int(rng.expovariate(1 / 3)))
        total -= size
        topic = Topic(_pick(rng, ((t.value, s) for t, s in TOPIC_SHARE)))
        start = rng.randint(run.now - HISTORY, run.now - 1800)
        item = None
        if p.items and rng.random() < 0.2:
            kind = {Topic.MEDICATION: "medication", Topic.APPOINTMENT: "appointment"}.get(topic)
            matching = [i for i in p.items if kind is None or i[1] == kind]
            item = rng.choice(matching) if matching else None
        private = 13 <= p.age < 18 and p.user_id is not None and rng.random() < 0.1
        specs.append(ThreadSpec(topic, size, start, rng.uniform(0.3, 2.5) * DAY, private, item))
    return specs


def _responder(run: Run, p: P, topic: Topic) -> Staff:
    rng = run.rng
    candidates = [m for d in ROUTES[topic] for m in p.team.get(d, [])]
    if run.demo_nurse in candidates and rng.random() < 0.6:
        return run.demo_nurse
    return rng.choice(candidates) if candidates else p.coordinator  # type: ignore[return-value]


def _thread(run: Run, p: P, thread_id: int, spec: ThreadSpec, out: Tables) -> None:
    """One thread, replayed through the rules of `messaging.services.add_message`."""
    rng, sink = run.rng, run.sink
    words = cat.MESSAGES["es" if p.language == "es" else "en"][spec.topic]
    subjects, patient_lines, team_lines = words
    own_id, own_capacity = _patient_side(p)
    target = run.targets[spec.topic]
    responder = _responder(run, p, spec.topic)
    by_user = {m.user_id: m for m in p.members()}
    by_user[responder.user_id] = responder

    state = {"status": "open", "awaiting": None, "due": None, "assignee": None, "last": 0}
    reads: dict[int, int] = {}

    def post(t: int, author: int, capacity: str, body: str, internal: bool = False) -> None:
        """`add_message`'s rules: waiting time, due time, the first responder takes it,
        response times, the author's read mark."""
        out.add("messages", (thread_id, author, capacity, body, internal, sink.ts(t)))
        reads[author] = max(reads.get(author, 0), t)
        if internal:
            return
        state["last"] = t
        if capacity in ("patient", "caregiver"):
            state["status"] = "open"
            if state["awaiting"] is None:
                state["awaiting"] = t
            state["due"] = state["awaiting"] + target
            return
        if state["awaiting"] is not None:
            waited = state["awaiting"]
            out.add(
                "message_response_times",
                (
                    thread_id,
                    p.id,
                    spec.topic.value,
                    sink.ts(waited),
                    sink.ts(t),
                    t - waited,
                    target,
                    author,
                ),
            )
        state["awaiting"] = state["due"] = None
        if state["assignee"] is None:
            state["assignee"] = by_user[author].member_id

    def answer_delay() -> int:
        return int(min(rng.expovariate(1 / (target * 0.6)), target * 3)) + 300

    created_by = None
    t = spec.start
    team_turn = rng.random() < 0.08  # now and then the team starts the conversation
    for n in range(spec.size):
        if n:
            t += answer_delay() if team_turn else int(rng.expovariate(1 / spec.gap)) + 600
        if t >= run.now - 60:
            break
        if team_turn:
            if rng.random() < 0.05 and n:  # an internal note first
                post(t, responder.user_id, "care_team", rng.choice(cat.INTERNAL_NOTES), True)
                t += 120
            author, capacity, body = responder.user_id, "care_team", rng.choice(team_lines)
        elif p.caregiver_id and p.user_id and not spec.private and rng.random() < 0.2:
            author, capacity, body = p.caregiver_id, "caregiver", rng.choice(patient_lines)
        else:
            author, capacity, body = own_id, own_capacity, rng.choice(patient_lines)
        created_by = created_by or author
        post(t, author, capacity, body)
        # Mostly the sides take turns; sometimes the patient side writes twice.
        team_turn = not team_turn if (team_turn or rng.random() < 0.85) else team_turn
        if not spec.steady and not team_turn and rng.random() < 0.04:
            t += DAY * rng.randint(5, 60)  # a new question weeks later, same thread
    if state["awaiting"] is not None:
        # The team answers; only recent questions are still waiting (some of them overdue).
        at = state["last"] + answer_delay()
        if at < run.now - 60 and (run.now - state["last"] > 7 * DAY or rng.random() < 0.5):
            post(at, responder.user_id, "care_team", rng.choice(team_lines))
    status, awaiting, due = state["status"], state["awaiting"], state["due"]
    assignee, last = state["assignee"], state["last"]
    resolved_at = resolved_by = None
    if awaiting is None and run.now - last > 3 * DAY and rng.random() < 0.75:
        # The team resolved it a little after its last answer.
        at = min(last + rng.randint(3600, 3 * DAY), run.now - 60)
        status, resolved_at, resolved_by = "resolved", at, responder.user_id
    if awaiting is not None and assignee is None and rng.random() < 0.3:
        assignee = responder.member_id  # taken ("Take it"), not answered yet
    # The patient read the team's answer (the latest ones may still be unread).
    if (
        own_capacity == "patient"
        and last > reads.get(own_id, 0)
        and (run.now - last > 2 * DAY or rng.random() < 0.5)
    ):
        reads[own_id] = min(last + rng.randint(600, DAY), run.now - 30)
    out.add(
        "message_threads",
        (
            thread_id,
            p.id,
            spec.topic.value,
            rng.choice(subjects),
            spec.item[0] if spec.item else None,
            "confidential" if spec.private else None,
            status,
            created_by,
            sink.ts(spec.start),
            sink.ts(last),
            assignee,
            sink.ts(awaiting) if awaiting is not None else None,
            sink.ts(due) if due is not None else None,
            sink.ts(resolved_at) if resolved_at is not None else None,
            resolved_by,
        ),
    )
    for user_id, at in reads.items():
        out.add("thread_reads", (thread_id, user_id, sink.ts(at)))


# ------------------------------------------------------------------ the audit trail

#: (who, action, resource, endpoint, weight): what people do on a record, most of it looking.
AUDIT_KINDS = (
    ("patient", "view", "patient.summary", "patients.summary", 10),
    ("patient", "view", "careplan.plan", "items.plan", 5),
    ("patient", "view", "careplan.today", "items.today", 5),
    ("patient", "view", "careplan.item", "items.item", 3),
    ("patient", "view", "messaging.threads", "messaging.threads", 4),
    ("patient", "view", "messaging.thread", "messaging.thread", 4),
    ("patient", "update", "messaging.thread", "messaging.thread", 2),
    ("care_team", "view", "patient.summary", "patients.summary", 10),
    ("care_team", "view", "careplan.plan", "items.plan", 4),
    ("care_team", "view", "messaging.thread", "messaging.thread", 5),
    ("care_team", "update", "messaging.thread", "messaging.thread", 3),
    ("care_team", "create", "careplan.item", "items.new", 2),
    ("care_team", "update", "careplan.item", "items.edit", 2),
    ("caregiver", "view", "patient.summary", "patients.summary", 3),
    ("caregiver", "view", "careplan.plan", "items.plan", 2),
)
_AUDIT_WEIGHTS = [k[4] for k in AUDIT_KINDS]


def _audit_events(run: Run, p: P) -> list[tuple]:
    """About 30 rows for the patient (20,000 for the run's first): (time, actor, capacity,
    acting for, action, resource, resource id, endpoint, address)."""
    rng = run.rng
    count = rng.randint(22, 38)
    if not run.heavy_audit_done:
        run.heavy_audit_done = True
        count = HEAVY_AUDIT_ROWS
    staff = p.members()
    kinds = rng.choices(AUDIT_KINDS, weights=_AUDIT_WEIGHTS, k=count)
    events = []
    start = p.created
    for who, action, resource, endpoint, _w in kinds:
        acting_for = None
        if who == "care_team":
            actor, capacity = rng.choice(staff).user_id, "care_team"
            address = f"198.51.100.{rng.randint(1, 254)}"
        elif who == "caregiver" and p.caregiver_id:
            actor, capacity, acting_for = p.caregiver_id, "caregiver", p.id
            address = f"203.0.113.{rng.randint(1, 254)}"
        else:
            actor, capacity = _patient_side(p)
            acting_for = p.id if capacity == "caregiver" else None
            address = f"203.0.113.{rng.randint(1, 254)}"
        resource_id = None
        if resource == "careplan.item" and p.items:
            resource_id = str(rng.choice(p.items)[0])
        elif resource == "messaging.thread" and p.threads:
            resource_id = str(rng.choice(p.threads))
        at = rng.randint(start, run.now - 1)
        events.append(
            (
                at,
                actor,
                capacity,
                acting_for,
                p.id,
                action,
                resource,
                resource_id,
                endpoint,
                address,
            )
        )
    return events


AUDIT_COLUMNS = (
    "occurred_at",
    "actor_id",
    "capacity",
    "acting_for_patient_id",
    "patient_id",
    "action",
    "resource",
    "resource_id",
    "endpoint",
    "ip_address",
    "chain_seq",
    "prev_hash",
    "row_hash",
)


def _write_audit(run: Run, events: list[tuple]) -> None:
    """Link the batch's events to the chain, in time order, as `core.audit.write` does: under
    the chain lock, from the last row, with the same digest (`audit.row_digest`)."""
    step = time.perf_counter()
    session, sink = db.session, run.sink
    events.sort(key=lambda e: e[0])
    audit._lock_chain(session)
    last = session.execute(
        sa.select(audit.AuditEvent.chain_seq, audit.AuditEvent.row_hash)
        .order_by(audit.AuditEvent.chain_seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last.chain_seq, last.row_hash) if last else (0, audit.GENESIS)
    rows = []
    sha, encode = hashlib.sha256, json.JSONEncoder(separators=(",", ":")).encode
    for at, actor, capacity, acting_for, patient, action, resource, rid, endpoint, ip in events:
        seq += 1
        canonical = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + ".000000Z"
        content = encode(
            [
                seq,
                canonical,
                actor,
                capacity,
                acting_for,
                patient,
                action,
                resource,
                rid,
                endpoint,
                ip,
            ]
        )
        prev_hash, prev = prev, sha(f"{prev}\n{content}".encode()).hexdigest()
        rows.append(
            (
                sink.ts(at),
                actor,
                capacity,
                acting_for,
                patient,
                action,
                resource,
                rid,
                endpoint,
                ip,
                seq,
                prev_hash,
                prev,
            )
        )
    run.gen_seconds["audit"] += time.perf_counter() - step
    sink.write("audit_events", AUDIT_COLUMNS, rows)
