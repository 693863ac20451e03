"""An acceptance's figures and what other packages ask of it: the counts of the opinions, the
result in force for a contract's year (portal/evaluations), and whether the final payment may be
approved (portal/billing)."""
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from portal.acceptance.models import OPINIONS, Acceptance
from portal.core.months import first_day
from portal.extensions import db


def opinion_counts(acceptance):
    """{opinion: n} over the sample, with "not_asked" for the people not asked yet."""
    counts = {key: 0 for key in (*OPINIONS, "not_asked")}
    for row in acceptance.opinions:
        counts[row.opinion or "not_asked"] += 1
    return counts


def result_for(contract, year):
    """The latest decided acceptance of ``contract`` whose period overlaps ``year``, as
    {"acceptance_id", "status", "period_start", "period_end", "decided_on", "counts"}; {} if none."""
    first, last = date(int(year), 1, 1), date(int(year), 12, 31)
    found = db.session.execute(select(Acceptance).where(
        Acceptance.contract_id == contract.id, Acceptance.status.in_(("passed", "failed")),
        Acceptance.period_start <= last, Acceptance.period_end >= first)
        .order_by(Acceptance.period_end.desc(), Acceptance.id.desc()).limit(1)).scalar_one_or_none()
    if found is None:
        return {}
    return {"acceptance_id": found.id, "status": found.status, "period_start": found.period_start.isoformat(),
            "period_end": found.period_end.isoformat(),
            "decided_on": found.decided_on.isoformat() if found.decided_on else None,
            "counts": opinion_counts(found)}


def final_payment_refusal(contract, month):
    """Why the statement of ``contract`` for ``month`` ("YYYY-MM" or a date in it) may not be
    approved or paid, or None. The final payment is the statement of the month holding the
    contract's effective end (``Contract.effective_end``), or of any later month; it waits until the
    decided acceptances cover the contract (docs/DOMAIN.md §7): the latest decided acceptance whose
    period reaches the effective end passed, and every failed acceptance was followed by a passed
    one decided later whose period covers the failed one's period (a narrower pass lifts nothing)."""
    end = contract.effective_end
    if first_day(month) < end.replace(day=1):
        return None
    decided = sorted(db.session.execute(select(Acceptance).where(
        Acceptance.contract_id == contract.id, Acceptance.status.in_(("passed", "failed")))).scalars(),
        key=lambda row: (row.decided_at.replace(tzinfo=None) if row.decided_at else datetime.min, row.id))
    reaching = [row for row in decided if row.period_end >= end]
    if not reaching:
        return _("This is the final payment of contract %(number)s: it waits for a passed acceptance covering the "
                 "contract's last day (%(day)s), and none has been decided.", number=contract.number,
                 day=end.isoformat())
    for position, row in enumerate(decided):
        lifted = row.status == "passed" or any(
            later.status == "passed" and later.period_start <= row.period_start and later.period_end >= row.period_end
            for later in decided[position + 1:])
        if not lifted:  # the latest acceptance reaching the end, if failed, is never lifted either
            return _("This is the final payment of contract %(number)s: its acceptance of %(start)s – %(end)s failed "
                     "(decided on %(decided)s); the final payment is refused until an acceptance passes.",
                     number=contract.number, start=row.period_start.isoformat(), end=row.period_end.isoformat(),
                     decided=row.decided_on.isoformat() if row.decided_on else "—")
    return None
