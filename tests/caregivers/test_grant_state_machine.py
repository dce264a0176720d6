"""Caregiver access follows the grant through its whole life, on every patient-scoped page.

One caregiver stays signed in in one browser for a whole scenario while the grant around them
changes: the patient grants, widens and narrows it through the web, includes and excludes
behavioral health, ends it; a new grant runs out on its end date; a parent's grant meets the
child's 12th and 18th birthdays, and the care team records a legal authority that continues.
After every step the caregiver opens every GET route of the URL map that is wrapped by
`patient_route`, and each answer must be what the spec says for that state: the page (200, or
the same redirect the patient gets) when the grant is in force and its scopes give the route's
permission, the same 404 as "doesn't exist" otherwise. The expected answers come from a small
table of the spec below, not from the policy under test.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import product
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PIL import Image

from app.auth.models import Role, User, UserSession
from app.caregivers import lifecycle
from app.caregivers.models import (
    CaregiverGrant,
    CaregiverInvitation,
    EndedReason,
    GrantKind,
    Scope,
)
from app.careplan.decisions import services as decision_service
from app.careplan.goals import services as goal_service
from app.careplan.items.models import (
    Area,
    FlagKind,
    ItemKind,
    OwnerKind,
    PlanFlag,
    ReadingKind,
    ReferralNeed,
)
from app.core.access import Permission
from app.core.privacy import Capacity, Sensitivity
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.attachments import services as attachment_service
from app.messaging.attachments.processing import process
from app.messaging.models import Message, Topic
from app.team.models import Discipline, OrganizationKind
from tests.fixtures.browser import signed_in
from tests.fixtures.invitations import prove
from tests.fixtures.mail import link_in, outbox_emails
from tests.fixtures.plan import add
from tests.fixtures.records import add_proposal

P = Permission
ZONE = "America/Los_Angeles"
DOB = date(2010, 9, 14)

#: The spec, written out here on purpose (not read from app.caregivers.policy): what each
#: scope lets a caregiver do. Any grant in force also shows the summary.
SCOPE_GIVES: dict[str, frozenset[Permission]] = {
    "plan": frozenset({P.VIEW_PLAN, P.VIEW_GOALS, P.VIEW_DECISIONS, P.COMPLETE_TASKS}),
    "messages": frozenset({P.VIEW_MESSAGES, P.SEND_MESSAGES}),
    "reminders": frozenset(),
    "appointments": frozenset({P.MANAGE_APPOINTMENTS}),
    # acting on goals or decisions implies seeing them (issue 11, finding 3)
    # ... and answering the social needs screening (about the person's life, issue 18)
    "goals": frozenset({P.EDIT_GOALS, P.VIEW_GOALS, P.EDIT_PREFERENCES, P.ANSWER_SCREENING}),
    "decisions": frozenset({P.TAKE_PART_IN_DECISIONS, P.VIEW_DECISIONS}),
}
ALL_SCOPES = sorted(SCOPE_GIVES)

#: The care team's own work: the patient gets 404 there too, so a team member is the one who
#: proves these routes reach real pages.
TEAM_ONLY = frozenset(
    {
        P.EDIT_PLAN,
        P.MANAGE_DECISIONS,
        P.TRIAGE_MESSAGES,
        P.MANAGE_CARE_TEAM,
        P.GRANT_LEGAL_ACCESS,
        P.INVITE_TO_PORTAL,
    }
)

#: URL arguments that are values, not row ids: every value is tried.
VALUE_ARGS: dict[str, list[str]] = {
    "kind": [k.value for k in ItemKind],
    "status": ["cancelled"],
    "step": ["contacted"],
    "entity": ["plan_item"],
    "language": ["es"],
}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 140, 200)).save(out, "PNG")
    return out.getvalue()


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in the patient's zone, as the UTC instant the app stores."""
    return datetime.combine(day, time(hour, minute), ZoneInfo(ZONE)).astimezone(UTC)


def birthday(years: int) -> date:
    return DOB.replace(year=DOB.year + years)


