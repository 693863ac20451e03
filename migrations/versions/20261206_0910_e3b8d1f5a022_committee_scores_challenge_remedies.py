"""committee members, award cancellation and re-award, challenge remedies (87号令 §47, 政府采购法 §53)

Committee members get a kind (expert or buyer representative) and the expert's field; an award
can be cancelled after an upheld challenge and replaced by another award of the same lot (at most
one active award per lot: a partial unique index instead of the unique lot_id); a challenge keeps
the remedy the officer chose.

Revision ID: e3b8d1f5a022
Revises: d2a7c0e4f911
Create Date: 2026-12-06 09:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3b8d1f5a022'
down_revision = 'd2a7c0e4f911'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade():
    with op.batch_alter_table('expert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=24), server_default='expert', nullable=False))
        batch_op.add_column(sa.Column('field', sa.String(length=100), server_default='', nullable=False))

    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_award_supersedes_id_award'), 'award', ['supersedes_id'], ['id'])
        batch_op.drop_constraint('uq_award_lot_id', type_='unique')
    op.create_index('uq_award_active_lot', 'award', ['lot_id'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)

    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remedy', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('remedied_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.drop_column('remedied_at')
        batch_op.drop_column('remedy')

    op.drop_index('uq_award_active_lot', table_name='award')
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_award_lot_id', ['lot_id'])
        batch_op.drop_constraint(batch_op.f('fk_award_supersedes_id_award'), type_='foreignkey')
        batch_op.drop_column('supersedes_id')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('status')

    with op.batch_alter_table('expert', schema=None) as batch_op:
        batch_op.drop_column('field')
        batch_op.drop_column('kind')
