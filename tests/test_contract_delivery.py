"""``Contract.in_delivery``: the one definition of a contract whose months can be visited, scored
and settled (delivering, or delivered and since ended), the same in Python and in SQL."""
from sqlalchemy import select

from portal.contracts.models import CONTRACT_STATUSES, Contract


def test_in_delivery_is_every_status_past_signing():
    delivering = {s for s in CONTRACT_STATUSES if Contract(status=s).in_delivery}
    assert delivering == {"active", "suspended", "completed", "terminated"}


def test_in_delivery_in_a_query_is_the_same_set():
    sql = str(select(Contract.id).where(Contract.in_delivery).compile(compile_kwargs={"literal_binds": True}))
    assert "contract.status IN ('active', 'suspended', 'completed', 'terminated')" in sql