#: Tuesday 4 May 2021, 10:00 in Oregon: the patient is 10.
T0 = local(date(2021, 5, 4), 10)


# ------------------------------------------------------------------ the world


@dataclass
class World:
    patient: object
    patient_user: User
    nurse: User
    caregiver: User
    #: Other people's grants on the same record, always current: the values for grant_id.
    bystander_grants: list[CaregiverGrant]
    items: dict[str, int]
    bh_item: int
    goal: int
    decision: int
    thread: int
    attachment: int
    flag: int
    invitation: int
    proposal: int

    @property
    def base(self) -> str:
        return f"/patients/{self.patient.id}"


@pytest.fixture
def world(
    app, frozen_clock, make_patient, make_user, make_member, make_org, assign, grant
) -> World:
    """A child with a login and one of everything in their record, their nurse, and a
    caregiver with no access yet. Sessions outlive the scenarios' clock jumps, so what the
    walks observe is the grant, never a session timeout."""
    app.config.update(
        SESSION_ABSOLUTE_HOURS=24 * 365 * 20,
        PATIENT_IDLE_MINUTES=60 * 24 * 365 * 20,
        CARE_TEAM_IDLE_MINUTES=60 * 24 * 365 * 20,
    )
    frozen_clock(T0)
    patient = make_patient(
        given="Mia",
        family="Lopez",
        dob=DOB,
        timezone=ZONE,
        mobile_phone="+15035550142",
    )
    patient_user = db.session.get(User, patient.user_id)
    clinic = make_org(OrganizationKind.PRIMARY_CARE, name="Lopez Family Clinic")
    specialist = make_org(OrganizationKind.SPECIALTY, name="Valley Heart Center")
    member = make_member(Discipline.NURSING, org=clinic, name="Nora Nurse")
    nurse = db.session.get(User, member.user_id)
    assign(patient, member, coordinator=True)
    caregiver = make_user(Role.CAREGIVER, name="Ana Lopez", email="ana@example.test")

    neighbor = make_user(Role.CAREGIVER, name="Ned Neighbor")
    father = make_user(Role.CAREGIVER, name="Frank Lopez")
    bystanders = [
        grant(patient, neighbor, scopes=["plan"], relationship_label="neighbor"),
        grant(
            patient,
            father,
            scopes=["plan"],
            relationship_label="father",
            kind=GrantKind.GUARDIAN,
            legal_authority="Parent of a minor",
            document_reference="Birth certificate",
            granted_by_id=nurse.id,
        ),
    ]

    today = T0.astimezone(ZoneInfo(ZONE)).date()
    items = {
        "medication": add(
            patient,
            clinic,
            kind=ItemKind.MEDICATION,
            title="Take albuterol before soccer",
            medication_name="albuterol",
            dose="2 puffs",
            ingredients=["albuterol"],
            prescriber_member_id=member.id,
            area=Area.MEDICINES,
        ),
        "appointment": add(
            patient,
            specialist,
            kind=ItemKind.APPOINTMENT,
            title="Heart rhythm check",
            starts_at=T0 + timedelta(days=5),
            location="Valley Heart Center room 4",
            with_whom="Dr. Walsh",
            area=Area.PHYSICAL_HEALTH,
            discipline=Discipline.SPECIALTY,
            owner_kind=OwnerKind.ORGANIZATION,
            owner_organization_id=specialist.id,
        ),
        "referral": add(
            patient,
            clinic,
            kind=ItemKind.REFERRAL,
            title="After-school food program",
            referral_need=ReferralNeed.FOOD,
            referred_to="Community Pantry",
            area=Area.HOME_FOOD_TRANSPORT,
            discipline=Discipline.SOCIAL_SERVICES,
            owner_kind=OwnerKind.TEAM_MEMBER,
            owner_member_id=member.id,
        ),
        "task": add(patient, clinic, title="Walk the dog after school"),
        "reading": add(
            patient,
            clinic,
            title="Count your steps",
            reading_kind=ReadingKind.STEPS,
            reading_unit="steps",
        ),
        "education": add(
            patient,
            clinic,
            kind=ItemKind.EDUCATION,
            title="Read about asthma triggers",
            resource_url="https://example.test/asthma",
        ),
        "test": add(
            patient,
            clinic,
            kind=ItemKind.TEST,
            title="Allergy blood test",
            code="6206-7",
            code_system="LOINC",
            ordered_on=today - timedelta(days=3),
            ordering_provider_name="Dr. Okafor",
        ),
        # The same test from a second organization: the duplicate-test flag for flag_id.
        "test_again": add(
            patient,
            specialist,
            kind=ItemKind.TEST,
            title="Allergy blood test again",
            code="6206-7",
            code_system="LOINC",
            ordered_on=today - timedelta(days=1),
            ordering_provider_name="Dr. Walsh",
        ),
    }
    bh_item = add(
        patient,
        clinic,
        kind=ItemKind.MEDICATION,
        title="Take sertraline at bedtime",
        medication_name="sertraline",
        dose="25 mg",
        ingredients=["sertraline"],
        prescriber_member_id=member.id,
        area=Area.EMOTIONAL_HEALTH,
        discipline=Discipline.BEHAVIORAL_HEALTH,
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    goal = goal_service.create_goal(
        patient.id,
        goal_service.GoalInput(
            description="Walk to the park and back",
            why_it_matters="Mia wants to keep up with her friends",
            target_value=5000,
            target_unit="steps",
            higher_is_better=True,
        ),
        today=today - timedelta(days=7),
        actor_id=patient_user.id,
        capacity=Capacity.PATIENT,
    )
    decision = decision_service.open_decision(
        patient.id,
        decision_service.DecisionInput(
            question="How should Mia manage her asthma at school",
            background="Mia gets short of breath in PE",
            options=[
                decision_service.OptionInput(
                    "Inhaler kept by the nurse", "Always there.", "A walk away.", "Ask each time."
                ),
                decision_service.OptionInput(
                    "Inhaler in her bag", "Right at hand.", "Can be forgotten.", "Carry it daily."
                ),
            ],
        ),
        author_id=nurse.id,
    )
    db.session.flush()
    thread = messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.APPOINTMENT,
        subject="Question about the heart check",
        body="Does Mia need to skip breakfast?",
        author_id=patient_user.id,
        capacity="patient",
        plan_item=items["appointment"],
        now=T0 - timedelta(hours=3),
    )
    # A photo on the patient's first message: the attachment pages are walked too.
    first = db.session.scalar(sa.select(Message).where(Message.thread_id == thread.id))
    (picture,) = attachment_service.store(first, [process(_png())])
    invitation = CaregiverInvitation(
        patient_id=patient.id,
        invited_by_id=patient_user.id,
        name="Gina Grandma",
        email="gina@example.test",
        relationship_label="grandmother",
        scopes=["plan"],
        sensitive_categories=[],
        expires_at=T0 + timedelta(days=2),
        secret_hash="f" * 64,
    )
    db.session.add(invitation)
    proposal = add_proposal("Walk", patient)
    db.session.commit()
    flag = db.session.scalar(
        sa.select(PlanFlag.id).where(
            PlanFlag.patient_id == patient.id, PlanFlag.kind == FlagKind.DUPLICATE_TEST
        )
    )
    assert flag is not None, "the two allergy tests should have raised a duplicate-test flag"
    return World(
        patient=patient,
        patient_user=patient_user,
        nurse=nurse,
        caregiver=caregiver,
        bystander_grants=bystanders,
        items={kind: item.id for kind, item in items.items()},
        bh_item=bh_item.id,
        goal=goal.id,
        decision=decision.id,
        thread=thread.id,
        attachment=picture.id,
        flag=flag,
        invitation=invitation.id,
        proposal=proposal.id,
    )


