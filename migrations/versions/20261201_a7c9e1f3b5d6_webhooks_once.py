"""Webhooks that tolerate races: early status callbacks kept, MMS media kept (issue 12)

Revision ID: a7c9e1f3b5d6
Revises: f6b8d0e2a4c5
Create Date: 2026-12-01 11:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c9e1f3b5d6'
down_revision = 'f6b8d0e2a4c5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_status_early',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_status_early')),
    sa.UniqueConstraint('sid', name=op.f('uq_sms_status_early_sid'))
    )
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media', sa.JSON(), nullable=True))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachments', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('attachments')

    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.drop_column('media')

    op.drop_table('sms_status_early')
