"""Budget lines, the procurement plan and purchase intentions (docs/DOMAIN.md §2–3).

A budget line's money is *committed* by contracts (with their amendments) and by awards that
have no contract yet, and *reserved* by tenders under way; a tender that would take the line past its amount is refused."""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.core.errors import DomainError
from portal.core.money import format_fen
from portal.core.months import next_month
from portal.extensions import db
from portal.tenders.deadlines import earliest_notice_date, local_date
from portal.tenders.models import (Award, BudgetLine, Lot, PLAN_PHASES, PlanMilestone, PlanPhase,
                                   ProcurementPlan, PurchaseIntention, Tender)
from portal.tenders.notices import publish_intention_notice
from portal.tenders.signals import budget_committed

# Tenders whose budget holds money on the line until they end in an award or not at all.
RESERVING_STATUSES = ("draft", "intention_published", "tendering", "evaluation")


def committed_fen(budget_line, exclude_award=None):
    """Money committed on a line: its contracts at their amount with amendments (a terminated
    one at what was paid), plus the award amounts of its tenders that are not cancelled and have
    no contract yet (an award and its contract are counted once). ``exclude_award`` leaves one
    award (and its contract) out, for checking a contract being made from it. Contracts count
    their own money (the ``budget_committed`` signal)."""
    answers = [answer for _receiver, answer in budget_committed.send(budget_line, exclude_award=exclude_award)]
    awards = (select(func.coalesce(func.sum(Award.amount_fen), 0)).select_from(Award)
              .join(Lot, Award.lot_id == Lot.id).join(Tender, Lot.tender_id == Tender.id)
              .where(Tender.budget_line_id == budget_line.id, Tender.status != "cancelled", Award.status == "active",
                     *(Award.id.not_in(counted) for _fen, counted in answers)))
    if exclude_award is not None:
        awards = awards.where(Award.id != exclude_award.id)
    return int(db.session.execute(awards).scalar_one()) + sum(fen for fen, _counted in answers)


def reserved_fen(budget_line, exclude_tender=None):
    """Money held by the line's tenders still under way: their budget amounts, less the budgets
    of lots already awarded (those count as committed, at the award amount)."""
    reserving = [Tender.budget_line_id == budget_line.id, Tender.status.in_(RESERVING_STATUSES)]
    if exclude_tender is not None and exclude_tender.id is not None:
        reserving.append(Tender.id != exclude_tender.id)
    held = db.session.execute(select(func.coalesce(func.sum(Tender.budget_fen), 0)).where(*reserving)).scalar_one()
    awarded = db.session.execute(
        select(func.coalesce(func.sum(Lot.budget_fen), 0)).select_from(Lot).join(Tender, Lot.tender_id == Tender.id)
        .where(*reserving, Lot.id.in_(select(Award.lot_id).where(Award.status == "active")))).scalar_one()
    return int(held) - int(awarded)


def remaining_fen(budget_line):
    """What is left for new tenders: the amount less what is committed and reserved."""
    return budget_line.amount_fen - committed_fen(budget_line) - reserved_fen(budget_line)


def check_budget_room(budget_line, budget_fen, exclude_tender=None):
    """Refuse a tender budget that would take the line past its amount."""
    if budget_line is None:
        raise DomainError(_("Choose the budget line that pays for this purchase."))
    available = budget_line.amount_fen - committed_fen(budget_line) - reserved_fen(budget_line, exclude_tender)
    if budget_fen > available:
        raise DomainError(_(
            "The budget line %(line)s has %(available)s yuan left; a budget of %(amount)s yuan would exceed it.",
            line=budget_line.name, available=format_fen(available), amount=format_fen(budget_fen)))


def budget_summary(budget_line):
    committed, reserved = committed_fen(budget_line), reserved_fen(budget_line)
    return {"line": budget_line, "committed_fen": committed, "reserved_fen": reserved,
            "remaining_fen": budget_line.amount_fen - committed - reserved}