# ------------------------------------------------------------------ the route walker


@dataclass(frozen=True)
class Page:
    """One URL of one patient-scoped GET route, and what someone allowed to open it gets."""

    endpoint: str
    url: str
    permission: Permission
    #: 200, or 302 for routes that redirect, as the patient (or the nurse) got it.
    status: int
    location: str | None
    #: The URL names the behavioral_health item.
    sensitive: bool


@dataclass(frozen=True)
class Answer:
    status: int
    location: str | None

    def __str__(self) -> str:
        return f"{self.status} -> {self.location}" if self.location else str(self.status)


def fetch(browser, url: str) -> Answer:
    """One GET; an exception escaping the app is the 500 a user would get."""
    try:
        response = browser.client.get(url)
    except Exception as exc:  # the testing app re-raises what production turns into a 500
        return Answer(500, f"{type(exc).__name__}: {exc}")
    location = response.headers.get("Location")
    return Answer(response.status_code, urlsplit(location).path if location else None)


def patient_get_rules(app) -> list:
    rules = []
    for rule in app.url_map.iter_rules():
        access = getattr(app.view_functions[rule.endpoint], "access_rule", None)
        if access and access[0] == "patient" and "GET" in rule.methods:
            rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def argument_values(w: World) -> dict[str, list]:
    """Every id of the patient's rows each URL argument may take."""
    return {
        "item_id": [*w.items.values(), w.bh_item],
        "entity_id": [*w.items.values(), w.bh_item],  # with entity=plan_item
        "goal_id": [w.goal],
        "decision_id": [w.decision],
        "thread_id": [w.thread],
        "attachment_id": [w.attachment],
        "flag_id": [w.flag],
        "grant_id": [g.id for g in w.bystander_grants],
        "invitation_id": [w.invitation],
        "proposal_id": [w.proposal],
        **VALUE_ARGS,
    }


