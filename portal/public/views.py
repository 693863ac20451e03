"""The public index of bureaus and each bureau's disclosure home."""
from flask import abort, render_template
from sqlalchemy import select

from portal.extensions import db
from portal.public import bp
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


@bp.route("/<code>/")
def tenant_home(code):
    tenant = load_public_tenant(code)
    return render_template("public/tenant_home.html", tenant=tenant)
