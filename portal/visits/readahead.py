"""What the single-visit rules V01 and V06 ask the database, read as plain rows for many visits at
once (the set path, reverify.py) or for one new visit (intake.py): roster entries and an
``EligibilityBook`` filled by Core statements, with no ORM object loaded (at a month's scale the
ORM's loading of these rows cost more than judging the visits).

Core statements skip the session's tenant hook: each names the bureau (row-level security applies
on PostgreSQL as well). Staff members belong to contractors, not to a bureau."""
from sqlalchemy import select

from portal.beneficiaries.models import Beneficiary, BeneficiaryStatus
from portal.beneficiaries.services import EligibilityBook
from portal.contractors.models import StaffMember
from portal.contracts.models import Assignment
from portal.extensions import db
from portal.tenancy.scope import current_tenant_id
from portal.visits.setpass import among, chunks

_S, _B, _H, _A = StaffMember.__table__, Beneficiary.__table__, BeneficiaryStatus.__table__, Assignment.__table__


class RosterEntry:
    """A roster entry as V01 (and intake's choice of the visit's entry) reads it."""
    __slots__ = ("id", "user_id", "contractor_id", "name", "joined_on", "left_on")

    def __init__(self, row):
        self.id, self.user_id, self.contractor_id, self.name, self.joined_on, self.left_on = row

    on_roster = StaffMember.on_roster


ROSTER_COLUMNS = (_S.c.id, _S.c.user_id, _S.c.contractor_id, _S.c.name, _S.c.joined_on, _S.c.left_on)


def rosters(users, contractors):
    """{(user id, contractor id): [RosterEntry]} of these workers and contractors."""
    found = {}
    for row in db.session.connection().execute(select(*ROSTER_COLUMNS).where(
            among(_S.c.user_id, users), among(_S.c.contractor_id, contractors))):
        found.setdefault((row[1], row[2]), []).append(RosterEntry(row))
    return found


class _Lists(dict):
    """A dict answering [] for a missing key, as EligibilityBook's defaultdicts (without storing it)."""

    def __missing__(self, key):
        return []


def book_of(people, history, assignments):
    """An EligibilityBook from rows already read: ``people`` (ids of the bureau's beneficiaries),
    ``history`` (beneficiary id, effective_on, status) in (effective_on, id) order and
    ``assignments`` (beneficiary id, contract id, from_on, until_on)."""
    book = EligibilityBook.__new__(EligibilityBook)
    book.people, book.history, book.assignments = set(people), _Lists(), _Lists()
    for person, effective_on, status in history:
        book.history.setdefault(person, []).append((effective_on, status))
    for person, contract, from_on, until_on in assignments:
        book.assignments.setdefault((person, contract), []).append((from_on, until_on))
    return book


def eligibility_book(people, contracts):
    """EligibilityBook(people, contracts), read with three Core statements per chunk of people."""
    tenant, connection = current_tenant_id(), db.session.connection()
    found, history, assignments = [], [], []
    for chunk in chunks(sorted(set(people))):
        found += connection.execute(select(_B.c.id).where(among(_B.c.id, chunk), _B.c.tenant_id == tenant)).scalars()
        history += connection.execute(
            select(_H.c.beneficiary_id, _H.c.effective_on, _H.c.status)
            .where(among(_H.c.beneficiary_id, chunk), _H.c.tenant_id == tenant)
            .order_by(_H.c.beneficiary_id, _H.c.effective_on, _H.c.id)).all()
        assignments += connection.execute(
            select(_A.c.beneficiary_id, _A.c.contract_id, _A.c.from_on, _A.c.until_on)
            .where(among(_A.c.beneficiary_id, chunk), among(_A.c.contract_id, contracts),
                   _A.c.tenant_id == tenant)).all()
    return book_of(found, history, assignments)

