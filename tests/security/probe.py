"""Walking the URL map: which patient-scoped routes exist, and how to fill their arguments.

New routes are picked up automatically. A route with a URL argument the probe cannot fill
fails loudly, naming the rule, so whoever adds it also adds the argument here.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from itertools import product

import pytest

ACCOUNT = "/auth/account"  # any signed-in user can open it, and it carries a CSRF token
MISSING = 999_999

#: URL arguments that are not ids of a patient's rows: one valid value each is enough.
VALUE_ARGS: dict[str, list[str]] = {
    "kind": ["task"],  # /plan/new/<kind>
    "status": ["cancelled"],  # /plan/items/<id>/status/<status>
    "step": ["contacted"],  # /plan/items/<id>/referral/<step>
}


def object_args(record) -> dict[str, list[int]]:
    """URL arguments that name one of the patient's rows, with every such row of `record`."""
    return {
        "item_id": record.item_ids,
        "goal_id": [record.goal.id],
        "decision_id": [record.decision.id],
        "thread_id": [record.thread.id],
        "flag_id": [record.flag.id],
        "grant_id": [g.id for g in record.grants],
        "invitation_id": [record.invitation.id],
    }


def patient_rules(app) -> list:
    rules = [r for r in app.url_map.iter_rules() if "patient_id" in r.arguments]
    return sorted(rules, key=lambda r: r.rule)


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def permission_of(app, rule):
    kind, permission = app.view_functions[rule.endpoint].access_rule
    assert kind == "patient", rule.rule
    return permission


def has_object_args(rule) -> bool:
    return any(name not in VALUE_ARGS for name in rule.arguments - {"patient_id"})


def urls(rule, patient_id: int, objects: dict[str, list[int]], *, first_only=False) -> list[str]:
    """The rule's URLs for `patient_id`, with every combination of the given row ids."""
    names = sorted(rule.arguments - {"patient_id"})
    unknown = [name for name in names if name not in objects and name not in VALUE_ARGS]
    if unknown:
        pytest.fail(
            f"route {rule.rule} ({rule.endpoint}) has URL argument(s) {unknown} the security "
            "probe cannot fill: add them to object_args() (ids of a patient's rows) or "
            "VALUE_ARGS in tests/security/probe.py",
            pytrace=False,
        )
    choices = [objects[name] if name in objects else VALUE_ARGS[name] for name in names]
    found = []
    for combo in product(*choices):
        values = {"patient_id": patient_id, **dict(zip(names, combo, strict=True))}
        built = rule.build(values, append_unknown=False)
        assert built is not None, (rule.rule, values)
        found.append(built[1])
        if first_only:
            break
    return found


@dataclass
class Answer:
    status: int
    text: str
    location: str | None = None


def send(browser, method: str, url: str, data: dict | None = None) -> Answer:
    """One request; an exception escaping the app counts as the 500 a user would get."""
    try:
        if method == "GET":
            response = browser.client.get(url)
        else:
            response = browser.client.post(url, data=data or {})
    except Exception as exc:  # the testing app re-raises what production turns into a 500
        return Answer(500, f"{type(exc).__name__}: {exc}")
    return Answer(
        response.status_code, response.get_data(as_text=True), response.headers.get("Location")
    )


CSRF_INPUT_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')


def normal(page: str, url: str | None = None) -> str:
    """The page without what changes on every request (CSRF tokens carry a timestamp) and,
    when given, without the echo of the URL that was asked for."""
    page = CSRF_INPUT_RE.sub("<input csrf>", page)
    return page.replace(url, "URL") if url else page


def signed_in(new_browser, user, address: str):
    """A browser signed in as `user`, from its own address (rate limits count per address)."""
    browser = new_browser()
    browser.client.environ_base["REMOTE_ADDR"] = address
    response = browser.login(user.email)
    assert response.status_code == 302, f"{user.email} could not sign in"
    return browser


def readable(page: str) -> str:
    """The page as a person reads it (tags removed, entities decoded, spaces collapsed),
    plus its attribute values (a title in a link or a form value leaks as much)."""
    without_code = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attributes = " ".join(re.findall(r'="([^"]*)"', without_code))
    text = re.sub(r"<[^>]+>", " ", without_code)
    return " ".join(html.unescape(f"{text} {attributes}").split())


def leaked(page: str, secrets: list[str]) -> list[str]:
    seen = readable(page)
    return [s for s in secrets if s and s in seen]


def outsider_form(record, today) -> dict[str, str]:
    """Form fields that would make each of the patient's forms succeed (as far as one set of
    values can): if a route let an outsider through, the write would really happen."""
    return {
        # messages
        "topic": "medication",
        "subject": "Probe subject from outside",
        "body": "Probe text from outside the circle",
        "member": str(record.member.id),
        "item": str(record.items["appointment"].id),
        # plan items and flags
        "title": "Probe title",
        "details": "Probe details",
        "why_it_matters": "Probe",
        "area": "daily_living",
        "status": "completed",
        "discipline": "nursing",
        "source_organization": str(record.orgs[0].id),
        "owner": "patient",
        "sensitivity": "",
        "schedule": "daily",
        "day": today.isoformat(),
        "item_id": str(record.flag.item_a_id),
        "reason": "Probe reason",
        # goals
        "description": "Probe goal",
        "value": "7",
        "note": "Probe note",
        "achievement": "achieved",
        # decisions
        "question": "Probe question",
        "option_1-title": "Probe one",
        "option_1-benefits": "Probe",
        "option_1-risks": "Probe",
        "option_1-day_to_day": "Probe",
        "option_2-title": "Probe two",
        "option_2-benefits": "Probe",
        "option_2-risks": "Probe",
        "option_2-day_to_day": "Probe",
        "what_matters": "Probe",
        "question_text": "Probe question",
        "answer": "Probe answer",
        "preferred_option": str(record.options[0].id),
        "final_option": str(record.options[0].id),
        "withdraw_reason": "Probe",
        # profile, preferences, phone
        "preferred_name": "Probe",
        "pronouns": "",
        "language": "en",
        "timezone": "America/Los_Angeles",
        "contact_channels": "portal",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "phone": "+15035550177",
        "code": "123456",
        # caregivers
        "name": "Probe Person",
        "email": "probe.person@example.test",
        "relationship_label": "friend",
        "scopes": "plan",
        "confirm": "y",
        "legal_authority": "Probe authority",
        "document_reference": "Probe-1",
    }
