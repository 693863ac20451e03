"""An acceptance's figures and what other packages ask of it: the counts of the opinions, the
result in force for a contract's year (portal/evaluations), and whether the final payment may be
approved (portal/billing)."""
from datetime import date

from sqlalchemy import select

from portal.acceptance.models import OPINIONS, Acceptance
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
