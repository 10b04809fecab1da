"""questionnaires: templates, their versions, and what a response was sent with

Issue #5 (Q1-Q5). Templates are nodes under each cabinet's new
``questionnaire-templates`` folder (created here for the cabinets that exist);
their questions are kept per version. A response names its template, the version it
was sent with, the practitioner it is for, when it was sent and when its draft was
last saved. Cabinets gain the minors' access switch for questionnaires.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 13:45:00
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FOLDER = 'questionnaire-templates'


def upgrade():
    op.create_table(
        'questionnaire_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('description', sa.String(length=2000), nullable=False,
                  server_default=''),
        sa.Column('position', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('current_version', sa.Integer(), nullable=False, server_default='1'),
        sa.ForeignKeyConstraint(['id'], ['nodes.id'],
                                name=op.f('fk_questionnaire_templates_id_nodes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_templates')),
    )
    op.create_table(
        'questionnaire_template_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('description', sa.String(length=2000), nullable=False),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['template_id'], ['questionnaire_templates.id'],
            name=op.f('fk_questionnaire_template_versions_template_id_questionnaire_templates'),
            ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['users.id'],
            name=op.f('fk_questionnaire_template_versions_created_by_id_users'),
            ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_template_versions')),
        sa.UniqueConstraint('template_id', 'number',
                            name='uq_questionnaire_template_versions_template_id_number'),
    )
    op.create_index(op.f('ix_questionnaire_template_versions_template_id'),
                    'questionnaire_template_versions', ['template_id'])
    with op.batch_alter_table('questionnaire_responses') as batch:
        batch.add_column(sa.Column('template_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('template_version_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('practitioner_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('draft_saved_at', sa.DateTime(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_questionnaire_responses_template_id_questionnaire_templates'),
            'questionnaire_templates', ['template_id'], ['id'], ondelete='SET NULL')
        batch.create_foreign_key(
            op.f('fk_questionnaire_responses_template_version_id_questionnaire_template_versions'),
            'questionnaire_template_versions', ['template_version_id'], ['id'],
            ondelete='SET NULL')
        batch.create_foreign_key(
            op.f('fk_questionnaire_responses_practitioner_id_professionals'),
            'professionals', ['practitioner_id'], ['id'], ondelete='SET NULL')
        batch.create_index(op.f('ix_questionnaire_responses_template_id'), ['template_id'])
        batch.create_index(op.f('ix_questionnaire_responses_template_version_id'),
                           ['template_version_id'])
        batch.create_index(op.f('ix_questionnaire_responses_practitioner_id'),
                           ['practitioner_id'])
        batch.create_index(op.f('ix_questionnaire_responses_sent_at'), ['sent_at'])
    with op.batch_alter_table('cabinets') as batch:
        batch.add_column(sa.Column('minors_access_questionnaires', sa.Boolean(),
                                   nullable=False, server_default=sa.false()))
    _add_template_folders()


def _add_template_folders():
    """Every existing cabinet gets its questionnaire-templates folder, as
    cabinet.content.add_node gives new ones."""
    nodes = sa.table(
        'nodes', sa.column('id', sa.Integer), sa.column('parent_id', sa.Integer),
        sa.column('name', sa.String), sa.column('type', sa.String),
        sa.column('path', sa.String), sa.column('title', sa.String),
        sa.column('state', sa.String), sa.column('created', sa.DateTime),
        sa.column('modified', sa.DateTime), sa.column('version', sa.Integer))
    bind = op.get_bind()
    cabinets = bind.execute(sa.select(nodes.c.id, nodes.c.path).where(
        nodes.c.type == 'cabinet')).all()
    now = datetime.utcnow().replace(microsecond=0)
    for cabinet_id, path in cabinets:
        exists = bind.execute(sa.select(nodes.c.id).where(
            nodes.c.parent_id == cabinet_id, nodes.c.name == FOLDER)).first()
        if exists is None:
            bind.execute(nodes.insert().values(
                parent_id=cabinet_id, name=FOLDER, type='folder', path=f'{path}{FOLDER}/',
                title='Modèles de questionnaires', state='published', created=now,
                modified=now, version=1))


def downgrade():
    nodes = sa.table('nodes', sa.column('name', sa.String), sa.column('type', sa.String))
    with op.batch_alter_table('cabinets') as batch:
        batch.drop_column('minors_access_questionnaires')
    with op.batch_alter_table('questionnaire_responses') as batch:
        for index in ('sent_at', 'practitioner_id', 'template_version_id', 'template_id'):
            batch.drop_index(op.f(f'ix_questionnaire_responses_{index}'))
        batch.drop_constraint(
            op.f('fk_questionnaire_responses_practitioner_id_professionals'),
            type_='foreignkey')
        batch.drop_constraint(
            op.f('fk_questionnaire_responses_template_version_id_questionnaire_template_versions'),
            type_='foreignkey')
        batch.drop_constraint(
            op.f('fk_questionnaire_responses_template_id_questionnaire_templates'),
            type_='foreignkey')
        for column in ('draft_saved_at', 'sent_at', 'practitioner_id',
                       'template_version_id', 'template_id'):
            batch.drop_column(column)
    op.execute(sa.delete(nodes).where(nodes.c.type == 'questionnaire_template'))
    op.execute(sa.delete(nodes).where(nodes.c.type == 'folder', nodes.c.name == FOLDER))
    op.drop_index(op.f('ix_questionnaire_template_versions_template_id'),
                  table_name='questionnaire_template_versions')
    op.drop_table('questionnaire_template_versions')
    op.drop_table('questionnaire_templates')
