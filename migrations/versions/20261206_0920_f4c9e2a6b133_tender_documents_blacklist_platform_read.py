"""tender documents file; the blacklist readable by every bureau

Revision ID: f4c9e2a6b133
Revises: e3b8d1f5a022
Create Date: 2026-12-06 09:00:00

``tender.documents_file_id``: the tender documents (招标文件) as one PDF, published with the award
result (87号令 §69) and offered on its public notice page.

The 失信名单 bans platform-wide (政府采购法 §77): every bureau reads every ``blacklist_entry`` while
only the recording bureau writes it. On PostgreSQL that is a second, SELECT-only policy
(``platform_read``) beside the table's ``tenant_isolation``; like every policy it is applied by
``portal.core.pgsecurity.apply_security`` from the models (``__tenancy_read__``) at the end of
each ``flask db upgrade`` (migrations/env.py), so nothing is written here for it.
"""
import sqlalchemy as sa
from alembic import op

revision = 'f4c9e2a6b133'
down_revision = 'e3b8d1f5a022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tender', schema=None) as batch_op:
        batch_op.add_column(sa.Column('documents_file_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tender_documents_file_id_stored_file'), 'stored_file',
                                    ['documents_file_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP POLICY IF EXISTS platform_read ON blacklist_entry')
    with op.batch_alter_table('tender', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tender_documents_file_id_stored_file'), type_='foreignkey')
        batch_op.drop_column('documents_file_id')
