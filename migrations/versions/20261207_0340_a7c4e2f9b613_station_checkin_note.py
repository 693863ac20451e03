"""station check-in note (the worker's reason for checking in beyond the geofence)

Revision ID: a7c4e2f9b613
Revises: f6b3d8e1a924
Create Date: 2026-12-07 03:40:00

The field app warns a worker who checks in at a station beyond its geofence and asks why; the
reason travels with the check-in and is shown to the supervisor who decides on it.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e2f9b613'
down_revision = 'f6b3d8e1a924'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('station_checkin', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('station_checkin', schema=None) as batch_op:
        batch_op.drop_column('note')
