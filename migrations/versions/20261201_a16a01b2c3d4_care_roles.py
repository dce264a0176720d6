"""Translatable role titles and relationships

Revision ID: a16a01b2c3d4
Revises: f15a05e6f7a8
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a16a01b2c3d4'
down_revision = 'f15a05e6f7a8'
branch_labels = None
depends_on = None


ROLES = (
    'care_coordinator', 'nurse', 'physician', 'nurse_practitioner', 'physician_assistant',
    'pharmacist', 'counselor', 'psychiatrist', 'social_worker', 'community_health_worker',
    'dentist', 'dental_hygienist', 'specialist', 'medical_assistant', 'peer_support', 'other',
)
RELATIONS = (
    'parent', 'mother', 'father', 'child', 'daughter', 'son', 'spouse', 'partner', 'sibling',
    'grandparent', 'grandchild', 'other_family', 'friend', 'neighbor', 'legal_guardian', 'other',
)

# Backfill, first match wins: words of the free title (lower-cased), then the discipline.
ROLE_FROM_TITLE = (
    ('psychiatrist', ('%psychiatr%',)),
    ('social_worker', ('%social work%', '%lcsw%')),
    ('pharmacist', ('%pharmac%', '%pharmd%')),
    ('dental_hygienist', ('%hygien%',)),
    ('nurse_practitioner', ('%nurse practitioner%', '%fnp%', '% np', 'np %')),
    ('physician_assistant', ('%physician assistant%', '%pa-c%')),
    ('community_health_worker', ('%community health%', '%chw%')),
    ('peer_support', ('%peer%',)),
    ('medical_assistant', ('%medical assistant%',)),
    ('care_coordinator', ('%coordinat%',)),
    ('counselor', ('%counsel%', '%therapist%', '%behavioral health clinician%')),
    ('dentist', ('%dentist%', '%dds%', '%dmd%')),
    ('nurse', ('%nurse%', 'rn', 'rn %', '% rn', '%lpn%')),
    ('specialist', ('%cardiolog%', '%endocrinolog%', '%nephrolog%', '%specialist%')),
    ('physician', ('%physician%', '%doctor%', 'dr. %', '% md', '%family medicine%')),
)
ROLE_FROM_DISCIPLINE = (
    ('physician', 'primary_care'),
    ('nurse', 'nursing'),
    ('counselor', 'behavioral_health'),
    ('pharmacist', 'pharmacy'),
    ('specialist', 'specialty'),
    ('dentist', 'dental'),
    ('community_health_worker', 'social_services'),
)
# The patient's English words for the ones the list names; anything else stays "other" with
# its words kept.
RELATION_WORDS = (
    ('parent', ('parent',)),
    ('mother', ('mother', 'mom', 'mum', 'mama', 'madre')),
    ('father', ('father', 'dad', 'papa', 'padre')),
    ('child', ('child', 'kid')),
    ('daughter', ('daughter', 'hija')),
    ('son', ('son', 'hijo')),
    ('spouse', ('spouse', 'wife', 'husband', 'esposa', 'esposo')),
    ('partner', ('partner',)),
    ('sibling', ('sibling', 'sister', 'brother')),
    ('grandparent', ('grandparent', 'grandmother', 'grandfather', 'grandma', 'grandpa')),
    ('grandchild', ('grandchild', 'granddaughter', 'grandson')),
    ('other_family', ('aunt', 'uncle', 'cousin', 'niece', 'nephew', 'family')),
    ('friend', ('friend',)),
    ('neighbor', ('neighbor', 'neighbour')),
    ('legal_guardian', ('guardian', 'legal guardian')),
)


def _enum(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('care_team_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', _enum('carerole', ROLES), server_default='other', nullable=False))
    for table in ('caregiver_grants', 'caregiver_invitations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('relation', _enum('relation', RELATIONS), server_default='other', nullable=False))

    members = sa.table('care_team_members', sa.column('role'), sa.column('title'), sa.column('discipline'))
    for role, patterns in ROLE_FROM_TITLE:
        op.execute(
            members.update()
            .where(members.c.role == 'other')
            .where(sa.or_(*(sa.func.lower(members.c.title).like(p) for p in patterns)))
            .values(role=role)
        )
    for role, discipline in ROLE_FROM_DISCIPLINE:
        op.execute(
            members.update()
            .where(members.c.role == 'other', members.c.discipline == discipline)
            .values(role=role)
        )
    for table in ('caregiver_grants', 'caregiver_invitations'):
        rows = sa.table(table, sa.column('relation'), sa.column('relationship_label'))
        for relation, words in RELATION_WORDS:
            op.execute(
                rows.update()
                .where(sa.func.lower(sa.func.trim(rows.c.relationship_label)).in_(words))
                .values(relation=relation)
            )


def downgrade():
    for table in ('caregiver_invitations', 'caregiver_grants'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_relation'), type_='check')
            batch_op.drop_column('relation')
    with op.batch_alter_table('care_team_members', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_care_team_members_carerole'), type_='check')
        batch_op.drop_column('role')
