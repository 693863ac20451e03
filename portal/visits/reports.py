"""What the supervisor's visit pages show (docs/DOMAIN.md §6–7): one visit with its raw and adjusted
times, the visits of a day per worker as a timeline, exception counts per code, and per contract
and month the verified share and the share recorded live by the phone. Every figure is one
grouped query; nothing loads a month of visits into memory."""
from datetime import datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, false, func, not_, select

from portal.accounts.models import User
from portal.accounts.permissions import reach
from portal.contracts.models import Contract
from portal.core import query
from portal.core.crypto import mask_name
from portal.core.errors import NotFound
from portal.core.months import month_bounds
from portal.core.timeutil import local_midnight_utc, LOCAL_TZ, to_local
from portal.extensions import db
from portal.visits.models import EXCEPTION_CODES, EXCEPTION_STATUSES, Visit, VisitCorrection, VisitException

# The timeline spans at least 06:00–22:00 and grows to hold earlier or later visits.
DAY_STARTS, DAY_ENDS = 6, 22
# Geometry of the exception-count bar chart (attributes only: the CSP forbids inline styles).
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, BAR_WIDTH = 22, 10, 60, 420


# --- who sees which visit ------------------------------------------------------------------------

def visible_visits(user):
    """The visits ``user`` may see in the current bureau: bureau readers all of them, a
    contractor manager its organisation's, a field worker their own."""
    stmt = select(Visit)
    if user.can("visit_report.read"):
        return stmt
    limit = reach(user)
    if limit.organisation_id:
        return stmt.where(Visit.contractor_id == limit.organisation_id)
    if limit.kind == "own":
        return stmt.where(Visit.worker_user_id == limit.user_id)
    return stmt.where(false())


def get_visit(visit_id, user):
    """One visit ``user`` may see, or NotFound (another bureau's, contractor's or worker's)."""
    visit = None
    if query.is_id(visit_id):  # beyond an integer column: simply not found
        visit = db.session.scalars(visible_visits(user).where(Visit.id == visit_id)).first()
    if visit is None:
        raise NotFound(_("No such visit."))
    return visit


