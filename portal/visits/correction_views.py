"""Pages of time corrections: the corrections waiting for a supervisor's decision, and the
decision itself (from the visit page, where the correction is shown beside the recorded times)."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.pagination import paginate
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.visits import corrections, reports
from portal.visits.blueprint import bp
from portal.visits.forms import CORRECTION_REASON_LABELS, CORRECTION_STATUS_LABELS, ExceptionDecisionForm

DONE = {"accept": _l("The correction has been accepted; the rules have run again with the corrected times."),
        "reject": _l("The correction has been rejected; the times in force and the findings are unchanged.")}


@bp.route("/corrections")
@capability_required("visit_report.read")
def corrections_pending():
    """The contractors' corrections that wait for a supervisor, oldest first."""
    page = paginate(corrections.pending_corrections(current_user), per_page=50)
    return render_template("visits/corrections.html", page=page, worker_name=reports.worker_name,
                           user_name=reports.user_name, statuses=CORRECTION_STATUS_LABELS, reasons=CORRECTION_REASON_LABELS,
                           can_decide=current_user.can("correction.decide"))


@bp.route("/visits/<int:visit_id>/corrections/<int:correction_id>/<any(accept, reject):action>",
          methods=["POST"])
@capability_required("correction.decide")
def decide_correction(visit_id, correction_id, action):
    visit = reports.get_visit(visit_id, current_user)
    found = corrections.get_correction(visit, correction_id)
    form = ExceptionDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.session.begin_nested():
            corrections.decide(found, action, current_user, form.note.data, utcnow())
    except DomainError as exc:
        flash(exc.message, "warning")
    else:
        flash(str(DONE[action]), "success")
    return redirect(url_for("visits.visit_detail", visit_id=visit.id))
