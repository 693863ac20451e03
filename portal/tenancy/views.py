"""The bureau administrator's settings page (every tenant setting with its unit, default and
range). The platform operator's page creating bureaus is in portal/accounts/views.py (a bureau
is created with its first administrator)."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core.auth import capability_required, deny
from portal.tenancy import services, settings_catalogue
from portal.tenancy.blueprint import bp


@bp.route("/settings/", methods=["GET", "POST"])
@capability_required("settings.read")
def settings():
    """The signed-in bureau's settings (never another's: the bureau is the session's). The
    administrator edits them; an auditor reads them. A bad value shows its error beside the field
    and nothing is saved (422)."""
    tenant = g.tenant
    errors, typed = {}, {}
    if request.method == "POST":
        if not current_user.can("settings.edit"):
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
                           can_edit=current_user.can("settings.edit")), 422 if errors else 200
