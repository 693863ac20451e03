"""Failed background jobs of the bureau, shown where the people who depend on them look (the
supervision home), not only on the administrator's /jobs/ page."""
from sqlalchemy import select

from portal.extensions import db
from portal.jobs.models import JobRun

PANEL_SIZE = 10


def failed_runs(limit=PANEL_SIZE):
    """The current bureau's latest failed job runs (tenant-scoped like every JobRun read)."""
    return db.session.scalars(select(JobRun).where(JobRun.status == "failed")
                              .order_by(JobRun.ended_at.desc(), JobRun.enqueued_at.desc()).limit(limit)).all()


def register(app):
    @app.context_processor
    def _failed_jobs():
        return {"failed_background_jobs": failed_runs}
