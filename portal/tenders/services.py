"""Tender rules that span several rows: drafting a tender with its lots, items and criteria,
the moves of its state machine with the bureau's calendar, who may see which tender and the
closing job. The officer's list of what is due and late is dashboard's (portal/dashboard/agenda.py)."""
import logging

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from portal.core.errors import DomainError, NotFound
from portal.core.timeutil import format_local, utcnow
from portal.core.workdays import UnknownCalendarYear
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import deadlines
from portal.tenders.evaluation import evaluation_unopened, open_bids
from portal.tenders.lifecycle import check_lot, check_lot_items_within_budget, check_terms
from portal.tenders.models import (METHODS, SERVICE_UNITS, TENDER_STATUSES, BudgetLine, EvaluationCriterion, Lot,
                                   LotItem, PurchaseIntention, Tender)
from portal.tenders.planning import check_budget_room

log = logging.getLogger(__name__)

TENDER_FIELDS = ("title", "method", "budget_fen", "bid_bond_fen", "price_weight_percent", "buyer_contact",
                 "description", "documents_from", "documents_until", "bid_deadline", "invited_contractor_ids")


# --- who sees what ---------------------------------------------------------------------------

def sees_drafts(user):
    """Bureau staff and auditors see every tender of the bureau; contractors only published ones."""
    return user.can("tender.read_unpublished")


def tenders_query(user, q="", status="", method="", year=None):
    """The tender list for ``user`` with search (number or title) and filters."""
    stmt = select(Tender).order_by(Tender.created_at.desc(), Tender.id.desc())
    if not sees_drafts(user):
        stmt = stmt.where(Tender.notice_published_at.is_not(None))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Tender.title.ilike(like), Tender.number.ilike(like)))
    if status in TENDER_STATUSES:
        stmt = stmt.where(Tender.status == status)
    if method in METHODS:
        stmt = stmt.where(Tender.method == method)
    if year:
        stmt = stmt.where(Tender.budget_line_id.in_(select(BudgetLine.id).where(BudgetLine.year == year)))
    return stmt


def tender_years():
    return [y for (y,) in db.session.execute(select(BudgetLine.year).distinct().order_by(BudgetLine.year.desc()))]


def get_tender(tender_id, user):
    """The tender if ``user`` may see it; an unpublished one is 404 to contractors, as is any
    tender of another bureau (the tenant scope never loads it)."""
    tender = db.session.get(Tender, tender_id)
    if tender is None or (not sees_drafts(user) and not tender.published):
        raise NotFound(_("No such tender."))
    return tender


def get_child(model, child_id, tender):
    """A lot, item or criterion of ``tender`` (404 for anyone else's)."""
    row = db.session.get(model, child_id)
    owner = None if row is None else (row.lot.tender_id if isinstance(row, LotItem) else row.tender_id)
    if owner != tender.id:
        raise NotFound(_("No such record."))
    return row


# --- drafting --------------------------------------------------------------------------------

def next_tender_number(year):
    """GANXIAN-2026-003: the bureau's code, the year, a running number."""
    tenant = db.session.get(Tenant, current_tenant_id())
    prefix = f"{tenant.code.upper()}-{year}-"
    count = db.session.execute(select(func.count()).select_from(Tender).where(Tender.number.like(f"{prefix}%"))).scalar_one()
    while True:
        count += 1
        number = f"{prefix}{count:03d}"
        if not db.session.execute(select(Tender.id).where(Tender.number == number)).first():
            return number


def _apply_tender_fields(tender, data):
    if data.get("intention_id"):
        intention = db.session.get(PurchaseIntention, data["intention_id"])
        if intention is None:
            raise DomainError(_("No such purchase intention."))
        tender.intention = intention
    for name in TENDER_FIELDS:
        if name in data:
            setattr(tender, name, data[name])
    if tender.method not in METHODS:
        raise DomainError(_("Unknown procurement method."))
    check_terms(tender)
    check_budget_room(tender.budget_line, tender.budget_fen, exclude_tender=tender)


def create_tender(data, user):
    """A draft tender on a budget line that has room for its budget."""
    line = db.session.get(BudgetLine, data["budget_line_id"])
    if line is None:
        raise DomainError(_("Choose the budget line that pays for this purchase."))
    number = (data.get("number") or "").strip() or next_tender_number(line.year)
    if db.session.execute(select(Tender.id).where(Tender.number == number)).first():
        raise DomainError(_("Another tender already has the number %(number)s.", number=number))
    tender = Tender(number=number, budget_line=line, status="draft", created_by_id=user.id,
                    invited_contractor_ids=[])
    _apply_tender_fields(tender, data)
    db.session.add(tender)
    db.session.flush()
    return tender


