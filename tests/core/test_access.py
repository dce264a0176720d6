"""The one access policy, and the guarantee that every route goes through it."""

import re
from datetime import timedelta

import pytest

from app.auth.models import Role
from app.caregivers.models import Scope
from app.core.access import Permission, can
from app.core.db import utcnow
from app.extensions import db

PATIENT_ROUTES = [
    "/patients/{id}",
    "/patients/{id}/profile",
    "/patients/{id}/access-log",
]


def test_every_endpoint_declares_its_access_rule(app):
    """Walk the URL map: patient-scoped routes must use patient_route; all others must say why
    they touch no patient's data. A new route that forgets fails here."""
    missing, wrong = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        access_rule = getattr(view, "access_rule", None)
        if access_rule is None:
            missing.append(rule.rule)
        elif "patient_id" in rule.arguments and access_rule[0] != "patient":
            wrong.append(rule.rule)
    assert missing == [], f"routes without an access rule: {missing}"
    assert wrong == [], f"patient-scoped routes not using patient_route: {wrong}"


def test_patient_scoped_routes_exist(app):
    rules = {r.rule for r in app.url_map.iter_rules() if "patient_id" in r.arguments}
    assert rules >= {p.replace("{id}", "<int:patient_id>") for p in PATIENT_ROUTES}
    assert len(rules) > 20  # the plan, goals, decisions and messages are all patient-scoped


@pytest.fixture
def world(two_patients):
    """Two patients; each role in relation to the first."""
    w = two_patients
    return {
        "patient": w.patient,
        "other": w.other,
        "patient_user": w.patient_user,
        "member": w.member_user,
        "other_member": w.other_member_user,
        "caregiver": w.helper(scopes=[Scope.PLAN.value, Scope.MESSAGES.value]),
        "caregiver_no_scope": w.helper(scopes=[]),
        "admin": w.admin,
    }


