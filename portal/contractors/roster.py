"""The staff roster (人员名册, docs/DOMAIN.md §4): people added one by one or imported from Excel,
identified platform-wide by a keyed hash of their ID number so that a person is on one active
roster at a time; the number itself is stored only encrypted and shown only masked. Monthly
employment evidence per person."""
import json
from datetime import date

from cryptography.fernet import InvalidToken
from flask_babel import gettext as _, ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.contractors.models import StaffEmployment, StaffMember
from portal.contractors.services import visible_to
from portal.core import crypto
from portal.core.errors import DomainError, NotFound
from portal.core.identity import InvalidIdentifier, validate_credit_code, validate_id_number
from portal.extensions import db
from portal.files.services import DOCUMENT_TYPES, MB, store_upload

PREVIEW_LIFETIME = 3600  # seconds a roster preview may be confirmed


def _on_roster_message(own):
    if own:
        return _("This person is already on your active roster.")
    # Nothing about the other organisation: the person's employer is not this contractor's business.
    return _("This person is already on an active staff roster on the platform; they must leave it first.")


def active_entry(id_number_hashes):
    """The active roster entry of a person anywhere on the platform, or None (``id_number_hashes``:
    the person's keyed hashes under every configured key, core/crypto.py keyed_hashes)."""
    return db.session.execute(
        select(StaffMember).where(StaffMember.id_number_hash.in_(id_number_hashes), StaffMember.left_on.is_(None))
    ).scalar_one_or_none()


def _checked_id_number(value):
    try:
        return validate_id_number(value)
    except InvalidIdentifier as exc:
        raise DomainError(exc.message, {"id_number": [exc.message]}) from None


def _new_member(contractor, *, name, number, phone, qualification, joined_on, user_id=None):
    return StaffMember(contractor_id=contractor.id, name=name, id_number_encrypted=crypto.encrypt(number),
                       id_number_hash=crypto.keyed_hash(number), id_number_masked=crypto.mask_id_number(number),
                       phone=phone, qualification=qualification, joined_on=joined_on, user_id=user_id)


def _flush_roster(members, contractor):
    """Write new roster entries inside a savepoint: the partial unique index (one active entry per
    person) is the last wall behind the service check, and its IntegrityError becomes a message."""
    try:
        with db.session.begin_nested():
            db.session.add_all(members)
            db.session.flush()
    except IntegrityError:
        message = _on_roster_message(own=False)
        raise DomainError(message, {"id_number": [message]}) from None


def add_staff(contractor, *, name, id_number, phone="", qualification="", joined_on, user_id=None):
    """Put one person on the contractor's roster. The ID number must be valid (the message names
    the wrong part) and the person on no active roster anywhere on the platform."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the person's name."), {"name": [_("Give the person's name.")]})
    if not isinstance(joined_on, date):
        raise DomainError(_("Give the date the person joined."), {"joined_on": [_("Give the date the person joined.")]})
    number = _checked_id_number(id_number)
    existing = active_entry(crypto.keyed_hashes(number))
    if existing is not None:
        message = _on_roster_message(own=existing.contractor_id == contractor.id)
        raise DomainError(message, {"id_number": [message]})
    member = _new_member(contractor, name=name, number=number, phone=(phone or "").strip(),
                         qualification=(qualification or "").strip(), joined_on=joined_on, user_id=user_id)
    _flush_roster([member], contractor)
    return member


def end_staff(member, left_on):
    """Take a person off the roster from ``left_on`` (not before they joined); they may then join
    another roster. An entry that has ended stays as history."""
    if member.left_on is not None:
        raise DomainError(_("This person has already left the roster."))
    if not isinstance(left_on, date) or left_on < member.joined_on:
        message = _("The leaving date cannot be before the joining date.")
        raise DomainError(message, {"left_on": [message]})
    member.left_on = left_on
    db.session.flush()


def roster(contractor_id, include_former=False):
    """A contractor's roster, active people first."""
    stmt = select(StaffMember).where(StaffMember.contractor_id == contractor_id)
    if not include_former:
        stmt = stmt.where(StaffMember.left_on.is_(None))
    return stmt.order_by(StaffMember.left_on.is_not(None), StaffMember.name, StaffMember.id)


def staff_for(staff_id, user):
    """A roster entry of a contractor this person may see, or NotFound."""
    member = db.session.get(StaffMember, staff_id)
    if member is None or not visible_to(member.contractor, user):
        raise NotFound(_("No such person."))
    return member


def staff_to_edit(staff_id, user):
    """A roster entry of the manager's own contractor, or NotFound."""
    member = staff_for(staff_id, user)
    if not user.can("contractor.manage_own") or member.contractor_id != user.contractor_id:
        raise NotFound(_("No such person."))
    return member


# --- import ---------------------------------------------------------------------------------

