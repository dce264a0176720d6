"""The audit trail: who saw or changed which patient's data, for whom, when, from where.

Rows are append-only and tamper-evident:
- the ORM refuses updates and deletes, and database triggers refuse UPDATE and DELETE, and
  also TRUNCATE (PostgreSQL) and REPLACE / INSERT OR REPLACE over an existing row (SQLite);
- on PostgreSQL the app connects as a role that may only INSERT and SELECT on this table
  (app.core.dbroles), so it can neither disable those triggers nor truncate;
- every row is a link of a hash chain: `chain_seq` numbers the rows without gaps, `prev_hash`
  is the previous row's `row_hash`, and `row_hash` is the SHA-256 of `prev_hash` and the row's
  own content. Changing, removing or inserting a row anywhere breaks the chain from there on,
  and `flask audit verify` names the first broken row. (Cutting rows off the end leaves a
  shorter valid chain: record the head that `verify` prints somewhere else to catch that.)

Events are collected during the request and written by the request hooks in `app.core.uow`:
with the request's changes when it succeeds; when it fails, only its "view" events are written,
so a refused or invalid request leaves its "who looked" trace and never claims a change that
was rolled back. Outside a request (a CLI job) events wait in the session and are written just
before it commits. Every insert goes through `write`, which links the rows under a lock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import g, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import utcnow
from app.core.privacy import Capacity, current_actor
from app.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_patient_time", "patient_id", "occurred_at"),
        # The security page: refused attempts, newest first, without reading the whole trail.
        sa.Index("ix_audit_events_action_id", "action", "id"),
        # The caregiver engagement measure: caregivers' reads and changes of a period.
        sa.Index(
            "ix_audit_events_caregiver_time",
            "occurred_at",
            "patient_id",
            "actor_id",
            sqlite_where=sa.text("capacity = 'caregiver' AND action <> 'denied'"),
            postgresql_where=sa.text("capacity = 'caregiver' AND action <> 'denied'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The user who acted; NULL for the system (scheduled jobs).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: In which capacity: patient, caregiver, care_team, admin or system.
    capacity: Mapped[str] = mapped_column(sa.String(16))
    #: The patient a caregiver was acting for (NULL when acting in one's own right).
    acting_for_patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="RESTRICT")
    )
    #: Whose data it was.
    patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="RESTRICT")
    )
    #: view, create, update, delete, or a verb such as login, invite, revoke.
    action: Mapped[str] = mapped_column(sa.String(24))
    #: What was touched, e.g. "patient.summary" or "careplan.item".
    resource: Mapped[str] = mapped_column(sa.String(64))
    resource_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: The HTTP endpoint (never the URL: no query strings, no tokens).
    endpoint: Mapped[str | None] = mapped_column(sa.String(96))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    #: The hash chain (see the module docstring): 1, 2, 3... in the order rows were linked.
    chain_seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    row_hash: Mapped[str] = mapped_column(sa.String(64))
    #: The integration client that read (capacity "integration"; actor_id is NULL then): an
    #: id in fhir_clients, without a foreign key (core names no domain's table; clients are
    #: revoked, never deleted). Chained when set (`row_digest`).
    client_id: Mapped[int | None] = mapped_column()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise PermissionError("audit events are append-only")


APPEND_ONLY_DDL = {
    "sqlite": [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        # REPLACE deletes the row it collides with without firing delete triggers.
        "CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events "
        "WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id "
        "OR chain_seq = NEW.chain_seq) "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_events is append-only'; END $$",
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
    ],
}


@event.listens_for(AuditEvent.__table__, "after_create")
def _install_triggers(target, connection, **kw):
    for statement in APPEND_ONLY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


def client_ip() -> str | None:
    if not has_request_context():
        return None
    return request.remote_addr


def record(
    *,
    action: str,
    resource: str,
    patient_id: int | None,
    actor_id: int | None = None,
    capacity: str | None = None,
    acting_for_patient_id: int | None = None,
    resource_id: object | None = None,
) -> dict:
    """Record that someone saw or changed a patient's data.

    Actor and capacity default to the current actor (`g.actor`, set by `patient_route`; the
    system in a job). In a request the event waits for the request hook, which writes it with
    the request's changes, or alone if the request failed. Outside a request (a CLI job) the
    event waits in the session and is written just before it commits, with the job's work.
    """
    actor = current_actor()
    actor_id = actor_id if actor_id is not None else actor.user_id
    client_id = actor.client_id if actor_id is None else None
    capacity = str(capacity or actor.capacity.value)
    if acting_for_patient_id is None and capacity == Capacity.CAREGIVER.value:
        acting_for_patient_id = patient_id
    values = {
        "occurred_at": utcnow(),
        "actor_id": actor_id,
        "capacity": capacity,
        "acting_for_patient_id": acting_for_patient_id,
        "patient_id": patient_id,
        "action": action,
        "resource": resource,
        "resource_id": None if resource_id is None else str(resource_id),
        "endpoint": request.endpoint if has_request_context() else None,
        "ip_address": client_ip(),
        "client_id": client_id,
    }
    if has_request_context():
        g.setdefault("pending_audit", []).append(values)
    else:
        session = db.session()
        session.connection()  # in a transaction, so that a rollback drops the event too
        session.info.setdefault(SESSION_PENDING, []).append(values)
    return values


#: Kept when a request fails and its changes are rolled back: what was shown, and what was
#: refused. A change event would claim something that did not happen.
KEPT_ON_FAILURE = frozenset({"view", "denied"})
#: Never in "Who has seen my record": nothing was seen.
DENIED = "denied"


def record_denied(
    *,
    resource: str,
    patient_id: int | None,
    requested_id: object,
    actor_id: int,
    capacity: str,
) -> dict:
    """A refused attempt at a patient's data: who (in the capacity of their account), which
    endpoint, the id they asked for (and whose record it is, if it exists). For the security
    page, never the patient's log."""
    values = record(
        action=DENIED,
        resource=resource,
        patient_id=patient_id,
        resource_id=str(requested_id)[:64],
        actor_id=actor_id,
        capacity=capacity,
    )
    values["acting_for_patient_id"] = None  # they were refused: they acted for nobody
    return values