def pages(app, w: World, patient_browser, nurse_browser) -> list[Page]:
    """Every patient-scoped GET URL of the record that is a real page, as proven by someone
    allowed to open it: the patient, or the nurse for the team's own routes.

    Argument values a route refuses even its owner (a reminder form for an appointment, say) are
    dropped; every route must keep at least one URL, and the item page must keep every item.
    """
    values = argument_values(w)
    found: list[Page] = []
    for rule in patient_get_rules(app):
        permission = app.view_functions[rule.endpoint].access_rule[1]
        names = sorted(rule.arguments - {"patient_id"})
        unknown = [name for name in names if name not in values]
        if unknown:
            pytest.fail(
                f"route {rule.rule} ({rule.endpoint}) has URL argument(s) {unknown} this walk "
                "cannot fill: add them to argument_values() in "
                "tests/caregivers/test_grant_state_machine.py",
                pytrace=False,
            )
        owner = nurse_browser if permission in TEAM_ONLY else patient_browser
        refused = []
        kept = 0
        for combo in product(*(values[name] for name in names)):
            args = dict(zip(names, combo, strict=True))
            url = rule.build({"patient_id": w.patient.id, **args}, append_unknown=False)[1]
            answer = fetch(owner, url)
            if answer.status not in (200, 302):
                refused.append(f"{url}: {answer}")
                continue
            assert answer.location is None or not answer.location.startswith("/auth/"), (
                f"{url} sent its owner to sign in"
            )
            kept += 1
            found.append(
                Page(
                    rule.endpoint,
                    url,
                    permission,
                    answer.status,
                    answer.location,
                    args.get("item_id") == w.bh_item,
                )
            )
        assert kept, f"route {rule.rule} ({rule.endpoint}) is no real page: {refused}"
    item_pages = {p.url for p in found if p.endpoint == "careplan.items.detail"}
    every_item = [*w.items.values(), w.bh_item]
    assert item_pages == {f"{w.base}/plan/items/{i}" for i in every_item}
    return found


@dataclass
class State:
    """Where the caregiver stands, in the spec's words."""

    in_force: bool
    scopes: frozenset[str] = frozenset()
    #: The behavioral_health item may be shown (included, and not a teen's guardian).
    sees_bh: bool = False
    #: A guardian or legal representative: the patient's right to a copy ("Download my data").
    representative: bool = False

    def permissions(self) -> frozenset[Permission]:
        if not self.in_force:
            return frozenset()
        allowed = {P.VIEW_SUMMARY} | ({P.DOWNLOAD_RECORD} if self.representative else set())
        for scope in self.scopes:
            allowed |= SCOPE_GIVES[scope]
        return frozenset(allowed)

    def expect(self, page: Page) -> Answer:
        if page.permission not in self.permissions() or (page.sensitive and not self.sees_bh):
            return Answer(404, None)
        return Answer(page.status, page.location)


