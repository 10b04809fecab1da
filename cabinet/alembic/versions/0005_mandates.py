"""mandates

A mandate's domain (what the provider may do for the mandant), the SHA-256 of its
activation code (shown once, never stored in clear; unique so that a code finds its
mandate) and an index to list the mandates given to a provider space.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 08:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mandates') as batch:
        batch.add_column(sa.Column('domain', sa.String(length=50), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('code_hash', sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f('uq_mandates_code_hash'), ['code_hash'])
        batch.create_index(op.f('ix_mandates_provider_id'), ['provider_id'])


def downgrade():
    with op.batch_alter_table('mandates') as batch:
        batch.drop_index(op.f('ix_mandates_provider_id'))
        batch.drop_constraint(op.f('uq_mandates_code_hash'), type_='unique')
        batch.drop_column('code_hash')
        batch.drop_column('domain')
