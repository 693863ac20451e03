"""Background jobs of visit verification."""
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.jobs.labels import deferred_ngettext
from portal.jobs.queue import report_progress, task
from portal.visits import reverify
from portal.visits.models import Visit
from portal.visits.setpass import chunks
from portal.visits.verification import (compare_and_settle, flag_missing_check_outs as sweep,
                                        judge_visits as judge)


@task("supervision.compare_visits")
def compare_visits(visit_id):
    """Run the comparative rules (V04, V05, V07, V10) on a checked-out visit and on the
    neighbouring visits it affects, and settle their statuses. Idempotent: a second run finds the
    same exceptions and changes nothing."""
    visit = db.session.get(Visit, visit_id)
    if visit is not None:  # gone with a rolled-back request: nothing to compare
        compare_and_settle(visit, utcnow())


@task("supervision.compare_batch")
def compare_batch(items):
    """The comparison job of checked-out visits, batched per bureau: the comparative rules on the
    visits ``items`` (ids) and on every visit they affect, and their final status — set-based
    (reverify.py), in a fixed number of statements whatever the number of visits. Idempotent."""
    outcome = reverify.compare_batch(items, utcnow())
    report_progress(100, deferred_ngettext("%(num)s visit compared, %(judged)s judged.",
                                           "%(num)s visits compared, %(judged)s judged.",
                                           len(items), judged=outcome.judged))


UNJUDGED_AFTER = timedelta(minutes=10)


@task("supervision.compare_unjudged")
def compare_unjudged():
    """Hourly per bureau: the comparisons still due (``Visit.comparison_due``, set with the
    check-out, a photo or a correction, cleared by the comparison) of visits whose check-out
    arrived ten minutes ago or more — a batch lost with Redis or a worker is judged here."""
    before = utcnow() - UNJUDGED_AFTER
    ids = db.session.scalars(select(Visit.id).where(
        Visit.comparison_due.is_(True),
        func.coalesce(Visit.checked_out_received_at, Visit.received_at) < before).order_by(Visit.id)).all()
    done = 0
    for chunk in chunks(ids, 500):
        reverify.compare_batch(chunk, utcnow())
        done += len(chunk)
        report_progress(100 * done // len(ids), f"{done}/{len(ids)}")
    report_progress(100, deferred_ngettext("%(num)s visit whose comparison was due compared.",
                                           "%(num)s visits whose comparison was due compared.", len(ids)))


@task("supervision.judge_visits")
def judge_visits(visit_ids):
    """The deferred part of a comparison with many neighbours: the comparative rules and final
    status of these visits (at most NEIGHBOURS_PER_JOB). Idempotent."""
    judge(visit_ids, utcnow())


@task("supervision.flag_missing_check_outs")
def flag_missing_check_outs(on=None):
    """Daily per bureau: V08 for visits left without a check-out after their day (Beijing) is
    over, as of ``on`` (ISO date, default today)."""
    count = sweep(date.fromisoformat(on) if on else None)
    report_progress(100, deferred_ngettext("%(num)s visit without check-out.", "%(num)s visits without check-out.",
                                           count))
