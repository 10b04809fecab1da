"""patient login and one-time codes (issue #4, A3)

Patients carry their guardians (parent 1, parent 2, financial guarantor: names, birth
date, phone) and a minors' access override; cabinets a minors' access switch. One-time
codes sent by SMS (hashed, bound, counted) and the sends that limit resending; the
accounts of people of the cabinet directory.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

PEOPLE = ('parent1', 'parent2', 'guarantor')


def upgrade():
    with op.batch_alter_table('cabinets') as batch:
        batch.add_column(sa.Column('minors_access_documents', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('patients') as batch:
        for person in PEOPLE:
            batch.add_column(sa.Column(f'{person}_first_name', sa.String(length=200),
                                       nullable=False, server_default=''))
            batch.add_column(sa.Column(f'{person}_last_name', sa.String(length=200),
                                       nullable=False, server_default=''))
            batch.add_column(sa.Column(f'{person}_birth_date', sa.Date(), nullable=True))
            batch.add_column(sa.Column(f'{person}_phone', sa.String(length=32),
                                       nullable=False, server_default=''))
        batch.add_column(sa.Column('minors_access', sa.String(length=8), nullable=False,
                                   server_default=''))
        batch.create_index(op.f('ix_patients_birth_date'), ['birth_date'])
        for person in PEOPLE:
            batch.create_index(op.f(f'ix_patients_{person}_birth_date'),
                               [f'{person}_birth_date'])
    op.create_table(
        'one_time_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=30), nullable=False),
        sa.Column('node_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('challenge_hash', sa.String(length=64), nullable=True),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('salt', sa.String(length=32), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('expires', sa.DateTime(), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('used', sa.DateTime(), nullable=True),
        sa.Column('details', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['node_id'], ['nodes.id'],
                                name=op.f('fk_one_time_codes_node_id_nodes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_one_time_codes_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_codes')),
        sa.UniqueConstraint('challenge_hash', name=op.f('uq_one_time_codes_challenge_hash')),
    )
    op.create_index('ix_one_time_codes_binding', 'one_time_codes',
                    ['purpose', 'node_id', 'user_id'])
    op.create_index(op.f('ix_one_time_codes_user_id'), 'one_time_codes', ['user_id'])
    op.create_table(
        'one_time_code_sends',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_code_sends')),
    )
    op.create_index('ix_one_time_code_sends_key_sent', 'one_time_code_sends',
                    ['key', 'sent_at'])
    op.create_table(
        'directory_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('last_name_key', sa.String(length=200), nullable=False),
        sa.Column('first_name_key', sa.String(length=200), nullable=False),
        sa.Column('birth_date', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_directory_accounts_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_accounts')),
        sa.UniqueConstraint('phone', 'last_name_key', 'first_name_key', 'birth_date',
                            name='uq_directory_accounts_person'),
    )
    op.create_index(op.f('ix_directory_accounts_user_id'), 'directory_accounts',
                    ['user_id'])


def downgrade():
    op.drop_table('directory_accounts')
    op.drop_table('one_time_code_sends')
    op.drop_table('one_time_codes')
    with op.batch_alter_table('patients') as batch:
        for person in PEOPLE:
            batch.drop_index(op.f(f'ix_patients_{person}_birth_date'))
        batch.drop_index(op.f('ix_patients_birth_date'))
        batch.drop_column('minors_access')
        for person in PEOPLE:
            for column in ('phone', 'birth_date', 'last_name', 'first_name'):
                batch.drop_column(f'{person}_{column}')
    with op.batch_alter_table('cabinets') as batch:
        batch.drop_column('minors_access_documents')
