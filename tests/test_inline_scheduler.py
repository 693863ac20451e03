"""Periodic jobs without Redis (issue 13, point 9): in development the in-process scheduler runs the
same PERIODIC list as the workers, inline, at most once per period — so contract notices publish
on time under `make run` — and it never starts in tests or in production."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs import schedule
from portal.jobs.models import JobRun
from tests import contract_world as cw
from tests import support

pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def inline(app, monkeypatch):
    """Jobs inline (no Redis), in both passes."""
    monkeypatch.setitem(app.config, "REDIS_URL", None)


def _runs(app):
    with support.as_platform(app):
        return dict(db.session.execute(select(JobRun.name, func.count()).group_by(JobRun.name)).all())


def test_the_tick_runs_each_due_periodic_job_once_per_period_and_publishes_a_due_notice(app, demo, inline):
    from portal.contracts.models import Contract
    from portal.disclosures import Disclosure
    world = cw.awarded(app, notice_on=date(2026, 9, 10), amount_fen=10_000_000)
    contract_id = cw.signed(app, world, on=date(2026, 9, 30), performance_bond_fen=500_000)  # notice due 9 October
    tenants = 2  # the demo's active bureaus
    now = datetime(2026, 12, 6, 1, 10, tzinfo=timezone.utc)  # 09:10 in Beijing

    every = [p.id for p in schedule.PERIODIC]
    assert schedule.inline_tick(app, now=now) == every
    runs = _runs(app)
    for periodic in schedule.PERIODIC:
        assert runs[periodic.task] == (tenants if periodic.per_tenant else 1), periodic.id
    with support.as_platform(app):
        assert db.session.get(Contract, contract_id).notice_published_at is not None
        assert db.session.scalar(select(func.count()).select_from(Disclosure).where(
            Disclosure.kind == "contract_notice")) == 1
        assert set(db.session.scalars(select(JobRun.status))) == {"finished"}

    # Later in the same hour nothing starts again; the next hour starts the hourly jobs only, the
    # next day the daily ones too — each once.
    assert schedule.inline_tick(app, now=now + timedelta(minutes=40)) == []
    hourly = [p.id for p in schedule.PERIODIC if p.every == "hourly"]
    assert schedule.inline_tick(app, now=now + timedelta(hours=1)) == hourly
    assert schedule.inline_tick(app, now=now + timedelta(hours=1, minutes=5)) == []
    assert schedule.inline_tick(app, now=now + timedelta(days=1)) == every
    assert schedule.inline_tick(app, now=now + timedelta(days=1)) == []
    runs = _runs(app)
    for periodic in schedule.PERIODIC:
        times = 3 if periodic.every == "hourly" else 2  # hours 09, 10 and tomorrow's 09; days 6 and 7
        assert runs[periodic.task] == times * (tenants if periodic.per_tenant else 1), periodic.id
    with support.as_platform(app):  # published once
        assert db.session.scalar(select(func.count()).select_from(Disclosure).where(
            Disclosure.kind == "contract_notice")) == 1


def test_the_in_process_scheduler_runs_only_in_development_without_redis():
    wanted = schedule.in_process_scheduler_wanted
    assert wanted({"PORTAL_ENV": "development", "TESTING": False, "REDIS_URL": None})
    assert not wanted({"PORTAL_ENV": "development", "TESTING": True, "REDIS_URL": None})
    assert not wanted({"PORTAL_ENV": "production", "TESTING": False, "REDIS_URL": None})
    assert not wanted({"PORTAL_ENV": "development", "TESTING": False, "REDIS_URL": "redis://x"})
    assert wanted({"PORTAL_ENV": "development", "TESTING": True, "REDIS_URL": None, "INLINE_SCHEDULER": True})
    assert schedule.job_mode({"REDIS_URL": "redis://x"}) == "queued"
    assert schedule.job_mode({"PORTAL_ENV": "development", "REDIS_URL": None}) == "inline+scheduler"
    assert schedule.job_mode({"PORTAL_ENV": "production", "REDIS_URL": None}) == "inline"


def test_the_test_app_never_starts_the_scheduler(app, client):
    client.get("/")
    assert id(app) not in schedule._inline_started
    assert not any(t.name == "portal-periodic" for t in __import__("threading").enumerate())


def test_a_failed_job_shows_on_the_supervision_home_with_a_retry_for_admins(app, demo, login):
    import uuid

    from portal.tenancy.scope import tenant_scope
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        run = JobRun(id=str(uuid.uuid4()), name="supervision.compare_visits", kwargs={"visit_id": 999999},
                     tenant_id=gx, status="failed", error="StopIteration", attempts=4,
                     ended_at=datetime.now(timezone.utc))
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    supervisor = login("gx-supervisor", tenant="ganxian")
    page = supervisor.get("/supervision/").get_data(as_text=True)
    assert "失败的后台核查任务" in page and "比对一次已签退的走访" in page and "StopIteration" in page  # the task by its label
    assert f"/jobs/{run_id}/retry" not in page  # only an administrator retries
    other_bureau = login("zg-officer").get("/supervision/")
    assert other_bureau.status_code == 200 and "失败的后台核查任务" not in other_bureau.get_data(as_text=True)

    from tests import support
    admin = login("gx-admin", tenant="ganxian")
    page = admin.get("/supervision/").get_data(as_text=True)
    assert f"/jobs/{run_id}/retry" in page
    response = admin.post(f"/jobs/{run_id}/retry", data={"csrf_token": support.csrf_token_from(page),
                                                        "next": "/supervision/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/supervision/")
    assert "失败的后台核查任务" not in supervisor.get("/supervision/").get_data(as_text=True)
