"""Background jobs: the queue, the periodic schedule, the admin page."""
from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.record_once
def _set_up(state):
    """The failed-jobs panel's template helper; in development without Redis, the in-process
    scheduler, started by the first request (schedule.py)."""
    from portal.jobs import failures
    from portal.jobs.schedule import in_process_scheduler_wanted, start_in_process_scheduler
    app = state.app
    failures.register(app)
    if in_process_scheduler_wanted(app.config):
        app.before_request(lambda: start_in_process_scheduler(app) and None)
