"""questionnaires: a patient record may override the cabinet's minors' access

Issue #5 (Q4). Like ``patients.minors_access`` for documents (migration 0007), a
record's ``minors_access_questionnaires`` is "" (follow the cabinet's switch
``cabinets.minors_access_questionnaires``), "on" or "off"
(cabinet.questionnaire_access).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients') as batch:
        batch.add_column(sa.Column('minors_access_questionnaires', sa.String(length=8),
                                   nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('patients') as batch:
        batch.drop_column('minors_access_questionnaires')
