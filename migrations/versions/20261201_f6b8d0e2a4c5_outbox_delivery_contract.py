"""Texts are sent at most once: per-row fencing for the dispatcher (issue 12)

Revision ID: f6b8d0e2a4c5
Revises: e5a7c9d1f3b4
Create Date: 2026-12-01 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f6b8d0e2a4c5'
down_revision = 'e5a7c9d1f3b4'
branch_labels = None
depends_on = None


def upgrade():
    # The fencing token of a claim, and when the current send to Twilio began (an unanswered
    # send is looked up at Twilio from then on before any resend). docs/texting.md
    with op.batch_alter_table('outbound_sms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('send_started_at', sa.DateTime(timezone=True), nullable=True))
    # A text an old worker was sending when it stopped may have gone: look it up, not resend.
    op.execute(
        "UPDATE outbound_sms SET send_started_at = created_at "
        "WHERE status = 'sending' AND provider_sid IS NULL"
    )

    # The per-sender send rate shared by every worker when there is no Redis (texting.rate).
    op.create_table('sms_send_slots',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('next_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sms_send_slots'))
    )


def downgrade():
    op.drop_table('sms_send_slots')

    with op.batch_alter_table('outbound_sms', schema=None) as batch_op:
        batch_op.drop_column('send_started_at')
        batch_op.drop_column('claim_token')
