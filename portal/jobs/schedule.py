"""Periodic jobs, declared in one list with stable ids, and the loop that starts them.

Every worker runs the loop; a Redis key per job and period (SET NX) makes exactly one of them
enqueue each occurrence, so running several workers never runs a periodic job twice.
"""
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from portal.core.timeutil import to_local

log = logging.getLogger("portal.jobs.schedule")


@dataclass(frozen=True)
class Periodic:
    id: str          # stable: part of the Redis key that claims each occurrence
    task: str        # a name registered with @task
    every: str       # "hourly" or "daily"; jobs that need a calendar (first working day) check it themselves
    per_tenant: bool = False


PERIODIC = [
    Periodic(id="purge-expired-sessions", task="accounts.purge_expired_sessions", every="hourly"),
    Periodic(id="tenders-close-bidding", task="tenders.close_bidding_and_flag_late", every="hourly",
             per_tenant=True),
    Periodic(id="contracts-publish-notices", task="contracts.publish_notices", every="hourly", per_tenant=True),
    Periodic(id="supervision-detect-violations", task="supervision.detect_violations", every="daily",
             per_tenant=True),
    Periodic(id="supervision-missing-check-outs", task="supervision.flag_missing_check_outs", every="daily",
             per_tenant=True),
    # acts only on the first working day of a month (the bureau's calendar): last month's drafts
    Periodic(id="billing-prepare-previous-month", task="billing.prepare_previous_month", every="daily",
             per_tenant=True),
    # last month's spot-check samples from the 5th on (a contract already sampled is left as it is)
    Periodic(id="supervision-draw-samples", task="supervision.draw_samples", every="daily", per_tenant=True),
    # the scorecards of the quarter just ended, for contracts that have none yet
    Periodic(id="supervision-quarterly-scorecards", task="supervision.compute_scorecards", every="daily",
             per_tenant=True),
]


def period_key(every, now):
    local = to_local(now)
    return local.strftime("%Y%m%d%H" if every == "hourly" else "%Y%m%d")


def due_occurrences(now=None):
    """(periodic, period key) pairs for the current period of each declared job."""
    now = now or datetime.now(timezone.utc)
    return [(p, period_key(p.every, now)) for p in PERIODIC]


def tick(app, now=None):
    """Claim and enqueue every periodic job not yet started in its current period."""
    from portal.jobs.queue import enqueue, redis_connection
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants
    with app.app_context():
        redis = redis_connection()
        started = []
        for periodic, key in due_occurrences(now):
            if not redis.set(f"portal:periodic:{periodic.id}:{key}", "1", nx=True, ex=3 * 86400):
                continue
            if periodic.per_tenant:
                with all_tenants():
                    tenant_ids = [t.id for t in db.session.query(Tenant).filter_by(active=True)]
                for tenant_id in tenant_ids:
                    enqueue(periodic.task, tenant_id=tenant_id)
            else:
                enqueue(periodic.task)
            started.append(periodic.id)
        db.session.commit()
        db.session.remove()
        return started


def start_scheduler_thread(app, interval=60):
    def loop():
        while True:
            try:
                tick(app)
            except Exception:
                log.exception("periodic tick failed")
            time.sleep(interval)
    thread = threading.Thread(target=loop, name="portal-periodic", daemon=True)
    thread.start()
    return thread
