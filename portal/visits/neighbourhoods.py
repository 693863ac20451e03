"""Which visits the comparative rules (V04, V05, V07, V10) of a visit look at — found for the visit
and for every visit it affects in one set-based pass.

``Neighbourhood(visit)`` finds the visits a change to ``visit`` affects, by index range scans: the
worker's visits around it, the previous and next one, the beneficiary's visits of the item that
day, the device's visits that day. ``ComparisonPass(visit)`` then loads, once, everything the
rules of all those visits need — each worker's visits over the span of the affected ones (and
one more on each side), the beneficiaries' and devices' visits of the days concerned, the
latest corrections, the current exceptions — and hands each visit its neighbours from memory.
The number of SQL statements is fixed (it grows with the number of distinct workers, days and
items involved, never with how many visits overlap), so a worker with hundreds of overlapping
visits costs reads proportional to the rows, not to their square.

Rejected visits are neighbours of nobody, in every set alike; the visit being judged is always
in its own sets (whatever its status), so a rule never looks for it in vain.
"""
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import and_, inspect, or_, select
from sqlalchemy.orm.attributes import set_committed_value

from portal.core.timeutil import local_midnight_utc
from portal.extensions import db
from portal.tenancy.services import settings_for
from portal.visits import rules
from portal.visits.models import Visit, VisitCorrection, VisitException

COUNTED = Visit.status != "rejected"


def counted(visit):
    return visit.status != "rejected"


def of_worker(visit):
    """The SQL condition for the visits of ``visit``'s worker (rules.worker_key)."""
    if visit.staff_id is not None:
        return Visit.staff_id == visit.staff_id
    return and_(Visit.worker_user_id == visit.worker_user_id, Visit.staff_id.is_(None))


def day_bounds(day):
    return local_midnight_utc(day), local_midnight_utc(day + timedelta(days=1))


def raw_end(visit):
    """The recorded end bounding the worker window: the check-out if after the check-in."""
    if visit.check_out_at and visit.check_out_at > visit.check_in_at:
        return visit.check_out_at
    return visit.check_in_at


def order_key(visit):
    return visit.check_in_at, visit.id


def _all(*conditions):
    return db.session.scalars(select(Visit).where(*conditions)).all()


def _first(stmt):
    return db.session.scalars(stmt.limit(1)).first()


def _before(visit):
    at, vid = visit.check_in_at, visit.id
    # The plain bound makes the index scan start at the visit, not at the worker's first visit.
    return and_(Visit.check_in_at <= at, or_(Visit.check_in_at < at, and_(Visit.check_in_at == at, Visit.id < vid)))


def _after(visit):
    at, vid = visit.check_in_at, visit.id
    return and_(Visit.check_in_at >= at, or_(Visit.check_in_at > at, and_(Visit.check_in_at == at, Visit.id > vid)))


def previous_of(visit):
    return _first(select(Visit).where(of_worker(visit), COUNTED, _before(visit))
                  .order_by(Visit.check_in_at.desc(), Visit.id.desc()))


def following_of(visit):
    return _first(select(Visit).where(of_worker(visit), COUNTED, _after(visit)).order_by(Visit.check_in_at, Visit.id))


class Neighbourhood:
    """The visits a change to ``visit`` affects (and that its own rules compare it with)."""

    def __init__(self, visit):
        self.visit = visit
        self.worker = _all(of_worker(visit), COUNTED, Visit.check_in_at >= visit.check_in_at - rules.MAX_VISIT_SPAN,
                           Visit.check_in_at <= raw_end(visit))
        self.previous = previous_of(visit)
        self.following = following_of(visit)
        start, stop = day_bounds(rules.visit_day(visit))
        that_day = (Visit.check_in_at >= start, Visit.check_in_at < stop)
        self.same_item = _all(Visit.beneficiary_id == visit.beneficiary_id, *that_day, COUNTED,
                              Visit.service_item_id == visit.service_item_id)
        self.device = _all(Visit.device_id == visit.device_id, *that_day, COUNTED) if visit.device_id else []

    def visits(self):
        """Every visit seen, the visit itself first, each once."""
        seen = {}
        for v in [self.visit, *self.worker, self.previous, self.following, *self.same_item, *self.device]:
            if v is not None:
                seen.setdefault(v.id, v)
        return list(seen.values())