def get_photo(visit, photo_id):
    photo = next((p for p in visit.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound(_("No such photo."))
    return photo


def minutes_between(start, end):
    return None if start is None or end is None else int((end - start).total_seconds() // 60)


def worker_name(visit):
    if visit.staff is not None:
        return visit.staff.name
    user = db.session.get(User, visit.worker_user_id)
    return user.display_name or user.username if user else "—"


# --- the timeline ----------------------------------------------------------------------------------

def _day_bounds(day):
    return local_midnight_utc(day), local_midnight_utc(day + timedelta(days=1))


def _percent(value, start, length):
    return round(max(0.0, min(100.0, (value - start).total_seconds() * 100 / length)), 2)


def timeline(day, contract_id=None):
    """The visits checked in on ``day`` (Beijing), one row per worker, each visit a block placed
    by its times in force (percentages of the window, for the SVG). A visit without a check-out
    shows as a thin marker."""
    start, end = _day_bounds(day)
    stmt = (select(Visit).where(Visit.check_in_at >= start, Visit.check_in_at < end)
            .order_by(Visit.worker_user_id, Visit.check_in_at, Visit.id))
    if contract_id:
        stmt = stmt.where(Visit.contract_id == contract_id)
    visits = db.session.scalars(stmt).all()
    spans = [(visit, *visit.effective_times) for visit in visits]
    window_start = datetime.combine(day, time(DAY_STARTS), tzinfo=LOCAL_TZ)
    window_end = datetime.combine(day, time(DAY_ENDS), tzinfo=LOCAL_TZ)
    for _visit, begin, finish in spans:
        window_start = min(window_start, to_local(begin).replace(minute=0, second=0, microsecond=0))
        if finish is not None:
            window_end = max(window_end, to_local(finish).replace(minute=0, second=0, microsecond=0)
                             + timedelta(hours=1))
    window_end = min(window_end, datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
                     + timedelta(hours=6))
    length = (window_end - window_start).total_seconds()
    rows = {}
    for visit, begin, finish in spans:
        left = _percent(begin, window_start, length)
        width = _percent(finish, window_start, length) - left if finish is not None else 0
        row = rows.setdefault(visit.worker_user_id, {"worker": worker_name(visit), "worker_id": visit.worker_user_id,
                                                      "blocks": []})
        row["blocks"].append({"visit": visit, "left": left, "width": max(width, 0.4), "begin": begin,
                              "finish": finish, "minutes": minutes_between(begin, finish),
                              "open": finish is None})
    hours = []
    mark = window_start
    while mark <= window_end:
        hours.append({"label": mark.strftime("%H:%M"), "left": _percent(mark, window_start, length)})
        mark += timedelta(hours=2)
    return {"day": day, "rows": sorted(rows.values(), key=lambda r: r["worker"]), "hours": hours,
            "count": len(visits)}


# --- exception counts per code ------------------------------------------------------------------------

def exception_counts(date_from=None, date_to=None, contract_id=None):
    """{code: {status: n, "total": n}} for every code V01–V11 over the visits checked in between
    the two days (Beijing, both included), with the geometry of a bar per code."""
    stmt = (select(VisitException.code, VisitException.status, func.count(VisitException.id))
            .join(Visit, Visit.id == VisitException.visit_id)
            .group_by(VisitException.code, VisitException.status))
    if date_from:
        stmt = stmt.where(Visit.check_in_at >= local_midnight_utc(date_from))
    if date_to:
        stmt = stmt.where(Visit.check_in_at < local_midnight_utc(date_to + timedelta(days=1)))
    if contract_id:
        stmt = stmt.where(Visit.contract_id == contract_id)
    counts = {code: {**dict.fromkeys(EXCEPTION_STATUSES, 0), "total": 0} for code in EXCEPTION_CODES}
    for code, status, n in db.session.execute(stmt).all():
        entry = counts.setdefault(code, {**dict.fromkeys(EXCEPTION_STATUSES, 0), "total": 0})
        entry[status] = entry.get(status, 0) + n
        entry["total"] += n
    return counts


def counts_chart(counts):
    """Rows of the per-code bar chart, as portal/contracts/dashboard.py draws its quota chart."""
    most = max([entry["total"] for entry in counts.values()] + [1])
    rows = []
    for index, (code, entry) in enumerate(counts.items()):
        rows.append({"code": code, "total": entry["total"], "open": entry["open"] + entry["answered"],
                     "y": index * (BAR_HEIGHT + BAR_GAP), "fill_width": BAR_WIDTH * entry["total"] // most})
    return {"rows": rows, "height": max(1, len(rows)) * (BAR_HEIGHT + BAR_GAP), "label_width": LABEL_WIDTH,
            "bar_width": BAR_WIDTH, "bar_height": BAR_HEIGHT, "width": LABEL_WIDTH + BAR_WIDTH + 120}


# --- verified and live shares per contract and month --------------------------------------------------

def live_condition():
    """Recorded live by the phone: flagged live at submission, not entered by hand, and never
    corrected afterwards (a correction replaces the phone's clock with a person's)."""
    corrected = exists().where(VisitCorrection.visit_id == Visit.id)
    return and_(Visit.recorded_live.is_(True), Visit.source != "manual", not_(corrected))


def _share(part, whole):
    return round(part * 100 / whole, 1) if whole else None


def shares(month, contract_id=None):
    """Per contract for the visits checked in during ``month``: the count, the verified share and
    the live share (in per cent, None without visits). One grouped query."""
    start, end = month_bounds(month)
    live = live_condition()
    stmt = (select(Visit.contract_id, func.count(Visit.id),
                   func.sum(case((Visit.status == "verified", 1), else_=0)),
                   func.sum(case((live, 1), else_=0)))
            .where(Visit.check_in_at >= start, Visit.check_in_at < end).group_by(Visit.contract_id))
    if contract_id:
        stmt = stmt.where(Visit.contract_id == contract_id)
    rows = db.session.execute(stmt).all()
    contracts = {c.id: c for c in db.session.scalars(select(Contract).where(
        Contract.id.in_([r[0] for r in rows])))} if rows else {}
    result = []
    for cid, total, verified, live_n in rows:
        verified, live_n = int(verified or 0), int(live_n or 0)
        result.append({"contract": contracts.get(cid), "month": month, "total": total, "verified": verified,
                       "live": live_n, "verified_share": _share(verified, total), "live_share": _share(live_n, total)})
    return sorted(result, key=lambda r: r["contract"].number if r["contract"] else "")


def shares_by_month(months, contract_id=None):
    """``shares`` for each month given (first days), newest first."""
    return [(month, shares(month, contract_id)) for month in months]


def beneficiary_label(person, user):
    """The person's name for bureau readers; the masked name on every contractor-facing page."""
    if person is None:
        return "—"
    return person.name if user.can("visit_report.read") else mask_name(person.name)


def user_name(user_id):
    """Who answered or decided, for the history of an exception."""
    user = db.session.get(User, user_id) if user_id else None
    return (user.display_name or user.username) if user else "—"
