"""Resolving the exceptions the verification rules raise (docs/DOMAIN.md §6): the contractor's manager
answers an open exception of its own visit with a reason code and evidence; a supervisor accepts
it (the visit counts once nothing blocking is left open) or rejects it (the visit is not paid).
V01 (work by someone on no roster: subcontracting, §7) is never accepted: its answer is recorded,
and the supervisor confirms the violation or re-checks a corrected roster (visits/unlisted.py).

Every change is made on ORM objects, one row at a time, so the audit trail records each of them;
the request (or the caller) commits. Who may see what: bureau readers see the bureau's exceptions
(the tenant scope narrows every select), a contractor manager only those of its own
organisation's visits; anything else is simply not found."""
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, select

from portal.accounts.models import User
from portal.accounts.permissions import reach
from portal.beneficiaries.models import Beneficiary
from portal.contractors.models import StaffMember
from portal.contracts.models import Contract
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import local_midnight_utc, utcnow
from portal.extensions import db
from portal.files.services import DOCUMENT_TYPES, MB, store_upload
from portal.visits.models import EXCEPTION_CODES, EXCEPTION_STATUSES, Visit, VisitException
from portal.visits.signals import unlisted_worker_confirmed

# Why a contractor says an exception is not a breach (the fixed list of its answer form).
RESPONSE_REASONS = {
    "gps_drift": _l("GPS drift or poor signal"),
    "device_clock": _l("Wrong clock on the device"),
    "family_request": _l("At the family's request"),
    "hospital_escort": _l("Escorting the person to hospital"),
    "data_entry_error": _l("Data entry error"),
    "roster_error": _l("The roster was wrong and has been corrected with employment evidence"),
    "other": _l("Other"),
}
DECIDABLE = ("open", "answered")  # a supervisor may decide without waiting for an answer
BLOCKING = ("open", "answered")   # a non-warning exception in these keeps a visit from counting
EVIDENCE_MAX_BYTES = 10 * MB
BULK_LIMIT = 200
NEVER_ACCEPTED = ("V01",)  # work by someone on no roster is never paid, whatever the answer (§7, §8)


def visible_exceptions(user):
    """The exceptions ``user`` may see in the current bureau, as a select (newest visit first)."""
    stmt = (select(VisitException).join(Visit, Visit.id == VisitException.visit_id)
            .order_by(Visit.check_in_at.desc(), VisitException.id.desc()))
    organisation = reach(user).organisation_id
    if organisation:
        return stmt.where(Visit.contractor_id == organisation)
    if user.can("exception.read_all"):
        return stmt
    return stmt.where(false())


def name_condition(text):
    """A person's name matches part of a name, or a masked name (张*丰: each * one hidden
    character), so the masked names contractors see can be typed back in."""
    text = (text or "").strip()
    if "*" in text:
        return Beneficiary.name.like(query.like_escape(text).replace("*", "_"), escape="\\")
    return Beneficiary.name.like(query.like_pattern(text), escape="\\")


def filtered_exceptions(user, *, code="", status="", staff_id=None, worker_user_id=None, beneficiary="",
                        contract_id=None, date_from=None, date_to=None, include_warnings=True):
    """``visible_exceptions`` narrowed by the queue's filters; dates are the visit's local day
    (both ends included). Unknown codes and statuses are ignored."""
    stmt = visible_exceptions(user)
    if code in EXCEPTION_CODES:
        stmt = stmt.where(VisitException.code == code)
    if status in EXCEPTION_STATUSES:
        stmt = stmt.where(VisitException.status == status)
    if staff_id:
        stmt = stmt.where(Visit.staff_id == staff_id)
    if worker_user_id:
        stmt = stmt.where(Visit.worker_user_id == worker_user_id)
    if contract_id:
        stmt = stmt.where(Visit.contract_id == contract_id)
    if date_from:
        stmt = stmt.where(Visit.check_in_at >= local_midnight_utc(date_from))
    if date_to:
        stmt = stmt.where(Visit.check_in_at < local_midnight_utc(date_to + timedelta(days=1)))
    if (beneficiary or "").strip():
        stmt = stmt.where(Visit.beneficiary_id.in_(select(Beneficiary.id).where(name_condition(beneficiary))))
    if not include_warnings:
        stmt = stmt.where(VisitException.warning.is_(False))
    return stmt


def get_exception(exception_id, user):
    """One exception ``user`` may see, or NotFound (another bureau's or another contractor's, or an
    id no integer column can hold)."""
    found = None
    if query.is_id(exception_id):
        found = db.session.scalars(visible_exceptions(user).where(VisitException.id == exception_id)).first()
    if found is None:
        raise NotFound(_("No such exception."))
    return found


def respond(exception, *, reason, text, user, file_storage=None, now=None):
    """The contractor's answer to an open exception of its own visit: a reason code from
    RESPONSE_REASONS, an explanation (required with the reason "other"), and optionally a PDF, JPEG
    or PNG as evidence (judged by its content). The exception becomes ``answered``; the supervisor
    decides next. An exception that is no longer open is a Conflict."""
    if not user.can("exception.answer") or exception.visit.contractor_id != user.contractor_id:
        raise NotFound(_("No such exception."))
    if exception.status != "open":
        raise Conflict(_("Only an open exception can be answered."))
    errors = {}
    if reason not in RESPONSE_REASONS:
        errors["reason"] = [_("Choose a reason from the list.")]
    if reason == "other" and not (text or "").strip():
        errors["text"] = [_("Explain what happened.")]
    if errors:
        raise DomainError(_("The answer is incomplete."), errors)
    if file_storage is not None and getattr(file_storage, "filename", ""):
        stored = store_upload(file_storage, allowed=DOCUMENT_TYPES, max_bytes=EVIDENCE_MAX_BYTES,
                              uploaded_by_id=user.id)
        exception.evidence_file_id = stored.id
    exception.response_reason = reason
    exception.response_text = (text or "").strip()[:4000]
    exception.responded_by_id = user.id
    exception.responded_at = now or utcnow()
    exception.status = "answered"
    db.session.flush()
    return exception


