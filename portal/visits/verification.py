"""Verification of visits (docs/DOMAIN.md §6): when the rules run, which visits they compare, and the
status that follows.

- At check-out (and when a photo arrives, or times are corrected) ``on_checked_out`` runs the
  single-visit rules in the request and queues ``supervision.compare_visits``.
- That job runs the comparative rules (V04 overlap, V05 travel, V07 daily limit, V10 shared
  device) on the visit AND on the neighbours it affects in both directions — the worker's visits
  around it, the beneficiary's visits that day, the device's visits that day — and settles their
  statuses. Every lookup is a range on one of the visit indexes (worker/time, beneficiary/time,
  device/time), so verifying one visit costs the same whatever the size of the table; and the
  neighbours' own neighbourhoods are loaded in one set-based pass (neighbourhoods.py), so it
  costs a fixed number of statements whatever the number of overlapping visits.
- Status: pending until check-out; then exception while any non-warning exception is open or
  answered, else verified. A visit without check-out becomes an exception only through V08. A
  rejected visit stays rejected.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.contractors.models import Contractor
from portal.core.timeutil import local_midnight_utc, local_today, utcnow
from portal.extensions import db
from portal.i18n import record_locale
from portal.tenancy.services import settings_for
from portal.visits import rules
from portal.visits.models import Visit
from portal.visits.neighbourhoods import ComparisonPass, Neighbourhood  # noqa: F401  (bench/visits.py)
from portal.visits.signals import violation_found
from portal.jobs.queue import enqueue_batched
from portal.jobs.queue import enqueue_later

BLOCKING = ("open", "answered")


def settings_of(visit):
    return settings_for(visit.tenant_id)


# --- entry points ----------------------------------------------------------------------------

def on_checked_out(visit, now):
    """The visit has its check-out (or new effective times): run the single-visit rules now, set
    the provisional status and queue the comparison that settles it. Call after flushing."""
    run_single_rules(visit, now)
    settle_status(visit, now, final=False)
    schedule_comparison(visit)
    return visit


def on_checked_in(visit, now):
    """A visit without check-out was recorded: only its distance from home is known yet (the
    rules wait for the check-out, or for the daily sweep once its day is over)."""
    rules.v02_geofence(visit, settings_of(visit), now)
    return visit


def on_photo_added(visit, now):
    """A photo arrived: V11 is judged again, and the status with it."""
    return on_checked_out(visit, now)


on_corrected = on_checked_out  # a correction changes the effective times: everything is re-judged


def verify_visit(visit_id, now=None):
    """Run every rule on one visit and its neighbours now (the job's work, callable directly)."""
    now = now or utcnow()
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        return None
    run_single_rules(visit, now)
    compare_and_settle(visit, now)
    return visit


def schedule_comparison(visit):
    """Queue the comparison of ``visit``: with Redis, gathered with the bureau's other check-outs
    into one ``supervision.compare_batch`` job after the commit (tasks.py, set-based). The visit is
    marked ``comparison_due`` in the same transaction until the comparison has run, so an hourly
    sweep judges it if the batch is lost (tasks.compare_unjudged)."""
    visit.comparison_due = True
    enqueue_batched("supervision.compare_batch", visit.id, tenant_id=visit.tenant_id)


# --- single-visit rules ----------------------------------------------------------------------

def single_rules_apply(visit, now):
    """Do the single-visit rules judge ``visit`` now? At its check-out (and after), or once its
    day is over without one (the daily sweep); never a rejected visit, nor one still in progress."""
    if visit.status == "rejected":
        return False
    return visit.check_out_at is not None or local_today(now) > rules.visit_day(visit)


def run_single_rules(visit, now):
    """V01, V02, V03, V06, V08, V09, V11 on ``visit``; V01 also reports the violation (signals.py)."""
    rules.apply(visit, rules.SINGLE_RULES, single_findings(visit, settings_of(visit), now), now)
    db.session.flush()


def single_findings(visit, settings, now):
    """The single-visit rules' findings on ``visit`` (an ORM visit or a setpass.VisitRow)."""
    with record_locale():  # exception messages are records, in the bureau's language
        findings = {code: rule(visit, settings, now) for code, rule in rules.SINGLE.items()}
        if findings["V01"] is not None:
            record_unlisted_worker(visit)
    return findings


def record_unlisted_worker(visit):
    day = rules.visit_day(visit)
    contractor = db.session.get(Contractor, visit.contractor_id)
    worker = rules.worker_label(visit)
    violation_found.send(
        visit, kind="unlisted_worker", contract_id=visit.contract_id, staff_id=visit.staff_id, occurred_on=day,
        evidence={"worker": worker, "contractor": contractor.name, "visit": visit.id, "day": day},
        summary=_("A visit on %(day)s was delivered by %(worker)s, who was not on the active roster of "
                  "%(contractor)s.", day=day.isoformat(), worker=worker, contractor=contractor.name),
        dedupe_key=f"unlisted_worker:visit:{visit.id}")


# --- comparative rules, the job's work --------------------------------------------------------

def comparative_findings(visit, comparison):
    """V04, V05, V07, V10 of ``visit`` against its neighbours in ``comparison`` (a ComparisonPass)."""
    slot, worker, previous, following, same_item, device = comparison.context(visit)
    settings = comparison.settings(visit)
    return {
        "V04": rules.v04_overlap(slot, worker),
        "V05": rules.v05_travel(slot, previous, following, settings),
        "V07": rules.v07_daily_limit(slot, same_item),
        "V10": rules.v10_shared_device(slot, device),
    }


def judge_comparatively(visit, comparison, now):
    """Apply the comparative findings of one visit (see ``comparative_findings_reported``)."""
    findings = comparative_findings_reported(visit, comparison)
    rules.apply(visit, rules.COMPARATIVE_RULES, findings, now)
    return findings


def comparative_findings_reported(visit, comparison):
    """The comparative findings of one visit; V10 across contractors also records a shared-device
    violation (signals.py)."""
    with record_locale():
        findings = comparative_findings(visit, comparison)
        if findings["V10"] is not None and findings["V10"].details["contractors"] > 1:
            _record_shared_device(visit, comparison.context(visit)[5])
    return findings


def run_comparative_rules(visit, now, hood=None):
    """V04, V05, V07, V10 on ``visit`` alone against its neighbourhood. Returns the neighbourhood."""
    comparison = ComparisonPass(visit, hood)
    judge_comparatively(visit, comparison, now)
    return comparison.hood


def _record_shared_device(visit, device_visits):
    day = rules.visit_day(visit)
    names = sorted({c.name for c in db.session.scalars(select(Contractor).where(
        Contractor.id.in_({v.contractor_id for v in device_visits})))})
    violation_found.send(
        visit, kind="shared_device", contract_id=visit.contract_id, staff_id=visit.staff_id, occurred_on=day,
        evidence={"device": visit.device_id, "day": day, "contractors": "; ".join(names), "visit": visit.id},
        summary=_("Device %(device)s was used on %(day)s by workers of different organisations: %(names)s.",
                  device=visit.device_id, day=day.isoformat(), names="; ".join(names)),
        dedupe_key=f"shared_device:{visit.contract_id}:{visit.device_id}:{day.isoformat()}"[:200])


NEIGHBOURS_PER_JOB = 20  # visits judged again by one job beside the visit itself; the rest wait


def compare_and_settle(visit, now, cap=NEIGHBOURS_PER_JOB):
    """The comparison job: the comparative rules on the visit and on the neighbours it affects,
    then the final status of each — one set-based pass (neighbourhoods.ComparisonPass). The
    visit and its ``cap`` nearest neighbours are judged now; the others, when a worker has more,
    by ``supervision.judge_visits`` jobs of ``cap`` visits each, queued with enqueue_later (on a
    worker with Redis; by the in-process scheduler in development), so one job costs the same
    whatever the number of overlapping visits."""
    comparison = ComparisonPass(visit)
    ordered = comparison.by_priority()
    judge_and_settle(ordered[:1 + cap], comparison, now)
    defer_judging(visit, ordered[1 + cap:], cap)
    return comparison


def judge_and_settle(visits, comparison, now):
    for judged in visits:
        judge_comparatively(judged, comparison, now)
        settle_status(judged, now, final=True)
    db.session.flush()


def defer_judging(visit, visits, cap=NEIGHBOURS_PER_JOB):
    for start in range(0, len(visits), cap):
        enqueue_later("supervision.judge_visits", tenant_id=visit.tenant_id,
                      visit_ids=[v.id for v in visits[start:start + cap]])


def judge_visits(visit_ids, now):
    """The deferred part of a comparison: the comparative rules and final status of these visits
    (their neighbours are not judged again: the change that affected them is already judged)."""
    visits = db.session.scalars(select(Visit).where(Visit.id.in_(visit_ids)).order_by(Visit.id)).all()
    if visits:
        judge_and_settle(visits, ComparisonPass.of_visits(visits), now)
    return visits


# --- status ------------------------------------------------------------------------------------

def settle_status(visit, now, final):
    """pending → verified or exception (docs/DOMAIN.md §6). Before the comparison has run (``final``
    False) a visit without blocking exceptions stays as it is, unless it has just been checked
    out (then it waits, pending). Rejected visits are left alone."""
    if visit.status == "rejected":
        return visit.status
    blocking = [e for e in visit.exceptions if not e.warning and e.status in BLOCKING]
    if visit.check_out_at is None:
        status = "exception" if any(e.code == "V08" for e in blocking) else "pending"
    elif blocking:
        status = "exception"
    elif final:
        status = "verified"
    else:
        status = "verified" if visit.status == "verified" else "pending"
    if status != visit.status:
        visit.status = status
        visit.verified_at = now if status == "verified" else None
    return status


# --- the daily sweep ----------------------------------------------------------------------------

def flag_missing_check_outs(today=None, now=None):
    """V08 for every pending visit of the current bureau still without a check-out after its day
    (Beijing) is over. Reads the pending visits only (status index). Returns how many were flagged."""
    today = today or local_today(now)
    now = now or utcnow()
    stale = db.session.scalars(select(Visit).where(
        Visit.status == "pending", Visit.check_out_at.is_(None),
        Visit.check_in_at < local_midnight_utc(today)).order_by(Visit.id)).all()
    sweep_now = max(now, local_midnight_utc(today))
    for visit in stale:
        run_single_rules(visit, sweep_now)
        settle_status(visit, now, final=True)
    db.session.flush()
    return len(stale)
