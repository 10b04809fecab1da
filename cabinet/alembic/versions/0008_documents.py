"""documents: files, document types and sharing rules

Documents carry their file (SHA-256 of the bytes in the blob storage, size, content
type, original name), a document type and per-document sharing overrides; document
types carry the default sharing; patients their overrides and GDPR opt-out; cabinets
the "share only signed documents" switch (cabinet.document_sharing).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'document_types',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('share_patient', sa.Boolean(), nullable=False),
        sa.Column('share_guardian', sa.Boolean(), nullable=False),
        sa.Column('share_correspondent', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['cabinet_id'], ['nodes.id'],
                                name=op.f('fk_document_types_cabinet_id_nodes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_types')),
        sa.UniqueConstraint('cabinet_id', 'name', name='uq_document_types_cabinet_id_name'),
    )
    op.create_index(op.f('ix_document_types_cabinet_id'), 'document_types', ['cabinet_id'])
    op.create_table(
        'patient_sharing',
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('share_patient', sa.Boolean(), nullable=True),
        sa.Column('share_guardian', sa.Boolean(), nullable=True),
        sa.Column('share_correspondent', sa.Boolean(), nullable=True),
        sa.Column('opt_out', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['nodes.id'],
                                name=op.f('fk_patient_sharing_patient_id_nodes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_patient_sharing')),
    )
    op.create_table(
        'cabinet_document_settings',
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('only_signed', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['cabinet_id'], ['nodes.id'],
                                name=op.f('fk_cabinet_document_settings_cabinet_id_nodes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('cabinet_id', name=op.f('pk_cabinet_document_settings')),
    )
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('blob_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('size', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('content_type', sa.String(length=100), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('file_name', sa.String(length=255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('document_type_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('share_patient', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('share_guardian', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('share_correspondent', sa.Boolean(), nullable=True))
        batch.create_foreign_key(op.f('fk_documents_document_type_id_document_types'),
                                 'document_types', ['document_type_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index(op.f('ix_documents_blob_sha256'), ['blob_sha256'])
        batch.create_index(op.f('ix_documents_document_type_id'), ['document_type_id'])


def downgrade():
    with op.batch_alter_table('documents') as batch:
        batch.drop_index(op.f('ix_documents_document_type_id'))
        batch.drop_index(op.f('ix_documents_blob_sha256'))
        batch.drop_constraint(op.f('fk_documents_document_type_id_document_types'),
                              type_='foreignkey')
        for column in ('share_correspondent', 'share_guardian', 'share_patient',
                       'document_type_id', 'file_name', 'content_type', 'size',
                       'blob_sha256'):
            batch.drop_column(column)
    op.drop_table('cabinet_document_settings')
    op.drop_table('patient_sharing')
    op.drop_index(op.f('ix_document_types_cabinet_id'), table_name='document_types')
    op.drop_table('document_types')
