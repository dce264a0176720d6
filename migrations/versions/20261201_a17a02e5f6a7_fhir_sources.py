"""FHIR sources of imported records

Revision ID: a17a02e5f6a7
Revises: a17a01d4e5f6
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a17a02e5f6a7'
down_revision = 'a17a01d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fhir_sources',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_system', sa.String(length=200), nullable=False),
        sa.Column('resource_type', sa.String(length=40), nullable=False),
        sa.Column('fhir_id', sa.String(length=200), nullable=False),
        sa.Column('entity', sa.String(length=24), nullable=False),
        sa.Column('entity_id', sa.Integer(), nullable=True),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('parent_fhir_id', sa.String(length=200), nullable=True),
        sa.Column('version_id', sa.String(length=64), nullable=True),
        sa.Column('last_updated', sa.DateTime(timezone=True), nullable=True),
        sa.Column('content_digest', sa.String(length=64), nullable=False),
        sa.Column('taken', sa.JSON(), nullable=True),
        sa.Column('source_says', sa.JSON(), nullable=True),
        sa.Column('summary', sa.JSON(), nullable=True),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_fhir_sources_patient_id_patients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_fhir_sources_organization_id_organizations'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_sources')),
        sa.UniqueConstraint('source_system', 'resource_type', 'fhir_id', name='uq_fhir_sources_resource'),
    )
    with op.batch_alter_table('fhir_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fhir_sources_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_fhir_sources_entity', ['entity', 'entity_id'], unique=False)
        batch_op.create_index('ix_fhir_sources_parent', ['source_system', 'parent_fhir_id'], unique=False)


def downgrade():
    with op.batch_alter_table('fhir_sources', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_sources_parent')
        batch_op.drop_index('ix_fhir_sources_entity')
        batch_op.drop_index(batch_op.f('ix_fhir_sources_patient_id'))
    op.drop_table('fhir_sources')
