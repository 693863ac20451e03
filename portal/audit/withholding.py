"""Audit rows withheld from the bureau's view of the trail for a while (docs/DOMAIN.md §3, §10).

The trail records everything at once, in its chain, and ``audit-verify`` checks every row; but
some rows would tell a reader more than the reader may know yet — a row about a sealed bid says
that a contractor bid before the bid deadline. A feature that owns such rows registers a
condition here (a SQL expression on ``AuditEntry`` true for the rows to withhold now); the
audit view, its counts and anything else showing the trail to bureau people apply every
registered condition. The rows stay in the chain and appear once their condition turns false.

The audit package sits below the features, so they register (at import) rather than being
imported here."""
from sqlalchemy import false, not_, or_

_conditions = []


def withhold(condition):
    """Register ``condition()`` → SQL expression on AuditEntry selecting rows to withhold now.
    Usable as a decorator; registering the same function twice is a no-op."""
    if condition not in _conditions:
        _conditions.append(condition)
    return condition


def withheld():
    """The SQL expression true for the rows withheld now (false when nothing is registered)."""
    parts = [condition() for condition in _conditions]
    return or_(*parts) if parts else false()


def shown(stmt):
    """``stmt`` (a select of AuditEntry) without the rows withheld now."""
    return stmt.where(not_(withheld()))
