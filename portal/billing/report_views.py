"""What finance follows between statements (balances.py): the late-verified visits (verified
after their month's statement was approved, paid on a later statement's ``late_verified`` line)
and the carried-forward balances, with the ones that can no longer be recovered by settlement
at the contract's end. Read-only pages for finance, officers and auditors."""
from flask import render_template

from portal.billing import balances
from portal.billing.blueprint import bp
from portal.core.auth import capability_required
from portal.core.pagination import paginate

@bp.route("/late-verified")
@capability_required("settlement_report.read")
def late_verified():
    """Visits verified after their month was approved, newest first: where each one is paid (or
    that it will be, by the contract's next statement), 25 a page."""
    page = paginate(balances.late_verified_select())
    return render_template("billing/late_verified.html", page=page, rows=balances.describe_late(page.items))


@bp.route("/balances")
@capability_required("settlement_report.read")
def carried_balances():
    """Deductions carried forward and still owed, per contract; the unrecoverable ones first; and
    the late-verified visits no statement can pay any more (owed to the contractor)."""
    return render_template("billing/balances.html", balances=balances.open_balances(),
                           owed_at_end=balances.late_owed_at_end())
