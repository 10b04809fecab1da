"""nodes: index (type, path, state) instead of (type, path)

The capped count of cabinet.search reads each grant's subtree as a range of this
index, with the state filter answered from the index too (an index-only scan on
PostgreSQL, a covering index on SQLite), so counting up to 10,001 readable documents
never reads the table. It replaces ix_nodes_type_path, of which it is an extension.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 07:40:00
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.create_index('ix_nodes_type_path_state', ['type', 'path', 'state'],
                              unique=False)
        batch_op.drop_index('ix_nodes_type_path')


def downgrade():
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.create_index('ix_nodes_type_path', ['type', 'path'], unique=False)
        batch_op.drop_index('ix_nodes_type_path_state')
