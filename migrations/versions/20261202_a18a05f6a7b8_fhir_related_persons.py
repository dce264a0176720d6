"""FHIR import: related persons and consents the patient confirms (placeholder: filled by the work it names)

Revision ID: a18a05f6a7b8
Revises: a18a04e5f6a7
Create Date: 2026-12-02 01:04:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a18a05f6a7b8'
down_revision = 'a18a04e5f6a7'
branch_labels = None
depends_on = None


RELATIONS = ('parent', 'mother', 'father', 'child', 'daughter', 'son', 'spouse', 'partner',
             'sibling', 'grandparent', 'grandchild', 'other_family', 'friend', 'neighbor',
             'legal_guardian', 'other')


def upgrade():
    op.create_table(
        'fhir_caregiver_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('relation', sa.Enum(*RELATIONS, name='relation', native_enum=False,
                                      length=32, create_constraint=True), nullable=False),
        sa.Column('relationship_label', sa.String(length=60), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('phone', sa.String(length=16), nullable=True),
        sa.Column('permitted', sa.Boolean(), nullable=False),
        sa.Column('consent_fhir_id', sa.String(length=200), nullable=True),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('sensitive_categories', sa.JSON(), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answer', sa.Enum('invited', 'not_now', name='answer', native_enum=False,
                                    length=12, create_constraint=True), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('invitation_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_fhir_caregiver_proposals_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['source_id'], ['fhir_sources.id'],
                                name=op.f('fk_fhir_caregiver_proposals_source_id_fhir_sources'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_fhir_caregiver_proposals_organization_id_organizations'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'],
                                name=op.f('fk_fhir_caregiver_proposals_answered_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(
            ['invitation_id'], ['caregiver_invitations.id'],
            name=op.f('fk_fhir_caregiver_proposals_invitation_id_caregiver_invitations'),
            ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_caregiver_proposals')),
        sa.UniqueConstraint('source_id', name=op.f('uq_fhir_caregiver_proposals_source_id')),
    )
    op.create_index(op.f('ix_fhir_caregiver_proposals_patient_id'), 'fhir_caregiver_proposals',
                    ['patient_id'])


def downgrade():
    op.drop_index(op.f('ix_fhir_caregiver_proposals_patient_id'),
                  table_name='fhir_caregiver_proposals')
    op.drop_table('fhir_caregiver_proposals')
