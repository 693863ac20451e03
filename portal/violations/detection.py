"""Violations of the subcontracting ban (严禁服务转包, docs/DOMAIN.md §7): the one entry point that
records them, the detectors that read rosters and work lists, and the rule that three violations
of a contract within 12 months flag it for suspension review (暂停审查).

Every violation is recorded in the current bureau with a dedupe key, so a detector run twice, or a
visit verified twice, records a breach once. Evidence names facts in plain, flat values — people
by name and masked ID number only, never the number itself."""
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from stdnum.cn import ric

from portal.contractors.models import Contractor, StaffEmployment, StaffMember
from portal.contracts.models import Contract, ContractWorker
from portal.core.lookup import get_or_not_found
from portal.core.months import last_day
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.i18n import record_locale
from portal.violations.models import VIOLATION_KINDS, Violation

SUSPENSION_REVIEW_THRESHOLD = 3  # violations within 12 months (docs/DOMAIN.md §7)
# Contracts whose work lists the detectors read: a draft is not in force yet.
CONTRACT_STATUSES_WATCHED = ("signed", "active", "suspended", "completed", "terminated")


class RawIdNumberError(ValueError):
    """A caller tried to store an unmasked resident ID number with a violation."""


# --- the entry point --------------------------------------------------------------------------

def record_violation(kind, *, contract_id, staff_id, occurred_on, evidence, summary, dedupe_key):
    """Record one breach of the subcontracting ban in the current bureau and return it; when a
    violation with ``dedupe_key`` exists already, return that one and change nothing. Called by
    the detectors here and by the visit verification (V01 ``unlisted_worker``, ``shared_device``).

    ``evidence`` is a flat dict of facts (strings, dates or None); it must not hold an unmasked
    ID number. The third violation of a contract within 12 months flags it for suspension review."""
    if kind not in VIOLATION_KINDS:
        raise ValueError(f"unknown violation kind {kind!r}")
    existing = _by_dedupe_key(dedupe_key)
    if existing is not None:
        return existing
    evidence = {key: _plain(value) for key, value in (evidence or {}).items()}
    _refuse_raw_id_numbers(evidence, summary)
    contract = None
    if contract_id is not None:  # through the tenant scope: another bureau's contract is not found
        contract = get_or_not_found(Contract, contract_id, _("No such contract."))
    violation = Violation(kind=kind, contract_id=contract_id, staff_id=staff_id, occurred_on=occurred_on,
                          evidence=evidence, summary=summary or "", dedupe_key=dedupe_key)
    try:
        with db.session.begin_nested():
            db.session.add(violation)
            db.session.flush()
    except IntegrityError:  # recorded meanwhile by a concurrent run: theirs is the record
        return _by_dedupe_key(dedupe_key)
    if contract is not None:
        review_suspension_flag(contract)
    return violation


def _by_dedupe_key(dedupe_key):
    return db.session.execute(select(Violation).where(Violation.dedupe_key == dedupe_key)).scalar_one_or_none()


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    return None if value is None else str(value)


def _refuse_raw_id_numbers(evidence, summary):
    """Masked numbers only: a valid resident ID number anywhere in the texts is refused."""
    texts = [summary or ""] + [v for k, v in evidence.items() if v and "credit_code" not in k]
    for text in texts:
        for start in range(0, max(len(text) - 17, 0)):
            candidate = text[start:start + 18]
            if candidate[:17].isdigit() and ric.is_valid(candidate):
                raise RawIdNumberError("violation evidence must carry masked ID numbers only")


# --- three violations within 12 months ------------------------------------------------------------

def one_year_before(day):
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def three_within_a_year(days):
    """Do any SUSPENSION_REVIEW_THRESHOLD of ``days`` fall within 12 months of the latest of them
    (both ends included)? When the third violation lands, it is the latest of its window."""
    days = sorted(days)
    n = SUSPENSION_REVIEW_THRESHOLD
    return any(days[i] >= one_year_before(days[i + n - 1]) for i in range(len(days) - n + 1))


def review_suspension_flag(contract, *, may_clear=False):
    """Flag ``contract`` for suspension review when it has three violations (open or confirmed)
    within 12 months; with ``may_clear`` (after a dismissal) clear the flag when it no longer has."""
    days = db.session.scalars(select(Violation.occurred_on).where(
        Violation.contract_id == contract.id, Violation.status != "dismissed")).all()
    flagged = three_within_a_year(days)
    if flagged and contract.suspension_review_flagged_at is None:
        contract.suspension_review_flagged_at = utcnow()
    elif not flagged and may_clear and contract.suspension_review_flagged_at is not None:
        contract.suspension_review_flagged_at = None
    db.session.flush()
    return flagged


# --- the detectors ---------------------------------------------------------------------------------

def _work_list():
    """(work-list entry, contract) of the bureau's contracts in force, oldest first."""
    return db.session.execute(
        select(ContractWorker, Contract).join(Contract, ContractWorker.contract_id == Contract.id)
        .where(Contract.status.in_(CONTRACT_STATUSES_WATCHED))
        .order_by(ContractWorker.contract_id, ContractWorker.id)).all()


def _span(start, end):
    return f"{start.isoformat()} – {end.isoformat() if end else ''}".rstrip()


def _organisation(contractor):
    return f"{contractor.name} ({contractor.credit_code})"


def _person_facts(member, contract):
    return {"person": member.name, "id_number": member.id_number_masked,
            "contractor": _organisation(contract.contractor),
            "roster": _span(member.joined_on, member.left_on)}


def _earliest(*days):
    """The earliest of the dates given (None means open-ended), or None when all are."""
    return min((d for d in days if d is not None), default=None)


