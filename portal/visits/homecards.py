"""The home page's cards of the visit exceptions (portal/dashboard): for a supervisor, the open
exceptions and those answered and waiting for a decision, each with the age of the oldest and how
many are older than a week; for a contractor manager, its organisation's exceptions to answer.
Each card counts what its queue lists and leads to the queue filtered by status."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from portal.core.cards import OLD_AFTER_DAYS, card
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.visits.exceptions import visible_exceptions
from portal.visits.models import VisitException


def _count(user, status):
    """(count, oldest raised_at, count older than OLD_AFTER_DAYS) of ``user``'s exceptions in ``status``."""
    stmt = visible_exceptions(user).order_by(None).where(VisitException.status == status)
    limit = utcnow() - timedelta(days=OLD_AFTER_DAYS)
    count, oldest, older = db.session.execute(stmt.with_only_columns(
        func.count(VisitException.id), func.min(VisitException.raised_at),
        func.count(VisitException.id).filter(VisitException.raised_at < limit))).one()
    return count, oldest, older


def home_cards(user):
    if user.can("exception.decide"):
        cards = []
        for status, title in (("open", _l("Open visit exceptions")),
                              ("answered", _l("Answered exceptions awaiting your decision"))):
            count, oldest, older = _count(user, status)
            cards.append(card(title, count, "visits.exceptions", {"status": status}, oldest=oldest, older=older))
        return cards
    if user.can("exception.answer"):
        count, oldest, older = _count(user, "open")
        return [card(_l("Visit exceptions to answer"), count, "visits.exceptions", {"status": "open"},
                     oldest=oldest, older=older)]
    return []
