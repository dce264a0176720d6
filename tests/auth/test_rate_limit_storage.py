"""The login rate limit is shared through Redis when REDIS_URL is set (several hosts)."""

import uuid

import pytest

from app import create_app
from app.extensions import limiter
from tests.fixtures.app import REDIS_URL, redis_up


def test_memory_storage_without_redis(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379 (CI starts one)")
def test_limit_is_shared_between_two_app_instances_through_redis(database, tmp_path):
    """Two app instances (two hosts) share one counter: the third try on the second is 429."""
    import shutil

    from tests.fixtures.app import IsolatedClient
    from tests.fixtures.browser import csrf_from

    if database["kind"] != "sqlite":
        pytest.skip("the limiter does not depend on the database; SQLite run covers it")
    path = tmp_path / "r.db"
    shutil.copyfile(database["template"], path)
    prefix = f"cc-test-{uuid.uuid4().hex}"
    apps = []
    for _ in range(2):
        app = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                "REDIS_URL": REDIS_URL,
                "LOGIN_RATE_LIMIT": "2 per minute",
                "RATELIMIT_KEY_PREFIX": prefix,
            },
        )
        app.test_client_class = IsolatedClient
        apps.append(app)
    assert apps[0].config["RATELIMIT_STORAGE_URI"].startswith("redis://")

    def attempt(app):
        client = app.test_client()
        token = csrf_from(client.get("/auth/login").get_data(as_text=True))
        return client.post(
            "/auth/login",
            data={"email": "a@example.test", "password": "x" * 12, "csrf_token": token},
        )

    assert attempt(apps[0]).status_code == 200
    assert attempt(apps[1]).status_code == 200
    assert attempt(apps[1]).status_code == 429
    # the counter really lives in Redis, where every host sees it
    import redis

    keys = redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
    assert keys, "no rate-limit counter found in Redis"
    with apps[0].app_context():
        limiter.reset()
