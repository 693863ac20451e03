"""a contractor's visit correction waits for a supervisor's decision

Revision ID: 5c0e2d7a91b4
Revises: 31f852e98104
Create Date: 2026-12-06 01:00:00

"""
import sqlalchemy as sa
from alembic import op

import portal.core.models

# revision identifiers, used by Alembic.
revision = '5c0e2d7a91b4'
down_revision = '31f852e98104'
branch_labels = None
depends_on = None


def upgrade():
    # Corrections made before this revision were in force at once: they count as accepted.
    with op.batch_alter_table('visit_correction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='accepted'))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', portal.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decision_note', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_visit_correction_decided_by_id_user_account'), 'user_account',
                                    ['decided_by_id'], ['id'])
    with op.batch_alter_table('visit_correction', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)
        batch_op.alter_column('decision_note', server_default=None)


def downgrade():
    with op.batch_alter_table('visit_correction', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visit_correction_decided_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('decision_note')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('status')