def update_tender(tender, data):
    """Change a tender before its notice; the budget line may change while it has room."""
    tender.ensure_editable()
    if "budget_line_id" in data:
        line = db.session.get(BudgetLine, data["budget_line_id"])
        if line is None:
            raise DomainError(_("Choose the budget line that pays for this purchase."))
        tender.budget_line = line
    _apply_tender_fields(tender, data)
    db.session.flush()
    return tender


def save_lot(tender, lot, *, title, budget_fen, max_price_fen):
    tender.ensure_editable()
    if lot is None:
        number = max((existing.number for existing in tender.lots), default=0) + 1
        lot = Lot(tender=tender, number=number, title=title, budget_fen=budget_fen, max_price_fen=max_price_fen)
        db.session.add(lot)
    else:
        lot.title, lot.budget_fen, lot.max_price_fen = title, budget_fen, max_price_fen
    check_lot(lot)
    db.session.flush()
    return lot


def save_item(lot, item, *, code, name, unit, quantity, max_unit_price_fen, requirements=""):
    """A service item: positive quantity and unit price, a known unit, a code unique in the lot,
    and the lot's items (quantity × maximum unit price) within the lot's budget."""
    lot.tender.ensure_editable()
    if unit not in SERVICE_UNITS:
        raise DomainError(_("Unknown unit."))
    if quantity <= 0 or max_unit_price_fen <= 0:
        raise DomainError(_("The quantity and the maximum unit price must be greater than zero."))
    if any(other.code == code and other is not item for other in lot.items):
        raise DomainError(_("Lot %(number)s already has an item with the code %(code)s.", number=lot.number, code=code))
    check_lot_items_within_budget(lot, [(other.quantity, other.max_unit_price_fen) for other in lot.items
                                        if other is not item] + [(quantity, max_unit_price_fen)])
    if item is None:
        item = LotItem(lot=lot, code=code, name=name, unit=unit, quantity=quantity,
                       max_unit_price_fen=max_unit_price_fen, requirements=requirements)
        db.session.add(item)
    else:
        item.code, item.name, item.unit, item.quantity = code, name, unit, quantity
        item.max_unit_price_fen, item.requirements = max_unit_price_fen, requirements
    db.session.flush()
    return item


def save_criterion(tender, criterion, *, kind, name, max_points):
    tender.ensure_editable()
    if kind not in ("technical", "business"):
        raise DomainError(_("A criterion is technical or business."))
    if not 0 < max_points <= 90:
        raise DomainError(_("A criterion is worth between 1 and 90 points."))
    if criterion is None:
        criterion = EvaluationCriterion(tender=tender, kind=kind, name=name, max_points=max_points)
        db.session.add(criterion)
    else:
        criterion.kind, criterion.name, criterion.max_points = kind, name, max_points
    db.session.flush()
    return criterion


# --- moves of the state machine ----------------------------------------------------------------

def publish_intention(tender, now=None):
    """Publish the tender's purchase intention (the 30-day clock to the notice starts)."""
    tender.publish_intention(now or utcnow(), tenant_calendar())
    db.session.flush()


def publish_notice(tender, now=None):
    """Publish the tender notice once every rule of §3 holds on the bureau's calendar."""
    tender.publish_notice(now or utcnow(), tenant_calendar())
    db.session.flush()


def clarify(tender, body, changes_documents, now=None):
    clarification = tender.clarify(body, changes_documents, now or utcnow(), tenant_calendar())
    db.session.flush()
    return clarification


def clarification_rules(tender):
    """The rule a clarification follows, with this tender's day (the day ``clarify`` uses): a change
    to the documents comes early enough before the bid deadline, or the deadline moves."""
    amount, unit = deadlines.CLARIFICATION_LEADS.get(tender.method, deadlines.CLARIFICATION_LEADS["open_tender"])
    if tender.bid_deadline is None:
        return []
    if amount == 0:
        return [_("No clarification after the bid deadline.")]
    try:
        due = deadlines.clarification_due_on(tender.bid_deadline, tenant_calendar(), tender.method)
    except UnknownCalendarYear as unknown:
        return [unknown.message]
    lead = (ngettext("%(num)s working day", "%(num)s working days", amount) if unit == "working_days"
            else ngettext("%(num)s day", "%(num)s days", amount))
    return [_("A clarification that changes the documents comes at least %(lead)s before the bid deadline "
              "(%(deadline)s): by %(day)s. A later one moves the deadline to %(lead)s after it.",
              lead=lead, deadline=format_local(tender.bid_deadline), day=due.isoformat()),
            _("No clarification after the bid deadline.")]


def cancel(tender, reason):
    tender.cancel(reason)
    db.session.flush()


