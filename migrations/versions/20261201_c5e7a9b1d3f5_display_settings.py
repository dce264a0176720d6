"""Display settings on each user account: text size, high contrast, reduced motion

Revision ID: c5e7a9b1d3f5
Revises: b2c4d6e8f0a2
Create Date: 2026-12-01 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c5e7a9b1d3f5'
down_revision = 'b2c4d6e8f0a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_size', sa.Enum('standard', 'large', 'larger', name='textsize', native_enum=False, create_constraint=True, length=8), server_default='standard', nullable=False))
        batch_op.add_column(sa.Column('high_contrast', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reduced_motion', sa.Boolean(), server_default=sa.false(), nullable=False))
    # A patient who told us they want larger text or high contrast gets it on their own
    # screen from now on (until now the preference was saved and applied nowhere).
    for column, value, preference in (
        ('text_size', "'large'", 'large_text'),
        ('high_contrast', 'true', 'high_contrast'),
    ):
        op.execute(
            f"UPDATE users SET {column} = {value} WHERE id IN ("
            "SELECT patients.user_id FROM patients JOIN patient_preferences "
            "ON patient_preferences.patient_id = patients.id "
            f"WHERE patients.user_id IS NOT NULL AND patient_preferences.{preference} = true)"
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_textsize'), type_='check')
        batch_op.drop_column('reduced_motion')
        batch_op.drop_column('high_contrast')
        batch_op.drop_column('text_size')
