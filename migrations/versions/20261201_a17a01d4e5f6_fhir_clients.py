"""FHIR integration clients

Revision ID: a17a01d4e5f6
Revises: a16a02c3d4e5
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a17a01d4e5f6'
down_revision = 'a16a02c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fhir_clients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('all_patients', sa.Boolean(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_fhir_clients_organization_id_organizations'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fhir_clients_created_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_clients')),
        sa.UniqueConstraint('name', name=op.f('uq_fhir_clients_name')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_fhir_clients_token_hash')),
    )
    with op.batch_alter_table('fhir_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fhir_clients_organization_id'), ['organization_id'], unique=False)

    op.create_table(
        'fhir_client_patients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['fhir_clients.id'], name=op.f('fk_fhir_client_patients_client_id_fhir_clients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_fhir_client_patients_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_client_patients')),
        sa.UniqueConstraint('client_id', 'patient_id', name='uq_fhir_client_patients_pair'),
    )
    with op.batch_alter_table('fhir_client_patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fhir_client_patients_patient_id'), ['patient_id'], unique=False)

    # Who read: an integration client (capacity "integration"). A plain ADD COLUMN (no batch
    # copy): audit_events is append-only, guarded by triggers a table copy would drop.
    op.add_column('audit_events', sa.Column('client_id', sa.Integer(), nullable=True))


def downgrade():
    # SQLite (3.35+) drops a plain column in place; the append-only triggers stay.
    op.drop_column('audit_events', 'client_id')
    with op.batch_alter_table('fhir_client_patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fhir_client_patients_patient_id'))
    op.drop_table('fhir_client_patients')
    with op.batch_alter_table('fhir_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fhir_clients_organization_id'))
    op.drop_table('fhir_clients')
