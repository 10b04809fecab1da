"""patient portal: module switches, practitioners' active flag, Carte Vitale flag,
patients' address, proposals of changes to patient records (issues #9 P1/P4, #10 K1/K2)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 21:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cabinets') as batch:
        batch.add_column(sa.Column('modules', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('inactive_practitioners', sa.JSON(), nullable=True))
    with op.batch_alter_table('patients') as batch:
        batch.add_column(sa.Column('address', sa.String(length=500), nullable=False,
                                   server_default=''))
    with op.batch_alter_table('appointment_types') as batch:
        batch.add_column(sa.Column('carte_vitale_required', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        'information_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('proposed_by', sa.Integer(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('decided', sa.DateTime(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('accepted_fields', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_information_proposals_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposed_by'], ['users.id'],
                                name=op.f('fk_information_proposals_proposed_by_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id'],
                                name=op.f('fk_information_proposals_decided_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_information_proposals')),
    )
    op.create_index('ix_information_proposals_patient_id_state', 'information_proposals',
                    ['patient_id', 'state'])


def downgrade():
    op.drop_index('ix_information_proposals_patient_id_state',
                  table_name='information_proposals')
    op.drop_table('information_proposals')
    with op.batch_alter_table('appointment_types') as batch:
        batch.drop_column('carte_vitale_required')
    with op.batch_alter_table('patients') as batch:
        batch.drop_column('address')
    with op.batch_alter_table('cabinets') as batch:
        batch.drop_column('modules')
        batch.drop_column('inactive_practitioners')
