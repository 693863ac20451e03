"""Background jobs of violations: the daily subcontracting-ban detectors."""
from datetime import date

from portal.core.timeutil import local_today
from portal.jobs.queue import report_progress, task
from portal.violations.detection import detect_all


@task("supervision.detect_violations")
def detect_violations(on=None):
    """Daily per bureau, and on demand from the supervision home: run the subcontracting-ban
    detectors (two rosters, insured elsewhere, not on the roster) up to ``on`` (ISO date, default
    today in Beijing). Idempotent: a breach already recorded is found by its dedupe key."""
    day = date.fromisoformat(on) if on else local_today()
    detect_all(day, progress=report_progress)
