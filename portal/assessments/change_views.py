"""The re-assessment due list (docs/DOMAIN.md §6): the change reports waiting for the person's next
assessment, due and overdue, by township, for the bureau's readers and, for its own assigned
people with masked names, the contractor's manager; with its Excel export."""
from flask import g, render_template, request
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.assessments import changes, people
from portal.assessments.blueprint import bp
from portal.assessments.change_forms import STATE_LABELS, DueFilterForm
from portal.assessments.labels import CHANGE_KIND_LABELS
from portal.audit.recorder import record_event
from portal.contractors.spreadsheet import template_workbook
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.pagination import paginate
from portal.core.timeutil import format_local, local_today
from portal.core.xlsx import xlsx_download
from portal.extensions import db


def _filters():
    state = request.args.get("state", "open")
    return {"township": request.args.get("township", ""), "state": state if state in changes.STATES else "open"}


@bp.route("/reassessments")
@capability_required("assessment.due.read")
def reassessments():
    """The change reports by due day, soonest first, with the overdue ones marked."""
    filters = _filters()
    form = DueFilterForm(request.args)
    form.township.choices = [SelectChoice("", STATE_LABELS["all"])] + [
        SelectChoice(t, t) for t in changes.due_townships(current_user)]
    form.township.data, form.state.data = filters["township"], filters["state"]
    page = paginate(changes.due_query(current_user, **filters))
    unassigned = changes.without_assessor([r.beneficiary_id for r in page.items if r.closed_at is None])
    return render_template("assessments/reassessments.html", page=page, form=form, filters=filters,
                           unassigned=unassigned,
                           today=local_today(), is_overdue=changes.is_overdue, shown_name=lambda person: people.shown_name(person, current_user),
                           change_kinds=CHANGE_KIND_LABELS)


@bp.route("/reassessments.xlsx")
@capability_required("assessment.due.read")
def reassessments_export():
    """The filtered due list as Excel: masked names, township and village, no other personal data.
    The export itself is audited."""
    today = local_today()
    reports = db.session.scalars(changes.due_query(current_user, **_filters())).all()
    headers = ("服务对象（脱敏） Beneficiary (masked)", "乡镇 Township", "村（社区） Village", "变动 Change",
               "报告日期 Reported on", "应评估日期 Due on", "逾期 Overdue", "评估编号 Assessment", "办结时间 Closed",
               "评估员 Assessor")
    unassigned = changes.without_assessor([r.beneficiary_id for r in reports if r.closed_at is None], today)
    rows = [(mask_name(r.beneficiary.name), r.beneficiary.township, r.beneficiary.village,
             str(CHANGE_KIND_LABELS[r.kind]), r.reported_on.isoformat(), r.due_on.isoformat(),
             "是" if changes.is_overdue(r, today) else "", r.assessment_id or "", format_local(r.closed_at),
             "无评估员" if r.closed_at is None and r.beneficiary_id in unassigned else "")
            for r in reports]
    record_event(db.session, "reassessments_exported", tenant_id=g.tenant.id, object_type="change_report",
                 object_id=str(len(rows)))
    data = template_workbook("reassessments", headers, (16, 14, 14, 12, 12, 12, 8, 10, 17, 12), text_columns=(),
                             rows=rows)
    return xlsx_download(data, f"reassessments-{today.isoformat()}.xlsx", "reassessments.xlsx")