def record_listed(resource: str, patient_ids, *, actor_id: int, capacity: str) -> None:
    """A page that showed several patients (their names in a list): a view of each, by the
    signed-in user in the capacity of their account (no single patient's route set one)."""
    for patient_id in dict.fromkeys(patient_ids):
        record(
            action="view",
            resource=resource,
            patient_id=patient_id,
            actor_id=actor_id,
            capacity=capacity,
        )


def pending_events() -> list[dict]:
    return g.get("pending_audit", []) if has_request_context() else []


# ------------------------------------------------------------------ how events read

#: What each audit resource is, in the patient's words ("Who has seen my record"). Each domain
#: registers its own resources from its labels module.
RESOURCE_LABELS: dict[str, object] = {}
#: What was done; core knows view, create and update, domains add their own verbs.
ACTION_LABELS: dict[str, object] = {
    "view": _l("Looked at"),
    "update": _l("Changed"),
    "create": _l("Added"),
}
CAPACITY_LABELS = {
    Capacity.PATIENT.value: _l("You"),
    Capacity.CAREGIVER.value: _l("Caregiver"),
    Capacity.CARE_TEAM.value: _l("Care team"),
    Capacity.ADMIN.value: _l("CareCircle administrator"),
    Capacity.SYSTEM.value: _l("CareCircle system"),
    Capacity.INTEGRATION.value: _l("Connected health record system"),
}


def register_labels(*, resources: dict | None = None, actions: dict | None = None) -> None:
    """Called by each domain's `init_app` with the resources and verbs it records."""
    RESOURCE_LABELS.update(resources or {})
    ACTION_LABELS.update(actions or {})


# ------------------------------------------------------------------ the chain

#: The hash before the first row.
GENESIS = "0" * 64
#: The fields a row's hash covers, in this order. Never change it: old rows would not verify.
CHAINED = (
    "chain_seq",
    "occurred_at",
    "actor_id",
    "capacity",
    "acting_for_patient_id",
    "patient_id",
    "action",
    "resource",
    "resource_id",
    "endpoint",
    "ip_address",
)
#: PostgreSQL advisory lock key (with the schema's hash) that serialises linking rows.
CHAIN_LOCK = 7_200_011
SESSION_PENDING = "pending_audit"


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def row_digest(prev_hash: str, row) -> str:
    """SHA-256 of the previous hash and this row's content (a mapping or an AuditEvent).
    `client_id` came later: it is chained after the CHAINED fields when set, so rows without
    one (every row before it existed) hash as they always did."""
    get = row.get if hasattr(row, "get") else lambda name: getattr(row, name)
    fields = [_canonical(get(name)) for name in CHAINED]
    client_id = get("client_id")
    if client_id is not None:
        fields.append(["client_id", client_id])
    content = json.dumps(fields, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


#: The chain's head: built once, run on the session's connection (no ORM row processing).
_HEAD = (
    sa.select(AuditEvent.__table__.c.chain_seq, AuditEvent.__table__.c.row_hash)
    .order_by(AuditEvent.__table__.c.chain_seq.desc())
    .limit(1)
)
_INSERT = AuditEvent.__table__.insert()
#: Literal SQL (constants only), so the driver runs it without binding or compiling anything.
_PG_LOCK = f"SELECT pg_advisory_xact_lock({CHAIN_LOCK}, hashtext(current_schema()))"


#: SQLite: a write that touches no row, so the transaction takes the database's write lock
#: (waiting its turn behind another process's) before the head is read.
_SQLITE_LOCK = "UPDATE audit_events SET chain_seq = chain_seq WHERE 0"


def _lock_chain(connection) -> None:
    """One writer links rows at a time (takes a Connection, or a Session), so the head read
    next is the head the insert follows. PostgreSQL: a transaction-level advisory lock (held
    to commit, so the next writer reads this one's last row). SQLite: the write lock itself.
    The driver runs plain reads outside a transaction, so without it two workers (gunicorn
    -w 2) could read the same head and the second insert would collide on chain_seq (a 500
    for every page the second one served); the unique chain_seq still turns any overlap into
    an error, never a fork."""
    if not isinstance(connection, sa.Connection):
        connection = connection.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_PG_LOCK)
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_SQLITE_LOCK)


