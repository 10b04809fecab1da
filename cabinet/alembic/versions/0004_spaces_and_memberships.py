"""spaces and memberships

The account's certificate serial number (20 digits, LuxTrust SSN), which a space
invitation names and which only its holder can accept with; an index to find the
pending invitations of a certificate.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 08:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('certificate_serial', sa.String(length=20), nullable=True))
        batch.create_unique_constraint(op.f('uq_users_certificate_serial'),
                                       ['certificate_serial'])
    op.create_index(op.f('ix_memberships_certificate'), 'memberships', ['certificate'])


def downgrade():
    op.drop_index(op.f('ix_memberships_certificate'), table_name='memberships')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('uq_users_certificate_serial'), type_='unique')
        batch.drop_column('certificate_serial')
