"""What contracts answers for lower packages (blinker signals, synchronous): the money its
contracts commit on a budget line (tenders' ``budget_committed``), the contracts of awards
(tenders' ``award_contracts``, for the stage bar). ``subscribe`` is called once
by the app factory; connecting again is a no-op."""
from sqlalchemy import func, select

from portal.contracts.models import Amendment, Contract
from portal.extensions import db
from portal.tenders.signals import award_contracts, budget_committed


def contracts_committed(budget_line, exclude_award=None, **_extra):
    """The line's contracts at their amount with amendments (a terminated one at what was paid),
    and the awards they stand for; ``exclude_award`` leaves its contract out."""
    contract_filter = [Contract.budget_line_id == budget_line.id]
    if exclude_award is not None:
        contract_filter.append(Contract.award_id != exclude_award.id)
    live = [*contract_filter, Contract.status != "terminated"]
    amounts = select(func.coalesce(func.sum(Contract.amount_fen), 0)).where(*live)
    added = (select(func.coalesce(func.sum(Amendment.added_fen), 0)).select_from(Amendment)
             .join(Contract, Amendment.contract_id == Contract.id).where(*live))
    paid = select(func.coalesce(func.sum(Contract.amount_paid_at_termination_fen), 0)).where(
        *contract_filter, Contract.status == "terminated")
    fen = sum(int(db.session.execute(stmt).scalar_one()) for stmt in (amounts, added, paid))
    return fen, select(Contract.award_id)


def contracts_of_awards(award_ids, **_extra):
    """What the stage bar of a tender needs of its awards' contracts."""
    if not award_ids:
        return {}
    rows = db.session.execute(select(Contract).where(Contract.award_id.in_(list(award_ids)),
                                                     Contract.status != "terminated")).scalars()
    return {c.award_id: {"contract_id": c.id, "number": c.number, "signed_on": c.signed_on, "signed_late": c.signed_late,
                         "notice_published_at": c.notice_published_at} for c in rows}


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    budget_committed.connect(contracts_committed, weak=False)
    award_contracts.connect(contracts_of_awards, weak=False)
