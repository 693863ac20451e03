"""working-day calendar as platform data; single-source publicity; late contract signing

Revision ID: d2a7c0e4f911
Revises: c4e8a1f09d27
Create Date: 2026-12-06 09:00:00

``calendar_year`` / ``calendar_day``: the State Council's yearly holiday schedules kept by the
platform (not tenant-owned; the grants come from portal/core/pgsecurity.py like every table's).
``tender.single_source_publicity_from``: the day the reasons for a single-source purchase were
first publicised (实施条例 §38). ``contract.late_signing_reason``: why a contract was signed after
day 30 of the award notice.
"""
import sqlalchemy as sa
from alembic import op

revision = 'd2a7c0e4f911'
down_revision = 'c4e8a1f09d27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_year',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_year')),
    sa.UniqueConstraint('year', name=op.f('uq_calendar_year_year'))
    )
    op.create_table('calendar_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_year_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_working', sa.Boolean(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['calendar_year_id'], ['calendar_year.id'],
                            name=op.f('fk_calendar_day_calendar_year_id_calendar_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_day')),
    sa.UniqueConstraint('day', name=op.f('uq_calendar_day_day'))
    )
    with op.batch_alter_table('calendar_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_day_calendar_year_id'), ['calendar_year_id'], unique=False)
    op.add_column('tender', sa.Column('single_source_publicity_from', sa.Date(), nullable=True))
    op.add_column('contract', sa.Column('late_signing_reason', sa.Text(), nullable=False, server_default=''))


def downgrade():
    op.drop_column('contract', 'late_signing_reason')  # in place (SQLite ≥ 3.35): no table copy
    op.drop_column('tender', 'single_source_publicity_from')
    with op.batch_alter_table('calendar_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_day_calendar_year_id'))
    op.drop_table('calendar_day')
    op.drop_table('calendar_year')
