"""Background jobs of monthly settlement. Both are idempotent: preparing a month again replaces
its drafts and never touches a statement past draft."""
from datetime import date, timedelta

from portal.jobs.labels import deferred_gettext, deferred_ngettext
from portal.jobs.queue import task


def first_working_day(month_first: date, calendar) -> date:
    """The first working day of the month that begins on ``month_first``, on ``calendar``."""
    day = month_first
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


@task("billing.prepare_month")
def prepare_month(month, contract_id=None, by_id=None):
    """Prepare (or recompute) the drafts of ``month`` for the current bureau's contracts, or for
    one contract; the JobRun shows how far it is and, at the end, what it did. A month that has
    not ended prepares nothing: the run says so, with the first day it can be prepared."""
    from flask import g

    from portal.accounts.models import User
    from portal.billing import settlement
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from portal.jobs.queue import report_progress
    allowed = settlement.first_allowed_day(month)
    if local_today() < allowed:
        report_progress(100, deferred_gettext("%(month)s has not ended: nothing prepared; it can be prepared from %(day)s.",
                                              month=month, day=allowed.isoformat()))
        return []
    by = db.session.get(User, by_id) if by_id else None
    run = g.get("job_run")

    def progress(done, total):
        report_progress(done * 100 // max(total, 1), f"{done}/{total}")

    statements = settlement.prepare_month(month, contract_id=contract_id, by=by, progress=progress, job_run=run)
    drafts = sum(1 for s in statements if s.status == "draft")
    report_progress(100, deferred_ngettext("%(month)s: %(num)s draft prepared, %(kept)s past draft untouched.",
                                           "%(month)s: %(num)s drafts prepared, %(kept)s past draft untouched.",
                                           drafts, month=month, kept=len(statements) - drafts))
    return [s.id for s in statements]


@task("billing.prepare_previous_month")
def prepare_previous_month(on=None):
    """Daily per bureau: on the first working day of a month (the bureau's calendar), prepare the
    drafts of the previous month for every contract in delivery. Other days it does nothing."""
    from portal.core import months
    from portal.core.timeutil import local_today
    from portal.tenancy.workdays import tenant_calendar
    from portal.jobs.queue import report_progress
    today = date.fromisoformat(on) if on else local_today()
    if today != first_working_day(today.replace(day=1), tenant_calendar()):
        report_progress(100, deferred_gettext("Not the first working day of the month: nothing to do."))
        return []
    return prepare_month(months.month_text(months.previous_month(today)))
