"""Verification of many visits at once: the rows and neighbourhoods the rules need, read by a fixed
number of statements whatever the number of visits (for one visit, an upload batch or a month).

The per-visit path (verification.py, neighbourhoods.py) judges ORM objects one at a time; this
path reads plain rows — a visit with its correction in force, its service item's limits, the
home's coordinates and the worker's roster name, joined in one statement — and hands them to the
SAME rule functions (rules.py), so both paths judge alike by construction; a property test
(tests/test_set_verification_property.py) checks that they also find the same neighbours.

- ``VisitRow``: a visit as the rules see it (the attributes they read), built from one row.
- ``load_rows(*conditions)``: the rows matching ``conditions``, corrections and limits joined.
- ``SetPass(rows)``: a ComparisonPass over ``rows`` (all of them judged): each worker's counted
  visits over the span of the judged ones plus one more on each side, the beneficiaries' and the
  devices' counted visits of the days concerned. ``neighbours_of(rows)``: the visits a change to
  ``rows`` affects (the worker's visits around them, the same days' visits of the same people
  and phones, and the previous and next visit of each worker), for the comparison job.
"""
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import Integer, and_, any_, bindparam, func, literal, or_, select, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from portal.beneficiaries.models import Beneficiary
from portal.contractors.models import StaffMember
from portal.contracts.models import ServiceItem
from portal.core.models import UTCDateTime
from portal.extensions import db
from portal.tenancy.scope import current_tenant_id
from portal.visits import rules
from portal.visits.models import Visit, VisitCorrection, VisitException
from portal.visits.neighbourhoods import COUNTED, ComparisonPass, WorkerLine, day_bounds, day_groups, raw_end

CHUNK = 2000           # ids per IN list
WORKERS_PER_STATEMENT = 200
NEAREST_PER_STATEMENT = 200  # stretches whose previous/next visit one statement finds


class Item:
    __slots__ = ("min_minutes", "max_minutes", "photo_required", "daily_limit_per_beneficiary")

    def __init__(self, min_minutes, max_minutes, photo_required, daily_limit):
        self.min_minutes, self.max_minutes = min_minutes, max_minutes
        self.photo_required, self.daily_limit_per_beneficiary = photo_required, daily_limit


class Home:
    __slots__ = ("lat", "lon")

    def __init__(self, lat, lon):
        self.lat, self.lon = lat, lon


class Correction:
    __slots__ = ("adjusted_check_in_at", "adjusted_check_out_at")

    def __init__(self, check_in_at, check_out_at):
        self.adjusted_check_in_at, self.adjusted_check_out_at = check_in_at, check_out_at


class Named:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


VISIT_COLUMNS = ("id", "tenant_id", "contract_id", "service_item_id", "beneficiary_id", "staff_id", "worker_user_id",
                 "contractor_id", "device_id", "check_in_at", "check_in_lat", "check_in_lon", "check_out_at",
                 "check_out_lat", "check_out_lon", "received_at", "checked_out_received_at", "status",
                 "distance_from_home_m", "verified_at", "comparison_due")


class VisitRow:
    """One visit as the rules read it. ``exceptions`` is filled by the caller (reverify.py)."""

    __slots__ = VISIT_COLUMNS + ("correction_in_force", "service_item", "beneficiary", "staff", "exceptions",
                                 "roster", "has_photo", "eligibility")

    def __init__(self, row):
        for name, value in zip(VISIT_COLUMNS, row):
            setattr(self, name, value)
        rest = row[len(VISIT_COLUMNS):]
        adjusted_in, adjusted_out, low, high, photo, limit, item_id, home_lat, home_lon, home_id, staff_name = rest
        self.correction_in_force = Correction(adjusted_in, adjusted_out) if adjusted_in is not None else None
        self.service_item = Item(low, high, photo, limit) if item_id is not None else None
        self.beneficiary = Home(home_lat, home_lon) if home_id is not None else None
        self.staff = Named(staff_name) if self.staff_id is not None else None
        self.exceptions = []
        self.roster = self.has_photo = self.eligibility = None

    times_with = Visit.times_with            # one definition of a visit's times (models.py)
    effective_times = Visit.effective_times