def detect_two_rosters(today):
    """A person (same ID-number hash) on the rosters of two contractors over overlapping dates,
    while on the work list of one of the bureau's contracts: one violation per contract, work-list
    person and other roster entry, dated the first day of the overlap."""
    found = []
    for entry, contract in _work_list():
        member = entry.staff
        others = db.session.scalars(select(StaffMember).where(
            StaffMember.id_number_hash == member.id_number_hash,
            StaffMember.contractor_id != member.contractor_id).order_by(StaffMember.id)).all()
        for other in others:
            start = max(member.joined_on, other.joined_on, entry.from_on)
            end = _earliest(member.left_on, other.left_on, entry.until_on, today)
            if start > end:
                continue
            evidence = {**_person_facts(member, contract),
                        "other_roster": f"{_organisation(other.contractor)}: {_span(other.joined_on, other.left_on)}",
                        "overlap": _span(start, _earliest(member.left_on, other.left_on)),
                        "work_list": _span(entry.from_on, entry.until_on)}
            with record_locale():
                # The other organisation is named only in the evidence, which contractors do not see.
                summary = _("%(person)s (%(id)s) was on the roster of %(own)s and on another organisation's "
                            "roster at the same time from %(day)s.", person=member.name,
                            id=member.id_number_masked, own=member.contractor.name, day=start.isoformat())
            found.append(record_violation(
                "two_rosters", contract_id=contract.id, staff_id=member.id, occurred_on=start,
                evidence=evidence, summary=summary,
                dedupe_key=f"two_rosters:{contract.id}:{member.id}:{other.id}"))
    return found


def detect_insured_elsewhere(today):
    """A roster member on a contract's work list whose employment evidence for a month of that
    work shows social insurance paid by another credit code than the contractor's: one violation
    per contract, person and month."""
    found = []
    for entry, contract in _work_list():
        member = entry.staff
        own_code = contract.contractor.credit_code
        months = db.session.scalars(select(StaffEmployment).where(
            StaffEmployment.staff_id == member.id, StaffEmployment.insured_by_credit_code != "",
            StaffEmployment.insured_by_credit_code != own_code).order_by(StaffEmployment.month)).all()
        for employment in months:
            start = max(employment.month, entry.from_on)
            end = _earliest(last_day(employment.month), entry.until_on, today)
            if start > end:
                continue
            insurer = db.session.scalars(select(Contractor).where(
                Contractor.credit_code == employment.insured_by_credit_code)).first()
            evidence = {**_person_facts(member, contract), "month": employment.month.strftime("%Y-%m"),
                        "insured_by_credit_code": employment.insured_by_credit_code,
                        "contractor_credit_code": own_code,
                        "insured_by_name": insurer.name if insurer else None,
                        "work_list": _span(entry.from_on, entry.until_on)}
            with record_locale():
                summary = _("The social insurance of %(person)s (%(id)s) for %(month)s was paid by %(code)s, "
                            "not by %(own)s.", person=member.name, id=member.id_number_masked,
                            month=evidence["month"], code=employment.insured_by_credit_code,
                            own=contract.contractor.name)
            found.append(record_violation(
                "insured_elsewhere", contract_id=contract.id, staff_id=member.id, occurred_on=start,
                evidence=evidence, summary=summary,
                dedupe_key=f"insured_elsewhere:{contract.id}:{member.id}:{evidence['month']}"))
    return found


def _first_day_off_roster(member, contract, start, end):
    """The first day in [start, end] when ``member`` is not on the contract's contractor's
    roster, with the reason, or (None, None)."""
    if member.contractor_id != contract.contractor_id:
        return start, "never"
    if member.joined_on > start:
        return start, "not_yet"
    if member.left_on is not None and member.left_on < end:
        return member.left_on + timedelta(days=1), "left"
    return None, None


def detect_not_on_roster(today):
    """A worker on a contract's work list on a day when they are not on the contractor's roster
    (they left it, had not joined yet, or were never on it): one violation per contract, person
    and first such day."""
    found = []
    for entry, contract in _work_list():
        member = entry.staff
        end = _earliest(entry.until_on, today)
        if entry.from_on > end:
            continue
        day, reason = _first_day_off_roster(member, contract, entry.from_on, end)
        if day is None:
            continue
        evidence = {**_person_facts(member, contract), "roster_contractor": _organisation(member.contractor),
                    "work_list": _span(entry.from_on, entry.until_on), "first_day_off_roster": day,
                    "reason": reason}
        with record_locale():
            summary = _("%(person)s (%(id)s) is on the work list of contract %(number)s on %(day)s but not on "
                        "the active roster of %(own)s that day.", person=member.name, id=member.id_number_masked,
                        number=contract.number, day=day.isoformat(), own=contract.contractor.name)
        found.append(record_violation(
            "not_on_roster", contract_id=contract.id, staff_id=member.id, occurred_on=day,
            evidence=evidence, summary=summary,
            dedupe_key=f"not_on_roster:{contract.id}:{member.id}:{day.isoformat()}"))
    return found


DETECTORS = (("two_rosters", detect_two_rosters), ("insured_elsewhere", detect_insured_elsewhere),
             ("not_on_roster", detect_not_on_roster))


def detect_all(today, progress=None):
    """Run every detector for the current bureau; returns {kind: violations found (new or known)}."""
    results = {}
    for done, (kind, detector) in enumerate(DETECTORS, start=1):
        results[kind] = detector(today)
        if progress is not None:
            progress(done * 100 // len(DETECTORS), kind)
    return results
