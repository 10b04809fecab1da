"""appointments: types, appointments, auto-send rules and their sends, worker jobs

Issue #5. Appointments are nodes under each patient's new ``appointments`` folder
(created here for the patients that exist); their types are a table per cabinet.
Questionnaire auto-send rules (Q2) schedule sends, which the worker runs; the
worker records each job's last success and error.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 14:00:00
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

FOLDER = 'appointments'


def _fk(table, column, target, ondelete):
    return sa.ForeignKeyConstraint(
        [column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'),
        ondelete=ondelete)


def upgrade():
    op.create_table(
        'appointment_types',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('duration', sa.Integer(), nullable=False),
        _fk('appointment_types', 'cabinet_id', 'cabinets', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_types')),
        sa.UniqueConstraint('cabinet_id', 'name',
                            name='uq_appointment_types_cabinet_id_name'),
    )
    op.create_index(op.f('ix_appointment_types_cabinet_id'), 'appointment_types',
                    ['cabinet_id'])
    op.create_table(
        'appointments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cabinet_id', sa.Integer(), nullable=True),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('practitioner_id', sa.Integer(), nullable=True),
        sa.Column('appointment_type_id', sa.Integer(), nullable=True),
        sa.Column('starts_at', sa.DateTime(), nullable=True),
        sa.Column('ends_at', sa.DateTime(), nullable=True),
        sa.Column('place', sa.String(length=500), nullable=False, server_default=''),
        sa.Column('cancel_reason', sa.String(length=2000), nullable=False,
                  server_default=''),
        _fk('appointments', 'id', 'nodes', 'CASCADE'),
        _fk('appointments', 'cabinet_id', 'cabinets', 'CASCADE'),
        _fk('appointments', 'patient_id', 'patients', 'CASCADE'),
        _fk('appointments', 'practitioner_id', 'professionals', 'SET NULL'),
        _fk('appointments', 'appointment_type_id', 'appointment_types', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    )
    op.create_index('ix_appointments_cabinet_id_starts_at', 'appointments',
                    ['cabinet_id', 'starts_at'])
    op.create_index('ix_appointments_patient_id_starts_at', 'appointments',
                    ['patient_id', 'starts_at'])
    op.create_index('ix_appointments_practitioner_id_starts_at', 'appointments',
                    ['practitioner_id', 'starts_at'])
    op.create_index(op.f('ix_appointments_appointment_type_id'), 'appointments',
                    ['appointment_type_id'])
    op.create_table(
        'autosend_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('practitioner_id', sa.Integer(), nullable=True),
        sa.Column('appointment_type_id', sa.Integer(), nullable=True),
        sa.Column('days_before', sa.Integer(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        _fk('autosend_rules', 'cabinet_id', 'cabinets', 'CASCADE'),
        _fk('autosend_rules', 'template_id', 'questionnaire_templates', 'CASCADE'),
        _fk('autosend_rules', 'practitioner_id', 'professionals', 'CASCADE'),
        _fk('autosend_rules', 'appointment_type_id', 'appointment_types', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_autosend_rules')),
    )
    op.create_index(op.f('ix_autosend_rules_cabinet_id'), 'autosend_rules', ['cabinet_id'])
    op.create_index(op.f('ix_autosend_rules_template_id'), 'autosend_rules',
                    ['template_id'])
    op.create_table(
        'scheduled_sends',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.String(length=2000), nullable=False, server_default=''),
        _fk('scheduled_sends', 'appointment_id', 'appointments', 'CASCADE'),
        _fk('scheduled_sends', 'rule_id', 'autosend_rules', 'CASCADE'),
        _fk('scheduled_sends', 'response_id', 'questionnaire_responses', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_sends')),
        sa.UniqueConstraint('appointment_id', 'rule_id',
                            name='uq_scheduled_sends_appointment_id_rule_id'),
    )
    op.create_index('ix_scheduled_sends_state_due_date', 'scheduled_sends',
                    ['state', 'due_date'])
    op.create_index(op.f('ix_scheduled_sends_rule_id'), 'scheduled_sends', ['rule_id'])
    op.create_table(
        'worker_jobs',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('last_run', sa.DateTime(), nullable=True),
        sa.Column('last_success', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.DateTime(), nullable=True),
        sa.Column('last_error_message', sa.String(length=2000), nullable=False,
                  server_default=''),
        sa.Column('last_result', sa.String(length=500), nullable=False,
                  server_default=''),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_worker_jobs')),
    )
    _add_appointment_folders()


def _add_appointment_folders():
    """Every existing patient record gets its appointments folder, as
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
                title='Rendez-vous', state='published', created=now, modified=now,
                version=1))


def downgrade():
    nodes = sa.table('nodes', sa.column('name', sa.String), sa.column('type', sa.String),
                     sa.column('path', sa.String))
    op.drop_table('worker_jobs')
    op.drop_index(op.f('ix_scheduled_sends_rule_id'), table_name='scheduled_sends')
    op.drop_index('ix_scheduled_sends_state_due_date', table_name='scheduled_sends')
    op.drop_table('scheduled_sends')
    op.drop_index(op.f('ix_autosend_rules_template_id'), table_name='autosend_rules')
    op.drop_index(op.f('ix_autosend_rules_cabinet_id'), table_name='autosend_rules')
    op.drop_table('autosend_rules')
    op.execute(sa.delete(nodes).where(nodes.c.type == 'appointment'))
    op.execute(sa.delete(nodes).where(nodes.c.type == 'folder', nodes.c.name == FOLDER,
                                      nodes.c.path.like('%/patients/%')))
    for index in ('ix_appointments_practitioner_id_starts_at',
                  'ix_appointments_patient_id_starts_at',
                  'ix_appointments_cabinet_id_starts_at'):
        op.drop_index(index, table_name='appointments')
    op.drop_index(op.f('ix_appointments_appointment_type_id'), table_name='appointments')
    op.drop_table('appointments')
    op.drop_index(op.f('ix_appointment_types_cabinet_id'), table_name='appointment_types')
    op.drop_table('appointment_types')
