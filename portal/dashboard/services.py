"""What each role sees first. Later packages add their cards here."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs.models import JobRun

# role -> list of (title, endpoint) shortcuts shown on the dashboard and in the navigation
NAVIGATION = {
    "admin": [(_l("Users"), "accounts.users"), (_l("Background jobs"), "jobs.index"),
              (_l("Audit trail"), "audit.index")],
    "officer": [(_l("Tenders"), "tenders.index"), (_l("Contracts"), "contracts.index")],
    "supervisor": [(_l("Supervision"), "supervision.index"), (_l("Contracts"), "contracts.index")],
    "finance": [(_l("Settlements"), "billing.index"), (_l("Contracts"), "contracts.index")],
    "auditor": [(_l("Audit trail"), "audit.index"), (_l("Tenders"), "tenders.index"),
                (_l("Contracts"), "contracts.index"), (_l("Settlements"), "billing.index")],
    "contractor_manager": [(_l("Tenders"), "tenders.index"), (_l("Contracts"), "contracts.index")],
    "field_worker": [(_l("Today's visits"), "supervision.index")],
    "platform_admin": [(_l("Bureaus"), "tenancy.tenants")],
}


def dashboard_for(user, tenant):
    """The figures and shortcuts of one role's home page."""
    cards = []
    if tenant is not None and user.role in ("admin", "auditor"):
        failed = db.session.execute(
            select(func.count()).select_from(JobRun).where(JobRun.status == "failed")).scalar_one()
        cards.append({"title": _l("Failed background jobs"), "value": failed, "endpoint": "jobs.index"})
    return {"links": NAVIGATION.get(user.role, []), "cards": cards}
