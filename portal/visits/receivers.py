"""What visits answers for lower packages (blinker signals, synchronous): the units of a service
item delivered under a contract (contracts' ``count_units_delivered``, for the contract dashboard).
``subscribe`` is called once by the app factory; connecting again is a no-op."""
from sqlalchemy import func, select

from portal.contracts.signals import count_units_delivered
from portal.extensions import db
from portal.visits.models import Visit


def verified_visits(contract, item, **_extra):
    """The verified visits of ``item`` under ``contract`` (all time), counted in one query.
    Pending, exception and rejected visits do not count."""
    return db.session.execute(select(func.count(Visit.id)).where(
        Visit.contract_id == contract.id, Visit.service_item_id == item.id,
        Visit.status == "verified")).scalar_one()


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    count_units_delivered.connect(verified_visits, weak=False)
