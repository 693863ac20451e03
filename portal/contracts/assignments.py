"""Who works on a contract and whom it serves (docs/DOMAIN.md §6): the work list (ContractWorker: a
roster member of the contract's contractor, over dates) and assignments (Assignment: a beneficiary
served under the contract by one worker of its work list, over dates). What a contractor may see
of the registry is exactly what these rows give it (beneficiaries/services.visible_beneficiary).
Choosing and checking the person assigned is the registry's (portal/beneficiaries/assignments.py)."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import or_, select

from portal.contractors.models import StaffMember
from portal.contracts.models import Assignment, Contract, ContractWorker
from portal.core.errors import DomainError, NotFound
from portal.extensions import db

CLOSED = ("completed", "terminated")


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


def overlaps(start, end, other_start, other_end):
    """Do two date ranges (an open end is None) share a day?"""
    return (other_end is None or start <= other_end) and (end is None or other_start <= end)


def check_dates(contract, from_on, until_on):
    if not isinstance(from_on, date):
        _refuse("from_on", _("Give a start date (YYYY-MM-DD)."))
    if until_on is not None and until_on < from_on:
        _refuse("until_on", _("The end date cannot be before the start date."))
    if contract.status in CLOSED:
        _refuse("from_on", _("The contract is %(status)s; nobody can be added to it.", status=contract.status_label))
    if from_on < contract.starts_on or from_on > contract.ends_on or (until_on and until_on > contract.ends_on):
        _refuse("from_on", _("The dates must fall within the contract period (%(start)s to %(end)s).",
                             start=contract.starts_on.isoformat(), end=contract.ends_on.isoformat()))


def contract_for(contract_id, user, *, manage=False):
    """The contract whose work list and assignments ``user`` may see: bureau readers any contract of
    the bureau, a contractor manager only its own organisation's; with ``manage``, only officers and
    that manager. Anything else is NotFound."""
    contract = db.session.get(Contract, contract_id)
    if contract is None or not contract.visible_to(user):
        raise NotFound(_("No such contract."))
    if manage and not user.can("assignment.manage"):
        raise NotFound(_("No such contract."))
    return contract


# --- the work list -----------------------------------------------------------------------------

def work_list(contract):
    """Every entry of the contract's work list, current ones first."""
    return db.session.execute(
        select(ContractWorker).where(ContractWorker.contract_id == contract.id)
        .order_by(ContractWorker.until_on.is_not(None), ContractWorker.from_on, ContractWorker.id)).scalars().all()


def eligible_staff(contract):
    """The contractor's active roster members, the people who may be put on the work list."""
    return db.session.execute(
        select(StaffMember).where(StaffMember.contractor_id == contract.contractor_id, StaffMember.left_on.is_(None))
        .order_by(StaffMember.name, StaffMember.id)).scalars().all()


def add_worker(contract, staff_id, from_on, until_on=None):
    """Put a roster member on the contract's work list from ``from_on`` (to ``until_on``). Only an
    active roster member of the contract's own contractor who had joined by then (anyone else would
    be subcontracting), within the contract period, and not already listed over those dates."""
    check_dates(contract, from_on, until_on)
    member = db.session.get(StaffMember, staff_id) if isinstance(staff_id, int) else None
    if member is None or member.contractor_id != contract.contractor_id or member.left_on is not None:
        _refuse("staff_id", _("Only active members of the contractor's own staff roster can work on its contract."))
    if member.joined_on > from_on:
        _refuse("from_on", _("%(name)s joined the roster on %(day)s, after this start date.",
                             name=member.name, day=member.joined_on.isoformat()))
    for entry in db.session.execute(select(ContractWorker).where(
            ContractWorker.contract_id == contract.id, ContractWorker.staff_id == member.id)).scalars():
        if overlaps(from_on, until_on, entry.from_on, entry.until_on):
            _refuse("staff_id", _("%(name)s is already on the work list over these dates.", name=member.name))
    entry = ContractWorker(contract_id=contract.id, staff_id=member.id, from_on=from_on, until_on=until_on)
    db.session.add(entry)
    db.session.flush()
    return entry


def work_entry(contract, entry_id):
    entry = db.session.get(ContractWorker, entry_id)
    if entry is None or entry.contract_id != contract.id:
        raise NotFound(_("No such entry of the work list."))
    return entry


def end_worker(entry, until_on):
    """Take a worker off the work list after ``until_on``; their assignments under this contract
    end the same day (a beneficiary is never left with a worker who no longer works on it).
    Returns how many assignments were ended."""
    if not isinstance(until_on, date) or until_on < entry.from_on:
        _refuse("until_on", _("The end date cannot be before the start date."))
    if entry.until_on is not None and entry.until_on <= until_on:
        _refuse("until_on", _("This entry already ends on %(day)s.", day=entry.until_on.isoformat()))
    entry.until_on = until_on
    ended = 0
    for assignment in db.session.execute(select(Assignment).where(
            Assignment.contract_id == entry.contract_id, Assignment.staff_id == entry.staff_id,
            or_(Assignment.until_on.is_(None), Assignment.until_on > until_on))).scalars():
        if assignment.from_on > until_on:
            raise DomainError(_("%(name)s has an assignment starting after this date; end or change it first.",
                                name=entry.staff.name))
        assignment.until_on = until_on
        ended += 1
    db.session.flush()
    return ended