NOWHERE = State(in_force=False)


#: Checks the app gets wrong today, each proven by its own xfail(strict=True) test below:
#: (step, url) -> that test's name. The walks leave them out, and fail once they behave.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


@dataclass
class Walk:
    """One caregiver, one browser session, every page after every step."""

    w: World
    browser: object
    pages: list[Page]
    #: (step, url, endpoint, expected, got) for every answer that is not what the spec says.
    wrong: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    #: Known bugs (see KNOWN_BUGS) that behaved as specified in this walk.
    fixed: list[str] = field(default_factory=list)

    def compare(self, step: str, url: str, endpoint: str, expected, got) -> None:
        known = KNOWN_BUGS.get((step, url))
        if expected == got:
            if known:
                self.fixed.append(f"[{step}] {url}: remove it from KNOWN_BUGS and drop {known}")
        elif not known:
            self.wrong.append((step, url, endpoint, str(expected), str(got)))

    def check(self, step: str, state: State) -> None:
        for page in self.pages:
            got = fetch(self.browser, page.url)
            self.compare(step, page.url, page.endpoint, state.expect(page), got)
        listed = lists_patient(self.browser, self.w)
        self.compare(
            step,
            "/caregivers/",
            "caregivers.people",
            f"listed={state.in_force}",
            f"listed={listed}",
        )

    def assert_all_as_specified(self) -> None:
        # Every step was seen by the one session the caregiver opened at the start.
        db.session.expire_all()
        sessions = db.session.execute(
            sa.select(UserSession.ended_at).where(UserSession.user_id == self.w.caregiver.id)
        ).all()
        assert sessions == [(None,)], sessions
        report = "\n".join(
            f"  [{step}] {url} ({endpoint}): expected {expected}, got {got}"
            for step, url, endpoint, expected, got in self.wrong
        )
        assert not self.wrong, f"{len(self.wrong)} answers differ from the spec:\n{report}"
        assert not self.fixed, "known bugs now behave as specified:\n" + "\n".join(self.fixed)


def lists_patient(browser, w: World) -> bool:
    """Whether "People I help" offers the patient's record."""
    response = browser.get("/caregivers/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return f'href="{w.base}"' in html or f'href="{w.base}/home"' in html


def start_walk(app, w: World, new_browser) -> tuple[Walk, object, object]:
    patient_browser = signed_in(new_browser, w.patient_user)
    nurse_browser = signed_in(new_browser, w.nurse)
    walk = Walk(
        w,
        signed_in(new_browser, w.caregiver),
        pages(app, w, patient_browser, nurse_browser),
    )
    return walk, patient_browser, nurse_browser


# ------------------------------------------------------------------ what people do


def edit_access(browser, w: World, grant_id: int, *, scopes, categories=(), ends_on=""):
    url = f"{w.base}/caregivers/{grant_id}/edit"
    data = {"scopes": list(scopes), "sensitive_categories": list(categories), "ends_on": ends_on}
    response = browser.post(url, data, form_url=url)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def end_access(browser, w: World, grant_id: int):
    url = f"{w.base}/caregivers/{grant_id}/end"
    response = browser.post(url, {}, form_url=url)
    assert response.status_code == 302, response.get_data(as_text=True)


def sweep_now() -> lifecycle.SweepResult:
    """What `flask caregivers sweep` does: apply the time rules, then commit."""
    result = lifecycle.sweep()
    db.session.commit()
    db.session.expire_all()
    return result


def grant_of(caregiver: User) -> CaregiverGrant:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CaregiverGrant)
        .where(CaregiverGrant.caregiver_id == caregiver.id)
        .order_by(CaregiverGrant.id.desc())
    ).first()


# ------------------------------------------------------------------ the scenarios


