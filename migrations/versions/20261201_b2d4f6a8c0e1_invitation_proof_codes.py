"""A caregiver invitation is accepted only with a code sent to where the link went

Revision ID: b2d4f6a8c0e1
Revises: a7c3e1d2b9f4
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b2d4f6a8c0e1'
down_revision = 'a7c3e1d2b9f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('caregiver_invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proof_code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('proof_expires_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('proof_attempts', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column('proof_sends', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('caregiver_invitations', schema=None) as batch_op:
        batch_op.drop_column('proof_sends')
        batch_op.drop_column('proof_attempts')
        batch_op.drop_column('proof_expires_at')
        batch_op.drop_column('proof_code_hash')
