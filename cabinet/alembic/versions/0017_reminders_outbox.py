"""appointment reminders and the outbox of messages to send (issue #9, P7; #6)

reminder_rules (N days before at HH:MM, SMS or email, per user),
notification_settings (the opt-out), outbox (messages to send, unique dedup key).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 21:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reminder_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('days_before', sa.Integer(), nullable=False),
        sa.Column('at_time', sa.String(length=5), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_reminder_rules_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_rules')),
        sa.UniqueConstraint('user_id', 'days_before', 'at_time', 'channel',
                            name='uq_reminder_rules_user_rule'),
    )
    op.create_index(op.f('ix_reminder_rules_user_id'), 'reminder_rules', ['user_id'])
    op.create_table(
        'notification_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reminders', sa.Boolean(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_notification_settings_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_settings')),
    )
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('due', sa.DateTime(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=2000), nullable=False),
        sa.Column('dedup_key', sa.String(length=200), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('appointment_id', sa.Integer(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_outbox_user_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'],
                                name=op.f('fk_outbox_appointment_id_appointments'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('dedup_key', name='uq_outbox_dedup_key'),
    )
    op.create_index('ix_outbox_state_due', 'outbox', ['state', 'due'])
    op.create_index(op.f('ix_outbox_appointment_id'), 'outbox', ['appointment_id'])


def downgrade():
    op.drop_index(op.f('ix_outbox_appointment_id'), table_name='outbox')
    op.drop_index('ix_outbox_state_due', table_name='outbox')
    op.drop_table('outbox')
    op.drop_table('notification_settings')
    op.drop_index(op.f('ix_reminder_rules_user_id'), table_name='reminder_rules')
    op.drop_table('reminder_rules')