def test_the_spec_table_names_every_scope():
    """A new scope must be added to SCOPE_GIVES (from the spec) before the walks trust it."""
    assert set(SCOPE_GIVES) == {scope.value for scope in Scope}


def test_delegate_grant_from_first_click_to_its_end_date(
    app, world, new_browser, grant, frozen_clock
):
    w = world
    walk, mia, _ = start_walk(app, w, new_browser)
    assert len(walk.pages) >= 40, [p.url for p in walk.pages]
    walk.check("no grant yet", NOWHERE)

    access = grant(w.patient, w.caregiver, scopes=["plan", "messages"])
    walk.check("granted plan + messages", State(True, frozenset({"plan", "messages"})))

    edit_access(mia, w, access.id, scopes=["plan", "decisions"])
    walk.check("patient: + decisions, - messages", State(True, frozenset({"plan", "decisions"})))

    edit_access(mia, w, access.id, scopes=["plan", "decisions"], categories=["behavioral_health"])
    walk.check(
        "patient includes behavioral health",
        State(True, frozenset({"plan", "decisions"}), sees_bh=True),
    )

    edit_access(mia, w, access.id, scopes=["plan", "decisions"], categories=[])
    walk.check("patient excludes behavioral health", State(True, frozenset({"plan", "decisions"})))

    end_access(mia, w, access.id)
    assert grant_of(w.caregiver).revoked_at is not None
    walk.check("patient ended the grant", NOWHERE)

    # A new grant with an end date: the patient invites Ana again, Ana accepts in the same
    # session. Tomorrow is the last day of access: it ends at the patient's midnight after it.
    tomorrow = T0.astimezone(ZoneInfo(ZONE)).date() + timedelta(days=1)
    url = f"{w.base}/caregivers/invite"
    invited = mia.post(
        url,
        {
            "full_name": "Ana Lopez",
            "email": w.caregiver.email,
            "mobile_phone": "",
            "relationship": "other",
            "relationship_other": "aunt",
            "scopes": ALL_SCOPES,
            "sensitive_categories": ["behavioral_health"],
            "ends_on": tomorrow.isoformat(),
        },
        form_url=url,
    )
    assert invited.status_code == 302, invited.get_data(as_text=True)
    link = link_in(
        next(e for e in reversed(outbox_emails()) if e.to_address == w.caregiver.email).body
    )
    page = walk.browser.open(link)
    assert prove(walk.browser, page)
    accepted = walk.browser.post(page, {}, form_url=page)
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    renewed = grant_of(w.caregiver)
    assert renewed.id != access.id and renewed.revoked_at is None
    ends_at = local(tomorrow + timedelta(days=1))
    assert renewed.ends_at == ends_at
    everything = State(True, frozenset(ALL_SCOPES), sees_bh=True)
    walk.check("new grant with an end date", everything)

    frozen_clock(ends_at - timedelta(minutes=1))
    walk.check("a minute before the end date", everything)

    frozen_clock(ends_at)
    walk.check("end date reached, before the sweep", NOWHERE)

    result = sweep_now()
    assert result.expired == 1
    assert grant_of(w.caregiver).ended_reason == EndedReason.EXPIRED.value
    walk.check("end date reached, after the sweep", NOWHERE)

    walk.assert_all_as_specified()


def eve_of(years: int) -> datetime:
    """A minute before the patient's birthday starts where they live."""
    return local(birthday(years)) - timedelta(minutes=1)