def on_work_list(contract_id, staff_id, day):
    """The work-list entry of this worker on this contract covering ``day``, or None."""
    return db.session.execute(select(ContractWorker).where(
        ContractWorker.contract_id == contract_id, ContractWorker.staff_id == staff_id,
        ContractWorker.from_on <= day, or_(ContractWorker.until_on.is_(None), ContractWorker.until_on >= day))
        .limit(1)).scalar_one_or_none()


# --- assignments -------------------------------------------------------------------------------

def assignments(contract):
    """Every assignment of the contract, current ones first."""
    return db.session.execute(
        select(Assignment).where(Assignment.contract_id == contract.id)
        .order_by(Assignment.until_on.is_not(None), Assignment.from_on.desc(), Assignment.id)).scalars().all()


def assignment_of(contract, assignment_id):
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.contract_id != contract.id:
        raise NotFound(_("No such assignment."))
    return assignment


def end_assignment(assignment, until_on):
    """End an assignment on ``until_on`` (not before it started, and only to shorten it)."""
    if not isinstance(until_on, date) or until_on < assignment.from_on:
        _refuse("until_on", _("The end date cannot be before the start date."))
    if assignment.until_on is not None and assignment.until_on <= until_on:
        _refuse("until_on", _("This assignment already ends on %(day)s.", day=assignment.until_on.isoformat()))
    assignment.until_on = until_on
    db.session.flush()


# --- the field worker's day --------------------------------------------------------------------

def current_for_worker(user, day):
    """The assignments of the field worker signed in as ``user`` (their roster entry's user) that
    are current on ``day``, on contracts that are active, while the worker is on the contract's
    work list and on the roster — in the current bureau (the queries are tenant-scoped)."""
    stmt = (select(Assignment)
            .join(StaffMember, StaffMember.id == Assignment.staff_id)
            .join(Contract, Contract.id == Assignment.contract_id)
            .join(ContractWorker, (ContractWorker.contract_id == Assignment.contract_id)
                  & (ContractWorker.staff_id == Assignment.staff_id))
            .where(StaffMember.user_id == user.id, StaffMember.contractor_id == Contract.contractor_id,
                   or_(StaffMember.left_on.is_(None), StaffMember.left_on >= day),
                   Contract.status == "active",
                   Assignment.from_on <= day, or_(Assignment.until_on.is_(None), Assignment.until_on >= day),
                   ContractWorker.from_on <= day, or_(ContractWorker.until_on.is_(None), ContractWorker.until_on >= day))
            .order_by(Assignment.contract_id, Assignment.beneficiary_id, Assignment.id))
    seen, result = set(), []
    for assignment in db.session.execute(stmt).scalars():
        key = (assignment.contract_id, assignment.beneficiary_id)
        if key not in seen:
            seen.add(key)
            result.append(assignment)
    return result


def assigned_item(user, beneficiary_id, day, unit):
    """``(item, current)``: the service item of ``unit`` under which the field worker ``user``
    serves the person — an assignment of the person to ``user`` (docs/DOMAIN.md §6: the worker
    assigned to the person) on a contract of their contractor with such an item, preferring one
    current on ``day``, on an active contract, latest; ``current`` says whether that assignment
    covers ``day``. NotFound (on "beneficiary_id") when there is none — also when the person is
    assigned to a colleague only: the contractor's manager reassigns the person first."""
    from portal.contracts.models import ServiceItem
    from portal.core import query
    if not user.contractor_id or not query.is_id(beneficiary_id):
        raise NotFound(_("No such beneficiary."), {"beneficiary_id": [_("No such beneficiary.")]})
    rows = db.session.execute(
        select(ServiceItem, Assignment, Contract.status)
        .join(Contract, Contract.id == ServiceItem.contract_id)
        .join(Assignment, Assignment.contract_id == Contract.id)
        .join(StaffMember, StaffMember.id == Assignment.staff_id)
        .where(Assignment.beneficiary_id == beneficiary_id, Contract.contractor_id == user.contractor_id,
               StaffMember.user_id == user.id, ServiceItem.unit == unit)).all()
    if not rows:
        raise NotFound(_("No such beneficiary."), {"beneficiary_id": [_("No such beneficiary.")]})

    def preference(row):
        item, assignment, status = row
        current = assignment.from_on <= day and (assignment.until_on is None or day <= assignment.until_on)
        return current, status == "active", assignment.from_on, assignment.id, item.id
    best = max(rows, key=preference)
    return best[0], preference(best)[0]