def _in_force():
    """The latest accepted correction of the visit (a correlated subquery on the visit_id index)."""
    return (select(func.max(VisitCorrection.id))
            .where(VisitCorrection.visit_id == Visit.id, VisitCorrection.status == "accepted")
            .correlate(Visit).scalar_subquery())


_ROWS = []  # the statement, built once (building it costs more than running it for one visit)


def rows_statement(*conditions):
    if not _ROWS:
        correction = aliased(VisitCorrection)
        _ROWS.append(select(*[getattr(Visit, c) for c in VISIT_COLUMNS],
                            correction.adjusted_check_in_at, correction.adjusted_check_out_at,
                            ServiceItem.min_minutes, ServiceItem.max_minutes, ServiceItem.photo_required,
                            ServiceItem.daily_limit_per_beneficiary, ServiceItem.id,
                            Beneficiary.lat, Beneficiary.lon, Beneficiary.id, StaffMember.name)
                     .select_from(Visit)
                     .outerjoin(correction, correction.id == _in_force())
                     .outerjoin(ServiceItem, ServiceItem.id == Visit.service_item_id)
                     .outerjoin(Beneficiary, Beneficiary.id == Visit.beneficiary_id)
                     .outerjoin(StaffMember, StaffMember.id == Visit.staff_id))
    return _ROWS[0].where(*conditions)


def on_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def chunks(items, size=None):
    """``items`` (a sequence) in slices of ``size`` (CHUNK): an IN list or a VALUES list each."""
    size = size or CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def among(column, values):
    """``column IN values``; on PostgreSQL ``column = ANY(:array)``, one parameter however many
    values (thousands of ids make thousands of parameters to send and parse otherwise)."""
    values = sorted(set(values))
    if on_postgresql():
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def of_this_bureau(table):
    """The current bureau's rows of ``table``, said explicitly in Core statements (the session's
    tenant hook scopes ORM statements only; row-level security covers PostgreSQL anyway)."""
    return table.c.tenant_id == current_tenant_id()


def load_rows(*conditions, order=True, known=None):
    """The rows matching ``conditions``; a visit already in ``known`` (id → VisitRow) is that row."""
    stmt = rows_statement(*conditions)
    if order:
        stmt = stmt.order_by(Visit.check_in_at, Visit.id)
    known = known or {}
    return [known.get(row[0]) or VisitRow(row) for row in db.session.execute(stmt)]


def rows_by_ids(ids):
    found = {}
    for chunk in chunks(sorted(set(ids))):
        for row in load_rows(among(Visit.id, chunk), order=False):
            found[row.id] = row
    return found


def worker_condition(keys):
    """The visits of any of these workers (rules.worker_key values)."""
    staff = sorted(k[1] for k in keys if k[0] == "staff")
    users = sorted(k[1] for k in keys if k[0] == "user")
    parts = []
    if staff:
        parts.append(among(Visit.staff_id, staff))
    if users:
        parts.append(and_(Visit.staff_id.is_(None), among(Visit.worker_user_id, users)))
    return or_(*parts)


MERGE_GAP = timedelta(days=1)  # a worker's stretches closer than this are read as one


def worker_windows(rows):
    """{(worker key, n): (low, high)}: the check-ins a judged set needs of each worker, as the
    worker's n-th stretch of time — visits far apart (an upload batch of last week and today's,
    or a month's sweep) make separate stretches, so nothing between them is read or judged."""
    spans = defaultdict(list)
    for v in rows:
        spans[rules.worker_key(v)].append((v.check_in_at - rules.MAX_VISIT_SPAN, raw_end(v)))
    windows = {}
    for key, intervals in spans.items():
        intervals.sort()
        merged = [list(intervals[0])]
        for low, high in intervals[1:]:
            if low <= merged[-1][1] + MERGE_GAP:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        for n, (low, high) in enumerate(merged):
            windows[(key, n)] = (low, high)
    return windows


