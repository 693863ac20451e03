"""statement plan digest and stale recompute

Revision ID: a7c3e91b2d40
Revises: 5c0e7d2a9b41
Create Date: 2026-12-06 01:00:00

A statement keeps the digest of what its computation pays and deducts, so that sending and
approving can refuse a draft whose records changed since (docs/DOMAIN.md §8), and who recomputed a
stale draft. New line kinds (late_verified, deduction_carried_forward, carried_out) need no
schema change: the kind is a string. The table's row-level security policy and the triggers
that freeze approved statements cover the new columns as they are.
"""
from alembic import op
import sqlalchemy as sa

import portal.core.models


# revision identifiers, used by Alembic.
revision = 'a7c3e91b2d40'
down_revision = '5c0e7d2a9b41'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy on SQLite): copying the table would drop its guard triggers.
    op.add_column('statement', sa.Column('plan_digest', sa.String(length=64), nullable=True))
    op.add_column('statement', sa.Column('stale_recomputed_at', portal.core.models.UTCDateTime(timezone=True), nullable=True))
    fk = 'fk_statement_stale_recomputed_by_id_user_account'
    if op.get_bind().dialect.name == 'sqlite':  # SQLite adds a column's foreign key only inline
        op.execute(f'ALTER TABLE statement ADD COLUMN stale_recomputed_by_id INTEGER '
                   f'CONSTRAINT {fk} REFERENCES user_account (id)')
    else:
        op.add_column('statement', sa.Column('stale_recomputed_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(fk), 'statement', 'user_account', ['stale_recomputed_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('statement') as batch_op:
        if op.get_bind().dialect.name == 'postgresql':
            batch_op.drop_constraint(op.f('fk_statement_stale_recomputed_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('stale_recomputed_by_id')
        batch_op.drop_column('stale_recomputed_at')
        batch_op.drop_column('plan_digest')