def day_groups(visits):
    """({(beneficiary, item, day): {id: visit}}, {(device, day): {id: visit}}) of the counted ones."""
    same_item, device = defaultdict(dict), defaultdict(dict)
    for v in visits:
        if counted(v):
            day = rules.visit_day(v)
            same_item[(v.beneficiary_id, v.service_item_id, day)][v.id] = v
            if v.device_id:
                device[(v.device_id, day)][v.id] = v
    return same_item, device


class WorkerLine:
    """One worker's counted visits over a stretch of time, in check-in order, plus the last one
    before and the first one after it: enough to answer V04 and V05 for any visit inside."""

    def __init__(self, visits, before, after):
        self.visits = sorted({v.id: v for v in visits if counted(v)}.values(), key=order_key)
        self.keys = [order_key(v) for v in self.visits]
        self.times = [v.check_in_at for v in self.visits]
        self.before, self.after = before, after

    def overlapping(self, visit):
        """The worker's visits whose check-in lies within MAX_VISIT_SPAN before ``visit``'s up to its end."""
        low = bisect_left(self.times, visit.check_in_at - rules.MAX_VISIT_SPAN)
        high = bisect_right(self.times, raw_end(visit))
        return self.visits[low:high]

    def previous(self, visit):
        i = bisect_left(self.keys, order_key(visit))
        return self.visits[i - 1] if i > 0 else self.before

    def following(self, visit):
        i = bisect_right(self.keys, order_key(visit))
        return self.visits[i] if i < len(self.visits) else self.after


