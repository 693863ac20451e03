"""The bureau's side: registrations (list, register on behalf, decide) and the blacklist."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.contractors import services
from portal.contractors.blueprint import bp
from portal.contractors.forms import (KIND_LABELS, REGISTRATION_ACTIONS, STATUS_LABELS, BlacklistForm,
                                      ContractorForm, DecisionForm)
from portal.contractors.models import REGISTRATION_STATUSES, Contractor, ContractorRegistration
from portal.contractors.views.common import DomainError, form_errors, require_valid
from portal.core.auth import capability_required, deny
from portal.core.pagination import paginate
from portal.core.timeutil import local_today
from portal.extensions import db


@bp.route("/registrations")
@capability_required("contractor.read_registered")
def registrations():
    query = request.args.get("q", "").strip()
    status = request.args.get("status", "")
    status = status if status in REGISTRATION_STATUSES else ""
    page = paginate(services.registrations(query, status), per_page=25)
    return render_template("contractors/registrations.html", page=page, q=query, status=status,
                           statuses=REGISTRATION_STATUSES, status_labels=STATUS_LABELS, kind_labels=KIND_LABELS,
                           can_decide=current_user.can("registration.decide"))


@bp.route("/registrations/new", methods=["GET", "POST"])
@capability_required("registration.decide")
def register_on_behalf():
    form = ContractorForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                contractor, created = services.register_on_behalf(
                    name=form.name.data, credit_code=form.credit_code.data, kind=form.kind.data,
                    legal_representative=form.legal_representative.data, contact_phone=form.contact_phone.data,
                    address=form.address.data)
        except DomainError as exc:
            form_errors(form, exc, "credit_code")
        else:
            if created:
                flash(_("%(name)s is registered and waits for approval.", name=contractor.name), "success")
            else:
                flash(_("%(name)s was already on the platform; its details are its own. It now has a registration "
                        "with this bureau, waiting for approval.", name=contractor.name), "info")
            return redirect(url_for("contractors.detail", contractor_id=contractor.id))
    return render_template("contractors/register.html", form=form, on_behalf=True)


@bp.route("/registrations/<int:registration_id>/<any(approve, reject, suspend, reinstate):action>", methods=["POST"])
@capability_required("registration.decide")
def decide(registration_id, action):
    form = DecisionForm()
    require_valid(form)
    registration = services.get_registration(registration_id)
    try:
        with db.session.begin_nested():
            services.decide(registration, action, current_user, form.reason.data or "")
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(str(REGISTRATION_ACTIONS[action]["done"]), "success")
    return redirect(url_for("contractors.detail", contractor_id=registration.contractor_id))


def _registered_contractors():
    return db.session.execute(
        select(Contractor).join(ContractorRegistration, ContractorRegistration.contractor_id == Contractor.id)
        .order_by(Contractor.name)).scalars().all()


@bp.route("/blacklist", methods=["GET", "POST"])
@capability_required("contractor.read_registered")
def blacklist():
    form = BlacklistForm()
    contractors = _registered_contractors()
    form.contractor.choices = [SelectChoice(c.id, f"{c.name} ({c.credit_code})") for c in contractors]
    if request.method == "POST" and not current_user.can("registration.decide"):
        deny()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                contractor = services.get_contractor(form.contractor.data, current_user)
                services.add_blacklist_entry(contractor, reason=form.reason.data, starts_on=form.starts_on.data,
                                             ends_on=form.ends_on.data, by=current_user)
        except DomainError as exc:
            form_errors(form, exc, "contractor")
        else:
            flash(_("The blacklist entry has been recorded."), "success")
            return redirect(url_for("contractors.blacklist"))
    entries = db.session.execute(services.blacklist()).scalars().all()
    return render_template("contractors/blacklist.html", form=form, entries=entries, today=local_today(),
                           can_record=current_user.can("registration.decide"),
                           registered_ids={c.id for c in contractors})

