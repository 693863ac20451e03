"""Whose care plans a reader reaches (docs/DOMAIN.md §6 "Care plans"): the bureau's readers every
person of the bureau; a care contractor's manager the people assigned (now or before) to one of
its care contracts — a contract with a service item of unit "visit" — and the people it has
plans for. Anyone else, and a person of another bureau, is "not found" (never 403: that would tell
that the person exists). Names are shown whole to the bureau, masked (张*丰) to a contractor."""
from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, or_, select

from portal.beneficiaries.models import Beneficiary
from portal.careplans.models import CarePlan
from portal.contracts.assignments import contract_for
from portal.contracts.models import Assignment, Contract, ServiceItem
from portal.core import query
from portal.core.crypto import mask_name
from portal.core.errors import DomainError
from portal.extensions import db

CARE_UNIT = "visit"  # a care contract pays per visit (docs/DOMAIN.md §5)


def is_care_contract(contractor_id):
    """The condition on Contract "a care contract of ``contractor_id``"."""
    return and_(Contract.contractor_id == contractor_id,
                exists().where(ServiceItem.contract_id == Contract.id, ServiceItem.unit == CARE_UNIT))


def people_condition(user):
    """The condition on Beneficiary of the people whose plans ``user`` reaches: None (all of the
    bureau) for its readers; for a contractor's manager those assigned to its care contracts or
    planned for by it; nothing for anyone else."""
    if user.can("careplan.read_all"):
        return None
    contractor_id = user.contractor_id if user.can("careplan.read") else None
    if contractor_id is None:
        return false()
    return or_(exists().where(Assignment.beneficiary_id == Beneficiary.id, Assignment.contract_id == Contract.id,
                              is_care_contract(contractor_id)),
               exists().where(CarePlan.beneficiary_id == Beneficiary.id, CarePlan.contractor_id == contractor_id))


def visible_person(beneficiary_id, user):
    """The person whose plans ``user`` may read, else NotFound (the lookup is tenant-scoped)."""
    stmt = select(Beneficiary)
    condition = people_condition(user)
    if condition is not None:
        stmt = stmt.where(condition)
    return query.one_visible(stmt, Beneficiary.id, beneficiary_id, _("No such beneficiary."))


def shown_name(person, user):
    """The bureau's readers see the name; a contractor's manager the masked name (张*丰)."""
    return person.name if user.can("careplan.read_all") else mask_name(person.name)


def care_contracts(person, contractor_id, day):
    """The active care contracts of ``contractor_id`` under which ``person`` is assigned on ``day``,
    oldest first: the contracts a needs assessment and a plan of the person may be made under."""
    if contractor_id is None:
        return []
    return db.session.scalars(
        select(Contract).where(is_care_contract(contractor_id), Contract.status == "active",
                               exists().where(Assignment.contract_id == Contract.id,
                                              Assignment.beneficiary_id == person.id, Assignment.from_on <= day,
                                              or_(Assignment.until_on.is_(None), Assignment.until_on >= day)))
        .order_by(Contract.id)).all()


def care_contract_of(person, contract_id, user, day):
    """The care contract ``contract_id`` of the manager ``user`` under which ``person`` is assigned
    on ``day``; DomainError on "contract" otherwise (a contract the manager may not see at all is
    not found, through contracts.assignments.contract_for)."""
    message = _("The person is not assigned to this care contract of your organisation on that day.")
    if not query.is_id(contract_id):
        raise DomainError(message, {"contract": [message]})
    contract = contract_for(contract_id, user)
    if contract.id not in {c.id for c in care_contracts(person, user.contractor_id, day)}:
        raise DomainError(message, {"contract": [message]})
    return contract
