"""PostgreSQL roles: an owner that runs migrations, and the role the app runs as.

The owner owns the schema and every table (it runs `flask db upgrade`). The app role may read
and write the tables it works with, but on `audit_events` it may only INSERT and SELECT: it
cannot UPDATE, DELETE or TRUNCATE the trail, and, not being its owner, it cannot disable the
triggers that refuse those either. The statements below are the whole set-up; docs/security.md
shows them in use and the PostgreSQL test run connects as such an app role.
"""

from __future__ import annotations

import re

#: Tables the app role may only add to and read.
APPEND_ONLY_TABLES = ("audit_events",)

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain PostgreSQL name: {name!r}")
    return f'"{name}"'


def app_role_grants(*, schema: str, owner: str, app_role: str) -> list[str]:
    """What the owner runs (after migrating) so that `app_role` can run the app."""
    s, o, a = _ident(schema), _ident(owner), _ident(app_role)
    statements = [
        f"GRANT USAGE ON SCHEMA {s} TO {a}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {a}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {a}",
        # Tables a later migration adds get the same, except where revoked again below.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {a}",
    ]
    for table in APPEND_ONLY_TABLES:
        refused = "UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
        statements.append(f"REVOKE {refused} ON {s}.{_ident(table)} FROM {a}")
    return statements


def create_roles(*, owner: str, app_role: str) -> list[str]:
    """Both roles, able to sign in (passwords are set by whoever runs the server)."""
    return [
        f"CREATE ROLE {_ident(owner)} LOGIN",
        f"CREATE ROLE {_ident(app_role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE",
    ]
