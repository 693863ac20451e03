"""Background jobs: recorded with the caller's transaction, handed to RQ only after it commits,
idempotent, visible to the bureau with their errors, retried on request, and periodic jobs
claimed once per period."""
import os
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs.models import JobRun
from portal.jobs.queue import enqueue, rq_queue, task
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import tenant_scope
from tests import support

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")
ON_REDIS = BACKEND == "postgresql"


pytestmark = pytest.mark.usefixtures("own_queue")


@task("tests.ensure_override")
def ensure_override(day):
    """Idempotent: make ``day`` a working day of the current tenant unless it already is."""
    day = date.fromisoformat(day)
    if db.session.scalars(select(CalendarOverride).where(CalendarOverride.day == day)).first() is None:
        db.session.add(CalendarOverride(day=day, is_working=True, note="by job"))


@task("tests.fails_first_time")
def fails_first_time(day, flag_file):
    """Fails on its first run only; the flag is a file, so it survives the rollback of the failure."""
    flag = Path(flag_file)
    if not flag.exists():
        flag.write_text("attempted")
        raise RuntimeError("first attempt fails on purpose")
    ensure_override(day)


def _run(app, run_id):
    with support.as_platform(app):
        run = db.session.get(JobRun, run_id)
        return None if run is None else {c: getattr(run, c) for c in (
            "tenant_id", "status", "attempts", "progress", "error", "started_at", "ended_at")}


