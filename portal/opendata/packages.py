"""OCDS release and record packages of one tenant (docs/API.md "Open data").

Pages of releases are newest first (by publication order), 100 to a page; the bulk package holds
every release oldest first and is written as a stream, reading the releases in keyset pages of
plain rows so memory stays flat however many there are. A record package embeds its releases in
date order and a compiled release merged from them."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from portal.core.pgsecurity import SHOW_SCOPE, scope_parameters
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.opendata import sections
from portal.opendata.jsontext import dumps
from portal.opendata.merge import compile_release
from portal.opendata.models import OcdsRelease

VERSION = "1.1"
PAGE_SIZE = 100
STREAM_BATCH = 200
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True)
class Summary:
    """What identifies the current content: how many releases, the newest id and when it came."""
    count: int
    newest_id: int
    newest_at: datetime | None

    @property
    def pages(self):
        return max(1, -(-self.count // PAGE_SIZE))


def summary(ocid=None):
    """The current tenant's releases (or one ocid's), counted in one cheap query."""
    stmt = select(func.count(OcdsRelease.id), func.max(OcdsRelease.id))
    if ocid is not None:
        stmt = stmt.where(OcdsRelease.ocid == ocid)
    count, newest_id = db.session.execute(stmt).one()
    newest_at = None
    if newest_id is not None:  # ids grow with time: the newest release's own time, by primary key
        newest_at = db.session.execute(select(OcdsRelease.created_at).where(OcdsRelease.id == newest_id)).scalar_one()
    return Summary(int(count or 0), int(newest_id or 0), newest_at)


def package_meta(tenant, uri, info, policy_url):
    """The package fields around the releases (or records)."""
    published = info.newest_at or utcnow()
    return {"uri": uri, "version": VERSION, "publishedDate": sections.instant(published),
            "publisher": {"name": tenant.name}, "license": LICENSE, "publicationPolicy": policy_url}


def release_page(page):
    """The releases of one page, newest first by release date (then by publication order)."""
    rows = db.session.execute(select(OcdsRelease.data).order_by(OcdsRelease.date.desc(), OcdsRelease.id.desc())
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).scalars()
    return list(rows)


def record(ocid):
    """The record of one ocid (None when it has no release): releases in date order and the
    compiled release."""
    rows = db.session.execute(select(OcdsRelease.data).where(OcdsRelease.ocid == ocid)
                              .order_by(OcdsRelease.date, OcdsRelease.id)).scalars().all()
    if not rows:
        return None
    releases = [r for _, r in sorted(enumerate(rows), key=lambda p: (datetime.fromisoformat(p[1]["date"]), p[0]))]
    return {"ocid": ocid, "releases": releases, "compiledRelease": compile_release(releases)}


def _bind_tenant(connection, scope):
    """Scope a plain connection's transaction to one tenant for PostgreSQL's row-level security:
    the same ``app.tenant_id`` / ``app.tenant_proof`` / ``app.all_tenants`` settings the session hook of
    portal/tenancy/scope.py writes, here for a connection that no ORM session owns. ``scope``: the
    settings (``scope_parameters``), computed while the request's application context existed."""
    if scope is not None:
        connection.execute(SHOW_SCOPE, scope)


def _batches(engine, tenant_id, upto_id, scope):
    """Plain rows of release data, oldest first, in keyset pages.

    The body of a streamed response is written after its request has ended: the request's
    session is closed by then, the signed-in user detached and the request's tenant forgotten.
    So the rows are read on a connection of the stream's own, in one read transaction, scoped to
    the tenant by hand: the statement names the tenant (the ORM hooks do not run on plain
    statements) and, on PostgreSQL, the transaction carries it for row-level security. Nothing
    here touches ``db.session``, the request or ``g``."""
    table = OcdsRelease.__table__
    with engine.connect() as connection, connection.begin():
        _bind_tenant(connection, scope)
        last = 0
        while True:
            rows = connection.execute(
                select(table.c.id, table.c.data)
                .where(table.c.tenant_id == tenant_id, table.c.id > last, table.c.id <= upto_id)
                .order_by(table.c.id).limit(STREAM_BATCH)).all()
            if not rows:
                return
            last = rows[-1][0]
            yield [data for _, data in rows]
            del rows


def stream_package(engine, meta, tenant_id, upto_id):
    """The JSON text of a release package, chunk by chunk: ``meta`` then every release of the
    tenant up to ``upto_id`` (the newest when the request came, so the body matches its ETag),
    read through ``engine`` on a connection of its own (see ``_batches``). Safe to iterate after
    the request, outside any application context (the tenant's proof for row-level security is
    computed now, in the request's)."""
    scope = scope_parameters(tenant_id) if engine.dialect.name == "postgresql" else None
    return _stream_package(engine, meta, tenant_id, upto_id, scope)


def _stream_package(engine, meta, tenant_id, upto_id, scope):
    head = dumps(meta)
    yield head[:-1] + ',"releases":['
    first = True
    for batch in _batches(engine, tenant_id, upto_id, scope):
        chunk = ",".join(dumps(data) for data in batch)
        yield chunk if first else "," + chunk
        first = False
    yield "]}"
