"""The public counts of household economic surveys (docs/DOMAIN.md §6 "public: counts per township
only"): per township, for a year or a month, how many families were surveyed (signed-off surveys,
each family once), found eligible, marginal, or leaving assistance. Counts only: no income, no
standard, no name, no row per family."""
from datetime import date

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.core import months
from portal.core.timeutil import local_midnight_utc, local_today
from portal.extensions import db
from portal.public.blueprint import bp
from portal.public.caching import conditional, public_etag, publication_fingerprint
from portal.public.views import _policy_links, load_public_tenant
from portal.surveys import stats
from portal.surveys.models import HouseholdSurvey

FIRST_YEAR = 2000


def _period():
    """(start, end, title, year, month text, message) of ``?month=YYYY-MM`` or ``?year=YYYY``; this
    year by default, and for anything malformed (with a message)."""
    today = local_today()
    raw_month, raw_year = request.args.get("month", "").strip(), request.args.get("year", "").strip()
    if raw_month:
        month = months.month_or_none(raw_month)
        if month is not None:
            start, end = months.month_bounds(month)
            return start, end, months.month_text(month), month.year, months.month_text(month), None
    year = int(raw_year) if raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4 else None
    message = None
    if (raw_month or raw_year) and (year is None or not FIRST_YEAR <= year <= today.year):
        year, message = None, _("Give a year (YYYY) or a month (YYYY-MM); this year is shown.")
    year = year or today.year
    start, end = local_midnight_utc(date(year, 1, 1)), local_midnight_utc(date(year + 1, 1, 1))
    return start, end, str(year), year, "", message


def _fingerprint():
    """What changes the counts: the signed-off surveys (how many, the latest sign-off)."""
    return tuple(db.session.execute(select(func.count(HouseholdSurvey.id), func.max(HouseholdSurvey.signed_off_at))
                                    .where(HouseholdSurvey.status == "signed_off")).one())


@bp.route("/<code>/surveys")
def survey_counts(code):
    """Families surveyed, eligible, marginal and exits per township, for a year or a month."""
    tenant = load_public_tenant(code)
    start, end, title, year, month, message = _period()
    etag = public_etag(tenant.id, *publication_fingerprint(), *_fingerprint(), local_today().isoformat())
    return conditional(etag, lambda: render_template(
        "public/survey_counts.html", tenant=tenant, rows=stats.public_counts(start, end), title=title, year=year,
        month=month, message=message, years=range(local_today().year, max(FIRST_YEAR, local_today().year - 5) - 1, -1),
        policies=_policy_links()))