def save_budget_line(line, *, year, name, fund_source, amount_fen):
    """Create or change a budget line; its amount may not fall below what is already used."""
    if amount_fen <= 0:
        raise DomainError(_("The amount must be greater than zero."))
    duplicate = db.session.execute(select(BudgetLine.id).where(
        BudgetLine.year == year, BudgetLine.name == name,
        BudgetLine.id != (line.id if line is not None and line.id else -1))).first()
    if duplicate:
        raise DomainError(_("There is already a budget line of this name for %(year)s.", year=year))
    if line is None:
        line = BudgetLine(year=year, name=name, fund_source=fund_source, amount_fen=amount_fen)
        db.session.add(line)
    else:
        used = committed_fen(line) + reserved_fen(line)
        if amount_fen < used:
            raise DomainError(_("%(used)s yuan of this line is already used; the amount cannot be lower.",
                                used=format_fen(used)))
        line.year, line.name, line.fund_source, line.amount_fen = year, name, fund_source, amount_fen
    db.session.flush()
    return line


def budget_lines(year=None):
    stmt = select(BudgetLine).order_by(BudgetLine.year.desc(), BudgetLine.name)
    if year:
        stmt = stmt.where(BudgetLine.year == year)
    return db.session.execute(stmt).scalars().all()


# --- the procurement plan --------------------------------------------------------------------

def create_plan(year, title, phase_dates):
    """A plan with the programme's four phases; ``phase_dates`` maps each phase to (start, end),
    in order and without overlap."""
    previous_end = None
    for kind in PLAN_PHASES:
        starts_on, ends_on = phase_dates[kind]
        if ends_on < starts_on:
            raise DomainError(_("A phase cannot end before it starts."))
        if previous_end is not None and starts_on <= previous_end:
            raise DomainError(_("The phases follow one another: each starts after the previous one ends."))
        previous_end = ends_on
    plan = ProcurementPlan(year=year, title=title)
    db.session.add(plan)
    for position, kind in enumerate(PLAN_PHASES):
        starts_on, ends_on = phase_dates[kind]
        db.session.add(PlanPhase(plan=plan, kind=kind, position=position, starts_on=starts_on, ends_on=ends_on))
    db.session.flush()
    return plan


def add_milestone(phase, title, due_on):
    """A milestone falls inside its phase."""
    if not phase.starts_on <= due_on <= phase.ends_on:
        raise DomainError(_("The milestone must fall within its phase (%(start)s – %(end)s).",
                            start=phase.starts_on.isoformat(), end=phase.ends_on.isoformat()))
    milestone = PlanMilestone(phase=phase, title=title, due_on=due_on)
    db.session.add(milestone)
    db.session.flush()
    return milestone


def complete_milestone(milestone, on):
    if milestone.done_on is not None:
        raise DomainError(_("This milestone is already done."))
    milestone.done_on = on


def overdue_milestones(today):
    return db.session.execute(select(PlanMilestone).where(
        PlanMilestone.done_on.is_(None), PlanMilestone.due_on < today).order_by(PlanMilestone.due_on)).scalars().all()


# --- purchase intentions (采购意向) ----------------------------------------------------------

def create_intention(tender, now):
    """The purchase intention of a tender that has none: its title, budget line and budget,
    expected in the month the notice can follow at the earliest."""
    earliest = earliest_notice_date(local_date(now))
    # The first whole month the notice can fall in, so the intention is never due before today.
    expected = earliest.replace(day=1)
    if expected < earliest:
        expected = next_month(expected)
    intention = PurchaseIntention(budget_line=tender.budget_line, title=tender.title,
                                  description=tender.description, budget_fen=tender.budget_fen,
                                  expected_month=expected)
    db.session.add(intention)
    return intention


def new_intention(*, budget_line, title, description, budget_fen, expected_month, plan=None):
    """An intention entered from the procurement plan (published separately)."""
    if budget_fen <= 0:
        raise DomainError(_("The budget amount must be greater than zero."))
    check_budget_room(budget_line, budget_fen)
    intention = PurchaseIntention(plan_id=plan.id if plan is not None else None, budget_line=budget_line, title=title, description=description,
                                  budget_fen=budget_fen, expected_month=expected_month.replace(day=1))
    db.session.add(intention)
    db.session.flush()
    return intention


def intention_due_on(intention):
    """An intention is due 30 days before the first day of the month the purchase is expected."""
    return intention.expected_month - timedelta(days=30)


def publish_intention(intention, now):
    """Publish a purchase intention as a disclosure (once)."""
    if intention.published_at is not None:
        raise DomainError(_("This purchase intention is already published."))
    intention.published_at = now
    return publish_intention_notice(intention, now, intention_due_on(intention))

