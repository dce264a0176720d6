"""Care content in its language, and the team's translations

Revision ID: a16a02c3d4e5
Revises: a16a01b2c3d4
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a16a02c3d4e5'
down_revision = 'a16a01b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    # What is already written was written in English (the demo's Spanish and Vietnamese plans
    # are marked by `flask demo seed`, which knows them; a migration cannot tell).
    for table in ('plan_items', 'goals', 'decisions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('content_language', sa.String(length=8), server_default='en', nullable=False)
            )

    op.create_table(
        'content_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('entity', sa.Enum('plan_item', 'goal', 'decision', name='entity', native_enum=False, create_constraint=True, length=16), nullable=False),
        sa.Column('entity_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('field_digests', sa.JSON(), nullable=False),
        sa.Column('source_digest', sa.String(length=64), nullable=False),
        sa.Column('translated_by_id', sa.Integer(), nullable=True),
        sa.Column('translated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_content_translations_patient_id_patients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['translated_by_id'], ['users.id'], name=op.f('fk_content_translations_translated_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_translations')),
        sa.UniqueConstraint('entity', 'entity_id', 'language', name='uq_content_translations_entity_language'),
    )
    with op.batch_alter_table('content_translations', schema=None) as batch_op:
        batch_op.create_index('ix_content_translations_patient_language', ['patient_id', 'language'], unique=False)


def downgrade():
    with op.batch_alter_table('content_translations', schema=None) as batch_op:
        batch_op.drop_index('ix_content_translations_patient_language')
    op.drop_table('content_translations')
    for table in ('decisions', 'goals', 'plan_items'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('content_language')
