"""signature evidence (issue #4, C4)

One row per signed document (cabinet.signatures): the SHA-256 of the bytes signed,
signer, acting-for (delegation or guardian), time, client IP and user agent, and the
one-time-code event; the signed PDF's hash. Each cabinet's key and self-signed
certificate for signing PDFs (cabinet.signed_pdf). (Revision 0009 was first reserved for issue #3 follow-ups, which
needed no schema change: their rules are enforced by row locks, cabinet.locks.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 11:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signatures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('history_id', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('signed_sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('signer_id', sa.Integer(), nullable=True),
        sa.Column('signer_login', sa.String(length=100), nullable=False),
        sa.Column('signer_name', sa.String(length=200), nullable=False),
        sa.Column('acting_for_id', sa.Integer(), nullable=True),
        sa.Column('delegation_id', sa.Integer(), nullable=True),
        sa.Column('acting_for', sa.JSON(), nullable=True),
        sa.Column('signed_at', sa.DateTime(), nullable=False),
        sa.Column('client_ip', sa.String(length=45), nullable=False),
        sa.Column('user_agent', sa.String(length=500), nullable=False),
        sa.Column('otp_id', sa.Integer(), nullable=True),
        sa.Column('otp_sent_at', sa.DateTime(), nullable=True),
        sa.Column('otp_phone', sa.String(length=32), nullable=False),
        sa.Column('otp_verified_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['document_id'], ['nodes.id'],
                                name=op.f('fk_signatures_document_id_nodes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['history_id'], ['history.id'],
                                name=op.f('fk_signatures_history_id_history'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['signer_id'], ['users.id'],
                                name=op.f('fk_signatures_signer_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['acting_for_id'], ['users.id'],
                                name=op.f('fk_signatures_acting_for_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['delegation_id'], ['nodes.id'],
                                name=op.f('fk_signatures_delegation_id_nodes'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['otp_id'], ['one_time_codes.id'],
                                name=op.f('fk_signatures_otp_id_one_time_codes'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures')),
    )
    op.create_index(op.f('ix_signatures_document_id'), 'signatures', ['document_id'])
    op.create_index(op.f('ix_signatures_signer_id'), 'signatures', ['signer_id'])
    op.create_table(
        'signing_keys',
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('key_pem', sa.Text(), nullable=False),
        sa.Column('certificate_pem', sa.Text(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['cabinet_id'], ['nodes.id'],
                                name=op.f('fk_signing_keys_cabinet_id_nodes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('cabinet_id', name=op.f('pk_signing_keys')),
    )


def downgrade():
    op.drop_table('signing_keys')
    op.drop_index(op.f('ix_signatures_signer_id'), table_name='signatures')
    op.drop_index(op.f('ix_signatures_document_id'), table_name='signatures')
    op.drop_table('signatures')
