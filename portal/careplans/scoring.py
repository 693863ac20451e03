"""What care plans give the quarterly scorecard (docs/DOMAIN.md §7, weight ``care_plans`` of the
tenant setting ``scorecard_weights``): of the person-months in the quarter with a plan of the
contract in force, the share in which the person was not missed (delivery.py decides who was).
A month the person was away (delivery.py ``away``) is left out. Not applicable (None) when
the contract had no plan in force in any month of the quarter.
portal/scorecards reads it; careplans never imports the scorecards."""
from fractions import Fraction

from portal.careplans.delivery import month_of_plans
from portal.core.months import months_between


def quarter_rate(contract_id, start, end):
    """``(rate or None, raw)`` over the months from ``start`` to ``end`` (dates, both included):
    raw = {"person_months", "delivered_in_full", "missed"}."""
    planned = kept = 0
    for month in months_between(start, end):
        # a month the registry shows the person away (in hospital, moved, deceased) is not counted
        rows = [row for row in month_of_plans(month, contract_id=contract_id) if row.away is None]
        planned += len(rows)
        kept += sum(1 for row in rows if not row.missed)
    raw = {"person_months": planned, "delivered_in_full": kept, "missed": planned - kept}
    return (Fraction(kept, planned) if planned else None), raw