def window_of(windows_by_worker, visit):
    """The key of the stretch of ``visit``'s worker that holds its check-in (see ``by_worker``)."""
    for n, low, high in windows_by_worker.get(rules.worker_key(visit), ()):
        if low <= visit.check_in_at <= high:
            return (rules.worker_key(visit), n)
    return None


def by_worker(windows):
    """{worker key: [(n, low, high)]} of ``worker_windows``' stretches."""
    found = defaultdict(list)
    for (key, n), (low, high) in windows.items():
        found[key].append((n, low, high))
    return found


def coarse(windows):
    """The same windows widened so that workers whose windows start and end on the same days share
    one: a day of a month then reads its workers' visits with one clause, not one per worker (the
    extra visits only make a worker's line longer; the previous and next visit are taken outside
    the widened window, so the line stays whole)."""
    buckets = {}
    for key, (low, high) in windows.items():
        bucket = (low.date(), high.date())
        old = buckets.get(bucket)
        buckets[bucket] = (low, high) if old is None else (min(low, old[0]), max(high, old[1]))
    return {key: buckets[(low.date(), high.date())] for key, (low, high) in windows.items()}


def _grouped_by_window(windows):
    """Workers sharing the same window in one clause (a day of a month shares few windows)."""
    groups = defaultdict(list)
    for (key, _n), window in windows.items():
        groups[window].append(key)
    clauses = []
    for (low, high), keys in groups.items():
        for chunk in chunks(keys, WORKERS_PER_STATEMENT):
            clauses.append(and_(worker_condition(chunk), Visit.check_in_at >= low, Visit.check_in_at <= high))
    return clauses


def load_counted(clauses, known=None):
    """The counted visits matching any of ``clauses`` (by id), 50 clauses a statement."""
    found = {}
    for chunk in chunks(clauses, 50):
        for row in load_rows(COUNTED, or_(*chunk), order=False, known=known):
            found[row.id] = row
    return found


def _bounds_table(chunk, postgres):
    """The derived table (i, who, bound) of ``chunk`` ((stretch, bound) pairs): on PostgreSQL
    ``unnest`` of three array parameters; elsewhere a UNION ALL of one-row selects."""
    if postgres:
        return func.unnest(
            bindparam("positions", list(range(len(chunk))), type_=postgresql.ARRAY(Integer)),
            bindparam("workers", [stretch[0][1] for stretch, _bound in chunk], type_=postgresql.ARRAY(Integer)),
            bindparam("bounds", [bound for _stretch, bound in chunk],
                      type_=postgresql.ARRAY(postgresql.TIMESTAMP(timezone=True))),
        ).table_valued("i", "who", "bound").render_derived(name="bounds")
    rows = [select(literal(i).label("i"), literal(stretch[0][1]).label("who"),
                   literal(bound, UTCDateTime()).label("bound")) for i, (stretch, bound) in enumerate(chunk)]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("bounds")


def _nearest(windows, before):
    """{stretch: its worker's nearest counted visit just before (``before``) or just after it},
    each found by an ``ORDER BY … LIMIT 1`` on the worker/time index — one probe per stretch,
    however far the visit is. On PostgreSQL the stretches' bounds are one derived table
    (``unnest`` of three arrays) with a correlated subquery: one statement per kind of worker
    key and NEAREST_PER_STATEMENT stretches (on SQLite the table is a UNION ALL of one-row selects)."""
    found = {}
    order = (Visit.check_in_at.desc(), Visit.id.desc()) if before else (Visit.check_in_at, Visit.id)
    postgres = on_postgresql()
    for kind in ("staff", "user"):
        mine = [(stretch, high if not before else low) for stretch, (low, high) in windows.items()
                if stretch[0][0] == kind]
        for chunk in chunks(mine, NEAREST_PER_STATEMENT):
            bounds = _bounds_table(chunk, postgres)
            who = Visit.staff_id == bounds.c.who if kind == "staff" else \
                and_(Visit.staff_id.is_(None), Visit.worker_user_id == bounds.c.who)
            beyond = Visit.check_in_at < bounds.c.bound if before else Visit.check_in_at > bounds.c.bound
            nearest = (select(Visit.id).where(Visit.tenant_id == current_tenant_id(), COUNTED, who, beyond)
                       .order_by(*order).limit(1).correlate(bounds).scalar_subquery())
            for i, vid in db.session.execute(select(bounds.c.i, nearest)):
                if vid is not None:
                    found[chunk[i][0]] = vid
    rows = rows_by_ids(found.values())
    return {stretch: rows[vid] for stretch, vid in found.items() if vid in rows}


