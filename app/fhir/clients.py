"""Integration clients: the EHRs and partner systems that call /fhir with a bearer token.

An administrator creates a client with `flask clients create NAME --scope read ...`; the token
is printed once and only its SHA-256 is stored (a 32-byte random token needs no slow hash: it
cannot be guessed, only stolen). A client has scopes ("import", "read") and a grant saying
whose records it may read: every patient (`--all-patients`), the patients of one organization
(`--organization`: its members' care teams and the patients it is the home organization of),
or a list of patients (`--patient`). Revoking takes effect on the next request.

`client_required(scope)` guards every /fhir endpoint: it reads `Authorization: Bearer <token>`
(never a token in the query string: URLs end up in logs), answers 401 with an OperationOutcome
and `WWW-Authenticate: Bearer` for a missing, unknown or revoked token and 403 for a missing
scope, is rate-limited per client, and sets `g.fhir_client` and `g.actor`. Whose record a
client may read is decided by the one access policy (app.caregivers.policy), which asks
`FhirClient.grants(patient)`: a patient outside the grant is a 404, like on the web.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, request
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.core.privacy import Actor, Capacity
from app.extensions import db, limiter

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"


class ClientScope(enum.StrEnum):
    IMPORT = "import"  # POST /fhir (app.fhir.import_api)
    READ = "read"  # the read API and $everything (app.fhir.views)


class FhirClient(db.Model):
    """An integration client. Also what the access policy sees as the "user" of an API
    request (`is_integration_client`), so that one policy decides every access."""

    __tablename__ = "fhir_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A name the administrators know it by, e.g. "salem-family-clinic".
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    #: sha256 (hex) of the bearer token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: ClientScope values.
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Whose records it may read: every patient of the CCO...
    all_patients: Mapped[bool] = mapped_column(default=False)
    #: ... or those of one organization (its members' care teams, and its home patients) ...
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    # ... and/or the patients listed in fhir_client_patients.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()

    # --- what the access policy asks of a "user"
    is_integration_client = True
    is_authenticated = True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def policy_key(self) -> str:
        """Its key in the policy's per-request cache (never equal to a user's id)."""
        return f"client:{self.id}"

    def has_scope(self, scope: ClientScope | str) -> bool:
        return str(scope) in (self.scopes or [])

    def grants(self, patient) -> bool:
        """Whether this client was granted this patient's record (one query at most)."""
        if self.revoked_at is not None or not self.has_scope(ClientScope.READ):
            return False
        if self.all_patients:
            return True
        return db.session.scalar(sa.select(granted(self, patient.id))) or False


class FhirClientPatient(db.Model):
    """A patient a client may read, when granted one by one."""

    __tablename__ = "fhir_client_patients"
    __table_args__ = (
        sa.UniqueConstraint("client_id", "patient_id", name="uq_fhir_client_patients_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("fhir_clients.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )


def granted(client: FhirClient, patient_id):
    """SQL: the patient (an id or a column) is in this client's grant. Used for one patient
    (the policy) and for searches, so a search never lists a patient a read would refuse."""
    from app.patients.models import Patient
    from app.team.models import CareTeamAssignment, CareTeamMember

    if client.all_patients:
        return sa.true()
    listed = sa.exists().where(
        FhirClientPatient.client_id == client.id, FhirClientPatient.patient_id == patient_id
    )
    if client.organization_id is None:
        return listed
    home = sa.exists().where(
        Patient.id == patient_id, Patient.organization_id == client.organization_id
    )
    on_team = sa.exists().where(
        CareTeamAssignment.patient_id == patient_id,
        CareTeamMember.id == CareTeamAssignment.member_id,
        CareTeamMember.organization_id == client.organization_id,
    )
    return sa.or_(listed, home, on_team)


# ------------------------------------------------------------------ tokens


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_token(token: str) -> FhirClient | None:
    """The client whose token this is. Looked up by hash (an index), then compared in
    constant time, so neither the lookup nor the comparison tells how close a guess was."""
    digest = hash_token(token)
    client = db.session.scalar(sa.select(FhirClient).where(FhirClient.token_hash == digest))
    if client is None or not hmac.compare_digest(client.token_hash, digest):
        return None
    return client


def create(
    name: str,
    scopes: list[str],
    *,
    organization_id: int | None = None,
    patient_ids: list[int] = (),
    all_patients: bool = False,
    created_by_id: int | None = None,
) -> tuple[FhirClient, str]:
    """A new client and its token (shown once). Flushes; the caller commits."""
    token = new_token()
    client = FhirClient(
        name=name,
        token_hash=hash_token(token),
        scopes=sorted({ClientScope(s).value for s in scopes}),
        all_patients=all_patients,
        organization_id=organization_id,
        created_by_id=created_by_id,
    )
    db.session.add(client)
    db.session.flush()
    for patient_id in dict.fromkeys(patient_ids):
        db.session.add(FhirClientPatient(client_id=client.id, patient_id=patient_id))
    db.session.flush()
    return client, token


# ------------------------------------------------------------------ answers


def fhir_json(body: dict, status: int = 200):
    """A FHIR JSON response, keys in the order they were built (resourceType first)."""
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype=FHIR_JSON,
    )


def operation_outcome(
    status: int,
    code: str,
    diagnostics: str,
    *,
    severity: str = "error",
    expression: list[str] | None = None,
    headers: dict | None = None,
):
    """A FHIR OperationOutcome as the response (for integration engineers: English)."""
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    response = fhir_json({"resourceType": "OperationOutcome", "issue": [issue]}, status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _unauthorized(diagnostics: str):
    return operation_outcome(
        401, "login", diagnostics, headers={"WWW-Authenticate": 'Bearer realm="fhir"'}
    )


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    if len(token) > 200:  # ours are 43 characters: a huge one is not worth hashing
        return None
    return token


def _rate_key() -> str:
    """Per client (the token's hash), so one busy client cannot slow another; per address
    when no token came."""
    token = bearer_token()
    return f"fhir:{hash_token(token)}" if token else f"fhir-ip:{request.remote_addr}"


def _rate_limit() -> str:
    return current_app.config["FHIR_RATE_LIMIT"]


def client_required(scope: ClientScope | str) -> Callable:
    """Guard a /fhir endpoint: a current client's bearer token with `scope`, or 401/403 with
    an OperationOutcome. Sets `g.fhir_client` and `g.actor` (capacity "integration")."""
    scope = ClientScope(scope)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            for name in ("access_token", "token", "_token"):
                if name in request.args:
                    # A token in a URL ends up in proxies' and servers' logs: refused, even
                    # with a good header (RFC 6750 allows it; we do not).
                    return operation_outcome(
                        400, "security", "Send the token in the Authorization header only."
                    )
            token = bearer_token()
            if token is None:
                return _unauthorized("A bearer token is required.")
            client = find_by_token(token)
            if client is None or not client.is_active:
                log.info("fhir: refused token endpoint=%s", request.endpoint)
                return _unauthorized("The token is not valid.")
            if not client.has_scope(scope):
                return operation_outcome(
                    403, "forbidden", f"This client does not have the {scope.value} scope."
                )
            now = utcnow()
            if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
                client.last_used_at = now  # at most once a minute: no write per request
            g.fhir_client = client
            g.actor = Actor(user_id=None, capacity=Capacity.INTEGRATION, client_id=client.id)
            return view(*args, **kwargs)

        limited = limiter.limit(_rate_limit, key_func=_rate_key)(wrapper)
        limited.fhir_scope = scope  # type: ignore[attr-defined]
        return limited

    return decorator
