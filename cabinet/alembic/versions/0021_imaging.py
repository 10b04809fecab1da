"""patient imaging and the cabinet's imaging selection (issue #9, P5; issue #10, K3)

Images are nodes under each patient's new ``imaging`` folder (joined table
``images``); ``imaging_settings`` holds a cabinet's stages, types and the (stage,
type) pairs it shares with its patients.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-25 00:30:00
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

FOLDER = 'imaging'


def upgrade():
    op.create_table(
        'images',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('stage', sa.String(length=50), nullable=False),
        sa.Column('image_type', sa.String(length=50), nullable=False),
        sa.Column('taken_on', sa.Date(), nullable=True),
        sa.Column('blob_sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['id'], ['nodes.id'], name=op.f('fk_images_id_nodes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_images_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_images')),
    )
    op.create_index('ix_images_patient_id_stage_image_type', 'images',
                    ['patient_id', 'stage', 'image_type'])
    op.create_index(op.f('ix_images_blob_sha256'), 'images', ['blob_sha256'])
    op.create_table(
        'imaging_settings',
        sa.Column('cabinet_id', sa.Integer(), nullable=False),
        sa.Column('stages', sa.JSON(), nullable=True),
        sa.Column('types', sa.JSON(), nullable=True),
        sa.Column('shared', sa.JSON(), nullable=True),
        sa.Column('modified', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['cabinet_id'], ['cabinets.id'],
                                name=op.f('fk_imaging_settings_cabinet_id_cabinets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('cabinet_id', name=op.f('pk_imaging_settings')),
    )
    _add_imaging_folders()


def _add_imaging_folders():
    """Every existing patient record gets its imaging folder, as
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
                title='Imagerie', state='published', created=now, modified=now,
                version=1))


def downgrade():
    nodes = sa.table('nodes', sa.column('name', sa.String), sa.column('type', sa.String),
                     sa.column('path', sa.String))
    op.drop_table('imaging_settings')
    op.execute(sa.delete(nodes).where(nodes.c.type == 'image'))
    op.execute(sa.delete(nodes).where(nodes.c.type == 'folder', nodes.c.name == FOLDER,
                                      nodes.c.path.like('%/patients/%')))
    op.drop_index(op.f('ix_images_blob_sha256'), table_name='images')
    op.drop_index('ix_images_patient_id_stage_image_type', table_name='images')
    op.drop_table('images')