def close_due_bidding(now=None):
    """Close bidding on every tender of the current bureau whose deadline has passed and open its
    bids (tendering → evaluation; the bids open at the deadline, 87号令 §39, which is the opening
    time recorded), so that after the job no 开标 is left for the officer to do. Also opens a tender
    an earlier version of the job only closed (``evaluation_unopened``). Idempotent: a closed
    tender is no longer ``tendering`` and an opened one is not unopened. The tenders are locked
    and each is opened in its own savepoint: one that fails (say, a year without a holiday
    schedule) is logged by id and left for the next run; the others proceed."""
    now = now or utcnow()
    due = db.session.execute(
        select(Tender).where(or_(Tender.status == "tendering", Tender.status == "evaluation"),
                             Tender.bid_deadline <= now)
        .order_by(Tender.id).with_for_update(of=Tender)
        .execution_options(populate_existing=True)).scalars().all()
    opened = []
    for tender in due:
        if tender.status != "tendering" and not evaluation_unopened(tender):
            continue
        try:
            with db.session.begin_nested():
                open_bids(tender, now)
                tender.opened_at = tender.bid_deadline   # opened at the deadline (87号令 §39)
                db.session.flush()
        except Exception:  # noqa: BLE001 - one tender's failure must not hold up the bureau's others
            log.exception("opening the bids of tender %s failed; left for the next run", tender.id)
        else:
            opened.append(tender.id)
    db.session.flush()
    return opened


def open_bids_now(tender, now=None):
    """The officer's 开标: the tender row is locked and read again first, so an officer's click and
    the hourly job (or two clicks) never open it twice; a second opening is a no-op."""
    tender = db.session.execute(select(Tender).where(Tender.id == tender.id).with_for_update(of=Tender)
                                .execution_options(populate_existing=True)).scalar_one()
    db.session.refresh(tender, ["lots"])
    if tender.status != "evaluation" or evaluation_unopened(tender):
        open_bids(tender, now or utcnow())   # refuses a tender neither tendering nor in evaluation
    return tender


def publication_problems(tender, now=None):
    """What would stop the tender notice going out now (shown before the officer confirms)."""
    now = now or utcnow()
    problems = []
    try:
        tender.check_ready()
        check_budget_room(tender.budget_line, tender.budget_fen, exclude_tender=tender)
    except DomainError as exc:
        problems.append(exc.message)
    intention = tender.intention
    try:
        deadlines.check_timetable(
            tender.method, deadlines.local_date(now), tender.documents_from, tender.documents_until,
            tender.bid_deadline, tenant_calendar(),
            intention_published_on=deadlines.local_date(intention.published_at)
            if intention is not None and intention.published_at else None)
    except DomainError as exc:
        problems.extend([str(m) for m in exc.errors.values()] or [exc.message])
    return problems


def stage_bar_of(tender, now=None):
    """The officer's stage bar of ``tender`` (portal/tenders/stages.py) on the bureau's calendar."""
    from portal.core.timeutil import local_today
    from portal.tenders.models import Award
    from portal.tenders.stages import stage_bar
    now = now or utcnow()
    awards = db.session.execute(select(Award).join(Lot, Award.lot_id == Lot.id).where(Lot.tender_id == tender.id, Award.status == "active")
                                .order_by(Lot.number)).scalars().all()  # a cancelled award is history
    return stage_bar(tender, awards, tenant_calendar(), local_today(now), now)


def timetable_preview(intention_id=None, now=None, offered_intention_ids=()):
    """The earliest lawful dates per method, shown on the tender form before any date is typed:
    from the chosen purchase intention (or one published today with the tender) the notice may
    follow 30 days later; the bid deadline and the document period follow from the method."""
    from portal.core.timeutil import local_today
    from portal.tenders.lifecycle import METHOD_LABELS
    from portal.tenders.stages import creation_preview
    today = local_today(now or utcnow())
    intention = (db.session.execute(select(PurchaseIntention).where(PurchaseIntention.id == intention_id))
                 .scalar_one_or_none() if intention_id else None)
    published = (deadlines.local_date(intention.published_at)
                 if intention is not None and intention.published_at else None)
    calendar = tenant_calendar()
    rows = [(METHOD_LABELS[method], creation_preview(method, published, today, calendar)) for method in METHODS]
    offered = [choice for choice in (offered_intention_ids or ()) if choice]
    intentions = db.session.execute(select(PurchaseIntention).where(
        PurchaseIntention.id.in_(offered), PurchaseIntention.published_at.is_not(None))
        .order_by(PurchaseIntention.published_at)).scalars().all() if offered else []
    return {"intention": intention, "rows": rows, "today": today,
            "intentions": [(i.title, deadlines.local_date(i.published_at),
                            max(deadlines.earliest_notice_date(deadlines.local_date(i.published_at)), today))
                           for i in intentions]}
