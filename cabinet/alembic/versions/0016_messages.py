"""patient messaging and reply templates (issue #9, P3; issue #10, K3)

One conversation per patient record: its messages (side patient / cabinet, text, an
optional file of the blob storage, read_at set when the other side read it); and
each cabinet's reply templates (title, text, optional file).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 21:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _attachment_columns():
    return [sa.Column('blob_sha256', sa.String(length=64), nullable=True),
            sa.Column('size', sa.Integer(), nullable=True),
            sa.Column('content_type', sa.String(length=100), nullable=False),
            sa.Column('file_name', sa.String(length=255), nullable=False)]


def upgrade():
    op.create_table(
        'messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=10), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('acting_for_id', sa.Integer(), nullable=True),
        sa.Column('author_name', sa.String(length=200), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=True),
        *_attachment_columns(),
        sa.ForeignKeyConstraint(['patient_id'], ['nodes.id'],
                                name=op.f('fk_messages_patient_id_nodes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['cabinet_id'], ['nodes.id'],
                                name=op.f('fk_messages_cabinet_id_nodes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_messages_author_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['acting_for_id'], ['users.id'],
                                name=op.f('fk_messages_acting_for_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['document_id'], ['nodes.id'],
                                name=op.f('fk_messages_document_id_nodes'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    )
    op.create_index('ix_messages_patient_id_id', 'messages', ['patient_id', 'id'])
    op.create_index('ix_messages_cabinet_id_side_read_at', 'messages',
                    ['cabinet_id', 'side', 'read_at'])
    op.create_index(op.f('ix_messages_blob_sha256'), 'messages', ['blob_sha256'])
    op.create_table(
        'message_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('modified', sa.DateTime(), nullable=False),
        *_attachment_columns(),
        sa.ForeignKeyConstraint(['cabinet_id'], ['nodes.id'],
                                name=op.f('fk_message_templates_cabinet_id_nodes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    )
    op.create_index(op.f('ix_message_templates_cabinet_id'), 'message_templates',
                    ['cabinet_id'])
    op.create_index(op.f('ix_message_templates_blob_sha256'), 'message_templates',
                    ['blob_sha256'])


def downgrade():
    op.drop_table('message_templates')
    op.drop_table('messages')
