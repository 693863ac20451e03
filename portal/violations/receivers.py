"""What violations listens to (portal/visits/signals.py): breaches found by the visit rules are
recorded, and the violation recorded with a V01 finding follows the supervisor's decision on it.
``subscribe`` is called once by the app factory; connecting again is a no-op."""
from flask_babel import gettext as _
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import record_locale
from portal.violations import detection
from portal.violations.models import Violation
from portal.visits.signals import unlisted_worker_cleared, unlisted_worker_confirmed, violation_found


def violation_of(exception):
    """The subcontracting violation verification recorded with this V01, or None."""
    key = f"unlisted_worker:visit:{exception.visit_id}"
    return db.session.execute(select(Violation).where(Violation.dedupe_key == key)).scalar_one_or_none()


def on_violation_found(_visit, *, kind, **fields):
    """A visit rule found a breach (V01, or V10 across contractors): record it (idempotent)."""
    detection.record_violation(kind, **fields)


def confirm_violation_of(exception, by, **_extra):
    """Rejecting a V01 confirms its open violation (the settlement then deducts the penalty)."""
    violation = violation_of(exception)
    if violation is None or violation.status != "open":
        return None
    with record_locale():
        note = exception.decision_note or _("Confirmed with the V01 finding of visit %(visit)s.",
                                            visit=exception.visit_id)
    violation.confirm(by, note)
    return violation


def dismiss_violation_of(exception, by, note, **_extra):
    """A roster re-check cleared a V01: its open violation is dismissed with the re-check's note."""
    violation = violation_of(exception)
    if violation is not None and violation.status == "open":
        violation.dismiss(by, note)
    return violation


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    violation_found.connect(on_violation_found, weak=False)
    unlisted_worker_confirmed.connect(confirm_violation_of, weak=False)
    unlisted_worker_cleared.connect(dismiss_violation_of, weak=False)
