"""The platform operator's pages: bureaus and their first administrators."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.accounts.auth import roles_required
from portal.accounts.forms import TenantForm
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.extensions import db
from portal.tenancy import bp, services
from portal.tenancy.models import Tenant


@bp.route("/tenants", methods=["GET", "POST"])
@roles_required("platform_admin")
def tenants():
    form = TenantForm()
    if form.validate_on_submit():
        try:
            tenant, _admin = services.create_tenant(
                code=form.code.data, name=form.name.data, region=form.region.data,
                admin_username=form.admin_username.data, admin_name=form.admin_name.data,
                admin_password=form.admin_password.data)
        except DomainError as exc:
            show_refusal(form, exc, "code", aliases={"username": "admin_username", "password": "admin_password"})
        else:
            flash(_("Bureau %(name)s created.", name=tenant.name), "success")
            return redirect(url_for("tenancy.tenants"))
    rows = db.session.query(Tenant).order_by(Tenant.code).all()
    return render_template("tenancy/tenants.html", form=form, tenants=rows)
