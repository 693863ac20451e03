"""The demo's spot checks (docs/DOMAIN.md §7): last month's sample of the demo visits' contract in
ganxian, drawn by gx-supervisor with a few outcomes of each kind (seeded after the visits)."""
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.beneficiaries.demo import demo_contract
from portal.core.months import month_text, previous_month
from portal.core.timeutil import local_midnight_utc, local_today, utcnow
from portal.extensions import db
from portal.spotchecks.models import MAX_ATTEMPTS
from portal.spotchecks.services import draw, find_sample, record_outcome
from portal.tenancy.scope import tenant_scope
from portal.visits.demo import ITEM

DEMO_OUTCOMES = (("confirmed", 5, ""), ("confirmed", 4, "希望服务时间能再长一些。"),
                 ("not_confirmed", None, "老人表示当天无人上门服务，家属也未见服务人员。"),
                 ("unreachable", None, ""))


def seed_demo_sample(contract, month, tenant, supervisor="gx-supervisor", now=None):
    """The demo's sample of ``month`` for ``contract``, drawn by ``supervisor`` (a username), with a
    few outcomes of each kind (confirmed, not confirmed, unreachable three times) and the rest
    still open. Returns how many rows were created: 0 when the sample exists already."""
    supervisor = db.session.scalars(select(User).where(User.username == supervisor)).first()
    if supervisor is None or find_sample(contract.id, month) is not None:
        return 0
    now = now or utcnow()
    # drawn two hours ago (never before this month began), so every try lies between draw and now
    drawn = max(now - timedelta(hours=2), local_midnight_utc(local_today(now).replace(day=1)))
    result = draw(contract, month, tenant=tenant, user=supervisor, now=drawn,
                  seed=f"demo:{contract.number}:{month_text(month)}")
    if not result.created:
        return 0
    created = 1 + len(result.sample.checks)
    for index, (check, (outcome, satisfaction, text)) in enumerate(zip(result.sample.checks, DEMO_OUTCOMES)):
        moment = drawn + timedelta(minutes=10 * index + 5)
        if outcome == "unreachable":
            for attempt in range(MAX_ATTEMPTS):
                record_outcome(check, method="phone", outcome="unreachable", user=supervisor,
                               now=moment + timedelta(minutes=3 * attempt))
            created += MAX_ATTEMPTS
            continue
        record_outcome(check, method="home_visit" if outcome == "not_confirmed" else "phone", outcome=outcome,
                       user=supervisor, satisfaction=satisfaction, complaint=text if outcome == "confirmed" else "",
                       reason=text if outcome == "not_confirmed" else "", now=moment)
        created += 1
    return created


def seed_spot_checks(tenants):
    """Last month's sample of the contract the demo visits were recorded for (after seed_visits);
    returns how many rows were created: 0 when the sample exists already or nothing is verified."""
    with tenant_scope(tenants["ganxian"].id):
        contract = demo_contract("A", ITEM)
        if contract is None:
            return 0
        created = seed_demo_sample(contract, previous_month(local_today()), tenants["ganxian"])
        db.session.flush()
    return created
