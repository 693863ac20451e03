"""The home page's cards of the statements (portal/dashboard): finance sees the statements waiting
for its next step — drafts to send, confirmed ones to approve, approved ones to pay — and the
late-verified visits no statement has paid yet; a contractor manager the statements sent to it
to confirm or dispute. Each card gives the age of the oldest and leads to the filtered list."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.billing.balances import late_verified_select
from portal.billing.models import Statement, StatementEntry
from portal.billing.workflow import visible_statements
from portal.core.cards import card
from portal.extensions import db

# (status, the capability of its next step, the title, the column that dates it)
_STEPS = (("draft", "statement.prepare", _l("Statements to send to the contractor"), Statement.computed_at),
          ("confirmed", "statement.approve", _l("Statements awaiting approval"), Statement.responded_at),
          ("approved", "statement.pay", _l("Approved statements to pay"), Statement.approved_at))


def _statements(user, status, dated_by):
    stmt = visible_statements(user).where(Statement.status == status).order_by(None)
    return db.session.execute(stmt.with_only_columns(func.count(Statement.id), func.min(dated_by))).one()


def _late_unpaid():
    """The late-verified visits no approved statement paid since, with the oldest verification."""
    from portal.visits.models import Visit
    paid = select(StatementEntry.approved_visit_id).where(StatementEntry.role == "paid",
                                                          StatementEntry.approved_visit_id.is_not(None))
    stmt = late_verified_select().where(Visit.id.not_in(paid)).order_by(None)
    return db.session.execute(stmt.with_only_columns(func.count(Visit.id), func.min(Visit.verified_at))).one()


def home_cards(user):
    cards = []
    if user.can("statement.approve"):  # finance: every step of the bureau's statements
        for status, capability, title, dated_by in _STEPS:
            if user.can(capability):
                count, oldest = _statements(user, status, dated_by)
                cards.append(card(title, count, "billing.index", {"status": status}, oldest=oldest))
        if user.can("settlement_report.read"):
            count, oldest = _late_unpaid()
            cards.append(card(_l("Late-verified visits not yet paid"), count, "billing.late_verified",
                              oldest=oldest))
    elif user.can("statement.answer"):
        count, oldest = _statements(user, "sent", Statement.sent_at)
        cards.append(card(_l("Statements to confirm"), count, "billing.index", {"status": "sent"}, oldest=oldest))
    return cards
