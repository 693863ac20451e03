"""The beneficiary registry (服务对象, docs/DOMAIN.md §6): who is served, with a dated status history,
and who may see whom. Bureau staff see their bureau's registry; a contractor sees only the people
assigned to its own contracts, and a field worker only the people assigned to them — anything
else is "not found", never "forbidden". ID numbers are stored encrypted, found by a keyed hash
and shown masked; names, phones, addresses and coordinates are never logged."""
from collections import defaultdict
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import exists, false, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.permissions import reach
from portal.beneficiaries.models import CATEGORIES, STATUSES, Beneficiary, BeneficiaryStatus
from portal.beneficiaries.signals import status_recorded
from portal.contractors.models import StaffMember
from portal.contracts.models import Assignment, Contract
from portal.core import crypto
from portal.core.errors import DomainError, NotFound
from portal.core.identity import InvalidIdentifier, validate_id_number
from portal.core.query import like_escape, like_pattern
from portal.core.timeutil import local_today
from portal.extensions import db

EDITABLE = ("name", "category", "township", "village", "address", "lat", "lon", "phone")


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


def checked_fields(values):
    """Normalise and check the editable fields (name, category, township, village, address,
    coordinates, phone); raises DomainError naming every wrong field."""
    clean, errors = {}, {}
    for key in ("name", "township", "village", "address", "phone"):
        clean[key] = str(values.get(key) or "").strip()
    for key, limit in (("name", 64), ("township", 64), ("village", 64), ("address", 300), ("phone", 32)):
        if len(clean[key]) > limit:
            errors.setdefault(key, []).append(_("At most %(n)s characters.", n=limit))
    for key, message in (("name", _("Give the person's name.")), ("township", _("Give the township.")),
                         ("village", _("Give the village."))):
        if not clean[key]:
            errors.setdefault(key, []).append(message)
    if values.get("category") not in CATEGORIES:
        errors.setdefault("category", []).append(_("Choose one of the eight target groups."))
    clean["category"] = values.get("category")
    try:
        clean["lat"], clean["lon"] = checked_coordinates(values.get("lat"), values.get("lon"))
    except DomainError as exc:
        errors.setdefault("lat", []).append(exc.message)
    if errors:
        raise DomainError(next(iter(errors.values()))[0], errors)
    return clean


def checked_coordinates(lat, lon):
    """Both coordinates or neither; decimal degrees inside China's extent (lat 3–54, lon 73–136)."""
    if lat in (None, "") and lon in (None, ""):
        return None, None
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise DomainError(_("Give both coordinates as decimal degrees (e.g. 25.86 and 115.01).")) from None
    if not (3 <= lat <= 54 and 73 <= lon <= 136):
        raise DomainError(_("The coordinates are outside China (latitude 3–54, longitude 73–136)."))
    return round(lat, 6), round(lon, 6)


def checked_id_number(value):
    try:
        return validate_id_number(value)
    except InvalidIdentifier as exc:
        _refuse("id_number", exc.message)


def already_registered(number):
    """Is a person with this ID number in the current bureau's registry? (keyed hash, tenant-scoped)"""
    return db.session.execute(select(Beneficiary.id).where(
        Beneficiary.id_number_hash.in_(crypto.keyed_hashes(number)))).first() is not None


def new_beneficiary(clean, number, active_since, by=None):
    """The rows of one newly registered person: the beneficiary and its first status, active."""
    person = Beneficiary(**{k: clean[k] for k in EDITABLE}, id_number_encrypted=crypto.encrypt(number),
                         id_number_hash=crypto.keyed_hash(number), id_number_masked=crypto.mask_id_number(number),
                         status="active", status_since=active_since)
    person.history.append(BeneficiaryStatus(status="active", effective_on=active_since,
                                            note="", recorded_by_id=by.id if by else None))
    return person


def flush_new(people):
    """Write new people in a savepoint: the unique (bureau, keyed hash) constraint is the last wall
    behind the service check, and its IntegrityError (whose text would carry the row's values)
    becomes a plain message instead of reaching a log."""
    try:
        with db.session.begin_nested():
            db.session.add_all(people)
            db.session.flush()
    except IntegrityError:
        _refuse("id_number", _("This person is already registered with this bureau."))


def register(values, *, id_number, active_since=None, by=None):
    """Register one person: a valid ID number (the message names the wrong part) not yet in this
    bureau's registry, one of the eight categories, township and village, coordinates in range.
    The person starts active from ``active_since`` (today by default)."""
    number = checked_id_number(id_number)
    clean = checked_fields(values)
    if already_registered(number):
        _refuse("id_number", _("This person is already registered with this bureau."))
    person = new_beneficiary(clean, number, active_since or local_today(), by)
    flush_new([person])
    return person


