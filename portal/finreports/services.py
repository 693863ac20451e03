"""Writing, submitting and reviewing financial reports (docs/DOMAIN.md §7 "Financial reports").

Rules:

- the contractor's manager (``finreport.submit``) reports on a contract of its own organisation that
  is in delivery (Contract.in_delivery), for a period "YYYY-MM" (a month the contract runs in) or
  "YYYY" (a year it runs in); one report per contract and period;
- a period is reported once it has reached its last day: a month report may be written from the
  month's last day on (Beijing time), a year report from 31 December;
- amounts per category (CATEGORIES) are typed in yuan and kept in integer fen
  (core/money.parse_yuan), never negative; the total is their sum;
- attachments are PDF, JPEG or PNG judged by their content (portal/files), at most
  MAX_ATTACHMENTS of at most MAX_ATTACHMENT_BYTES each;
- a draft or returned report is edited and submitted (at least one attachment, a total above
  zero); finance (``finreport.review``) accepts it or returns it with a comment, once per
  submission (the row is locked: a second decision is a 409); the settled amount of the period
  (summary.settled_fen) is kept with the decision, and each decision is added to the report's
  ``history`` (so an earlier return's comment stays readable after a later acceptance);
- ``due_on`` is the last day of the period + the tenant's ``financial_report_due_days``."""
import re
from datetime import date, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.permissions import reached
from portal.contracts.models import Contract
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.money import parse_yuan
from portal.core.months import last_day, parse_month
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.files.services import DOCUMENT_TYPES, MB, store_upload
from portal.finreports.models import CATEGORIES, FinancialReport, FinancialReportAttachment
from portal.finreports.summary import settled_fen
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.settings import int_setting

EDITABLE = ("draft", "returned")
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 20 * MB
NOTE_LIMIT = 2000
COMMENT_LIMIT = 2000
MAX_FEN = 10**13  # 100 billion yuan: beyond any contract, inside a BIGINT
YEAR_RE = re.compile(r"^(20[0-9]{2})\Z")


def due_days(tenant=None):
    """The tenant's ``financial_report_due_days`` (15 by default)."""
    return int_setting(tenant or db.session.get(Tenant, current_tenant_id()), "financial_report_due_days", 1, 90)


def period_bounds(period):
    """(first day, last day) of ``period`` ("YYYY-MM" or "YYYY"); DomainError naming ``period``."""
    text = (period or "").strip() if isinstance(period, str) else ""
    if YEAR_RE.match(text):
        return date(int(text), 1, 1), date(int(text), 12, 31)
    try:
        first = parse_month(text)
    except DomainError:
        message = _("Give the period as YYYY-MM for a month or YYYY for a year.")
        raise DomainError(message, {"period": [message]}) from None
    return first, last_day(first)


def due_on(period, tenant=None):
    """The last day the report of ``period`` is expected: its last day + financial_report_due_days."""
    return period_bounds(period)[1] + timedelta(days=due_days(tenant))


def reports_visible_to(user):
    """A select of the reports ``user`` reads: the bureau's readers all, a manager its
    organisation's, anyone else none."""
    return reached(select(FinancialReport), user, own=FinancialReport.created_by_id,
                   organisation=FinancialReport.contractor_id, read_all="finreport.read_all")


def get_report(report_id, user):
    """The report ``report_id`` if ``user`` may read it, else NotFound (another bureau's too)."""
    return query.one_visible(reports_visible_to(user), FinancialReport.id, report_id, _("No such financial report."))


def reportable_contracts(user):
    """The contracts in delivery of the manager's organisation (none for anyone else)."""
    if not user.can("finreport.submit") or user.contractor_id is None:
        return []
    return db.session.execute(select(Contract).where(
        Contract.contractor_id == user.contractor_id, Contract.in_delivery).order_by(Contract.number)).scalars().all()


def parse_amounts(raw):
    """{category: fen} from {category: yuan text} (empty is 0); DomainError naming each bad field
    ``amount_<category>``."""
    amounts, errors = {}, {}
    for category in CATEGORIES:
        text = str((raw or {}).get(category) or "").strip()
        try:
            fen = parse_yuan(text) if text else 0
        except ValueError:
            errors[f"amount_{category}"] = [_("Give an amount in yuan, e.g. 1,234.56.")]
            continue
        if fen < 0 or fen >= MAX_FEN:
            errors[f"amount_{category}"] = [_("Give an amount of zero or more.") if fen < 0
                                            else _("The amount is too large.")]
            continue
        amounts[category] = fen
    if errors:
        raise DomainError(_("The amounts are not complete."), errors)
    return amounts


def _note(note):
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise DomainError(_("At most %(n)s characters.", n=NOTE_LIMIT), {"note": [_("At most %(n)s characters.", n=NOTE_LIMIT)]})
    return note


def _check_period(contract, period, today):
    first, last = period_bounds(period)
    if last < contract.starts_on or first > contract.ends_on:
        message = _("The contract does not run in this period.")
        raise DomainError(message, {"period": [message]})
    if today < last:
        message = _("A period is reported from its last day on (%(day)s).", day=last.isoformat())
        raise DomainError(message, {"period": [message]})


