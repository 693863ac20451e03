"""Adjustment lines added by hand on a draft (docs/DOMAIN.md §8): a signed amount with its reason.
Their authors are recorded (the line's ``added_by_id`` and the audit trail, removals included):
none of them may approve the statement (workflow.adjusters). Positive adjustments count against
the contract total like paying lines."""
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.billing import settlement
from portal.billing.models import StatementLine
from portal.billing.workflow import MAX_ADJUSTMENT_FEN, _of_bureau, _require
from portal.core import query
from portal.core.errors import DomainError, NotFound
from portal.core.timeutil import utcnow
from portal.extensions import db


def add_adjustment(statement, by, amount_fen, reason):
    """An ``adjustment`` line on a draft, by an officer or finance reviewer: a signed amount in fen
    (not zero) with the reason, e.g. a correction of an earlier approved month. Recomputing the
    draft keeps it."""
    _of_bureau(statement, by, "statement.prepare")
    _require(statement, "draft")
    reason = reason.strip() if isinstance(reason, str) else ""
    errors = {}
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen == 0:
        errors["amount"] = [_("Give an amount other than zero.")]
    elif abs(amount_fen) > MAX_ADJUSTMENT_FEN:
        errors["amount"] = [_("The amount is too large.")]
    if not reason:
        errors["reason"] = [_("Say why the statement is adjusted.")]
    elif len(reason) > 2000:
        errors["reason"] = [_("At most %(n)s characters.", n=2000)]
    if errors:
        raise DomainError(_("The adjustment cannot be added."), errors)
    position = db.session.execute(select(func.coalesce(func.max(StatementLine.position), 0))
                                  .where(StatementLine.statement_id == statement.id)).scalar_one()
    line = StatementLine(statement_id=statement.id, position=position + 1, kind="adjustment", description=reason,
                         units=1, unit_price_fen=amount_fen, amount_fen=amount_fen,
                         details={"added_by_id": by.id, "added_at": utcnow().isoformat()})
    db.session.add(line)
    db.session.flush()
    settlement.apply_totals(statement)
    db.session.expire(statement, ["lines"])
    db.session.flush()
    _record_adjustment(statement, by, "statement_adjustment_added", line)
    return line


def _record_adjustment(statement, by, action, line):
    """The adjuster in the audit trail: they may no longer approve the statement (adjusters)."""
    from portal.audit.recorder import record_event
    record_event(db.session, action, tenant_id=statement.tenant_id, actor=by, object_type="Statement",
                 object_id=str(statement.id), after={"line_id": line.id, "amount_fen": line.amount_fen})


def remove_adjustment(statement, by, line_id):
    """Take an adjustment line off a draft (officer or finance reviewer)."""
    _of_bureau(statement, by, "statement.prepare")
    _require(statement, "draft")
    line = db.session.get(StatementLine, line_id) if query.is_id(line_id) else None
    if line is None or line.statement_id != statement.id or line.kind != "adjustment":
        raise NotFound(_("No such adjustment."))
    _record_adjustment(statement, by, "statement_adjustment_removed", line)
    db.session.delete(line)
    db.session.flush()
    settlement.apply_totals(statement)
    db.session.expire(statement, ["lines"])
    db.session.flush()