def check_rows(contractor, rows):
    """Validate roster rows ``[(row_number, {name, id_number, phone, qualification, joined_on}), …]``
    as a whole: every bad row is reported with its spreadsheet row number and reasons (missing name,
    bad ID number, bad date, the same person twice in the file, a person already on an active
    roster). Returns ``(good, errors)``; good rows carry the normalised number."""
    good, errors, seen = [], [], {}
    for number, raw in rows:
        reasons, clean = [], {"row": number}
        clean["name"] = str(raw.get("name") or "").strip()
        if not clean["name"]:
            reasons.append(_("The name is missing."))
        elif len(clean["name"]) > 64:
            reasons.append(_("The name is longer than 64 characters."))
        id_value = raw.get("id_number")
        if isinstance(id_value, float):
            reasons.append(_("The ID number was stored as a number and lost digits; format the column as text."))
        else:
            try:
                clean["id_number"] = validate_id_number(str(id_value or ""))
            except InvalidIdentifier as exc:
                reasons.append(exc.message)
        joined = raw.get("joined_on")
        if hasattr(joined, "date") and callable(joined.date):
            joined = joined.date()
        if isinstance(joined, str):
            try:
                joined = date.fromisoformat(joined.strip().replace("/", "-"))
            except ValueError:
                joined = None
        if not isinstance(joined, date):
            reasons.append(_("The joining date is missing or not a date (YYYY-MM-DD)."))
        else:
            clean["joined_on"] = joined.isoformat()
        phone = raw.get("phone")
        clean["phone"] = (str(int(phone)) if isinstance(phone, (int, float)) else str(phone or "")).strip()[:32]
        clean["qualification"] = str(raw.get("qualification") or "").strip()[:120]
        if "id_number" in clean:
            clean["hash"] = crypto.keyed_hash(clean["id_number"])
            if clean["hash"] in seen:
                reasons.append(_("The same person as row %(row)s.", row=seen[clean["hash"]]))
            else:
                seen[clean["hash"]] = number
        (errors.append((number, reasons)) if reasons else good.append(clean))
    if seen:  # matched under any configured key (a PORTAL_DATA_KEY rotation), named by the first key's hash
        aliases = crypto.hash_aliases(clean["id_number"] for clean in good if "id_number" in clean)
        taken = {aliases[digest]: contractor_id for digest, contractor_id in db.session.execute(
            select(StaffMember.id_number_hash, StaffMember.contractor_id)
            .where(StaffMember.id_number_hash.in_(list(aliases)), StaffMember.left_on.is_(None))).all()}
        by_row, still_good = dict(errors), []
        for clean in good:
            if clean["hash"] in taken:
                by_row[clean["row"]] = [_on_roster_message(own=taken[clean["hash"]] == contractor.id)]
            else:
                still_good.append(clean)
        good, errors = still_good, sorted(by_row.items())
    return good, errors


def seal_preview(contractor, user, good):
    """The checked rows, encrypted for the confirmation form: the page carries no ID number in
    clear, and the token is bound to the contractor and the person, and expires."""
    payload = {"c": contractor.id, "u": user.id,
               "rows": [{k: r[k] for k in ("row", "name", "id_number", "phone", "qualification", "joined_on")}
                        for r in good]}
    return crypto.encrypt(json.dumps(payload, ensure_ascii=False))


def open_preview(token, contractor, user):
    try:
        payload = json.loads(crypto.decrypt(token or "", ttl=PREVIEW_LIFETIME))
    except (InvalidToken, ValueError):
        raise DomainError(_("The preview has expired or is damaged; upload the file again.")) from None
    if payload.get("c") != contractor.id or payload.get("u") != user.id:
        raise DomainError(_("The preview has expired or is damaged; upload the file again."))
    return [(r["row"], r) for r in payload["rows"]]


def import_rows(contractor, rows):
    """Import a previewed roster in one go: every row is checked again (someone may have joined a
    roster since the preview) and, if any row is bad, nothing is imported. Returns the new entries."""
    good, errors = check_rows(contractor, rows)
    if errors:
        raise RosterFileErrors(errors)
    if not good:
        raise DomainError(_("The file holds no people."))
    members = [_new_member(contractor, name=r["name"], number=r["id_number"], phone=r["phone"],
                           qualification=r["qualification"], joined_on=date.fromisoformat(r["joined_on"]))
               for r in good]
    _flush_roster(members, contractor)
    return members


class RosterFileErrors(DomainError):
    """Bad rows of a roster file: ``rows`` is ``[(row_number, [reasons])]``."""

    def __init__(self, rows):
        super().__init__(ngettext("%(num)s row is wrong; nothing was imported.",
                                  "%(num)s rows are wrong; nothing was imported.", len(rows)))
        self.rows = rows


# --- employment evidence --------------------------------------------------------------------

def record_employment(member, *, month, labour_contract, insured_by_credit_code, evidence_file=None, by):
    """Record one month's employment evidence of a roster member: the labour contract, who paid
    the social insurance (a valid credit code, by default the contractor's), and an optional
    evidence file (PDF, JPEG or PNG, ≤ 20 MB). One record per person and month; a new one replaces it."""
    month = date(month.year, month.month, 1)
    if month < date(member.joined_on.year, member.joined_on.month, 1):
        message = _("The month is before the person joined.")
        raise DomainError(message, {"month": [message]})
    code = (insured_by_credit_code or "").strip() or member.contractor.credit_code
    try:
        code = validate_credit_code(code)
    except InvalidIdentifier as exc:
        raise DomainError(exc.message, {"insured_by_credit_code": [exc.message]}) from None
    record = db.session.execute(
        select(StaffEmployment).where(StaffEmployment.staff_id == member.id, StaffEmployment.month == month)
    ).scalar_one_or_none()
    if record is None:
        record = StaffEmployment(staff_id=member.id, month=month)
        db.session.add(record)
    record.labour_contract = bool(labour_contract)
    record.insured_by_credit_code = code
    if evidence_file is not None and getattr(evidence_file, "filename", None):
        stored = store_upload(evidence_file, allowed=DOCUMENT_TYPES, max_bytes=20 * MB, uploaded_by_id=by.id)
        record.evidence_file_id = stored.id
    db.session.flush()
    return record


def evidence_for(record_id, user):
    """An employment record whose evidence file the person may download, or NotFound."""
    record = db.session.get(StaffEmployment, record_id)
    if record is None or record.evidence_file_id is None or not visible_to(record.staff.contractor, user):
        raise NotFound(_("No such file."))
    return record
