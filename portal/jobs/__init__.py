"""Background jobs: the queue, the periodic schedule, the admin page."""
from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")



@bp.record_once
def _in_process_scheduler(state):
    """Development without Redis: the periodic jobs start with the first request (schedule.py)."""
    from portal.jobs.schedule import in_process_scheduler_wanted, start_in_process_scheduler
    app = state.app
    from portal.jobs import failures
    failures.register(app)  # the failed-jobs panel of the supervision home
    if in_process_scheduler_wanted(app.config):
        app.before_request(lambda: start_in_process_scheduler(app) and None)
