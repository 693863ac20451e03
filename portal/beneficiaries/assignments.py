"""Assigning a person of the registry to a contract (docs/DOMAIN.md §6): served under the contract
by one worker of its work list, over dates. The work list and the assignment rows are contracts'
(portal/contracts/assignments.py); choosing and checking the person is the registry's, so it
lives here, above contracts."""
from flask_babel import gettext as _
from sqlalchemy import select

from portal.beneficiaries.forms import STATUS_LABELS
from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import status_on
from portal.contracts.assignments import check_dates, on_work_list, overlaps
from portal.contracts.models import Assignment
from portal.core.errors import DomainError
from portal.core.lookup import get_or_not_found
from portal.extensions import db


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


def assignable_beneficiaries(contract, limit=500):
    """Active people of the registry not currently assigned to this contract (for the form)."""
    assigned = select(Assignment.beneficiary_id).where(Assignment.contract_id == contract.id,
                                                       Assignment.until_on.is_(None))
    return db.session.execute(
        select(Beneficiary).where(Beneficiary.status == "active", Beneficiary.id.not_in(assigned))
        .order_by(Beneficiary.township, Beneficiary.village, Beneficiary.name).limit(limit)).scalars().all()


def assign(contract, beneficiary_id, staff_id, from_on, until_on=None):
    """Assign a beneficiary of this bureau to the contract with a worker. The worker must be on the
    contract's work list over the whole period (so never someone off the roster), the person must
    be registered and neither dead nor moved away on the start date, and not already assigned to
    this contract over those dates."""
    check_dates(contract, from_on, until_on)
    person = get_or_not_found(Beneficiary, beneficiary_id, _("No such beneficiary."))
    status = status_on(person, from_on)
    if status is None:
        _refuse("from_on", _("The person was not yet registered on the start date."))
    if status in ("deceased", "moved"):
        _refuse("beneficiary_id", _("The person cannot be served: their status on the start date is %(status)s.",
                                    status=STATUS_LABELS[status]))
    entry = on_work_list(contract.id, staff_id, from_on) if isinstance(staff_id, int) else None
    if entry is None:
        _refuse("staff_id", _("The worker is not on this contract's work list on the start date."))
    if entry.until_on is not None and (until_on is None or until_on > entry.until_on):
        _refuse("until_on", _("The worker is on the work list only until %(day)s; end the assignment by then.",
                              day=entry.until_on.isoformat()))
    for other in db.session.execute(select(Assignment).where(
            Assignment.contract_id == contract.id, Assignment.beneficiary_id == person.id)).scalars():
        if overlaps(from_on, until_on, other.from_on, other.until_on):
            _refuse("beneficiary_id", _("The person is already assigned to this contract over these dates; "
                                        "end that assignment first."))
    assignment = Assignment(contract_id=contract.id, beneficiary_id=person.id, staff_id=entry.staff_id,
                            from_on=from_on, until_on=until_on)
    db.session.add(assignment)
    db.session.flush()
    return assignment
