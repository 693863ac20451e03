"""The lists of financial reports: all reports the reader reaches (filtered by status, contract
and contractor, searched by contract number, title or contractor name) and the overdue months
(overdue.py), each with its Excel download."""
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.contractors.models import Contractor
from portal.contracts.models import Contract
from portal.core.pagination import paginate, paginate_list
from portal.core.query import filter_id_arg, like_pattern
from portal.core.auth import capability_required
from portal.core.timeutil import local_today
from portal.core.xlsx import xlsx_download
from portal.extensions import db
from portal.finreports import exports, overdue, services
from portal.finreports.blueprint import bp
from portal.finreports.forms import CATEGORY_LABELS, DECISION_LABELS, FILE_TYPE_LABELS, STATUS_LABELS
from portal.finreports.models import STATUSES, FinancialReport

EXPORT_LIMIT = 10_000
LABELS = {"statuses": STATUS_LABELS, "categories": CATEGORY_LABELS, "decision_labels": DECISION_LABELS,
          "file_types": FILE_TYPE_LABELS}


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search contract or contractor"), validators=[Length(max=64)])
    status = SelectField(_l("Status"), validate_choice=False)
    contract = SelectField(_l("Contract"), validate_choice=False)
    contractor = SelectField(_l("Contractor"), validate_choice=False)


def _filter_form(visible):
    form = FilterForm(request.args)
    form.status.choices = [SelectChoice("", _("All"))] + [SelectChoice(s, STATUS_LABELS[s]) for s in STATUSES]
    contracts = db.session.execute(select(Contract.id, Contract.number).where(
        Contract.id.in_(visible.with_only_columns(FinancialReport.contract_id))).order_by(Contract.number)).all()
    form.contract.choices = [SelectChoice("", _("All"))] + [SelectChoice(str(i), n) for i, n in contracts]
    contractors = db.session.execute(select(Contractor.id, Contractor.name).where(
        Contractor.id.in_(visible.with_only_columns(FinancialReport.contractor_id))).order_by(Contractor.name)).all()
    form.contractor.choices = [SelectChoice("", _("All"))] + [SelectChoice(str(i), n) for i, n in contractors]
    return form


def _filtered(visible):
    """``visible`` narrowed by the list's filters, newest period first."""
    stmt = visible
    if request.args.get("status", "") in STATUSES:
        stmt = stmt.where(FinancialReport.status == request.args["status"])
    if (contract_id := filter_id_arg("contract")) is not None:
        stmt = stmt.where(FinancialReport.contract_id == contract_id)
    if (contractor_id := filter_id_arg("contractor")) is not None:
        stmt = stmt.where(FinancialReport.contractor_id == contractor_id)
    text = (request.args.get("q") or "").strip()[:64]
    if text:
        pattern = like_pattern(text)
        stmt = stmt.where(or_(
            FinancialReport.contract_id.in_(select(Contract.id).where(or_(
                Contract.number.ilike(pattern, escape="\\"), Contract.title.ilike(pattern, escape="\\")))),
            FinancialReport.contractor_id.in_(select(Contractor.id).where(
                Contractor.name.ilike(pattern, escape="\\"))),
            FinancialReport.period.like(pattern, escape="\\")))
    return stmt.options(selectinload(FinancialReport.contract), selectinload(FinancialReport.contractor)).order_by(
        FinancialReport.period.desc(), FinancialReport.id.desc())


@bp.get("/")
@capability_required("finreport.read")
def index():
    """The reports the reader reaches, filtered and searched, newest period first."""
    visible = services.reports_visible_to(current_user)
    page = paginate(_filtered(visible))
    return render_template("finreports/index.html", page=page, form=_filter_form(visible), tab="reports",
                           today=local_today(), **LABELS)


@bp.get("/export.xlsx")
@capability_required("finreport.read")
def export():
    """The list as filtered, as an Excel workbook."""
    reports = db.session.execute(_filtered(services.reports_visible_to(current_user)).limit(EXPORT_LIMIT)).scalars()
    return xlsx_download(exports.reports_workbook(reports), f"financial-reports-{local_today()}.xlsx",
                         "financial-reports.xlsx")


@bp.get("/overdue")
@capability_required("finreport.read")
def overdue_page():
    """The months whose report is overdue (overdue.py), the longest overdue first."""
    page = paginate_list(overdue.overdue_months(current_user, contract_id=filter_id_arg("contract")))
    return render_template("finreports/overdue.html", page=page, tab="overdue", due_days=services.due_days(),
                           **LABELS)


@bp.get("/overdue.xlsx")
@capability_required("finreport.read")
def overdue_export():
    rows = overdue.overdue_months(current_user)
    return xlsx_download(exports.overdue_workbook(rows), f"overdue-financial-reports-{local_today()}.xlsx",
                         "overdue-financial-reports.xlsx")
