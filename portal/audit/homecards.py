"""The home page's cards of the audit trail (portal/dashboard), for those who read it: the
accesses refused in the bureau over the last week (``access_denied`` events, audit/receivers.py),
leading to the trail filtered by that action, and the chain's newest signed checkpoint
(checkpoints.py), its time shown, leading to the trail (its check of the chain)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.audit.checkpoints import chain_of
from portal.audit.models import AuditCheckpoint, AuditEntry
from portal.core.cards import card
from portal.core.timeutil import format_local, utcnow
from portal.extensions import db

RECENT_DAYS = 7


def home_cards(user, tenant):
    if tenant is None or not user.can("audit.read"):
        return []
    since = utcnow() - timedelta(days=RECENT_DAYS)
    refused, oldest = db.session.execute(
        select(func.count(AuditEntry.id), func.min(AuditEntry.occurred_at))
        .where(AuditEntry.tenant_id == tenant.id, AuditEntry.action == "access_denied",
               AuditEntry.occurred_at >= since)).one()
    last = db.session.execute(
        select(AuditCheckpoint.created_at, AuditCheckpoint.seq).where(AuditCheckpoint.chain == chain_of(tenant.id))
        .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.created_at.desc()).limit(1)
        .execution_options(skip_tenant_scope=True)).first()
    note = (_l("Newest checkpoint: %(time)s", time=format_local(last.created_at)) if last
            else _l("No checkpoint signed yet"))
    return [card(_l("Accesses refused in the last 7 days"), refused, "audit.index", {"action": "access_denied"},
                 oldest=oldest),
            card(_l("Audit chain: rows since the newest checkpoint"), _rows_since(tenant.id, last), "audit.index",
                 note=note)]


def _rows_since(tenant_id, last):
    """How many rows the chain gained after its newest checkpoint (all of them without one)."""
    stmt = select(func.count(AuditEntry.id)).where(AuditEntry.chain == chain_of(tenant_id))
    if last is not None:
        stmt = stmt.where(AuditEntry.seq > last.seq)
    return db.session.execute(stmt.execution_options(skip_tenant_scope=True)).scalar_one()
