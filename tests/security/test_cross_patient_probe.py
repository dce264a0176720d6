"""Nobody outside a patient's circle can read or change anything of theirs.

Two patients, Alpha (A) and Bravo (B), each with one of everything: plan items of every kind,
a goal with a check-in, a shared decision, a message thread, a duplicate-test flag, a
caregiver grant and a pending invitation, and texts in the outbox. Everyone close to A (A,
A's caregiver with every scope and category, a nurse on A's team), a nurse on no team, an
admin and a helper whose access to B has ended then walk the whole URL map with B's ids, with
B's ids under A's record and with ids that don't exist, sending every method each route takes
(POSTs with a valid CSRF token and form values that would succeed). Every answer must be the
same 404 (admins: exactly what the policy lets them see, without clinical content), never a
500, and afterwards nothing in the database may have changed and B's audit trail may show no
access.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.policy import ADMIN_PERMISSIONS
from app.careplan.items.models import PlanItem
from app.core.access import Permission, can
from app.core.audit import AuditEvent
from app.extensions import db
from app.messaging.models import Thread
from app.patients import queries as patient_queries
from app.patients.models import PatientPreferences
from app.reminders.replan import replan_item
from app.texting.models import OutboundSms
from tests.fixtures.probe import (
    ACCOUNT,
    MISSING,
    has_object_args,
    leaked,
    methods,
    normal,
    object_args,
    outsider_form,
    patient_rules,
    permission_of,
    send,
    signed_in,
    urls,
)
from tests.fixtures.records import (
    ALL_SCOPES,
    NOW,
    TODAY,
    build_record,
    differences,
    snapshot,
)

#: What the policy lets a CCO administrator do with any patient's record: accounts and teams,
#: "who looked at my record", no clinical content. Widening it must be a deliberate change.
ADMIN_MAY = frozenset(
    {
        Permission.VIEW_SUMMARY,
        Permission.VIEW_AUDIT_LOG,
        Permission.EDIT_PROFILE,
        Permission.CHANGE_PHONE,  # proven with a code to the new number
        Permission.MANAGE_CARE_TEAM,
        Permission.VIEW_CAREGIVERS,
        Permission.INVITE_TO_PORTAL,  # a record without a login: its patient's account (email)
    }
)

ROLES = ["patient_a", "caregiver_a", "member_a", "member_no_team", "admin", "ex_caregiver_b"]
#: Each outsider signs in from an address of their own (rate limits count per address).
ADDRESSES = {who: f"127.0.0.{n + 10}" for n, who in enumerate(ROLES)}


@pytest.fixture
def world(app, frozen_clock, make_patient, make_user, make_member, make_org, assign, grant):
    frozen_clock(NOW)
    factories = {
        "make_patient": make_patient,
        "make_user": make_user,
        "make_member": make_member,
        "make_org": make_org,
        "assign": assign,
        "grant": grant,
    }
    a = build_record("Alpha", phone="+15035550111", caregiver_phone="+15035550112", **factories)
    # B is 16, so B's record also has a parent's guardian grant (and its team-only pages)
    b = build_record(
        "Bravo",
        phone="+15035550121",
        caregiver_phone="+15035550122",
        dob=date(2009, 9, 1),
        **factories,
    )
    loner = make_member(name="Lone Nurse")
    former = make_user(Role.CAREGIVER, name="Former Helper")
    grant(b.patient, former, scopes=ALL_SCOPES, revoked_at=NOW - timedelta(days=1))
    users = {
        "patient_a": a.user,
        "caregiver_a": a.caregiver,
        "member_a": a.member_user,
        "member_no_team": db.session.get(User, loner.user_id),
        "admin": make_user(Role.ADMIN, name="Ada Admin"),
        "ex_caregiver_b": former,  # B ended this helper's access yesterday
    }
    return SimpleNamespace(a=a, b=b, users=users)


def audit_about(patient_id: int, after_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.id > after_id,
                sa.or_(
                    AuditEvent.patient_id == patient_id,
                    AuditEvent.acting_for_patient_id == patient_id,
                ),
            )
            .order_by(AuditEvent.id)
        )
    )


def last_audit_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0)))


def describe(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


# ------------------------------------------------------------------ the policy for admins


def test_admins_may_do_exactly_what_the_probe_expects(app, world):
    """The probe below allows admins these permissions and no others: if the policy changes,
    this fails first, and whoever widened it reviews the admin expectations here."""
    assert frozenset(ADMIN_PERMISSIONS) == ADMIN_MAY
    with app.test_request_context():
        allowed = {p for p in Permission if can(world.users["admin"], p, world.b.patient)}
    assert allowed == ADMIN_MAY


# ------------------------------------------------------------------ the probe


@pytest.mark.parametrize("who", ROLES)
def test_outsiders_get_404_on_every_route_of_another_patient(app, world, new_browser, who):
    b = world.b
    browser = signed_in(new_browser, world.users[who], ADDRESSES[who])
    token = browser.token(ACCOUNT)
    form = {**outsider_form(b, TODAY), "csrf_token": token}
    nowhere = {name: [MISSING] for name in object_args(b)}
    before, first_event = snapshot(), last_audit_id()
    problems, admin_endpoints, probed = [], set(), 0

    for rule in patient_rules(app):
        allowed = who == "admin" and permission_of(app, rule) in ADMIN_MAY
        if allowed:
            admin_endpoints.add(rule.endpoint)
        fake = urls(rule, MISSING, nowhere, first_only=True)[0]
        not_found = {m: normal(send(browser, m, fake, form).text, fake) for m in methods(rule)}
        for url in urls(rule, b.patient.id, object_args(b)):
            for method in methods(rule):
                # An admin's allowed form goes in empty: their right to change the profile is
                # not under test here, and an empty form must change nothing.
                data = {"csrf_token": token} if allowed else form
                answer = send(browser, method, url, data)
                probed += 1
                if allowed and method == "POST":
                    send(browser, "GET", ACCOUNT)  # show its flash message, before the next 404
                where = f"{who} {method} {url}"
                if answer.status >= 500:
                    problems.append(f"{where} -> {answer.status} {answer.text[:300]}")
                    continue
                secrets = leaked(answer.text, b.clinical)
                if secrets:
                    problems.append(f"{where} -> {answer.status} shows B's {secrets}")
                if not allowed and answer.status != 404:
                    problems.append(f"{where} -> {answer.status}, expected 404")
                elif allowed and method == "GET" and answer.status != 200:
                    problems.append(f"{where} -> {answer.status}, the policy allows admins 200")
                elif allowed and answer.status == 404:
                    problems.append(f"{where} -> 404, but the policy allows it for admins")
                if answer.status == 404 and normal(answer.text, url) != not_found[method]:
                    problems.append(f"{where} -> a 404 unlike the one for a missing patient")

    assert probed > 60, "the URL map walk found too few routes to be a real probe"
    assert not problems, describe(problems)
    assert differences(before, snapshot()) == [], "a refused request changed the database"
    events = audit_about(b.patient.id, first_event)
    # Every refusal is on record for the security page, as this user, and never in B's log.
    denied = [e for e in events if e.action == "denied"]
    events = [e for e in events if e.action != "denied"]
    assert denied, "refused attempts were not recorded"
    assert {(e.actor_id, e.capacity, e.acting_for_patient_id) for e in denied} == {
        (world.users[who].id, world.users[who].role.value, None)
    }
    shown = patient_queries.access_log(b.patient, per_page=1000).rows
    assert not [row for row in shown if row[0].action == "denied"]
    if who != "admin":
        assert events == [], [(e.action, e.resource, e.endpoint) for e in events]
    else:
        # what the policy allows them: views, and the profile form (sent empty, so the update
        # it records changed nothing, as the snapshot shows)
        assert {e.action for e in events} <= {"view", "update"}
        assert {e.endpoint for e in events} <= admin_endpoints
        assert {e.actor_id for e in events} == {world.users["admin"].id}


@pytest.mark.parametrize("who", ROLES)
def test_missing_patients_and_rows_of_another_patient_are_404(app, world, new_browser, who):
    """/patients/999999/..., B's rows under A's record (/patients/A/plan/items/<B's item>) and
    rows that don't exist under A's record: all 404, even for A's own circle."""
    a, b = world.a, world.b
    browser = signed_in(new_browser, world.users[who], ADDRESSES[who])
    token = browser.token(ACCOUNT)
    form = {**outsider_form(b, TODAY), "csrf_token": token}
    missing = {name: [MISSING] for name in object_args(b)}
    before, first_event = snapshot(), last_audit_id()
    problems = []

    for rule in patient_rules(app):
        targets = urls(rule, MISSING, object_args(b), first_only=True)
        if has_object_args(rule):
            targets += urls(rule, a.patient.id, object_args(b))
            targets += urls(rule, a.patient.id, missing, first_only=True)
        for url in targets:
            for method in methods(rule):
                answer = send(browser, method, url, form)
                where = f"{who} {method} {url}"
                if answer.status != 404:
                    problems.append(f"{where} -> {answer.status}, expected 404 {answer.text[:200]}")
                secrets = leaked(answer.text, b.clinical)
                if secrets:
                    problems.append(f"{where} shows B's {secrets}")

    assert not problems, describe(problems)
    assert differences(before, snapshot()) == [], "a refused request changed the database"
    assert audit_about(b.patient.id, first_event) == []


# ------------------------------------------------------------------ the probe is real


def test_the_probe_uses_ids_that_open_for_b_circle(app, world, new_browser):
    """Every GET the probe sends opens for someone in B's circle, so the 404s above come from
    who is asking, not from ids that are wrong."""
    b = world.b
    insiders = {
        "team": signed_in(new_browser, b.member_user, "127.0.0.2"),
        "patient": signed_in(new_browser, b.user, "127.0.0.3"),
        "caregiver": signed_in(new_browser, b.caregiver, "127.0.0.4"),
        "parent": signed_in(
            new_browser, db.session.get(User, b.grants[-1].caregiver_id), "127.0.0.8"
        ),
    }
    problems = []
    for rule in patient_rules(app):
        if "GET" not in rule.methods:
            continue
        opened = []
        for url in urls(rule, b.patient.id, object_args(b)):
            for who, browser in insiders.items():
                answer = send(browser, "GET", url)
                if answer.status >= 500:
                    problems.append(f"{who} GET {url} -> {answer.status} {answer.text[:300]}")
                elif answer.status < 400:
                    opened.append(url)
        # some pages exist only for some rows (reminders for medicines and tasks, continuing
        # authority for a guardian's grant): one row that opens is enough
        if not opened:
            problems.append(f"{rule.rule}: no id the probe uses opens for anyone in B's circle")
    assert not problems, describe(problems)


def test_the_probe_would_notice_a_write(app, world, new_browser):
    """The same form the outsiders send changes B's record when B sends it: the "nothing
    changed" checks above would see a write that slipped through."""
    b = world.b
    browser = signed_in(new_browser, b.user, "127.0.0.5")
    form = {**outsider_form(b, TODAY), "csrf_token": browser.token(ACCOUNT)}
    before, first_event = snapshot(), last_audit_id()
    answer = send(browser, "POST", f"/patients/{b.patient.id}/messages/{b.thread.id}", form)
    assert answer.status == 302
    assert any(d.startswith("messages:") for d in differences(before, snapshot()))
    assert audit_about(b.patient.id, first_event) != []


# ------------------------------------------------------------------ ids inside forms


def test_b_ids_inside_a_forms_and_links_change_nothing(app, world, new_browser):
    """A's circle may use A's forms, but naming B's rows in them (a plan item to ask about, a
    decision option, a team member, a flagged item, an owner) is refused and writes nothing."""
    a, b = world.a, world.b
    pid = a.patient.id
    patient = signed_in(new_browser, a.user, "127.0.0.6")
    nurse = signed_in(new_browser, a.member_user, "127.0.0.7")
    tokens = {id(patient): patient.token(ACCOUNT), id(nurse): nurse.token(ACCOUNT)}
    threads_before = db.session.scalar(sa.select(sa.func.count(Thread.id)))
    before = snapshot()

    def post(browser, url, data):
        return send(browser, "POST", url, {**data, "csrf_token": tokens[id(browser)]})

    asking = send(patient, "GET", f"/patients/{pid}/messages/new?item={b.items['appointment'].id}")
    assert asking.status == 404
    assert not leaked(asking.text, b.clinical)
    attempts = {
        "ask about B's item": post(
            patient,
            f"/patients/{pid}/messages/new",
            {"topic": "care_plan", "subject": "Hi", "body": "Hi", "item": b.items["task"].id},
        ),
        "prefer B's option": post(
            patient,
            f"/patients/{pid}/decisions/{a.decision.id}/preference",
            {"preferred_option": b.options[0].id},
        ),
        "decide on B's option": post(
            nurse,
            f"/patients/{pid}/decisions/{a.decision.id}/final",
            {"final_option": b.options[1].id, "final_note": "x"},
        ),
        "give A's thread to B's nurse": post(
            nurse, f"/patients/{pid}/messages/{a.thread.id}/assign", {"member": b.member.id}
        ),
        "cancel B's item through A's flag": post(
            nurse, f"/patients/{pid}/flags/{a.flag.id}/cancel-one", {"item_id": b.flag.item_a_id}
        ),
        "make B's nurse own A's task": post(
            nurse,
            f"/patients/{pid}/plan/items/{a.items['task'].id}/edit",
            {
                "title": "Walk",
                "area": "daily_living",
                "status": "active",
                "discipline": "nursing",
                "source_organization": a.orgs[0].id,
                "owner": f"member:{b.member.id}",
                "schedule": "daily",
            },
        ),
        "make B's caregiver own a new task": post(
            nurse,
            f"/patients/{pid}/plan/new/task",
            {
                "title": "Walk",
                "area": "daily_living",
                "status": "active",
                "discipline": "nursing",
                "source_organization": a.orgs[0].id,
                "owner": f"caregiver:{b.caregiver.id}",
                "schedule": "daily",
            },
        ),
    }
    wrong = {
        what: answer.status
        for what, answer in attempts.items()
        if answer.status not in (303, 400, 404, 409, 422)
    }
    assert wrong == {}, wrong
    shown = {what: leaked(answer.text, b.clinical) for what, answer in attempts.items()}
    assert all(not secrets for secrets in shown.values()), shown
    assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == threads_before
    assert differences(before, snapshot()) == []


# ------------------------------------------------------------------ everyone else's pages


def test_anonymous_visitors_learn_nothing(app, world, new_browser):
    """Signed out, B's pages and pages of a patient who doesn't exist answer the same: off to
    sign in, with nothing of B on the way."""
    b = world.b
    browser = new_browser()
    token = browser.token("/auth/login")
    problems = []
    for rule in patient_rules(app):
        real = urls(rule, b.patient.id, object_args(b), first_only=True)[0]
        fake = urls(rule, MISSING, {name: [MISSING] for name in object_args(b)}, first_only=True)[0]
        for method in methods(rule):
            answers = [send(browser, method, url, {"csrf_token": token}) for url in (real, fake)]
            for answer, url in zip(answers, (real, fake), strict=True):
                if answer.status != 302 or not (answer.location or "").startswith("/auth/login"):
                    problems.append(f"{method} {url} -> {answer.status} {answer.location}")
                if leaked(answer.text, b.clinical) or b.patient.given_name in answer.text:
                    problems.append(f"{method} {url} shows something of B")
    assert not problems, describe(problems)


def own_pages(app, b) -> list[str]:
    """Every GET page that takes no argument (start pages, lists, inboxes, admin pages), and
    the team inbox filtered to B."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            found.append(rule.rule)
    for view in ("unassigned", "mine", "overdue", "all"):
        found += [f"/team/inbox?view={view}", f"/team/inbox?view={view}&patient={b.patient.id}"]
    return sorted(found)


@pytest.mark.parametrize("who", ROLES)
def test_outsiders_own_pages_show_nothing_of_b(app, world, new_browser, who):
    """Inboxes, patient lists, the caregiver's people page and the admin pages of everyone
    outside B's circle show none of B's clinical words."""
    b = world.b
    browser = signed_in(new_browser, world.users[who], ADDRESSES[who])
    problems = []
    for url in own_pages(app, b):
        answer = send(browser, "GET", url)
        if answer.status >= 500 and url != "/readyz":  # not ready: the test schema has no
            problems.append(f"{who} GET {url} -> {answer.status} {answer.text[:300]}")  # version
        secrets = leaked(answer.text, b.clinical)
        if secrets:
            problems.append(f"{who} GET {url} -> {answer.status} shows B's {secrets}")
    assert not problems, describe(problems)


@pytest.fixture
def detailed_texts(world):
    """B chose detailed texts: B's own reminders name the appointment (B's choice)."""
    b = world.b
    prefs = db.session.scalar(
        sa.select(PatientPreferences).where(PatientPreferences.patient_id == b.patient.id)
    )
    prefs.detailed_texts = True
    db.session.commit()
    replan_item(db.session.get(PlanItem, b.items["appointment"].id))
    db.session.commit()
    bodies = db.session.scalars(
        sa.select(OutboundSms.body).where(OutboundSms.to_number == b.patient.mobile_phone)
    ).all()
    assert any(b.items["appointment"].title in body for body in bodies), bodies
    return world


def test_admin_outbox_shows_no_clinical_text_of_patients_with_detailed_texts(
    app, detailed_texts, new_browser
):
    b = detailed_texts.b
    browser = signed_in(new_browser, detailed_texts.users["admin"], ADDRESSES["admin"])
    answer = send(browser, "GET", "/admin/outbox")
    assert answer.status == 200
    assert leaked(answer.text, b.clinical) == []
