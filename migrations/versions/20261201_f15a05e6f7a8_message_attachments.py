"""Attachments on messages

Revision ID: f15a05e6f7a8
Revises: f15a04d5e6f7
Create Date: 2026-12-01 19:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f15a05e6f7a8'
down_revision = 'f15a04d5e6f7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'message_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.SmallInteger(), nullable=False),
        sa.Column('kind', sa.Enum('image', 'pdf', name='attachmentkind', native_enum=False, create_constraint=True, length=8), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('bytes', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('thumb_key', sa.String(length=64), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_attachments_message_id_messages'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['message_threads.id'], name=op.f('fk_message_attachments_thread_id_message_threads'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_message_attachments_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_attachments')),
        sa.UniqueConstraint('message_id', 'position', name='uq_message_attachments_position'),
        sa.UniqueConstraint('storage_key', name=op.f('uq_message_attachments_storage_key')),
    )
    with op.batch_alter_table('message_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_attachments_thread_id'), ['thread_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_attachments_patient_id'), ['patient_id'], unique=False)

    op.create_table(
        'message_media_fetches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.SmallInteger(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_tried_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_media_fetches_message_id_messages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_media_fetches')),
        sa.UniqueConstraint('message_id', 'position', name='uq_message_media_fetches_position'),
    )


def downgrade():
    op.drop_table('message_media_fetches')
    with op.batch_alter_table('message_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_attachments_patient_id'))
        batch_op.drop_index(batch_op.f('ix_message_attachments_thread_id'))
    op.drop_table('message_attachments')
