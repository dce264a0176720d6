"""Finding 9 of issue 11: pages that show patients without a patient in their URL wrote no audit
row (/team/patients, /admin/outbox, /admin/invite/caregiver listed every patient's name,
/caregivers/, /r/<code>), and refused attempts were recorded nowhere a security officer looks.
Finding 10 (short links): unthrottled, and their anonymous 302 revealed record ids."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant
from app.core.audit import AuditEvent
from app.extensions import db
from app.texting.links import code_for
from app.texting.outbox import queue_sms
from tests.fixtures.browser import signed_in


def rows_after(after_id: int, **where) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.session.scalars(query))


def last_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0)))


def test_my_patients_records_a_view_of_each_patient_shown(two_patients, new_browser):
    w = two_patients
    nurse = signed_in(new_browser, w.member_user)
    start = last_id()
    page = nurse.get("/team/patients").get_data(as_text=True)
    assert "James" in page and "Maria" not in page
    [row] = rows_after(start)
    assert (row.action, row.resource, row.patient_id, row.actor_id, row.capacity) == (
        "view",
        "team.panel",
        w.patient.id,
        w.member_user.id,
        "care_team",
    )
    # James sees it in "Who has seen my record", in his words.
    james = signed_in(new_browser, w.patient_user)
    log = james.get(f"/patients/{w.patient.id}/access-log").get_data(as_text=True)
    assert "Your name, in their list of patients" in log and "Samuel Okafor" in log


def test_people_i_help_records_a_view_of_each_person(two_patients, new_browser):
    w = two_patients
    ana = w.helper("Ana Carter", scopes=["plan"])
    start = last_id()
    assert "James" in signed_in(new_browser, ana).get("/caregivers/").get_data(as_text=True)
    rows = rows_after(start, resource="caregivers.people")
    assert [(r.patient_id, r.actor_id, r.acting_for_patient_id) for r in rows] == [
        (w.patient.id, ana.id, w.patient.id)
    ]


def test_the_delivery_page_records_a_view_of_each_patient_a_text_was_about(
    app, two_patients, new_browser
):
    w = two_patients
    with app.test_request_context():
        for patient in (w.patient, w.other):
            queue_sms(
                patient=patient,
                to="+15035550100",
                user_id=None,
                purpose="message_notice",
                locale="en",
                body="CareCircle: your care team sent you a message.",
            )
        db.session.commit()
    admin = signed_in(new_browser, w.admin)
    start = last_id()
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "your care team sent you a message" not in page
    rows = rows_after(start, resource="texting.delivery")
    assert sorted(r.patient_id for r in rows) == sorted([w.patient.id, w.other.id])
    assert {(r.actor_id, r.capacity) for r in rows} == {(w.admin.id, "admin")}


def test_inviting_a_caregiver_names_the_patient_by_member_number_and_birth_date(
    make_patient, make_user, new_browser
):
    leo = make_patient(
        given="Leo", family="Martinez", member_number="WV-1001", dob=date(2011, 3, 4)
    )
    make_patient(given="Other", family="Person", member_number="WV-1002", dob=date(1970, 1, 1))
    admin = signed_in(new_browser, make_user(Role.ADMIN))
    url = "/admin/invite/caregiver"
    page = admin.get(url).get_data(as_text=True)
    assert "Leo" not in page and "Martinez" not in page and "Other Person" not in page
    data = {
        "full_name": "Rosa Martinez",
        "email": "rosa@example.test",
        "relationship": "mother",
        "scopes": ["plan"],
        "legal_authority": "Parent of a minor",
        "language": "es",
        "member_number": "WV-1001",
        "date_of_birth": "1970-01-01",  # someone else's birthday
    }
    start = last_id()
    wrong = admin.post(url, data, form_url=url)
    assert wrong.status_code == 422
    html = wrong.get_data(as_text=True)
    assert "No patient has this member number and date of birth." in html
    assert "Leo" not in html and "Other Person" not in html
    assert db.session.scalar(sa.select(User).where(User.email == "rosa@example.test")) is None
    assert rows_after(start) == []
    right = admin.post(url, {**data, "date_of_birth": "2011-03-04"}, form_url=url)
    assert right.status_code == 302
    db.session.expire_all()
    rosa = db.session.scalar(sa.select(User).where(User.email == "rosa@example.test"))
    grant = db.session.scalar(
        sa.select(CaregiverGrant).where(CaregiverGrant.caregiver_id == rosa.id)
    )
    assert grant.patient_id == leo.id
    assert [(r.action, r.patient_id) for r in rows_after(start, resource="caregivers.grant")] == [
        ("create", leo.id)
    ]


def test_refused_attempts_are_on_the_security_page_not_the_patients(two_patients, new_browser):
    w = two_patients
    mallory = signed_in(new_browser, w.other_user)  # Maria, trying James's record
    for path in ("", "/plan", "/messages"):
        assert mallory.get(f"/patients/{w.patient.id}{path}").status_code == 404
    assert mallory.get("/patients/99999").status_code == 404  # no such record
    admin = signed_in(new_browser, w.admin)
    page = admin.get("/admin/security").get_data(as_text=True)
    assert page.count("Maria Lopez") == 4
    assert f"Record number asked for: {w.patient.id}" in page
    assert "Record number asked for: 99999 · no such record" in page
    only = admin.get(f"/admin/security?user={w.other_user.id}").get_data(as_text=True)
    assert only.count("Maria Lopez") == 4
    # Nothing was seen: James's own log shows nothing of it.
    james = signed_in(new_browser, w.patient_user)
    assert "Maria" not in james.get(f"/patients/{w.patient.id}/access-log").get_data(as_text=True)
    # Only administrators have the page.
    assert signed_in(new_browser, w.member_user).get("/admin/security").status_code == 404


def test_the_security_page_pages_by_id_and_refuses_odd_ids(two_patients, new_browser):
    w = two_patients
    mallory = signed_in(new_browser, w.other_user)
    for _ in range(30):
        mallory.get(f"/patients/{w.patient.id}")
    admin = signed_in(new_browser, w.admin)
    first = admin.get("/admin/security").get_data(as_text=True)
    assert first.count("Maria Lopez") == 25 and "Older" in first
    older = first.split('href="/admin/security?before=')[1].split('"')[0]
    second = admin.get(f"/admin/security?before={older}").get_data(as_text=True)
    assert second.count("Maria Lopez") == 5 and "Older" not in second
    for bad in ("?before=x", "?before=99999999999999999999", "?user=-1", "?before=%00"):
        assert admin.get(f"/admin/security{bad}").status_code in (400, 404)


def test_short_links_ask_anonymous_readers_to_sign_in_without_revealing_the_path(
    app, two_patients, new_browser
):
    w = two_patients
    with app.test_request_context():
        code = code_for(f"/patients/{w.patient.id}/messages")
        db.session.commit()
    for asked in (code, "zzzzzzz"):
        answer = new_browser().get(f"/r/{asked}")
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/auth/login")
        assert f"/patients/{w.patient.id}" not in answer.headers["Location"]
    # Signed in and allowed: redirected, and the view of the link is audited.
    james = signed_in(new_browser, w.patient_user)
    start = last_id()
    followed = james.get(f"/r/{code}")
    assert followed.headers["Location"].endswith(f"/patients/{w.patient.id}/messages")
    [row] = rows_after(start, resource="texting.short_link")
    assert (row.action, row.patient_id, row.actor_id) == ("view", w.patient.id, w.patient_user.id)
    # Signed in and not allowed: the same 404 as a made-up code, recorded as refused.
    maria = signed_in(new_browser, w.other_user)
    refused, made_up = maria.get(f"/r/{code}"), maria.get("/r/zzzzzzz")
    assert refused.status_code == made_up.status_code == 404
    assert refused.get_data(as_text=True).replace(code, "CODE") == made_up.get_data(
        as_text=True
    ).replace("zzzzzzz", "CODE")
    [denied] = rows_after(start, action="denied")
    assert (denied.actor_id, denied.patient_id) == (w.other_user.id, w.patient.id)


def test_short_links_are_throttled(app, two_patients, new_browser):
    w = two_patients
    james = signed_in(new_browser, w.patient_user)
    answers = [james.get(f"/r/guess{i:03d}").status_code for i in range(31)]
    assert answers[:30] == [404] * 30
    assert answers[30] == 429


def test_hostile_short_codes_are_a_clear_4xx(two_patients, new_browser):
    james = signed_in(new_browser, two_patients.patient_user)
    for code in ("x" * 5000, "%00abc", "..%2F..%2Fadmin", "abc%0d%0aSet-Cookie:x=1"):
        answer = james.get(f"/r/{code}")
        assert 400 <= answer.status_code < 500, code
        assert "Set-Cookie" not in answer.headers or "x=1" not in answer.headers["Set-Cookie"]