# who -> the permissions they hold on "patient" (everything else must be denied)
EXPECTED = {
    "patient_user": set(Permission)
    - {
        Permission.EDIT_PLAN,
        Permission.MANAGE_CARE_TEAM,
        Permission.MANAGE_DECISIONS,
        Permission.TRIAGE_MESSAGES,
        Permission.GRANT_LEGAL_ACCESS,
        Permission.INVITE_TO_PORTAL,  # the team's: the patient already has their login
    },
    "member": {
        Permission.VIEW_SUMMARY,
        Permission.EDIT_PROFILE,
        Permission.CHANGE_PHONE,
        Permission.VIEW_PLAN,
        Permission.VIEW_GOALS,
        Permission.VIEW_DECISIONS,
        Permission.EDIT_PLAN,
        Permission.VIEW_MESSAGES,
        Permission.SEND_MESSAGES,
        Permission.MANAGE_APPOINTMENTS,
        Permission.EDIT_GOALS,
        Permission.VIEW_CAREGIVERS,
        Permission.COMPLETE_TASKS,
        Permission.MANAGE_DECISIONS,
        Permission.TRIAGE_MESSAGES,
        Permission.VIEW_TEXTS,
        Permission.GRANT_LEGAL_ACCESS,
        Permission.INVITE_TO_PORTAL,
        Permission.ANSWER_SCREENING,  # the social needs screening, filled in for the patient
        Permission.VIEW_SCREENING,
    },
    "other_member": set(),
    "caregiver": {
        Permission.VIEW_SUMMARY,
        Permission.VIEW_PLAN,
        Permission.VIEW_GOALS,
        Permission.VIEW_DECISIONS,
        Permission.VIEW_MESSAGES,
        Permission.SEND_MESSAGES,
        Permission.COMPLETE_TASKS,
    },
    "caregiver_no_scope": {Permission.VIEW_SUMMARY},
    "admin": {
        Permission.VIEW_SUMMARY,
        Permission.VIEW_AUDIT_LOG,
        Permission.EDIT_PROFILE,
        Permission.CHANGE_PHONE,
        Permission.MANAGE_CARE_TEAM,
        Permission.VIEW_CAREGIVERS,
        Permission.INVITE_TO_PORTAL,
    },
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_policy_matrix(app, world, who):
    user = world[who]
    with app.test_request_context():
        allowed = {p for p in Permission if can(user, p, world["patient"])}
    assert allowed == EXPECTED[who]


def test_deny_by_default(app, world):
    with app.test_request_context():
        assert not can(None, Permission.VIEW_SUMMARY, world["patient"])
        assert not can(world["patient_user"], "view_summary", world["patient"])  # not a Permission
        assert not can(world["patient_user"], Permission.VIEW_SUMMARY, None)
        # the patient has no rights on another patient
        assert not any(can(world["patient_user"], p, world["other"]) for p in Permission)


def test_revoked_future_and_expired_grants_give_nothing(app, make_patient, make_user, grant):
    patient = make_patient()
    now = utcnow()
    cases = {
        "revoked": {"revoked_at": now - timedelta(minutes=1)},
        "expired": {"ends_at": now - timedelta(minutes=1)},
        "not yet": {"starts_at": now + timedelta(days=1)},
    }
    for label, kw in cases.items():
        helper = make_user(Role.CAREGIVER)
        grant(patient, helper, scopes=[s.value for s in Scope], **kw)
        with app.test_request_context():
            assert not can(helper, Permission.VIEW_SUMMARY, patient), label


def test_deactivated_patient_has_no_access(app, world):
    world["patient_user"].active = False
    db.session.commit()
    with app.test_request_context():
        assert not can(world["patient_user"], Permission.VIEW_SUMMARY, world["patient"])


@pytest.mark.parametrize("route", PATIENT_ROUTES)
@pytest.mark.parametrize("who", ["patient_user", "member", "caregiver", "other_member"])
def test_not_yours_and_does_not_exist_both_404(world, new_browser, route, who):
    b = new_browser()
    assert b.login(world[who].email).status_code == 302
    not_theirs = world["patient"] if who == "other_member" else world["other"]
    other_url = route.format(id=not_theirs.id)
    missing_url = route.format(id=999_999)
    other = b.get(other_url)
    missing = b.get(missing_url)
    assert other.status_code == 404
    assert missing.status_code == 404

    # identical pages, apart from the echo of the URL the user asked for (and the CSRF
    # token, which carries a timestamp)
    def normal(html, url):
        return re.sub(r'name="csrf_token" value="[^"]*"', "", html.replace(url, "URL"))

    assert normal(other.get_data(as_text=True), other_url) == normal(
        missing.get_data(as_text=True), missing_url
    )


@pytest.mark.parametrize("route", PATIENT_ROUTES)
def test_anonymous_is_sent_to_sign_in_without_learning_anything(world, client, route):
    for patient_id in (world["patient"].id, 999_999):
        response = client.get(route.format(id=patient_id))
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")


def test_roles_see_the_pages_their_permissions_allow(world, new_browser):
    pid = world["patient"].id
    expected = {
        "patient_user": {
            "/patients/{id}": 200,
            "/patients/{id}/profile": 200,
            "/patients/{id}/access-log": 200,
        },
        "member": {
            "/patients/{id}": 200,
            "/patients/{id}/profile": 200,
            "/patients/{id}/access-log": 404,
        },
        "caregiver": {
            "/patients/{id}": 200,
            "/patients/{id}/profile": 404,
            "/patients/{id}/access-log": 404,
        },
        "admin": {
            "/patients/{id}": 200,
            "/patients/{id}/profile": 200,
            "/patients/{id}/access-log": 200,
        },
    }
    for who, routes in expected.items():
        b = new_browser()
        b.login(world[who].email)
        for route, status in routes.items():
            assert b.get(route.format(id=pid)).status_code == status, (who, route)


def test_care_team_member_sees_only_own_patients_in_list(world, new_browser):
    b = new_browser()
    b.login(world["member"].email)
    html = b.get("/team/patients").get_data(as_text=True)
    assert "James Carter" in html
    assert "Maria Lopez" not in html


def test_caregiver_list_shows_only_current_grants(world, new_browser):
    b = new_browser()
    b.login(world["caregiver"].email)
    html = b.get("/caregivers/").get_data(as_text=True)
    assert "Open James's care" in html
    assert "Maria" not in html


def test_caregiver_page_says_whom_they_act_for(world, new_browser):
    b = new_browser()
    b.login(world["caregiver"].email)
    html = b.get(f"/patients/{world['patient'].id}").get_data(as_text=True)
    assert "Acting for James" in html


def test_role_pages_are_404_for_other_roles(world, new_browser):
    b = new_browser()
    b.login(world["patient_user"].email)
    for url in ("/team/patients", "/caregivers/", "/admin/", "/admin/users", "/admin/outbox"):
        assert b.get(url).status_code == 404, url
