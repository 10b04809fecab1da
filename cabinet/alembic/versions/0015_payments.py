"""patient payments: care items and online payments (issue #9, P2)

Care items are nodes under each patient's new ``payments`` folder (joined table
``care_items``); ``online_payments`` holds each "payer en ligne" attempt.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 21:30:00
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

FOLDER = 'payments'
MONEY = sa.Numeric(10, 2)


def upgrade():
    op.create_table(
        'care_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('care_date', sa.Date(), nullable=True),
        sa.Column('due_date', sa.Date(), nullable=True),
        sa.Column('amount_due', MONEY, nullable=False),
        sa.Column('amount_paid', MONEY, nullable=False),
        sa.ForeignKeyConstraint(['id'], ['nodes.id'], name=op.f('fk_care_items_id_nodes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_care_items_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_items')),
    )
    op.create_index(op.f('ix_care_items_patient_id'), 'care_items', ['patient_id'])
    op.create_table(
        'online_payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('care_item_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('processed_at', sa.DateTime(), nullable=True),
        sa.Column('message', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_online_payments_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['care_item_id'], ['care_items.id'],
                                name=op.f('fk_online_payments_care_item_id_care_items'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_online_payments_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_online_payments')),
        sa.UniqueConstraint('reference', name=op.f('uq_online_payments_reference')),
    )
    op.create_index('ix_online_payments_patient_id_created', 'online_payments',
                    ['patient_id', 'created'])
    _add_payment_folders()


def _add_payment_folders():
    """Every existing patient record gets its payments folder, as
    cabinet.content.add_node gives new ones."""
    nodes = sa.table(
        'nodes', sa.column('id', sa.Integer), sa.column('parent_id', sa.Integer),
        sa.column('name', sa.String), sa.column('type', sa.String),
        sa.column('path', sa.String), sa.column('title', sa.String),
        sa.column('state', sa.String), sa.column('created', sa.DateTime),
        sa.column('modified', sa.DateTime), sa.column('version', sa.Integer))
    bind = op.get_bind()
    patients = bind.execute(sa.select(nodes.c.id, nodes.c.path).where(
        nodes.c.type == 'patient')).all()
    have = set(bind.execute(sa.select(nodes.c.parent_id).where(
        nodes.c.name == FOLDER, nodes.c.type == 'folder')).scalars())
    now = datetime.utcnow().replace(microsecond=0)
    for patient_id, path in patients:
        if patient_id not in have:
            bind.execute(nodes.insert().values(
                parent_id=patient_id, name=FOLDER, type='folder', path=f'{path}{FOLDER}/',
                title='Paiements', state='published', created=now, modified=now,
                version=1))


def downgrade():
    nodes = sa.table('nodes', sa.column('name', sa.String), sa.column('type', sa.String),
                     sa.column('path', sa.String))
    op.drop_index('ix_online_payments_patient_id_created', table_name='online_payments')
    op.drop_table('online_payments')
    op.execute(sa.delete(nodes).where(nodes.c.type == 'care_item'))
    op.execute(sa.delete(nodes).where(nodes.c.type == 'folder', nodes.c.name == FOLDER,
                                      nodes.c.path.like('%/patients/%')))
    op.drop_index(op.f('ix_care_items_patient_id'), table_name='care_items')
    op.drop_table('care_items')
