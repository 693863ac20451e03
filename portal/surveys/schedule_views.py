"""The re-survey pages (docs/DOMAIN.md §6): the families due and overdue for a re-survey, by their
schedule or a change report, searchable by township and category, with their Excel copy (bureau
readers: all; a contractor's manager: the families assigned to its survey contracts, names masked);
and the change reports, with the form that reports one (a re-survey then due in 10 working days)."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.audit.recorder import record_event
from portal.beneficiaries.models import Beneficiary
from portal.contractors.spreadsheet import template_workbook
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import format_local, local_today
from portal.core.xlsx import xlsx_download
from portal.extensions import db
from portal.surveys import recording, schedule
from portal.surveys.blueprint import bp
from portal.surveys.labels import CATEGORY_LABELS, CHANGE_KIND_LABELS, label
from portal.surveys.models import HouseholdSurvey

STATE_LABELS = {"due": _l("Due within 30 days"), "overdue": _l("Overdue")}
REASON_LABELS = {"schedule": _l("Scheduled re-survey"), "change_report": _l("Change report")}
REPORT_STATES = {"open": _l("Waiting for a survey"), "closed": _l("Answered"), "all": _l("All")}


class ChangeReportForm(FlaskForm):
    beneficiary = SelectField(_l("Family"), coerce=int, validate_choice=False)
    kind = SelectField(_l("What changed"), choices=[SelectChoice(k, v) for k, v in CHANGE_KIND_LABELS.items()])
    reported_on = DateField(_l("Day of the change"), validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


def survey_url(survey_or_id):
    """The page of a survey (a row or its id) when the reader may open it, else None: a manager is
    told neither the number nor the time of another contractor's survey of the family."""
    survey = db.session.get(HouseholdSurvey, survey_or_id) if isinstance(survey_or_id, int) else survey_or_id
    if survey is None:
        return None
    readable = db.session.execute(recording.surveys_visible_to(current_user)
                                  .where(HouseholdSurvey.id == survey.id).with_only_columns(HouseholdSurvey.id)).first()
    return url_for("surveys.detail", survey_id=survey.id) if readable else None


def shown_name(person):
    """The bureau's readers see the name; a contractor's manager the masked name (张*丰)."""
    return person.name if current_user.can("survey.read_all") else mask_name(person.name)


def _filters():
    state = request.args.get("state", "due")
    category = request.args.get("category", "")
    return {"township": request.args.get("township", "").strip(), "state": state if state in schedule.STATES else "due",
            "category": category if category in CATEGORY_LABELS else ""}


@bp.route("/due")
@capability_required("survey.due.read")
def due():
    """The families due for a re-survey within 30 days, or overdue (``state``), soonest first."""
    filters, today = _filters(), local_today()
    page = paginate(schedule.due_select(today, filters["state"], user=current_user, township=filters["township"],
                                        category=filters["category"]))
    page.items = schedule.rows_for(page.items)
    counts = {state: db.session.scalar(select(db.func.count()).select_from(
        schedule.due_select(today, state, user=current_user, township=filters["township"],
                            category=filters["category"]).order_by(None).subquery()))
        for state in schedule.STATES}
    return render_template("surveys/due.html", page=page, filters=filters, counts=counts, today=today,
                           townships=schedule.due_townships(current_user), categories=CATEGORY_LABELS,
                           states=STATE_LABELS, reasons=REASON_LABELS, shown_name=shown_name, survey_url=survey_url,
                           label=label)


@bp.route("/due.xlsx")
@capability_required("survey.due.read")
def due_export():
    """The due and the overdue families (township and category filters applied) as Excel: masked
    names, township and village, the last survey's number, category and outcome day. Audited."""
    filters, today = _filters(), local_today()
    rows = []
    for state in schedule.STATES:
        listed = (schedule.overdue_families if state == "overdue" else schedule.due_families)(
            today, user=current_user, township=filters["township"], category=filters["category"])
        rows += [(str(STATE_LABELS[state]), mask_name(row.beneficiary.name), row.beneficiary.township,
                  row.beneficiary.village, str(REASON_LABELS[row.reason]), row.due_on.isoformat(),
                  row.survey.id if survey_url(row.survey) else "",
                  str(label(CATEGORY_LABELS, row.survey.category if row.survey else None)),
                  format_local(row.survey.surveyed_at) if survey_url(row.survey) else "")
                 for row in listed]
    headers = (_("Status"), _("Family (masked)"), _("Township (street)"), _("Village (community)"), _("Reason"),
               _("Due on"), _("Last survey"), _("Category"), _("Surveyed"))
    record_event(db.session, "survey_due_exported", tenant_id=g.tenant.id, object_type="household_survey",
                 object_id=str(len(rows)))
    data = template_workbook("due", headers, (16, 16, 14, 14, 16, 12, 10, 24, 17), text_columns=(), rows=rows)
    return xlsx_download(data, f"surveys-due-{today.isoformat()}.xlsx", "surveys-due.xlsx")


def _family_choices():
    stmt = select(Beneficiary).where(schedule.survey_assignment(
        None if current_user.can("survey.read_all") else (current_user.contractor_id or -1)))
    return [SelectChoice(p.id, f"{shown_name(p)} · {p.township} {p.village}")
            for p in db.session.scalars(stmt.order_by(Beneficiary.township, Beneficiary.name, Beneficiary.id))]


def _changes_page(form, status=200):
    state = request.args.get("state", "open")
    state = state if state in REPORT_STATES else "open"
    township = request.args.get("township", "").strip()
    page = paginate(schedule.reports_query(current_user, state=state, township=township))
    return render_template("surveys/changes.html", page=page, form=form, state=state, township=township,
                           states=REPORT_STATES, townships=schedule.due_townships(current_user),
                           change_kinds=CHANGE_KIND_LABELS, shown_name=shown_name, survey_url=survey_url,
                           today=local_today()), status


@bp.route("/changes", methods=["GET", "POST"])
@capability_required("survey.change_report")
def changes():
    """The change reports (open ones by default) and the form that reports a change."""
    form = ChangeReportForm() if request.method == "POST" else ChangeReportForm(formdata=None,
                                                                                 reported_on=local_today())
    form.beneficiary.choices = _family_choices()
    if request.method == "GET":
        return _changes_page(form)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                family = schedule.visible_family(form.beneficiary.data, current_user)
                report = schedule.open_change_report(family, form.kind.data, form.reported_on.data, form.note.data,
                                                     current_user)
        except DomainError as exc:
            show_refusal(form, exc, "kind")
        else:
            flash(_("The change has been reported; a re-survey is due by %(day)s.", day=report.due_on.isoformat()),
                  "success")
            return redirect(url_for("surveys.changes"))
    return _changes_page(form, 422)