def update(person, values):
    """Change the editable fields of a person (the ID number identifies them and never changes)."""
    clean = checked_fields(values)
    for key in EDITABLE:
        setattr(person, key, clean[key])
    db.session.flush()
    return person


# --- status history ---------------------------------------------------------------------------

def status_entry_on(person, day):
    """The BeneficiaryStatus row in force on ``day`` (the latest change on or before it), or None
    before the person was registered."""
    return db.session.execute(
        select(BeneficiaryStatus).where(BeneficiaryStatus.beneficiary_id == person.id,
                                        BeneficiaryStatus.effective_on <= day)
        .order_by(BeneficiaryStatus.effective_on.desc(), BeneficiaryStatus.id.desc()).limit(1)
    ).scalar_one_or_none()


def status_on(person, day):
    """What was this person's status on ``day``: "active", "hospitalised", "moved", "deceased",
    or None before they were registered."""
    entry = status_entry_on(person, day)
    return entry.status if entry is not None else None


def registered_by(person, day, field):
    """The person's status history in order, once ``day`` is known not to be before their
    registration (else a refusal on ``field``)."""
    history = sorted(person.history, key=lambda e: (e.effective_on, e.id or 0))
    if history and day < history[0].effective_on:
        _refuse(field, _("The date is before the person was registered (%(day)s).",
                         day=history[0].effective_on.isoformat()))
    return history


def change_status(person, status, effective_on, *, note="", by=None):
    """Record a dated change of status. A change may be back-dated (the history answers for past
    days) but not to before registration nor into the future, one change per day; after a death
    nothing changes. The person's current status follows the latest change. ``status_recorded``
    tells the packages above (signals.py); what they refuse (a DomainError) refuses the change."""
    if status not in STATUSES:
        _refuse("status", _("Choose a status."))
    if not isinstance(effective_on, date):
        _refuse("effective_on", _("Give a date (YYYY-MM-DD)."))
    if effective_on > local_today():
        _refuse("effective_on", _("A change of status cannot be recorded ahead of time."))
    history = registered_by(person, effective_on, "effective_on")
    if any(e.effective_on == effective_on for e in history):
        _refuse("effective_on", _("A change of status is already recorded on that day."))
    if any(e.status == "deceased" and e.effective_on < effective_on for e in history):
        _refuse("status", _("The person has died; no later change can be recorded."))
    previous = status_entry_on(person, effective_on)
    if previous is not None and previous.status == status:
        _refuse("status", _("The person already had this status on that day."))
    entry = BeneficiaryStatus(status=status, effective_on=effective_on, note=(note or "").strip()[:2000],
                              recorded_by_id=by.id if by else None)
    person.history.append(entry)
    latest = max(person.history, key=lambda e: (e.effective_on, e.id or 0))
    person.status, person.status_since = latest.status, latest.effective_on
    db.session.flush()
    status_recorded.send(entry, person=person, by=by)  # e.g. a re-assessment is due (assessments)
    return entry


STATUS_REASONS = {
    "hospitalised": lambda: _("The person was in hospital on that day."),
    "moved": lambda: _("The person had moved away by that day."),
    "deceased": lambda: _("The person had died by that day."),
}


def eligible_on(beneficiary_id, contract_id, day):
    """May this person be served under this contract on ``day``? Only when they were active that
    day AND assigned to the contract that day (the V06 rule of visit verification). Returns
    ``(True, "")`` or ``(False, reason)`` with a reason fit to show."""
    return EligibilityBook([beneficiary_id], [contract_id]).on(beneficiary_id, contract_id, day)


class EligibilityBook:
    """The status histories and assignments of some people on some contracts, read in three
    statements, answering ``eligible_on`` for any of them on any day (set-based verification)."""

    def __init__(self, beneficiary_ids, contract_ids):
        people, contracts = sorted(set(beneficiary_ids)), sorted(set(contract_ids))
        self.people = set(db.session.scalars(select(Beneficiary.id).where(Beneficiary.id.in_(people))))
        self.history = defaultdict(list)
        for entry in db.session.scalars(select(BeneficiaryStatus).where(
                BeneficiaryStatus.beneficiary_id.in_(people))
                .order_by(BeneficiaryStatus.effective_on, BeneficiaryStatus.id)):
            self.history[entry.beneficiary_id].append((entry.effective_on, entry.status))
        self.assignments = defaultdict(list)
        for person, contract, from_on, until_on in db.session.execute(select(
                Assignment.beneficiary_id, Assignment.contract_id, Assignment.from_on, Assignment.until_on)
                .where(Assignment.beneficiary_id.in_(people), Assignment.contract_id.in_(contracts))):
            self.assignments[(person, contract)].append((from_on, until_on))

    def status_on(self, beneficiary_id, day):
        """As ``status_on``: the latest change on or before ``day`` (the last one written wins a tie)."""
        found = None
        for effective_on, status in self.history[beneficiary_id]:
            if effective_on > day:
                break
            found = status
        return found

    def on(self, beneficiary_id, contract_id, day):
        if beneficiary_id not in self.people:
            return False, _("No such beneficiary in this bureau.")
        status = self.status_on(beneficiary_id, day)
        if status is None:
            return False, _("The person was not yet registered on that day.")
        if status != "active":
            return False, STATUS_REASONS[status]()
        if not any(from_on <= day and (until_on is None or until_on >= day)
                   for from_on, until_on in self.assignments[(beneficiary_id, contract_id)]):
            return False, _("The person was not assigned to this contract on that day.")
        return True, ""


