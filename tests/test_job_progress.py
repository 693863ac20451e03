"""Job progress is written apart from the job's work: on a worker another connection sees the
progress while the job runs, never the job's uncommitted writes, and a failing job leaves nothing
of its work behind; inline the progress is saved with the job's work."""
import os
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs.models import JobRun
from portal.jobs.queue import enqueue, report_progress, task
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import own_transaction, tenant_scope
from tests import support

ON_REDIS = os.environ.get("PORTAL_TEST_DB", "sqlite") == "postgresql"
SEEN = []  # what a connection of its own saw while the job ran

pytestmark = pytest.mark.usefixtures("own_queue")


def _look(run_id):
    overrides = CalendarOverride.__table__
    jobs = JobRun.__table__
    with own_transaction(db.engine) as other:
        progress = other.execute(select(jobs.c.progress, jobs.c.progress_note).where(jobs.c.id == run_id)).first()
        written = other.execute(select(func.count()).select_from(overrides)).scalar_one()
    SEEN.append((tuple(progress) if progress else None, written))


@task("tests.progress_then_fail")
def progress_then_fail(day):
    from flask import g
    db.session.add(CalendarOverride(day=date.fromisoformat(day), is_working=True, note="by job"))
    db.session.flush()
    report_progress(50, "half way")
    _look(g.job_run.id)
    raise RuntimeError("fails after its progress on purpose")


@task("tests.progress_then_finish")
def progress_then_finish(day):
    db.session.add(CalendarOverride(day=date.fromisoformat(day), is_working=True, note="by job"))
    db.session.flush()
    for step in (30, 60, 90):
        report_progress(step, f"step {step}")
    db.session.add(CalendarOverride(day=date.fromisoformat(day).replace(day=11), is_working=True, note="by job"))


def _state(app, run_id):
    with support.as_platform(app):
        run = db.session.get(JobRun, run_id)
        return run.status, run.progress, run.progress_note, run.attempts


def _overrides(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.execute(select(func.count()).select_from(CalendarOverride)).scalar_one()


@pytest.mark.skipif(not ON_REDIS, reason="a worker job (RQ) on PostgreSQL; inline jobs run in their caller's transaction")
def test_a_worker_shows_progress_at_once_and_never_commits_the_work_mid_job(app, demo, run_worker):
    gx = demo.tenant_id("ganxian")
    SEEN.clear()
    with app.app_context(), tenant_scope(gx):
        run_id = enqueue("tests.progress_then_fail", day="2026-10-10").id
        db.session.commit()
    run_worker()
    assert SEEN == [((50, "half way"), 0)]  # the progress, not the override written before it
    status, progress, note, attempts = _state(app, run_id)
    assert (status, progress, note, attempts) == ("failed", 50, "half way", 1)
    assert _overrides(app, gx) == 0  # the failed job's work was rolled back whole


def test_a_job_that_reports_progress_commits_its_work_once_at_the_end(app, demo, run_worker):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        run_id = enqueue("tests.progress_then_finish", day="2026-10-10").id
        db.session.commit()
    run_worker()
    assert _state(app, run_id) == ("finished", 100, "step 90", 1)
    assert _overrides(app, gx) == 2