def create(user, contract_id, period, raw_amounts, note, today=None):
    """A draft report of the manager's contract for ``period`` (see the module's rules)."""
    today = today or local_today()
    contract = next((c for c in reportable_contracts(user) if c.id == contract_id), None)
    if contract is None:
        message = _("Choose one of your organisation's contracts.")
        raise DomainError(message, {"contract": [message]})
    period = (period or "").strip()
    _check_period(contract, period, today)
    amounts, note = parse_amounts(raw_amounts), _note(note)
    if db.session.scalar(select(FinancialReport.id).where(FinancialReport.contract_id == contract.id,
                                                          FinancialReport.period == period)) is not None:
        message = _("This contract already has a report for this period.")
        raise Conflict(message, {"period": [message]})
    report = FinancialReport(contract_id=contract.id, contractor_id=contract.contractor_id, period=period,
                             status="draft", amounts=amounts, total_fen=sum(amounts.values()), note=note,
                             due_on=due_on(period), created_by_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:  # the same report written at the same moment in another tab
        message = _("This contract already has a report for this period.")
        raise Conflict(message, {"period": [message]}) from None
    return report


def _locked(report):
    """``report`` re-read under a row lock (two clicks at once: the second waits, then sees the first)."""
    return db.session.execute(select(FinancialReport).where(FinancialReport.id == report.id)
                              .with_for_update().execution_options(populate_existing=True)).scalar_one()


def _editable(report, user):
    if not user.can("finreport.submit", report):
        raise NotFound(_("No such financial report."))
    if report.status not in EDITABLE:
        raise Conflict(_("Only a draft or returned report can be changed."))


def update(report, user, raw_amounts, note):
    """New amounts and note of a draft or returned report."""
    report = _locked(report)
    _editable(report, user)
    amounts, note = parse_amounts(raw_amounts), _note(note)
    report.amounts, report.total_fen, report.note = amounts, sum(amounts.values()), note
    db.session.flush()
    return report


def attach(report, user, file_storage):
    """Store an attachment (PDF/JPEG/PNG by content) of a draft or returned report."""
    report = _locked(report)
    _editable(report, user)
    if len(report.attachments) >= MAX_ATTACHMENTS:
        message = _("A report has at most %(n)s attachments.", n=MAX_ATTACHMENTS)
        raise DomainError(message, {"file": [message]})
    try:
        stored = store_upload(file_storage, allowed=DOCUMENT_TYPES, max_bytes=MAX_ATTACHMENT_BYTES,
                              uploaded_by_id=user.id)
    except DomainError as exc:
        raise DomainError(exc.message, {"file": [exc.message]}) from None
    attachment = FinancialReportAttachment(report_id=report.id, file_id=stored.id, uploaded_by_id=user.id)
    db.session.add(attachment)
    db.session.flush()
    db.session.refresh(report, ["attachments"])
    return attachment


def remove_attachment(report, user, attachment_id):
    """Take an attachment off a draft or returned report."""
    report = _locked(report)
    _editable(report, user)
    attachment = next((a for a in report.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound(_("No such attachment."))
    db.session.delete(attachment)
    db.session.flush()
    db.session.refresh(report, ["attachments"])


def get_attachment(report, attachment_id):
    attachment = next((a for a in report.attachments if a.id == attachment_id), None) \
        if query.is_id(attachment_id) else None
    if attachment is None:
        raise NotFound(_("No such attachment."))
    return attachment


def submit(report, user, now):
    """Draft or returned → submitted: needs at least one attachment and a total above zero."""
    report = _locked(report)
    _editable(report, user)
    if not report.attachments:
        raise DomainError(_("Attach at least one document (PDF or image) before submitting."))
    if report.total_fen <= 0:
        raise DomainError(_("A report with a total of zero cannot be submitted."))
    report.status, report.submitted_by_id, report.submitted_at = "submitted", user.id, now
    db.session.flush()
    return report


DECISIONS = ("accept", "return")


def review(report, user, decision, comment, now):
    """Finance accepts a submitted report, or returns it with a (required) comment; the settled
    amount of its period is kept with the decision. One decision per submission: 409 after."""
    if not user.can("finreport.review"):
        raise NotFound(_("No such financial report."))
    report = _locked(report)
    if report.status != "submitted":
        raise Conflict(_("This report has already been decided, or is not submitted."))
    comment = (comment or "").strip()
    if decision not in DECISIONS:
        raise DomainError(_("Accept or return the report."), {"decision": [_("Accept or return the report.")]})
    if decision == "return" and not comment:
        message = _("Say what must be corrected.")
        raise DomainError(message, {"comment": [message]})
    if len(comment) > COMMENT_LIMIT:
        raise DomainError(_("At most %(n)s characters.", n=COMMENT_LIMIT),
                          {"comment": [_("At most %(n)s characters.", n=COMMENT_LIMIT)]})
    report.settled_fen = settled_fen(report.contract_id, report.period)
    report.status = "accepted" if decision == "accept" else "returned"
    report.reviewed_by_id, report.reviewed_at, report.review_comment = user.id, now, comment
    report.history = [*(report.history or []), {
        "decision": decision, "comment": comment, "by_id": user.id,
        "at": now.astimezone(timezone.utc).isoformat(), "settled_fen": report.settled_fen,
        "total_fen": report.total_fen}]
    db.session.flush()
    return report


def figures(report):
    """[(category, reported fen)], total, settled (kept at review, else today's), difference
    (reported − settled, signed) of ``report``."""
    settled = report.settled_fen if report.settled_fen is not None else settled_fen(report.contract_id, report.period)
    rows = [(category, int((report.amounts or {}).get(category, 0))) for category in CATEGORIES]
    return {"rows": rows, "total": report.total_fen, "settled": settled, "difference": report.total_fen - settled}
