"""statement line entry ids: a draft keeps the ids behind each line, entries are written at approval

Revision ID: b1d4e6f2a803
Revises: 5c0d2e7a91b4
Create Date: 2026-12-06 07:00:00

A statement not yet approved keeps the visits and violations behind each line in one JSON column
of the line, ``entry_ids`` = {role: [visit ids], "violations": [violation ids]} (portal/billing/
entries.py); approval writes them as statement_entry rows, once, with their approved_* columns
(and the unique constraints on them) filled in. Drafting a month of 100,000 visits then writes a
few line rows instead of 100,000 entry rows with their foreign-key checks.

Upgrade moves the entry rows of every statement not approved into its lines' column and deletes
them; downgrade writes them back as entry rows (not approved) and drops the column. Approved and
paid statements keep their entry rows untouched (the guard triggers refuse any change to them);
the column is added and dropped in place (no batch copy on SQLite, which would drop the table's
guard triggers). Row-level security covers the new column as it is.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b1d4e6f2a803'
down_revision = '5c0d2e7a91b4'
branch_labels = None
depends_on = None

FROZEN = ("approved", "paid")
KEYS = ("paid", "penalty", "clawback", "capped", "violations")  # the order of a line's entries
statement = sa.table("statement", sa.column("id", sa.Integer), sa.column("status", sa.String))
line = sa.table("statement_line", sa.column("id", sa.Integer), sa.column("statement_id", sa.Integer),
                sa.column("tenant_id", sa.Integer), sa.column("entry_ids", sa.JSON(none_as_null=True)))
entry = sa.table("statement_entry", sa.column("id", sa.Integer), sa.column("tenant_id", sa.Integer),
                 sa.column("statement_id", sa.Integer), sa.column("line_id", sa.Integer),
                 sa.column("role", sa.String), sa.column("visit_id", sa.Integer),
                 sa.column("violation_id", sa.Integer))
open_statements = sa.select(statement.c.id).where(statement.c.status.not_in(FROZEN))


def upgrade():
    op.add_column('statement_line', sa.Column('entry_ids', sa.JSON(none_as_null=True), nullable=True))
    bind = op.get_bind()
    packed = {}
    for line_id, role, visit_id, violation_id in bind.execute(
            sa.select(entry.c.line_id, entry.c.role, entry.c.visit_id, entry.c.violation_id)
            .where(entry.c.statement_id.in_(open_statements)).order_by(entry.c.line_id, entry.c.id)):
        ids = packed.setdefault(line_id, {})
        if visit_id is not None:
            ids.setdefault(role, []).append(visit_id)
        if violation_id is not None:
            ids.setdefault("violations", []).append(violation_id)
    for line_id, ids in packed.items():
        ordered = {key: ids[key] for key in KEYS if key in ids}
        bind.execute(sa.update(line).where(line.c.id == line_id).values(entry_ids=ordered))
    bind.execute(sa.delete(entry).where(entry.c.statement_id.in_(open_statements)))


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(line.c.id, line.c.statement_id, line.c.tenant_id, line.c.entry_ids)
                        .where(line.c.entry_ids.is_not(None), line.c.statement_id.in_(open_statements))
                        .order_by(line.c.id)).all()
    for line_id, statement_id, tenant_id, ids in rows:
        values = []
        for key in KEYS:
            for value in (ids or {}).get(key, []):
                violation = key == "violations"
                values.append({"tenant_id": tenant_id, "statement_id": statement_id, "line_id": line_id,
                               "role": "penalty" if violation else key, "visit_id": None if violation else value,
                               "violation_id": value if violation else None})
        if values:
            bind.execute(sa.insert(entry), values)
    op.execute("ALTER TABLE statement_line DROP COLUMN entry_ids")
