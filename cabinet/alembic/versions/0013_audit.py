"""audit trail and session generations (issue #6)

Security events in an append-only, hash-chained table (cabinet.audit), and each
user's session generation, which logging out moves on so that every earlier session
cookie of that user is refused (cabinet.security).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 14:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('action', sa.String(length=50), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_login', sa.String(length=100), nullable=False),
        sa.Column('acting_for_login', sa.String(length=100), nullable=False),
        sa.Column('object_path', sa.String(length=1000), nullable=False),
        sa.Column('address', sa.String(length=45), nullable=False),
        sa.Column('details', sa.JSON(), nullable=True),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
        sa.UniqueConstraint('seq', name=op.f('uq_audit_events_seq')),
    )
    op.create_index(op.f('ix_audit_events_action'), 'audit_events', ['action'])
    op.create_index(op.f('ix_audit_events_actor_id'), 'audit_events', ['actor_id'])
    head = op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head')),
    )
    op.bulk_insert(head, [{'id': 1, 'seq': 0, 'hash': ''}])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_generation', sa.Integer(), nullable=False,
                                   server_default='0'))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_generation')
    op.drop_table('audit_head')
    op.drop_index(op.f('ix_audit_events_actor_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_action'), table_name='audit_events')
    op.drop_table('audit_events')
