"""delegations and invitations

A delegation names a person of the national registry (matricule, name, work email),
may be held by a group of secretaries, and carries its invitation link (SHA-256 of a
single-use token, expiry). Accounts carry their matricule, to find the account a
delegation names.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('matricule', sa.String(length=13), nullable=True))
        batch.create_unique_constraint(op.f('uq_users_matricule'), ['matricule'])
    with op.batch_alter_table('delegations') as batch:
        batch.add_column(sa.Column('delegate_group_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('matricule', sa.String(length=13), nullable=True))
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('delegate_name', sa.String(length=200), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('invitation_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('invitation_expires', sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f('fk_delegations_delegate_group_id_groups'), 'groups',
                                 ['delegate_group_id'], ['id'], ondelete='CASCADE')
        batch.create_unique_constraint(op.f('uq_delegations_invitation_hash'),
                                       ['invitation_hash'])
        batch.create_index(op.f('ix_delegations_delegate_group_id'), ['delegate_group_id'])
        batch.create_index(op.f('ix_delegations_matricule'), ['matricule'])


def downgrade():
    with op.batch_alter_table('delegations') as batch:
        batch.drop_index(op.f('ix_delegations_matricule'))
        batch.drop_index(op.f('ix_delegations_delegate_group_id'))
        batch.drop_constraint(op.f('uq_delegations_invitation_hash'), type_='unique')
        batch.drop_constraint(op.f('fk_delegations_delegate_group_id_groups'),
                              type_='foreignkey')
        for column in ('invitation_expires', 'invitation_hash', 'delegate_name', 'email',
                       'matricule', 'delegate_group_id'):
            batch.drop_column(column)
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('uq_users_matricule'), type_='unique')
        batch.drop_column('matricule')
