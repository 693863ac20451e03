"""What contractors answers for lower packages (blinker signals, synchronous): the bureaus where a
field worker may work (accounts' ``worker_tenants``). ``subscribe`` is called once by the app
factory; connecting again is a no-op."""
from sqlalchemy import select

from portal.accounts.signals import worker_tenants
from portal.contractors.models import ContractorRegistration
from portal.extensions import db
from portal.tenancy.scope import all_tenants


def approved_tenants(user, **_extra):
    """The bureaus where the worker's contractor is approved (read across bureaus)."""
    with all_tenants():
        return set(db.session.execute(
            select(ContractorRegistration.tenant_id).where(
                ContractorRegistration.contractor_id == user.contractor_id,
                ContractorRegistration.status == "approved")).scalars())


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    worker_tenants.connect(approved_tenants, weak=False)
