"""reserved for issue #4 (replaced by the helper that owns it)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:25:00
"""


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
