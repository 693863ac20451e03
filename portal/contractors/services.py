"""Contractor onboarding (docs/DOMAIN.md §4): registration with a bureau, documents, the bureau's
decisions, the blacklist (失信名单) and whether a contractor may bid. Who may see a contractor is
decided here too: its own users, and the bureaus where it has a registration. The staff roster
lives in ``roster.py``."""
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select

from portal.core.errors import DomainError, NotFound
from portal.core.identity import InvalidIdentifier, validate_credit_code
from portal.core.lookup import get_or_not_found
from portal.extensions import db
from portal.files.services import DOCUMENT_TYPES, MB, store_upload
from portal.contractors.models import (CONTRACTOR_KINDS, DOCUMENT_KINDS, BlacklistEntry, Contractor,
                                       ContractorDocument, ContractorRegistration)

MAX_DOCUMENT_BYTES = 20 * MB


# --- may this contractor bid? (called by portal/tenders) ----------------------------------

def can_bid(contractor_id, day):
    """A contractor may bid with the current bureau on ``day`` only if its registration there is
    approved and no blacklist entry (失信名单) of any bureau covers that day (start and end
    inclusive: the ban is platform-wide). Returns ``(True, "")`` or ``(False, reason)`` with a reason fit to show."""
    registration = db.session.execute(
        select(ContractorRegistration).where(ContractorRegistration.contractor_id == contractor_id)
    ).scalar_one_or_none()
    if registration is None:
        return False, _("The organisation is not registered with this bureau.")
    if registration.status != "approved":
        reasons = {
            "pending": _("The registration with this bureau is still waiting for approval."),
            "rejected": _("The registration with this bureau was rejected."),
            "suspended": _("The registration with this bureau is suspended."),
        }
        return False, reasons.get(registration.status, _("The registration with this bureau is not approved."))
    entry = ban_on(contractor_id, day)
    if entry is not None:
        return False, _("The organisation is on the blacklist (失信名单) recorded by %(bureau)s from %(start)s to "
                        "%(end)s: it cannot bid with any bureau while the ban lasts (政府采购法 §77).",
                        bureau=entry.bureau.name, start=entry.starts_on.isoformat(), end=entry.ends_on.isoformat())
    return True, ""


def ban_on(contractor_id, day):
    """The blacklist entry, of any bureau, that bans the contractor on ``day`` (the one lasting
    longest), or None."""
    return db.session.execute(
        blacklist(contractor_id).where(BlacklistEntry.starts_on <= day, BlacklistEntry.ends_on >= day)
        .order_by(None).order_by(BlacklistEntry.ends_on.desc(), BlacklistEntry.id.desc()).limit(1)
    ).scalar_one_or_none()


# --- who may see what ------------------------------------------------------------------------

def registration_here(contractor_id):
    """The contractor's registration with the current bureau, or None (the query is tenant-scoped)."""
    return db.session.execute(
        select(ContractorRegistration).where(ContractorRegistration.contractor_id == contractor_id)
    ).scalar_one_or_none()


def visible_to(contractor, user):
    """A contractor is visible to its own manager, and to the bureau roles of the bureau the
    person acts for when the contractor has a registration there. Field workers see nothing here."""
    if contractor is None:
        return False
    if user.can("contractor.manage_own"):
        return user.contractor_id == contractor.id
    if user.can("contractor.read_registered"):
        return registration_here(contractor.id) is not None
    return False


def get_contractor(contractor_id, user):
    """The contractor, or NotFound (never 403) when this person may not see it."""
    contractor = db.session.get(Contractor, contractor_id)
    if not visible_to(contractor, user):
        raise NotFound(_("No such organisation."))
    return contractor


def own_contractor(user):
    """The organisation of a contractor manager, or None while they have not registered one."""
    return db.session.get(Contractor, user.contractor_id) if user.contractor_id else None


def can_edit(contractor, user):
    """A contractor's own manager edits its data; a bureau officer may act on its behalf for a
    contractor registered with the bureau (documents), as when registering it."""
    if user.can("contractor.manage_own"):
        return user.contractor_id == contractor.id
    return user.can("registration.decide") and registration_here(contractor.id) is not None


