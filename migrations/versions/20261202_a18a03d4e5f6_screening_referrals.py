"""Social needs screening: the need each screening found and the referral that answers it

Revision ID: a18a03d4e5f6
Revises: a18a02c3d4e5
Create Date: 2026-12-02 01:02:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a18a03d4e5f6'
down_revision = 'a18a02c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'screening_referrals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('need', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('suggested', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['plan_items.id'],
                                name=op.f('fk_screening_referrals_item_id_plan_items'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_screening_referrals_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['response_id'], ['screening_responses.id'],
                                name=op.f('fk_screening_referrals_response_id_screening_responses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_referrals')),
        sa.UniqueConstraint('response_id', 'need', name='uq_screening_referrals_response_need'),
    )
    op.create_index('ix_screening_referrals_patient_need', 'screening_referrals',
                    ['patient_id', 'need'])
    op.create_index(op.f('ix_screening_referrals_item_id'), 'screening_referrals', ['item_id'])


def downgrade():
    op.drop_index(op.f('ix_screening_referrals_item_id'), table_name='screening_referrals')
    op.drop_index('ix_screening_referrals_patient_need', table_name='screening_referrals')
    op.drop_table('screening_referrals')
