from flask import render_template

from portal.accounts.auth import roles_required
from portal.billing import bp


@bp.route("/")
@roles_required("admin", "officer", "supervisor", "finance", "auditor", "contractor_manager", "field_worker")
def index():
    return render_template("billing/index.html")
