"""What billing answers for the packages below it (blinker signals, synchronous): the months of a
staffing contract its approved statements settled (stations' ``months_settled``, asked before a
station changes contract), and those its sent-or-later statements fixed (``months_committed``,
asked before a check-in, an accepted one or a change of required staff would change a month). ``subscribe`` is called once by the app factory; connecting again is a
no-op."""
from sqlalchemy import select

from portal.billing.models import FROZEN_STATUSES, Statement
from portal.billing.staffing import COMMITTED_STATUSES
from portal.extensions import db
from portal.stations.signals import months_committed, months_settled


def _months_in(contract, months, statuses):
    wanted = sorted(set(months))
    if not wanted:
        return set()
    return set(db.session.scalars(select(Statement.month).where(
        Statement.contract_id == contract.id, Statement.month.in_(wanted), Statement.status.in_(statuses))))


def approved_months(contract, months=(), **_extra):
    """The months of ``months`` on an approved (or paid) statement of ``contract``."""
    return _months_in(contract, months, FROZEN_STATUSES)


def committed_months(contract, months=(), **_extra):
    """The months of ``months`` on a statement of ``contract`` that is sent, confirmed, approved or
    paid (staffing.COMMITTED_STATUSES): their staffing deduction is fixed."""
    return _months_in(contract, months, COMMITTED_STATUSES)


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    months_settled.connect(approved_months, weak=False)
    months_committed.connect(committed_months, weak=False)
