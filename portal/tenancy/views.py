"""The platform operator's pages (bureaus and their first administrators) and the bureau
administrator's settings page (every tenant setting with its unit, default and range)."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.auth import deny, roles_required
from portal.accounts.forms import TenantForm
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.extensions import db
from portal.tenancy import services, settings_catalogue
from portal.tenancy.blueprint import bp
from portal.tenancy.models import Tenant

SETTINGS_EDITORS = ("admin",)
SETTINGS_READERS = ("admin", "auditor")


@bp.route("/platform/tenants", methods=["GET", "POST"])
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


@bp.route("/settings/", methods=["GET", "POST"])
@roles_required(*SETTINGS_READERS)
def settings():
    """The signed-in bureau's settings (never another's: the bureau is the session's). The
    administrator edits them; an auditor reads them. A bad value shows its error beside the field
    and nothing is saved (422)."""
    tenant = g.tenant
    errors, typed = {}, {}
    if request.method == "POST":
        if current_user.role not in SETTINGS_EDITORS:
            deny()
        values, errors = settings_catalogue.parse(request.form)
        if not errors:
            changed = services.change_settings(tenant, values)
            flash(_("Settings saved: %(count)s changed. They apply from the next judgement on.", count=len(changed))
                  if changed else _("Nothing changed."), "success")
            return redirect(url_for("tenancy.settings"))
        typed = request.form
        flash(_("Nothing was saved: correct the values marked below."), "error")
    rows = settings_catalogue.rows(tenant.effective_settings)
    return render_template("tenancy/settings.html", rows=rows, errors=errors, typed=typed,
                           can_edit=current_user.role in SETTINGS_EDITORS), 422 if errors else 200
