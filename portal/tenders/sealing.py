"""Sealed bids, enforced in the query layer (docs/DOMAIN.md §3: nobody at the bureau can read a bid
before the deadline).

A ``do_orm_execute`` hook, installed once like the tenancy hook, adds ``with_loader_criteria`` to
every ORM select, update and delete — relationship and column loads included — so that:

- a contractor's users (manager, field workers) only ever load their own contractor's bids;
- everyone else — every bureau role, auditors, platform administrators, jobs, commands and
  anonymous requests — loads a bid only once ``Bid.opens_at`` has passed; before that the row
  does not exist for them: not its price, not its count, not by a guessed id.

Expert scores (BidScore) follow their bid for bureau-side readers and are never shown to
contractors. Tenancy still applies on top: after the deadline a bureau sees only its own bids.

The only way round the seal is ``move_opening``: the bureau must be able to move the opening of
bids it cannot see when a clarification moves the bid deadline.

The seal covers existence, not only content: the audit trail's rows about a bid (its insert,
changes, withdrawal) are withheld from the bureau's view of the trail until the bid opens
(``_sealed_bid_audit_rows``, registered with portal/audit/withholding.py); they are written and
chained at once, so ``audit-verify`` checks them all the time. ``move_opening`` records the move
without the number of bids it moved.
"""
from contextvars import ContextVar

from flask import g, has_app_context
from sqlalchemy import String, and_, cast, event, false, select, update
from sqlalchemy.orm import Session, with_loader_criteria

from portal.audit.models import AuditEntry
from portal.audit.recorder import record_event
from portal.audit.withholding import withhold
from portal.core import timeutil
from portal.tenancy.scope import current_tenant_id
from portal.tenders.models import Bid, BidScore

# Execution option that lets exactly one statement (move_opening's UPDATE) past the seal.
_MOVE_OPENING = "_portal_move_bid_opening"
_resolving_viewer: ContextVar[bool] = ContextVar("sealing_resolving_viewer", default=False)


def viewing_contractor():
    """Who is looking, for the seal: ``(True, contractor_id)`` for a contractor's user
    (``contractor_id`` may be None for a manager not yet linked to an organisation), or
    ``(False, None)`` for everyone else, people and code alike.

    Reads the user Flask-Login has already loaded for this request, never loading it here:
    loading would query the database from inside this hook."""
    user = g.get("_login_user") if has_app_context() else None
    if user is None:
        return False, None
    # Reading the user's attributes may reload them (expired by a commit): that reload comes
    # back through this hook, which lets it pass rather than recurse.
    token = _resolving_viewer.set(True)
    try:
        if not user.is_authenticated or not user.can("tender.sealed_bids_only"):
            return False, None
        return True, user.contractor_id
    finally:
        _resolving_viewer.reset(token)


def install(session_class=Session):
    """Register the sealing hook on the Session class (once per process)."""

    @event.listens_for(session_class, "do_orm_execute")
    def _seal_bids(state):
        if not (state.is_select or state.is_update or state.is_delete) or _resolving_viewer.get():
            return
        if state.is_update and (state.execution_options.get(_MOVE_OPENING) or _only_moves_opening(state.statement)):
            return
        is_contractor, contractor_id = viewing_contractor()
        if is_contractor:
            own = -1 if contractor_id is None else contractor_id  # no organisation: no bids
            state.statement = state.statement.options(
                with_loader_criteria(Bid, lambda cls: cls.contractor_id == own, include_aliases=True),
                with_loader_criteria(BidScore, lambda cls: false(), include_aliases=True),
            )
            return
        now = timeutil.utcnow()
        state.statement = state.statement.options(
            with_loader_criteria(Bid, lambda cls: cls.opens_at <= now, include_aliases=True),
            with_loader_criteria(
                BidScore, lambda cls: cls.bid_id.in_(select(Bid.id).where(Bid.opens_at <= now)),
                include_aliases=True),
        )


def _only_moves_opening(statement):
    """An UPDATE of Bid that sets nothing but ``opens_at`` (keeping the opening in step with a
    moved deadline) may pass the seal: it neither reads nor changes a bid's content. Anything
    unrecognised stays sealed."""
    values = getattr(statement, "_values", None)
    if not values or statement.table is not Bid.__table__:
        return False
    return {getattr(key, "key", key) for key in values} == {"opens_at"}


def move_opening(session, lot_ids, opens_at):
    """Keep ``Bid.opens_at`` in step with the bid deadline of the lots' tender: call it whenever
    the deadline moves (a clarification that changes the documents). Changes nothing but
    ``opens_at``, never reads a bid, and records the move in the audit trail (the row-level
    audit cannot see sealed rows). Returns how many bids moved."""
    lot_ids = list(lot_ids)
    if not lot_ids:
        return 0
    result = session.execute(
        update(Bid).where(Bid.lot_id.in_(lot_ids)).values(opens_at=opens_at)
        .execution_options(synchronize_session=False, **{_MOVE_OPENING: True}))
    # Not how many bids moved: before the deadline that number is itself sealed.
    record_event(session, "bid_opening_moved", tenant_id=current_tenant_id(), object_type="lot",
                 object_id=",".join(str(i) for i in sorted(lot_ids))[:64],
                 after={"opens_at": opens_at.isoformat()})
    return result.rowcount


@withhold
def _sealed_bid_audit_rows():
    """Audit rows about a bid that has not opened yet: every row whose object is a Bid other than
    the opened ones. The opened bids are named explicitly (``opens_at`` has passed), so the rule
    holds whoever reads — the seal's own filter applies on top for bureau readers."""
    now = timeutil.utcnow()
    opened = select(cast(Bid.id, String)).where(Bid.opens_at <= now)
    return and_(AuditEntry.object_type == "Bid", AuditEntry.object_id.not_in(opened))
