"""reserved for issue #3 follow-ups (replaced by the helper that owns it)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:26:00
"""


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
