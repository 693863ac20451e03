"""Background jobs of scorecards: the quarterly scorecards once a quarter has ended."""
from portal.core.errors import DomainError
from portal.core.timeutil import local_today
from portal.jobs.labels import deferred_gettext, deferred_ngettext
from portal.jobs.queue import report_progress, task
from portal.scorecards import services
from portal.spotchecks.services import current_tenant


@task("supervision.compute_scorecards")
def compute_scorecards(quarter=None):
    """Daily per bureau: the scorecards of the quarter that has just ended (the previous quarter),
    for the contracts that have none yet; with ``quarter`` (YYYY-Qn) it recomputes that quarter's
    unpublished scorecards. Published scorecards never change; a quarter that has not ended is
    refused (the run's note names the first allowed date)."""
    target = quarter or services.previous_quarter(local_today())
    try:
        results = services.compute_quarter(target, tenant=current_tenant(), replace=quarter is not None)
    except DomainError as exc:  # a quarter that has not ended (or a malformed one): refused, nothing written
        report_progress(100, deferred_gettext("%(quarter)s: %(reason)s", quarter=target, reason=str(exc.message)[:120]))
        return
    report_progress(100, deferred_ngettext("%(quarter)s: %(num)s scorecard computed.", "%(quarter)s: %(num)s scorecards computed.",
                                           sum(1 for _c, _s, changed in results if changed), quarter=target))
