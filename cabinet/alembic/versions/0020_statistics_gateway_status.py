"""portal logins per cabinet (statistics, issue #10 K5) and the status of the mail
and SMS gateways (cabinet settings, K1)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-25 00:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'portal_logins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['cabinet_id'], ['nodes.id'],
                                name=op.f('fk_portal_logins_cabinet_id_nodes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_portal_logins_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_logins')),
    )
    op.create_index('ix_portal_logins_cabinet_id_at', 'portal_logins',
                    ['cabinet_id', 'at'])
    op.create_index(op.f('ix_portal_logins_user_id'), 'portal_logins', ['user_id'])
    op.create_table(
        'gateway_status',
        sa.Column('gateway', sa.String(length=20), nullable=False),
        sa.Column('last_success', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.DateTime(), nullable=True),
        sa.Column('last_error_message', sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint('gateway', name=op.f('pk_gateway_status')),
    )


def downgrade():
    op.drop_table('gateway_status')
    op.drop_index(op.f('ix_portal_logins_user_id'), table_name='portal_logins')
    op.drop_index('ix_portal_logins_cabinet_id_at', table_name='portal_logins')
    op.drop_table('portal_logins')
