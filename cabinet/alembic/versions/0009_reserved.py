"""issue #3 follow-ups: no schema change

The rules these follow-ups enforce under concurrent requests (one live delegation per
professional and person, one live holder code per mandant and domain, an invitation link
used once) span ``nodes`` (the state) and the type's table, which no unique partial
index can express; they are enforced by row locks instead (cabinet.locks). The
development certificate page stores into ``users.certificate_serial`` (already unique,
migration 0004).

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
