"""Background jobs' routes: the admin page's blueprint and the module that attaches routes to it."""
from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.record_once
def _set_up(state):
    """The failed-jobs panel's template helper and the job labels (labels.py); in development without Redis, the in-process
    scheduler, started by the first request (schedule.py)."""
    from portal.jobs import failures, labels
    from portal.jobs.schedule import in_process_scheduler_wanted, start_in_process_scheduler
    app = state.app
    failures.register(app)
    app.add_template_global(labels.status_label, "job_status")
    app.add_template_global(labels.task_label, "job_task")
    app.add_template_global(labels.progress_text, "job_progress")
    app.add_template_global(labels.requester_label, "job_requester")
    if in_process_scheduler_wanted(app.config):
        app.before_request(lambda: start_in_process_scheduler(app) and None)


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.jobs import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