def team_grants_guardian(nurse_browser, w: World) -> CaregiverGrant:
    """The nurse sets up Ana's access as Mia's parent, with every scope and behavioral health."""
    url = f"{w.base}/caregivers/team-grant"
    response = nurse_browser.post(
        url,
        {
            "email": w.caregiver.email,
            "full_name": "",
            "language": "en",
            "relationship": "mother",
            "kind": GrantKind.GUARDIAN.value,
            "legal_authority": "Parent of a minor",
            "document_reference": "Birth certificate, scanned into the chart",
            "scopes": ALL_SCOPES,
            "sensitive_categories": ["behavioral_health"],
            "ends_on": "",
        },
        form_url=url,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    row = grant_of(w.caregiver)
    assert row.kind is GrantKind.GUARDIAN and row.patient_id == w.patient.id
    return row


def test_guardian_grant_through_the_12th_and_18th_birthdays(app, world, new_browser, frozen_clock):
    w = world
    walk, _, nurse = start_walk(app, w, new_browser)
    walk.check("no grant yet", NOWHERE)

    guardian = team_grants_guardian(nurse, w)
    child = State(True, frozenset(ALL_SCOPES), representative=True, sees_bh=True)
    teen = State(True, frozenset(ALL_SCOPES), representative=True, sees_bh=False)
    walk.check("guardian grant, Mia is 10", child)

    frozen_clock(eve_of(12))
    walk.check("the day before Mia turns 12", child)

    frozen_clock(local(birthday(12)))
    walk.check("Mia's 12th birthday", teen)

    frozen_clock(eve_of(18))
    walk.check("the day before Mia turns 18", teen)

    frozen_clock(local(birthday(18)))
    walk.check("Mia's 18th birthday, before the sweep", NOWHERE)

    result = sweep_now()
    assert result.came_of_age >= 1
    ended = db.session.get(CaregiverGrant, guardian.id)
    assert ended.ended_reason == EndedReason.AGE_OF_MAJORITY.value
    walk.check("Mia's 18th birthday, after the sweep", NOWHERE)

    frozen_clock(local(birthday(18) + timedelta(days=1), 12))
    walk.check("the day after", NOWHERE)

    walk.assert_all_as_specified()


def test_continuing_authority_keeps_a_guardian_past_18(app, world, new_browser, frozen_clock):
    w = world
    walk, _, nurse = start_walk(app, w, new_browser)
    guardian = team_grants_guardian(nurse, w)

    frozen_clock(eve_of(18))
    walk.check(
        "the day before Mia turns 18", State(True, frozenset(ALL_SCOPES), representative=True)
    )

    frozen_clock(local(birthday(18)))
    walk.check("Mia's 18th birthday, before the sweep", NOWHERE)

    url = f"{w.base}/caregivers/grants/{guardian.id}/continuing-authority"
    nurse.confirm(w.nurse.email)  # years later: the sign-in is no longer fresh
    response = nurse.post(
        url,
        {"continuing_authority": "Court-appointed guardian of an adult, case 28-GU-0113"},
        form_url=url,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    # An adult's legal guardian: what the grant includes is shown again, nothing more.
    adult = State(True, frozenset(ALL_SCOPES), representative=True, sees_bh=True)
    walk.check("continuing authority recorded on the birthday", adult)

    result = sweep_now()
    assert result.came_of_age == 1  # the father's grant, which has no continuing authority
    kept = db.session.get(CaregiverGrant, guardian.id)
    assert kept.ended_reason is None and kept.ends_at is None and kept.revoked_at is None
    walk.check("continuing authority, after the sweep", adult)

    frozen_clock(local(birthday(18) + timedelta(days=30), 12))
    walk.check("a month later", adult)

    walk.assert_all_as_specified()


def test_people_i_help_drops_a_guardian_grant_on_the_18th_birthday_before_the_sweep(
    make_patient, make_user, grant, new_browser, frozen_clock
):
    frozen_clock(T0)
    mia = make_patient(given="Mia", family="Lopez", dob=DOB, timezone=ZONE)
    ana = make_user(Role.CAREGIVER, name="Ana Lopez")
    grant(
        mia,
        ana,
        scopes=ALL_SCOPES,
        relationship_label="mother",
        kind=GrantKind.GUARDIAN,
        legal_authority="Parent of a minor",
        document_reference="Birth certificate",
    )
    frozen_clock(local(birthday(18)))
    browser = signed_in(new_browser, ana)
    assert browser.get(f"/patients/{mia.id}").status_code == 404  # the policy: ended
    page = browser.get("/caregivers/").get_data(as_text=True)
    assert f'href="/patients/{mia.id}"' not in page
