"""Social needs screening responses

Revision ID: a18a02c3d4e5
Revises: a18a01b2c3d4
Create Date: 2026-12-02 01:01:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a18a02c3d4e5'
down_revision = 'a18a01b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'screening_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('questionnaire', sa.String(length=64), nullable=False),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_as', sa.String(length=16), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('authored_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('needs', sa.JSON(), nullable=False),
        sa.Column('positive', sa.Boolean(), nullable=False),
        sa.Column('response', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'],
                                name=op.f('fk_screening_responses_answered_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_screening_responses_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_responses')),
    )
    op.create_index('ix_screening_responses_authored', 'screening_responses', ['authored_at'])
    op.create_index('ix_screening_responses_patient_authored', 'screening_responses',
                    ['patient_id', 'authored_at'])


def downgrade():
    op.drop_index('ix_screening_responses_patient_authored', table_name='screening_responses')
    op.drop_index('ix_screening_responses_authored', table_name='screening_responses')
    op.drop_table('screening_responses')