# --- who may see whom ---------------------------------------------------------------------------

def _assigned_to(user):
    """The condition "this person has an assignment the contractor user may see": on a contract of
    the manager's organisation, or (for a field worker) with the worker themselves."""
    limit = reach(user)
    if limit.organisation_id:
        return exists().where(Assignment.beneficiary_id == Beneficiary.id, Assignment.contract_id == Contract.id,
                              Contract.contractor_id == limit.organisation_id)
    if limit.kind == "own":
        return exists().where(Assignment.beneficiary_id == Beneficiary.id, Assignment.staff_id == StaffMember.id,
                              StaffMember.user_id == limit.user_id)
    return None


def visible_beneficiary(beneficiary_id, user):
    """The beneficiary if this person may see them, else NotFound (never 403, which would reveal
    that the person exists): bureau readers see their bureau's registry (the lookup is
    tenant-scoped); a contractor manager those assigned to its organisation's contracts; a field
    worker those assigned to them. Every contractor-facing read goes through here."""
    if user.can("beneficiary.read_all"):
        person = db.session.get(Beneficiary, beneficiary_id)
    else:
        condition = _assigned_to(user)
        person = None if condition is None else db.session.execute(
            select(Beneficiary).where(Beneficiary.id == beneficiary_id, condition)).scalar_one_or_none()
    if person is None:
        raise NotFound(_("No such beneficiary."))
    return person


def writable_beneficiary(beneficiary_id, user):
    """A beneficiary the person may change (officers and supervisors of the bureau), or NotFound."""
    person = visible_beneficiary(beneficiary_id, user)
    if not user.can("beneficiary.edit"):
        raise NotFound(_("No such beneficiary."))
    return person


def search(user, *, text="", village="", category="", status="", township=""):
    """The select statement of the registry list: what the person may see, filtered. ``text``
    matches part of a name, a masked name (张*丰: each * one hidden character) or, when it is a
    valid ID number, exactly that person."""
    stmt = select(Beneficiary)
    if not user.can("beneficiary.read_all"):
        condition = _assigned_to(user)
        stmt = stmt.where(condition if condition is not None else false())
    text = (text or "").strip()
    if text:
        try:
            number = validate_id_number(text)
        except InvalidIdentifier:
            number = None
        if number:
            stmt = stmt.where(Beneficiary.id_number_hash.in_(crypto.keyed_hashes(number)))
        elif "*" in text:
            pattern = like_escape(text).replace("*", "_")
            stmt = stmt.where(Beneficiary.name.like(pattern, escape="\\"))
        else:
            stmt = stmt.where(Beneficiary.name.like(like_pattern(text), escape="\\"))
    if village.strip():
        stmt = stmt.where(Beneficiary.village.like(like_pattern(village.strip()), escape="\\"))
    if category in CATEGORIES:
        stmt = stmt.where(Beneficiary.category == category)
    if status in STATUSES:
        stmt = stmt.where(Beneficiary.status == status)
    if township.strip():
        stmt = stmt.where(Beneficiary.township == township.strip())
    return stmt.order_by(Beneficiary.township, Beneficiary.village, Beneficiary.id)


def townships():
    """The townships of the bureau's registry, for the filter."""
    return db.session.execute(select(Beneficiary.township).distinct().order_by(Beneficiary.township)).scalars().all()


def assignments_of(person, user):
    """The person's assignments the user may see (all for bureau readers; its own contracts' for a
    contractor manager; their own for a field worker), newest first."""
    stmt, limit = select(Assignment).where(Assignment.beneficiary_id == person.id), reach(user)
    if limit.kind == "organisation":
        stmt = stmt.join(Contract, Contract.id == Assignment.contract_id).where(
            Contract.contractor_id == limit.contractor_id)
    elif limit.kind == "own":
        stmt = stmt.join(StaffMember, StaffMember.id == Assignment.staff_id).where(StaffMember.user_id == limit.user_id)
    elif not user.can("beneficiary.read_all"):
        return []
    return db.session.execute(stmt.order_by(Assignment.from_on.desc(), Assignment.id.desc())).scalars().all()

