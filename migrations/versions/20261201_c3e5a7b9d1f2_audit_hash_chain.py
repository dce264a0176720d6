"""The audit trail is a hash chain, and REPLACE (SQLite) and TRUNCATE (PostgreSQL) are refused

Every row gets its number in the chain, the previous row's hash and its own (see
app/core/audit.py); rows already there are linked in the order they were written. SQLite's
REPLACE removed a row without firing the delete trigger; PostgreSQL's TRUNCATE fired no row
trigger. Both are refused now.

Revision ID: c3e5a7b9d1f2
Revises: b2d4f6a8c0e1
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.core.audit import CHAINED, GENESIS, row_digest
from app.core.db import UTCDateTime


revision = 'c3e5a7b9d1f2'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None

REFUSE = "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
TRIGGERS = {
    "sqlite": [
        f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events {REFUSE}",
        f"CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events {REFUSE}",
    ],
    "postgresql": [
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    ],
}
NEW_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events "
        "WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id "
        f"OR chain_seq = NEW.chain_seq) {REFUSE}",
    ],
    "postgresql": [
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
    ],
}
DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
        "DROP TRIGGER IF EXISTS audit_events_no_replace",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
        "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    ],
}

audit = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("actor_id", sa.Integer()),
    sa.column("capacity", sa.String()),
    sa.column("acting_for_patient_id", sa.Integer()),
    sa.column("patient_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("resource", sa.String()),
    sa.column("resource_id", sa.String()),
    sa.column("endpoint", sa.String()),
    sa.column("ip_address", sa.String()),
    sa.column("chain_seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)


def _link_existing_rows(bind):
    prev, seq = GENESIS, 0
    rows = bind.execute(
        sa.select(*[audit.c[name] for name in ("id", *CHAINED) if name != "chain_seq"])
        .order_by(audit.c.id)
    ).all()
    for row in rows:
        seq += 1
        values = {**row._mapping, "chain_seq": seq}
        digest = row_digest(prev, values)
        bind.execute(
            audit.update()
            .where(audit.c.id == row.id)
            .values(chain_seq=seq, prev_hash=prev, row_hash=digest)
        )
        prev = digest


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    for statement in DROP.get(dialect, []):
        op.execute(statement)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
    _link_existing_rows(bind)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f('uq_audit_events_chain_seq'), ['chain_seq']
        )
    for statement in TRIGGERS.get(dialect, []) + NEW_TRIGGERS.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in DROP.get(dialect, []):
        op.execute(statement)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_chain_seq'), type_='unique')
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
    for statement in TRIGGERS.get(dialect, []):
        op.execute(statement)