class ComparisonPass:
    """Everything the comparative rules of ``visit`` and of the visits it affects need, loaded at
    once. ``affected`` lists them, the visit first; ``context(v)`` gives one visit's neighbours."""

    def __init__(self, visit, hood=None, *, judged=None):
        """``judged`` (a list of visits) instead of ``visit``: those visits only, without looking
        for the visits they affect (the deferred part of a comparison)."""
        self.visit = visit
        if judged is None:
            self.hood = hood or Neighbourhood(visit)
            self.affected = self.hood.visits()
        else:
            self.hood, self.affected = None, list({v.id: v for v in judged}.values())
        self._lines = self._load_worker_lines()
        self._same_item, self._device = self._load_days()
        self._corrections = self._load_corrections()
        self._load_exceptions()
        self._settings, self._slots = {}, {}

    # --- loading ------------------------------------------------------------------------------

    def _load_worker_lines(self):
        groups = defaultdict(list)
        for v in self.affected:
            groups[rules.worker_key(v)].append(v)
        windows = []
        for members in groups.values():
            first = min(members, key=order_key)
            windows.append((first, min(v.check_in_at for v in members) - rules.MAX_VISIT_SPAN,
                            max(raw_end(v) for v in members), members))
        rows = _all(COUNTED, or_(*[and_(of_worker(first), Visit.check_in_at >= low, Visit.check_in_at <= high)
                                   for first, low, high, _members in windows]))
        by_worker = defaultdict(list)
        for v in rows:
            by_worker[rules.worker_key(v)].append(v)
        lines = {}
        for first, low, high, members in windows:
            key = rules.worker_key(first)
            inside = by_worker[key] + members
            before = _first(select(Visit).where(of_worker(first), COUNTED, Visit.check_in_at < low)
                            .order_by(Visit.check_in_at.desc(), Visit.id.desc()))
            after = _first(select(Visit).where(of_worker(first), COUNTED, Visit.check_in_at > high)
                           .order_by(Visit.check_in_at, Visit.id))
            lines[key] = WorkerLine(inside, before, after)
        return lines

    def _load_days(self):
        """The beneficiaries' and the devices' counted visits on the days of the affected visits."""
        people, devices = defaultdict(set), defaultdict(set)
        for v in self.affected:
            people[rules.visit_day(v)].add(v.beneficiary_id)
            if v.device_id:
                devices[rules.visit_day(v)].add(v.device_id)
        clauses = []
        for day in set(people) | set(devices):
            start, stop = day_bounds(day)
            who = [Visit.beneficiary_id.in_(sorted(people[day]))] if people[day] else []
            if devices[day]:
                who.append(Visit.device_id.in_(sorted(devices[day])))
            clauses.append(and_(Visit.check_in_at >= start, Visit.check_in_at < stop, or_(*who)))
        rows = _all(COUNTED, or_(*clauses)) if clauses else []
        return day_groups([*rows, *self.affected])

    def _load_corrections(self):
        ids = {v.id for line in self._lines.values() for v in [*line.visits, line.before, line.after] if v}
        ids |= {v.id for group in self._same_item.values() for v in group.values()}
        ids |= {v.id for v in self.affected}
        latest = {}
        if ids:
            # Only an accepted correction is in force: a contractor's pending one changes nothing.
            for correction in db.session.scalars(select(VisitCorrection).where(
                    VisitCorrection.visit_id.in_(sorted(ids)), VisitCorrection.status == "accepted")
                    .order_by(VisitCorrection.id)):
                latest[correction.visit_id] = correction
        return latest

    def _load_exceptions(self):
        """The exceptions of every affected visit in one statement (rules.apply reads them)."""
        unloaded = [v for v in self.affected if "exceptions" not in inspect(v).dict]
        if not unloaded:
            return
        found = defaultdict(list)
        for row in db.session.scalars(select(VisitException).where(
                VisitException.visit_id.in_([v.id for v in unloaded])).order_by(VisitException.code)):
            found[row.visit_id].append(row)
        for v in unloaded:
            set_committed_value(v, "exceptions", found[v.id])

    @classmethod
    def of_visits(cls, visits):
        return cls(visits[0] if visits else None, judged=visits)

    def by_priority(self):
        """The affected visits, the visit first, then its previous and next visit, then the
        others by nearness of their check-in to the visit's."""
        if self.hood is None:
            return list(self.affected)
        hood, visit = self.hood, self.visit

        def nearness(v):
            return abs((v.check_in_at - visit.check_in_at).total_seconds()), v.id
        ordered = {visit.id: visit}
        for v in [hood.previous, hood.following, *sorted(self.affected, key=nearness)]:
            if v is not None:
                ordered.setdefault(v.id, v)
        return list(ordered.values())

    # --- one visit's neighbours ------------------------------------------------------------------

    def settings(self, visit):
        """The bureau's settings, read once per pass."""
        if visit.tenant_id not in self._settings:
            self._settings[visit.tenant_id] = settings_for(visit.tenant_id)
        return self._settings[visit.tenant_id]

    def slot(self, visit):
        """The visit's effective interval (its latest accepted correction, else its record), made once."""
        if visit is None:
            return None
        found = self._slots.get(visit.id)
        if found is None:
            found = rules.Slot(visit, *visit.times_with(self._corrections.get(visit.id)))
            self._slots[visit.id] = found
        return found

    def line_of(self, visit):
        """The worker line that holds ``visit``."""
        return self._lines[rules.worker_key(visit)]

    def context(self, visit):
        """(slot, worker slots, previous slot, following slot, same-item slots, device visits)."""
        line = self.line_of(visit)
        day = rules.visit_day(visit)
        same_item = dict(self._same_item.get((visit.beneficiary_id, visit.service_item_id, day), {}))
        same_item.setdefault(visit.id, visit)
        device = dict(self._device.get((visit.device_id, day), {})) if visit.device_id else {}
        device.setdefault(visit.id, visit)
        return (self.slot(visit), [self.slot(v) for v in line.overlapping(visit)],
                self.slot(line.previous(visit)), self.slot(line.following(visit)),
                [self.slot(v) for v in same_item.values()], list(device.values()))
