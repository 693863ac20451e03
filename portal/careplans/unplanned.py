"""The people still waiting for a plan (docs/DOMAIN.md §6 "Care plans"): those assigned, on a day,
to an active care contract the reader reaches — a care contractor's manager its own organisation's,
the bureau's readers every care contract — with no version under that contract approved or in the
works (draft or awaiting approval). A version returned to the contractor leaves the person here."""
from sqlalchemy import exists, false, or_, select

from portal.beneficiaries.models import Beneficiary
from portal.careplans.models import CarePlan
from portal.careplans.people import CARE_UNIT
from portal.contracts.models import Assignment, Contract, ServiceItem
from portal.extensions import db

PLANNED_STATUSES = ("approved", "draft", "submitted")


def _open_contracts(user):
    """The conditions on Contract "an active care contract ``user`` reaches"; None when none."""
    conditions = [Contract.status == "active",
                  exists().where(ServiceItem.contract_id == Contract.id, ServiceItem.unit == CARE_UNIT)]
    if user.can("careplan.read_all"):
        return conditions
    if not user.can("careplan.read") or user.contractor_id is None:
        return None
    return conditions + [Contract.contractor_id == user.contractor_id]


def _covers(day):
    """The conditions on Assignment "it runs on ``day``"."""
    return [Assignment.from_on <= day, or_(Assignment.until_on.is_(None), Assignment.until_on >= day)]


def _planned(person_id):
    """The condition on Contract "``person_id`` has a version under it approved or in the works"."""
    return exists().where(CarePlan.beneficiary_id == person_id, CarePlan.contract_id == Contract.id,
                          CarePlan.status.in_(PLANNED_STATUSES))


def _unplanned_on(day):
    """The conditions on Beneficiary and Contract: assigned on ``day`` to that contract, without a
    version of it approved or in the works."""
    assigned = exists().where(Assignment.beneficiary_id == Beneficiary.id, Assignment.contract_id == Contract.id,
                              *_covers(day))
    return [assigned.correlate(Beneficiary, Contract), ~_planned(Beneficiary.id).correlate(Beneficiary, Contract)]


def without_plan(user, day):
    """The select of the people (Beneficiary) waiting for a plan on ``day`` as ``user`` reaches them,
    by township, village and id."""
    contracts = _open_contracts(user)
    if contracts is None:
        return select(Beneficiary).where(false())
    waiting = select(Contract.id).where(*contracts, *_unplanned_on(day)).correlate(Beneficiary)
    return (select(Beneficiary).where(waiting.exists())
            .order_by(Beneficiary.township, Beneficiary.village, Beneficiary.id))


def contracts_waiting(people, user, day):
    """{person id: [Contract]} of ``people``: the care contracts each waits for a plan under."""
    contracts = _open_contracts(user)
    ids = [p.id for p in people]
    if contracts is None or not ids:
        return {}
    rows = db.session.execute(
        select(Assignment.beneficiary_id, Contract).join(Contract, Contract.id == Assignment.contract_id)
        .where(Assignment.beneficiary_id.in_(ids), *_covers(day), *contracts, ~_planned(Assignment.beneficiary_id))
        .order_by(Contract.id)).all()
    found = {}
    for person_id, contract in rows:
        if contract not in found.setdefault(person_id, []):
            found[person_id].append(contract)
    return found
