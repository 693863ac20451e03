"""An acceptance's figures and what other packages ask of it: the counts of the opinions, the
result in force for a contract's year (portal/evaluations), and whether the final payment may be
approved (portal/billing)."""
from datetime import date

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
    contract's last day, or of any later month; it waits for a passed acceptance: the latest
    decided acceptance whose period ends on or after the contract's last day (docs/DOMAIN.md §7)."""
    if first_day(month) < contract.ends_on.replace(day=1):
        return None
    latest = db.session.execute(select(Acceptance).where(
        Acceptance.contract_id == contract.id, Acceptance.status.in_(("passed", "failed")),
        Acceptance.period_end >= contract.ends_on)
        .order_by(Acceptance.decided_at.desc(), Acceptance.id.desc()).limit(1)).scalar_one_or_none()
    if latest is None:
        return _("This is the final payment of contract %(number)s: it waits for a passed acceptance covering the "
                 "contract's last day (%(day)s), and none has been decided.", number=contract.number,
                 day=contract.ends_on.isoformat())
    if latest.status != "passed":
        return _("This is the final payment of contract %(number)s: its acceptance of %(start)s – %(end)s failed "
                 "(decided on %(decided)s); the final payment is refused until an acceptance passes.",
                 number=contract.number, start=latest.period_start.isoformat(), end=latest.period_end.isoformat(),
                 decided=latest.decided_on.isoformat() if latest.decided_on else "—")
    return None