def _check_decidable(exception, by):
    if not by.can("exception.decide"):
        raise NotFound(_("No such exception."))
    if exception.status not in DECIDABLE:
        raise Conflict(_("This exception has already been decided."))


def _settle_visit(visit, now):
    """After an acceptance: the visit counts (verified) when no blocking exception is left open
    or answered, unless a rejection already decided it."""
    if visit.status == "rejected":
        return
    blocking = db.session.execute(select(VisitException.id).where(
        VisitException.visit_id == visit.id, VisitException.warning.is_(False),
        VisitException.status.in_(BLOCKING)).limit(1)).first()
    if blocking is None:
        visit.status = "verified"
        visit.verified_at = now


def refuse_never_accepted(exception):
    """V01 cannot be accepted into a payable visit (Conflict, with what the supervisor may do)."""
    if exception.code in NEVER_ACCEPTED:
        raise Conflict(_("A V01 finding (work by someone on no roster of the contractor: subcontracting) can never "
                         "be accepted. Confirm the violation, or, if the roster itself was wrong and has been "
                         "corrected with employment evidence, re-check the roster."))


def accept(exception, by, note="", now=None):
    """A supervisor accepts the contractor's explanation (or the exception on its own facts):
    the exception is resolved, and the visit is verified once no other open or answered
    non-warning exception remains. V01 is refused (``refuse_never_accepted``)."""
    _check_decidable(exception, by)
    refuse_never_accepted(exception)
    now = now or utcnow()
    exception.status = "accepted"
    exception.decided_by_id = by.id
    exception.decided_at = now
    exception.decision_note = (note or "").strip()[:2000]
    db.session.flush()
    _settle_visit(exception.visit, now)
    db.session.flush()
    return exception


def reject(exception, by, note="", now=None):
    """A supervisor rejects the exception: the visit is rejected and will not be paid. For V01
    this confirms the violation: the subcontracting violation recorded with it is confirmed too
    (the signal ``unlisted_worker_confirmed``, received by portal/violations/receivers.py)."""
    _check_decidable(exception, by)
    now = now or utcnow()
    exception.status = "rejected"
    exception.decided_by_id = by.id
    exception.decided_at = now
    exception.decision_note = (note or "").strip()[:2000]
    exception.visit.status = "rejected"
    exception.visit.verified_at = None
    if exception.code == "V01":
        unlisted_worker_confirmed.send(exception, by=by)
    db.session.flush()
    return exception


DECIDE = {"accept": accept, "reject": reject}


def selected_exceptions(ids, user, action=None):
    """The decidable exceptions among ``ids`` that ``user`` may see (others are left out); for an
    acceptance, V01 is left out too (it is never accepted)."""
    ids = sorted({chosen for chosen in map(query.chosen_id, map(str, ids)) if chosen is not None})[:BULK_LIMIT]
    if not ids:
        return []
    stmt = visible_exceptions(user).where(VisitException.id.in_(ids), VisitException.status.in_(DECIDABLE))
    if action == "accept":
        stmt = stmt.where(VisitException.code.not_in(NEVER_ACCEPTED))
    return db.session.scalars(stmt).all()


def bulk_decide(ids, action, by, note="", now=None):
    """Accept or reject every selected exception in one transaction (the caller commits), each
    one changed and audited like a single decision. Returns the exceptions decided; nothing is
    changed when one of them refuses (the caller rolls back)."""
    if action not in DECIDE:
        raise DomainError(_("Unknown decision."))
    if not by.can("exception.decide"):
        raise NotFound(_("No such exception."))
    found = selected_exceptions(ids, by, action)
    if not found:
        raise DomainError(_("Select at least one open or answered exception."))
    now = now or utcnow()
    for exception in found:
        DECIDE[action](exception, by, note, now)
    return found


def parse_day(text):
    """YYYY-MM-DD -> date, or None (a filter never fails on a bad value)."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def worker_choices(user):
    """(user id, name) of the workers who appear in the exceptions ``user`` may see."""
    visible = visible_exceptions(user).order_by(None).with_only_columns(Visit.worker_user_id).distinct().subquery()
    rows = db.session.execute(select(User.id, User.display_name, StaffMember.name)
                              .outerjoin(StaffMember, StaffMember.user_id == User.id)
                              .where(User.id.in_(select(visible.c.worker_user_id)))
                              .order_by(User.id)).all()
    names = {}
    for user_id, display_name, staff_name in rows:
        names.setdefault(user_id, staff_name or display_name)
    return sorted(names.items(), key=lambda pair: (pair[1] or "", pair[0]))


def contract_choices(user):
    """The contracts that appear in the exceptions ``user`` may see."""
    visible = visible_exceptions(user).order_by(None).with_only_columns(Visit.contract_id).distinct().subquery()
    return db.session.scalars(select(Contract).where(Contract.id.in_(select(visible.c.contract_id)))
                              .order_by(Contract.number)).all()


def open_count(user):
    """How many exceptions wait for ``user``: open ones for a manager, answered ones for a supervisor."""
    status = "open" if user.can("exception.answer") else "answered"
    stmt = visible_exceptions(user).order_by(None).where(VisitException.status == status)
    return db.session.execute(stmt.with_only_columns(func.count(VisitException.id))).scalar_one()

