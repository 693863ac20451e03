"""visit comparison due: a check-out (or a photo, or a correction) marks its visit until the
batched comparison has judged it

Revision ID: c4e8a1f09d27
Revises: b1d4e6f2a803
Create Date: 2026-12-06 07:30:00

The comparison of a checked-out visit is queued in Redis, after the commit (portal/jobs/queue.py
enqueue_batched): nothing in the database says it is owed. ``visit.comparison_due`` does: set in
the same transaction as the check-out, cleared by the comparison (portal/visits/reverify.py), and
the hourly sweep (supervision.compare_unjudged) judges the visits still marked ten minutes on — a
batch lost with Redis or a worker is never lost for good. A partial index keeps the sweep's read
to the marked visits. Existing visits are not marked (their comparison ran as one job each).
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e8a1f09d27'
down_revision = 'b1d4e6f2a803'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('visit', sa.Column('comparison_due', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_visit_comparison_due', 'visit', ['tenant_id'], unique=False,
                    sqlite_where=sa.text('comparison_due'), postgresql_where=sa.text('comparison_due'))


def downgrade():
    op.drop_index('ix_visit_comparison_due', table_name='visit')
    op.drop_column('visit', 'comparison_due')  # in place (SQLite ≥ 3.35): no table copy
