from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.forms import ROLE_LABELS
from portal.core.auth import capability_required, login_required
from portal.dashboard.agenda import officer_agenda
from portal.dashboard.blueprint import bp
from portal.dashboard.disclosures import due_or_late_disclosures, officer_to_dos
from portal.dashboard.services import dashboard_for
from portal.tenders import deadlines

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("public.index"))
    if current_user.role != "platform_admin" and g.get("tenant") is None:
        return redirect(url_for("accounts.choose_tenant"))
    if current_user.can("visit.record"):  # a field worker's day is the field app (issue 22)
        return redirect(url_for("field.index"))
    return render_template("dashboard/home.html", dashboard=dashboard_for(current_user, g.get("tenant")))


def _back():
    """The page the switch was pressed on: ``next``, else the Referer, which browsers send as an
    absolute URL (reduced to its path when it is this site's); anything else goes home."""
    target = request.form.get("next") or request.referrer or "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return "/"
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@bp.post("/preferences/care-mode")
def care_mode():
    """关怀版: larger type and higher contrast, remembered in a cookie."""
    response = redirect(_back())
    on = request.form.get("care") == "1"
    response.set_cookie("care", "1" if on else "0", max_age=ONE_YEAR, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


@bp.post("/preferences/language")
def language():
    lang = request.form.get("lang")
    response = redirect(_back())
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", lang, max_age=ONE_YEAR, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


@bp.route("/account")
@login_required
def account():
    return render_template("dashboard/account.html", role_labels=ROLE_LABELS)


@bp.route("/disclosures/due")
@capability_required("disclosure.follow")
def disclosures_due():
    """The officer's list of notices due, late, or published late."""
    rule = _("The rules: the tender notice at least %(intention)s days after the purchase intention; the award "
             "result within %(result)s working days of its confirmation; the contract notice and each amendment "
             "within %(contract)s working days of signing.", intention=deadlines.INTENTION_LEAD_DAYS,
             result=deadlines.RESULT_PUBLISH_WORKING_DAYS, contract=deadlines.CONTRACT_PUBLISH_WORKING_DAYS)
    items = due_or_late_disclosures()
    todo = officer_to_dos(items)   # the home card counts these: the table has exactly its rows
    return render_template("dashboard/disclosures_due.html", todo=todo,
                           automatic=[item for item in items if item not in todo], rule=rule)


@bp.route("/tenders/due")
@capability_required("tender.agenda")
def tenders_due():
    """What is due and what is late, for the officer."""
    return render_template("dashboard/tenders_due.html", items=officer_agenda())
