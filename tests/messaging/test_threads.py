"""The message-thread core: who may read and write, validation, escaping."""

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db
from app.messaging.models import Message, Thread


@pytest.fixture
def people(make_patient, make_member, assign, make_user, grant):
    patient = make_patient(given="James", family="Carter")
    member = make_member()
    assign(patient, member)
    with_msgs = make_user(Role.CAREGIVER, name="Ana Carter")
    grant(patient, with_msgs, scopes=["messages"])
    plan_only = make_user(Role.CAREGIVER)
    grant(patient, plan_only, scopes=["plan"])
    return {
        "patient": patient,
        "me": db.session.get(User, patient.user_id),
        "team": db.session.get(User, member.user_id),
        "ana": with_msgs,
        "plan_only": plan_only,
        "admin": make_user(Role.ADMIN),
        "other_team": db.session.get(User, make_member().user_id),
    }


NEW = {"topic": "medication", "subject": "Dose question", "body": "Can I take it with food?"}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("me", 302),
        ("ana", 302),
        ("team", 302),
        ("plan_only", 404),
        ("admin", 404),
        ("other_team", 404),
    ],
)
def test_who_can_write_to_the_team(people, new_browser, who, status):
    b = new_browser()
    b.login(people[who].email)
    pid = people["patient"].id
    assert (
        b.post(f"/patients/{pid}/messages/new", NEW, form_url="/auth/account").status_code == status
    )
    assert b.get(f"/patients/{pid}/messages").status_code == (200 if status == 302 else 404)


def test_thread_reply_and_validation(people, new_browser):
    pid = people["patient"].id
    me = new_browser()
    me.login(people["me"].email)
    assert me.post(f"/patients/{pid}/messages/new", dict(NEW, body="")).status_code == 422
    too_long = me.post(f"/patients/{pid}/messages/new", dict(NEW, body="x" * 2001))
    assert too_long.status_code == 422
    assert "at most 2000 characters" in too_long.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == 0
    response = me.post(f"/patients/{pid}/messages/new", dict(NEW, body="<script>x</script>"))
    url = response.headers["Location"]
    team = new_browser()
    team.login(people["team"].email)
    assert team.post(url, {"body": "Yes, with breakfast."}).status_code == 302
    page = me.get(url).get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "Yes, with breakfast." in page
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 2
    # another patient's thread id is a 404, whoever asks
    other = new_browser()
    other.login(people["other_team"].email)
    assert other.get(url).status_code == 404


def test_posts_without_csrf_are_refused_and_write_nothing(people, new_browser):
    pid = people["patient"].id
    me = new_browser()
    me.login(people["me"].email)
    url = me.post(f"/patients/{pid}/messages/new", NEW).headers["Location"]
    team = new_browser()
    team.login(people["team"].email)
    for path, data in (
        (url, {"body": "hi"}),
        (f"{url}/note", {"body": "n"}),
        (f"{url}/claim", {}),
        (f"{url}/resolve", {}),
        (f"/patients/{pid}/messages/new", NEW),
    ):
        assert team.client.post(path, data=data).status_code == 400, path
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(Thread)).assignee_id is None
