"""What billing answers for the packages below it (blinker signals, synchronous): the months of a
staffing contract its approved statements settled (stations' ``months_settled``, asked before a
station changes contract). ``subscribe`` is called once by the app factory; connecting again is a
no-op."""
from sqlalchemy import select

from portal.billing.models import FROZEN_STATUSES, Statement
from portal.extensions import db
from portal.stations.signals import months_settled


def approved_months(contract, months=(), **_extra):
    """The months of ``months`` on an approved (or paid) statement of ``contract``."""
    wanted = sorted(set(months))
    if not wanted:
        return set()
    return set(db.session.scalars(select(Statement.month).where(
        Statement.contract_id == contract.id, Statement.month.in_(wanted), Statement.status.in_(FROZEN_STATUSES))))


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    months_settled.connect(approved_months, weak=False)
