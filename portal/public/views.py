"""The public index of bureaus and each bureau's disclosure home."""
from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core.pagination import paginate
from portal.extensions import db
from portal.public import bp
from portal.public.models import DISCLOSURE_KINDS, Disclosure
from portal.tenancy.models import Tenant
from portal.tenancy.scope import set_request_tenant


def load_public_tenant(code):
    """The bureau named in a public URL; its data is read in its own scope."""
    tenant = db.session.execute(select(Tenant).where(Tenant.code == code, Tenant.active.is_(True))).scalar_one_or_none()
    if tenant is None:
        abort(404)
    set_request_tenant(tenant.id)
    return tenant


@bp.route("/")
def index():
    tenants = db.session.execute(select(Tenant).where(Tenant.active.is_(True)).order_by(Tenant.code)).scalars().all()
    return render_template("public/index.html", tenants=tenants)


KIND_LABELS = {
    "purchase_intention": _l("Purchase intentions"), "tender_notice": _l("Tender notices"),
    "clarification": _l("Clarifications"), "award_result": _l("Award results"),
    "failed_tender": _l("Failed tenders"), "contract_notice": _l("Contract notices"),
    "amendment": _l("Contract amendments"), "scorecard": _l("Quarterly scores"),
    "performance_evaluation": _l("Performance evaluations"), "assessment_publicity": _l("Assessment publicity"),
    "budget_execution": _l("Budget execution"),
}


def _published():
    return select(Disclosure).where(Disclosure.published_at.is_not(None))


@bp.route("/<code>/")
def tenant_home(code):
    """The bureau's published notices, newest first, filtered by kind."""
    tenant = load_public_tenant(code)
    kind = request.args.get("kind", "")
    stmt = _published().order_by(Disclosure.published_at.desc(), Disclosure.id.desc())
    if kind in DISCLOSURE_KINDS:
        stmt = stmt.where(Disclosure.kind == kind)
    return render_template("public/tenant_home.html", tenant=tenant, page=paginate(stmt, per_page=20),
                           kind=kind, kind_labels=KIND_LABELS)


@bp.route("/<code>/notices/<int:disclosure_id>")
def notice(code, disclosure_id):
    tenant = load_public_tenant(code)
    disclosure = db.session.execute(_published().where(Disclosure.id == disclosure_id)).scalar_one_or_none()
    if disclosure is None:
        abort(404)
    return render_template("public/notice.html", tenant=tenant, notice=disclosure, kind_labels=KIND_LABELS)
