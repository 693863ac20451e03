"""amendment added quotas: more of the same services (docs/DOMAIN.md §5, 政府采购法 §49)

Revision ID: 5c0e7d2a9b41
Revises: 5c0e2d7a91b4
Create Date: 2026-12-06 01:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c0e7d2a9b41'
down_revision = '5c0e2d7a91b4'
branch_labels = None
depends_on = None


def upgrade():
    # {service item code: units added to its quota}; empty for an amendment that adds none.
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added_quotas', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_column('added_quotas')
