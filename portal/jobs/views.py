"""The bureau administrator's list of the bureau's jobs, with retry for failed ones."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.auth import capability_required
from portal.core.forms import ConfirmForm
from portal.core.pagination import paginate
from portal.extensions import db
from portal.jobs import queue
from portal.jobs.blueprint import bp
from portal.jobs.models import STATUSES, JobRun


@bp.route("/")
@capability_required("job.read")
def index():
    status = request.args.get("status", "")
    stmt = select(JobRun).order_by(JobRun.enqueued_at.desc())
    if status in STATUSES:
        stmt = stmt.where(JobRun.status == status)
    return render_template("jobs/index.html", page=paginate(stmt), status=status, statuses=STATUSES,
                           confirm=ConfirmForm())


@bp.route("/<run_id>/retry", methods=["POST"])
@capability_required("job.retry")
def retry(run_id):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run = db.session.get(JobRun, run_id)
    if run is None:
        abort(404)
    if run.status != "failed":
        flash(_("Only a failed job can be retried."), "warning")
    else:
        queue.retry(run)
        flash(_("The job was started again."), "success")
    back = request.form.get("next", "")
    if back.startswith("/") and not back.startswith("//"):  # a page of this site only
        return redirect(back)
    return redirect(url_for("jobs.index"))
