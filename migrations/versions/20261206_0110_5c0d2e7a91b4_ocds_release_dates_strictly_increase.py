"""ocds release dates strictly increase within a process

Revision ID: 5c0d2e7a91b4
Revises: a7c3e91b2d40
Create Date: 2026-12-06 01:10:00

Data only. Releases stored before this revision could share a date within one process (two lots
awarded at one moment), which made a standard OCDS merge depend on row order. Walking each
process's releases in publication order (id), a release dated at or before the one before it is
moved to one second after it, in the ``date`` column and in the stored release; new releases are
dated this way when stored (portal/opendata/releases.py, docs/DOMAIN.md §9). Nothing to undo.
"""
from datetime import timedelta, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c0d2e7a91b4'
down_revision = 'a7c3e91b2d40'
branch_labels = None
depends_on = None

BEIJING = timezone(timedelta(hours=8))  # Asia/Shanghai has kept +08:00 since 1991
releases = sa.table("ocds_release", sa.column("id", sa.Integer), sa.column("tenant_id", sa.Integer),
                    sa.column("ocid", sa.String), sa.column("date", sa.DateTime(timezone=True)),
                    sa.column("data", sa.JSON))


def _utc(moment):
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    rows = bind.execute(sa.select(releases.c.id, releases.c.tenant_id, releases.c.ocid, releases.c.date,
                                  releases.c.data)
                        .order_by(releases.c.tenant_id, releases.c.ocid, releases.c.id)).all()
    last = {}
    for row in rows:
        key = (row.tenant_id, row.ocid)
        moment = _utc(row.date).replace(microsecond=0)
        if key in last and moment <= last[key]:
            moment = last[key] + timedelta(seconds=1)
            data = dict(row.data or {})
            data["date"] = moment.astimezone(BEIJING).isoformat(timespec="seconds")
            bind.execute(releases.update().where(releases.c.id == row.id).values(
                date=moment.replace(tzinfo=None) if sqlite else moment, data=data))
        last[key] = moment


def downgrade():
    pass  # the earlier dates are not kept; the later ones are as valid