def _overrides(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return [(o.day, o.note) for o in db.session.scalars(select(CalendarOverride))]


def _queued(app):
    """How many jobs wait in Redis (always 0 without Redis)."""
    if not ON_REDIS:
        return 0
    with app.app_context():
        return rq_queue().count


def _work(app, run_worker):
    """Run the worker; returns how many queued jobs it took (0 inline: they already ran)."""
    waiting = _queued(app)
    assert run_worker() == waiting  # the real worker took exactly the queued jobs
    assert _queued(app) == 0
    return waiting


# --- (11) enqueue, commit, run once ---------------------------------------------------------

def test_a_job_runs_after_commit_once_and_again_changes_nothing(app, demo, run_worker):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        run = enqueue("tests.ensure_override", day="2026-10-10")
        run_id = run.id
        assert run.tenant_id == gx
        if ON_REDIS:
            # Nothing happens before the caller's transaction commits.
            assert run.status == "queued"
            assert _queued(app) == 0
            assert _work(app, run_worker) == 0
        else:
            assert run.status == "finished"  # inline: it ran at once, in the caller's transaction
        db.session.commit()

    assert _queued(app) == (1 if ON_REDIS else 0)
    if ON_REDIS:
        assert _overrides(app, gx) == []
        assert _work(app, run_worker) == 1
    done = _run(app, run_id)
    assert done["status"] == "finished" and done["progress"] == 100 and done["attempts"] == 1
    assert done["error"] == "" and done["started_at"] and done["ended_at"]
    assert _overrides(app, gx) == [(date(2026, 10, 10), "by job")]
    assert _overrides(app, demo.tenant_id("zhanggong")) == []

    # Running the worker again, even with the same job delivered twice, changes nothing.
    assert _work(app, run_worker) == 0
    if ON_REDIS:
        from portal.jobs.queue import run_job
        with app.app_context():
            rq_queue().enqueue(run_job, run_id)
        assert _work(app, run_worker) == 1
    assert _run(app, run_id) == done
    assert _overrides(app, gx) == [(date(2026, 10, 10), "by job")]


def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(app, demo, run_worker):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        run_id = enqueue("tests.ensure_override", day="2026-10-10").id
        db.session.rollback()
    assert _queued(app) == 0
    assert _work(app, run_worker) == 0
    assert _run(app, run_id) is None
    assert _overrides(app, gx) == []
    # A later commit of the same session does not resurrect it.
    with app.app_context(), tenant_scope(gx):
        db.session.add(CalendarOverride(day=date(2026, 10, 11), is_working=False))
        db.session.commit()
    assert _queued(app) == 0 and _work(app, run_worker) == 0
    assert _overrides(app, gx) == [(date(2026, 10, 11), "")]


def test_savepoints_neither_start_nor_drop_the_jobs_of_the_outer_transaction(app, demo, run_worker):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        kept = enqueue("tests.ensure_override", day="2026-10-10").id
        with db.session.begin_nested():  # a savepoint released: not yet a commit
            db.session.add(CalendarOverride(day=date(2026, 10, 20), is_working=False))
        assert _queued(app) == 0, "a job was handed to the worker before its transaction committed"
        try:
            with db.session.begin_nested():  # a savepoint rolled back, with a job of its own
                dropped = enqueue("tests.ensure_override", day="2026-10-11").id
                raise RuntimeError("undo this part")
        except RuntimeError:
            pass
        db.session.commit()
    assert _queued(app) == (1 if ON_REDIS else 0)
    _work(app, run_worker)
    assert _run(app, kept)["status"] == "finished"
    assert _run(app, dropped) is None
    assert sorted(d for d, _ in _overrides(app, gx)) == [date(2026, 10, 10), date(2026, 10, 20)]


# --- (12) a failed job is shown with its error and retried by the admin ----------------------

def test_a_failed_job_shows_its_error_and_a_retry_finishes_it(app, demo, login, run_worker, tmp_path):
    gx = demo.tenant_id("ganxian")
    flag = tmp_path / "attempted"
    with app.app_context(), tenant_scope(gx):
        run_id = enqueue("tests.fails_first_time", day="2026-10-10", flag_file=str(flag)).id
        db.session.commit()
    _work(app, run_worker)
    failed = _run(app, run_id)
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert "RuntimeError: first attempt fails on purpose" in failed["error"]
    assert _overrides(app, gx) == []

    admin = login("gx-admin")
    page = admin.get("/jobs/?status=failed")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "tests.fails_first_time" in html and "first attempt fails on purpose" in html
    assert f"/jobs/{run_id}/retry" in html

    # Without the CSRF token the retry is refused and changes nothing.
    assert admin.post(f"/jobs/{run_id}/retry").status_code == 400
    assert _run(app, run_id)["status"] == "failed"

    response = admin.post(f"/jobs/{run_id}/retry", data={"csrf_token": support.csrf_token_from(html)})
    assert response.status_code == 302
    _work(app, run_worker)
    done = _run(app, run_id)
    assert done["status"] == "finished" and done["error"] == "" and done["attempts"] == 2
    assert _overrides(app, gx) == [(date(2026, 10, 10), "by job")]
    html = admin.get("/jobs/").get_data(as_text=True)
    assert "first attempt fails on purpose" not in html and f"/jobs/{run_id}/retry" not in html

    # A finished job is not retried again.
    token = support.csrf_token_from(html)
    assert admin.post(f"/jobs/{run_id}/retry", data={"csrf_token": token}).status_code == 302
    assert _work(app, run_worker) == 0
    assert _run(app, run_id) == done


def test_only_the_admin_may_retry(app, demo, login, run_worker, tmp_path):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        run_id = enqueue("tests.fails_first_time", day="2026-10-10", flag_file=str(tmp_path / "f")).id
        db.session.commit()
    _work(app, run_worker)
    auditor = login("gx-auditor")
    html = auditor.get("/jobs/").get_data(as_text=True)
    assert "first attempt fails on purpose" in html  # auditors read …
    response = auditor.post(f"/jobs/{run_id}/retry", data={"csrf_token": support.csrf_token_from(html)})
    assert response.status_code == 403  # … but change nothing
    assert _run(app, run_id)["status"] == "failed"


# --- (13) periodic jobs: once per period ------------------------------------------------------

@pytest.mark.skipif(BACKEND != "postgresql", reason="periodic jobs are claimed in Redis")
def test_two_ticks_in_one_period_enqueue_each_periodic_job_once(app, demo, run_worker):
    from portal.jobs.schedule import PERIODIC, tick
    # Some hour in 50 years, half past: concurrent test runs sharing Redis claim other periods.
    now = (datetime(2030, 1, 1, tzinfo=timezone.utc)
           + timedelta(hours=random.randrange(24 * 365 * 50), minutes=30))
    ids = [p.id for p in PERIODIC]
    # a per-tenant job runs once per bureau (the demo world has two), the others once
    expected = {p.task: 2 if p.per_tenant else 1 for p in PERIODIC}
    runs = sum(expected.values())
    assert tick(app, now=now) == ids
    assert tick(app, now=now + timedelta(minutes=20)) == []
    with support.as_platform(app):
        counts = dict(db.session.execute(select(JobRun.name, func.count()).group_by(JobRun.name)).all())
    assert counts == expected
    assert _queued(app) == runs
    assert _work(app, run_worker) == runs
    with support.as_platform(app):
        assert set(db.session.scalars(select(JobRun.status))) == {"finished"}

    # The next period is claimed again (hourly jobs an hour later, daily ones a day later).
    later = now + timedelta(days=1, hours=1)
    assert tick(app, now=later) == ids
    assert tick(app, now=later) == []
    with support.as_platform(app):
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 2 * runs


@task("tests.always_fails")
def always_fails():
    raise RuntimeError("this job always fails")


@pytest.mark.skipif(ON_REDIS, reason="inline mode only")
def test_an_inline_job_of_another_bureau_records_its_failure_in_that_bureau(app, demo):
    """A failing inline job enqueued for a bureau other than the caller's (or from no scope at
    all, as a command does) is recorded as failed in its own bureau, without a tenancy error."""
    gx = demo.tenant_id("ganxian")
    with app.app_context():
        run = enqueue("tests.always_fails", tenant_id=gx)
        run_id = run.id
        db.session.commit()
    state = _run(app, run_id)
    assert state["status"] == "failed" and "always fails" in state["error"] and state["tenant_id"] == gx