# --- registration ---------------------------------------------------------------------------

def _checked_code(credit_code):
    try:
        return validate_credit_code(credit_code)
    except InvalidIdentifier as exc:
        raise DomainError(exc.message, {"credit_code": [exc.message]}) from None


def find_by_credit_code(credit_code):
    return db.session.execute(select(Contractor).where(Contractor.credit_code == credit_code)).scalar_one_or_none()


def register_contractor(*, name, credit_code, kind, legal_representative, contact_phone="", address="",
                        manager=None):
    """Register an organisation on the platform: its unified social credit code must be valid (the
    message names the wrong part) and not taken by another organisation. A manager who registers
    it becomes its user; a manager belongs to one organisation only."""
    code = _checked_code(credit_code)
    if kind not in CONTRACTOR_KINDS:
        raise DomainError(_("Choose the kind of organisation."), {"kind": [_("Choose the kind of organisation.")]})
    if manager is not None and manager.contractor_id:
        raise DomainError(_("Your account already belongs to an organisation."))
    if find_by_credit_code(code) is not None:
        message = _("An organisation with this credit code is already registered on the platform.")
        raise DomainError(message, {"credit_code": [message]})
    contractor = Contractor(name=name.strip(), credit_code=code, kind=kind,
                            legal_representative=legal_representative.strip(),
                            contact_phone=(contact_phone or "").strip(), address=(address or "").strip())
    db.session.add(contractor)
    db.session.flush()
    if manager is not None:
        manager.contractor_id = contractor.id
    return contractor


def update_contractor(contractor, *, name, kind, legal_representative, contact_phone="", address=""):
    """Change an organisation's details; the credit code identifies it and never changes."""
    if kind not in CONTRACTOR_KINDS:
        raise DomainError(_("Choose the kind of organisation."), {"kind": [_("Choose the kind of organisation.")]})
    contractor.name, contractor.kind = name.strip(), kind
    contractor.legal_representative = legal_representative.strip()
    contractor.contact_phone, contractor.address = (contact_phone or "").strip(), (address or "").strip()


def apply_to_bureau(contractor):
    """Apply for registration with the current bureau: a new pending registration, or a rejected
    one sent back for a new decision. One registration per contractor and bureau."""
    registration = registration_here(contractor.id)
    if registration is None:
        registration = ContractorRegistration(contractor_id=contractor.id, status="pending")
        db.session.add(registration)
        db.session.flush()
        return registration
    if registration.status == "rejected":
        registration.reapply()
        return registration
    raise DomainError(_("The organisation has already applied to this bureau."))


def register_on_behalf(*, name, credit_code, kind, legal_representative, contact_phone="", address=""):
    """An officer registers a contractor with the bureau on its behalf. An organisation already on
    the platform keeps its details (they are its own); it only gets a registration here.
    Returns ``(contractor, created)``."""
    code = _checked_code(credit_code)
    existing = find_by_credit_code(code)
    if existing is not None:
        apply_to_bureau(existing)
        return existing, False
    contractor = register_contractor(name=name, credit_code=code, kind=kind,
                                     legal_representative=legal_representative,
                                     contact_phone=contact_phone, address=address)
    apply_to_bureau(contractor)
    return contractor, True


def registrations(search="", status=""):
    """The current bureau's registrations, searchable by name or credit code, newest first."""
    stmt = (select(ContractorRegistration).join(Contractor, Contractor.id == ContractorRegistration.contractor_id)
            .order_by(ContractorRegistration.created_at.desc(), ContractorRegistration.id.desc()))
    if search:
        stmt = stmt.where(or_(Contractor.name.contains(search), Contractor.credit_code.contains(search.upper())))
    if status:
        stmt = stmt.where(ContractorRegistration.status == status)
    return stmt


def get_registration(registration_id):
    """A registration of the current bureau, or NotFound."""
    return get_or_not_found(ContractorRegistration, registration_id, _("No such registration."))


