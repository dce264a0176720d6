"""FHIR import: related persons and consents the patient confirms (placeholder: filled by the work it names)

Revision ID: a18a05f6a7b8
Revises: a18a04e5f6a7
Create Date: 2026-12-02 01:04:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'a18a05f6a7b8'
down_revision = 'a18a04e5f6a7'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
