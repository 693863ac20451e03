"""What contractors answers for lower packages (blinker signals, synchronous): the bureaus where a
field worker may work (accounts' ``worker_tenants``). ``subscribe`` is called once by the app
factory; connecting again is a no-op.

The answer is read on each request of a field worker, across bureaus, by the web tier, whose
database role sees one bureau's rows only. On PostgreSQL it is asked of a ``SECURITY DEFINER``
function of the tables' owner (``contractor_tenants``, created by core/pgsecurity.apply_security)
that returns nothing but the bureaus of the approved registrations of one contractor; elsewhere
(SQLite: no row-level security) the ORM reads past its tenant filter, for this question only."""
from sqlalchemy import func, select

from portal.accounts.signals import worker_tenants
from portal.contractors.models import ContractorRegistration
from portal.core.pgsecurity import definer_function
from portal.extensions import db

definer_function(
    "contractor_tenants", "contractor integer", "SETOF integer",
    "SELECT tenant_id FROM public.contractor_registration WHERE contractor_id = $1 AND status = 'approved'",
    tables=[ContractorRegistration.__tablename__])


def approved_tenants(user, **_extra):
    """The bureaus where the worker's contractor is approved (read across bureaus)."""
    if user.contractor_id is None:
        return set()
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = select(func.contractor_tenants(user.contractor_id))
    else:
        stmt = (select(ContractorRegistration.tenant_id)
                .where(ContractorRegistration.contractor_id == user.contractor_id,
                       ContractorRegistration.status == "approved")
                .execution_options(skip_tenant_scope=True))
    return set(db.session.execute(stmt).scalars())


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    worker_tenants.connect(approved_tenants, weak=False)