def day_clauses(rows):
    """The days of ``rows``: the visits that share a beneficiary or a phone with one of them."""
    people, devices = defaultdict(set), defaultdict(set)
    for v in rows:
        day = rules.visit_day(v)
        people[day].add(v.beneficiary_id)
        if v.device_id:
            devices[day].add(v.device_id)
    clauses = []
    for day in sorted(set(people) | set(devices)):
        start, stop = day_bounds(day)
        who = [among(Visit.beneficiary_id, people[day])] if people[day] else []
        if devices[day]:
            who.append(among(Visit.device_id, devices[day]))
        clauses.append(and_(Visit.check_in_at >= start, Visit.check_in_at < stop, or_(*who)))
    return clauses


def neighbours_of(rows):
    """Every visit whose comparative findings a change to ``rows`` may change, ``rows`` included
    (a superset of the per-visit Neighbourhood: judging more visits is harmless, each is judged
    against all its own neighbours)."""
    windows = coarse(worker_windows(rows))
    found = {v.id: v for v in rows}
    for vid, row in load_counted(_grouped_by_window(windows) + day_clauses(rows), found).items():
        found.setdefault(vid, row)
    for nearest in (_nearest(windows, True), _nearest(windows, False)):
        for row in nearest.values():
            found.setdefault(row.id, row)
    return list(found.values())


class SetPass(ComparisonPass):
    """ComparisonPass over plain rows, every one of them judged (see the module docstring)."""

    def __init__(self, rows):
        self.visit, self.hood = (rows[0] if rows else None), None
        self.affected = list({v.id: v for v in rows}.values())
        self._settings, self._slots = {}, {}
        windows = coarse(worker_windows(self.affected))
        known = {v.id: v for v in self.affected}
        around = load_counted(_grouped_by_window(windows) + day_clauses(self.affected), known)  # one read for both
        self._lines = self._worker_lines(windows, around)
        self._same_item, self._device = self._days(around)

    def _worker_lines(self, windows, around):
        """Each stretch's line: its worker's counted visits inside it (a visit read for a day's
        group but outside every stretch would leave a gap), plus the nearest one on each side."""
        self._stretches = by_worker(windows)
        members = defaultdict(dict)
        for v in [*around.values(), *self.affected]:  # the judged ones whatever their status
            stretch = window_of(self._stretches, v)
            if stretch is not None:
                members[stretch][v.id] = v
        before, after = _nearest(windows, True), _nearest(windows, False)
        return {stretch: WorkerLine(list(members[stretch].values()), before.get(stretch), after.get(stretch))
                for stretch in windows}

    def line_of(self, visit):
        return self._lines[window_of(self._stretches, visit)]

    def slot(self, visit):
        """The visit's effective interval (its row carries the correction in force), made once."""
        if visit is None:
            return None
        found = self._slots.get(visit.id)
        if found is None:
            found = self._slots[visit.id] = rules.Slot(visit, *visit.effective_times)
        return found

    def _days(self, around):
        """The beneficiaries' and the phones' counted visits of the judged visits' days."""
        return day_groups([*around.values(), *self.affected])


def exceptions_of(ids):
    """{visit id: [VisitException columns as a dict]} for these visits (of the current bureau)."""
    table = VisitException.__table__
    found = defaultdict(list)
    for chunk in chunks(sorted(set(ids))):
        stmt = select(table).where(among(table.c.visit_id, chunk), of_this_bureau(table))
        for row in db.session.execute(stmt).mappings():
            found[row["visit_id"]].append(dict(row))
    return found