def decide(registration, action, by, reason=""):
    """Approve, reject (with a reason), suspend (with a reason) or reinstate a registration; the
    model refuses moves its state does not allow."""
    if action == "approve":
        registration.approve(by)
    elif action == "reject":
        registration.reject(by, reason)
    elif action == "suspend":
        registration.suspend(by, reason)
    elif action == "reinstate":
        registration.reinstate(by)
    else:
        raise DomainError(_("Unknown action."))
    db.session.flush()


# --- documents ------------------------------------------------------------------------------

def add_document(contractor, *, kind, title, file_storage, by):
    """Attach a licence or qualification: PDF, JPEG or PNG judged by content, at most 20 MB."""
    if kind not in DOCUMENT_KINDS:
        raise DomainError(_("Choose the kind of document."), {"kind": [_("Choose the kind of document.")]})
    stored = store_upload(file_storage, allowed=DOCUMENT_TYPES, max_bytes=MAX_DOCUMENT_BYTES, uploaded_by_id=by.id)
    document = ContractorDocument(contractor_id=contractor.id, kind=kind, title=(title or "").strip(),
                                  file_id=stored.id)
    db.session.add(document)
    db.session.flush()
    return document


def document_for(document_id, user):
    """A document the person may download (the contractor's own users and the bureau roles of a
    bureau where it is registered), or NotFound for anyone else."""
    document = db.session.get(ContractorDocument, document_id)
    if document is None or not visible_to(document.contractor, user):
        raise NotFound(_("No such document."))
    return document


# --- blacklist ------------------------------------------------------------------------------

BAN_YEARS = (1, 3)  # 政府采购法 §77: banned from government procurement for one to three years


def _years_later(day, years):
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def ban_end_bounds(starts_on):
    """The earliest and latest lawful last day of a ban starting on ``starts_on``: one year and
    three years of days, the start day counted (2026-12-10 → 2027-12-09 … 2029-12-09)."""
    shortest, longest = BAN_YEARS
    return (_years_later(starts_on, shortest) - timedelta(days=1),
            _years_later(starts_on, longest) - timedelta(days=1))


def add_blacklist_entry(contractor, *, reason, starts_on, ends_on, by):
    """Record a 失信名单 entry of the current bureau for a contractor registered here. It has a
    reason and lasts from ``starts_on`` to ``ends_on`` inclusive, for one to three years
    (政府采购法 §77); it bans the contractor from bidding with every bureau of the platform."""
    if registration_here(contractor.id) is None:
        raise NotFound(_("No such organisation."))
    if not (reason or "").strip():
        raise DomainError(_("Give the reason."), {"reason": [_("Give the reason.")]})
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise DomainError(_("Give the start and end dates."))
    if ends_on < starts_on:
        message = _("The end date cannot be before the start date.")
        raise DomainError(message, {"ends_on": [message]})
    earliest, latest = ban_end_bounds(starts_on)
    if not earliest <= ends_on <= latest:
        message = _("A ban lasts one to three years (政府采购法 §77): starting on %(start)s it ends between "
                    "%(earliest)s and %(latest)s.", start=starts_on.isoformat(), earliest=earliest.isoformat(),
                    latest=latest.isoformat())
        raise DomainError(message, {"ends_on": [message]})
    entry = BlacklistEntry(contractor_id=contractor.id, reason=reason.strip(), starts_on=starts_on,
                           ends_on=ends_on, recorded_by_id=by.id if by else None)
    db.session.add(entry)
    db.session.flush()
    return entry


def blacklist(contractor_id=None):
    """Every bureau's blacklist entries (the ban is platform-wide and every bureau sees it),
    latest end date first. Past the tenant filter on purpose: reading only."""
    stmt = (select(BlacklistEntry).order_by(BlacklistEntry.ends_on.desc(), BlacklistEntry.id.desc())
            .execution_options(skip_tenant_scope=True))
    if contractor_id is not None:
        stmt = stmt.where(BlacklistEntry.contractor_id == contractor_id)
    return stmt