def write(session, events: list[dict]) -> None:
    """Link the events to the chain and insert them: one multi-row INSERT for a request's
    events, however many pages of data it showed. The only way rows get in.

    Cost per request (every page view writes here): three statements on PostgreSQL (lock,
    head, insert) and two on SQLite, all Core statements on the session's own connection, in
    the request's one transaction. The lock and the head stay two statements on PostgreSQL:
    in READ COMMITTED a statement reads the snapshot taken when it started, so a head read in
    the same statement that waits for the lock could miss the row the previous holder just
    committed (and fork the chain). Linking later in batches (unlinked rows chained by a
    background linker) would save the lock on reads, but leaves a window in which rows are
    outside the chain and needs a second table (rows are append-only); not worth it while the
    lock is held for microseconds."""
    if not events:
        return
    connection = session.connection()
    _lock_chain(connection)
    last = connection.execute(_HEAD).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    rows = []
    for values in events:
        seq += 1
        row = {**values, "chain_seq": seq, "prev_hash": prev}
        row["row_hash"] = prev = row_digest(prev, row)
        rows.append(row)
    connection.execute(_INSERT, rows)


@event.listens_for(Session, "before_commit")
def _write_pending(session) -> None:
    """A job's events go in with its work, just before it commits (and never without it)."""
    pending = session.info.pop(SESSION_PENDING, None)
    if pending:
        write(session, pending)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session, previous_transaction) -> None:
    """A job that rolls back did nothing: its events go too (a savepoint's rollback keeps
    them, as the job carries on)."""
    if not previous_transaction.nested:
        session.info.pop(SESSION_PENDING, None)


@dataclass
class ChainReport:
    rows: int  # rows that verified
    head: str  # the hash of the last one (GENESIS for an empty trail)
    broken_id: int | None = None  # audit_events.id of the first row that does not
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(session, batch: int = 2000) -> ChainReport:
    """Walk the chain in order and stop at the first row that does not follow from the one
    before: its number skips, it does not point at the previous hash, or its content does not
    give its hash. Reads plain rows in batches (keyset on chain_seq): memory stays flat."""
    columns = [AuditEvent.id, AuditEvent.prev_hash, AuditEvent.row_hash] + [
        getattr(AuditEvent, name) for name in (*CHAINED, "client_id")
    ]
    expected_seq, prev, count = 1, GENESIS, 0
    while True:
        rows = session.execute(
            sa.select(*columns)
            .where(AuditEvent.chain_seq >= expected_seq)
            .order_by(AuditEvent.chain_seq)
            .limit(batch)
        ).all()
        if not rows:
            return ChainReport(rows=count, head=prev)
        for row in rows:
            values = row._mapping
            problem = None
            if row.chain_seq != expected_seq:
                problem = f"rows are missing before it (expected number {expected_seq})"
            elif row.prev_hash != prev:
                problem = "it does not point at the row before it"
            elif row.row_hash != row_digest(prev, values):
                problem = "its content was changed after it was written"
            if problem:
                return ChainReport(
                    rows=count,
                    head=prev,
                    broken_id=row.id,
                    broken_seq=row.chain_seq,
                    problem=problem,
                )
            prev, expected_seq, count = row.row_hash, expected_seq + 1, count + 1


# Indexes for what grows with the trail (3M rows at 100,000 patients): deleting or
# deactivating a user checks the RESTRICT foreign keys through actor_id and
# acting_for_patient_id; "Who has seen my record" pages by (occurred_at, id) within a patient.
sa.Index("ix_audit_events_actor", AuditEvent.actor_id)
sa.Index("ix_audit_events_acting_for", AuditEvent.acting_for_patient_id)
