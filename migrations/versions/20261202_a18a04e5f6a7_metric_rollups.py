"""Measures: the nightly rollup the dashboard reads (each measure's answer for the common scopes)

Revision ID: a18a04e5f6a7
Revises: a18a03d4e5f6
Create Date: 2026-12-02 01:03:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a18a04e5f6a7'
down_revision = 'a18a03d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'metric_rollups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('measure', sa.String(length=40), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('scope_key', sa.String(length=40), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_rollups')),
        sa.UniqueConstraint('first_day', 'last_day', 'scope_key', 'locale', 'measure',
                            name='uq_metric_rollups_key'),
    )


def downgrade():
    op.drop_table('metric_rollups')
