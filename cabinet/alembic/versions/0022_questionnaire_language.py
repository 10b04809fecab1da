"""the language a questionnaire response was started in (issue #10, A4)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-25 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questionnaire_responses') as batch:
        batch.add_column(sa.Column('language', sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table('questionnaire_responses') as batch:
        batch.drop_column('language')
