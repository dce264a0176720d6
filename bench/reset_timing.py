"""Does /auth/reset answer as fast for an unknown email as for a known one? (issue 11, finding 7)

    make bench-reset

Times the answer (until the response is ready, as the client sees it) for a known and an unknown
email in alternation, and /healthz in the same run as the yardstick; the work done after the
response (token, email) is timed apart. SQLite in a throwaway file; production Argon2 costs
do not matter here (no password is checked).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app
from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.extensions import db

ROUNDS = int(os.environ.get("BENCH_REQUESTS", 300))
CSRF = "csrf_token"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/reset.db",
                "RATELIMIT_ENABLED": False,
                "WTF_CSRF_ENABLED": False,
            },
        )
        with app.app_context():
            db.create_all()
            db.session.add(
                User(
                    email="known@bench.test",
                    full_name="Known",
                    role=Role.PATIENT,
                    password_hash=hash_password("benchmark password"),
                )
            )
            db.session.commit()
        client = app.test_client()
        answer = {"known": [], "unknown": [], "healthz": []}
        after = []
        for i in range(ROUNDS):
            for kind in ("known", "unknown", "healthz"):
                start = time.perf_counter()
                if kind == "healthz":
                    response = client.get("/healthz", buffered=False)
                else:
                    email = "known@bench.test" if kind == "known" else f"ghost{i}@bench.test"
                    response = client.post("/auth/reset", data={"email": email}, buffered=False)
                answer[kind].append(time.perf_counter() - start)
                start = time.perf_counter()
                response.close()  # the server has sent it: the work after the response runs
                if kind == "known":
                    after.append(time.perf_counter() - start)
    base = statistics.median(answer["healthz"])
    print(f"/auth/reset answer, median of {ROUNDS} each (ratio to /healthz in the same run):")
    for kind in ("known", "unknown", "healthz"):
        median = statistics.median(answer[kind])
        print(f"  {kind:8s} {median * 1000:6.2f} ms  x{median / base:.1f}")
    print(f"  work after the answer (known email only): {statistics.median(after) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
