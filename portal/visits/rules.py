"""The verification rules V01–V11 of docs/DOMAIN.md §6.

Each rule looks at one visit (and, for the comparative rules, at the few neighbouring visits
verification.py hands it) and returns a Finding, or None when the visit passes. ``apply`` turns
the findings into VisitException rows: a rule that fires opens (or refreshes) its exception, a rule
that passes removes its own stale open exception; an exception a contractor has answered or a
supervisor has decided is never touched. Thresholds come from the bureau's settings and the
service item; times are the visit's effective times (the latest accepted correction, else the raw
record).
A visit's day is the Beijing date of its recorded check-in."""
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from portal.accounts.models import User
from portal.beneficiaries.services import eligible_on
from portal.contractors.models import StaffMember
from portal.core.geo import haversine_m
from portal.core.timeutil import to_local
from portal.extensions import db
from portal.visits.models import VisitException, VisitPhoto

SINGLE_RULES = ("V01", "V02", "V03", "V06", "V08", "V09", "V11")
COMPARATIVE_RULES = ("V04", "V05", "V07", "V10")
TOUCH_TOLERANCE = timedelta(minutes=1)   # two visits of a worker may touch by this much (§6)
CLOCK_SKEW = timedelta(minutes=5)        # a phone clock this far ahead is not "in the future"
MAX_VISIT_SPAN = timedelta(hours=24)     # how far back an overlapping visit may have started
UNTOUCHABLE = ("answered", "accepted", "rejected")  # a person has acted on these


@dataclass
class Finding:
    code: str
    message: str
    details: dict = field(default_factory=dict)
    warning: bool = False


@dataclass
class Slot:
    """A visit's effective interval and places, as the comparative rules see it."""
    visit: object
    start: object
    end: object  # None without a check-out

    @property
    def last_time(self):
        return self.end or self.start

    @property
    def last_place(self):
        v = self.visit
        if v.check_out_at is not None and v.check_out_lat is not None and v.check_out_lon is not None:
            return v.check_out_lat, v.check_out_lon
        return v.check_in_lat, v.check_in_lon


def visit_day(visit):
    return to_local(visit.check_in_at).date()


def _minutes(delta):
    return round(delta.total_seconds() / 60, 1)


# --- single-visit rules -----------------------------------------------------------------------

def v01_unlisted_worker(visit, settings, now):
    """V01: the worker must be on the visit's contractor's roster on the visit's day."""
    day = visit_day(visit)
    members = getattr(visit, "roster", None)  # read ahead for many visits at once (setpass.py)
    if members is None:
        members = db.session.scalars(select(StaffMember).where(
            StaffMember.user_id == visit.worker_user_id, StaffMember.contractor_id == visit.contractor_id)).all()
    if any(m.on_roster(day) for m in members):
        return None
    return Finding("V01", _("The worker was not on the contractor's active roster on %(day)s.", day=day.isoformat()),
                   {"day": day.isoformat(), "on_roster": bool(members)})


def distance_from_home(home, lat, lon):
    """Metres from the beneficiary's home to a check-in, or None when the home has no position."""
    if home is None or home.lat is None or home.lon is None:
        return None
    return haversine_m(home.lat, home.lon, lat, lon)


def v02_geofence(visit, settings, now):
    """V02: check-in within the geofence radius of the beneficiary's home (distance stored)."""
    distance = distance_from_home(visit.beneficiary, visit.check_in_lat, visit.check_in_lon)
    visit.distance_from_home_m = None if distance is None else round(distance)
    if distance is None:
        return None
    radius = settings["geofence_radius_m"]
    if distance <= radius:
        return None
    return Finding("V02", _("Checked in %(distance)s m from the beneficiary's home; the limit is %(radius)s m.",
                            distance=round(distance), radius=radius),
                   {"distance_m": round(distance), "radius_m": radius})


def v03_duration(visit, settings, now):
    """V03: the effective duration within the service item's minimum and maximum minutes."""
    start, end = visit.effective_times
    item = visit.service_item
    if end is None or end < start or item is None:
        return None
    minutes = (end - start).total_seconds() / 60
    low, high = item.min_minutes, item.max_minutes
    if (low is None or minutes >= low) and (high is None or minutes <= high):
        return None
    bounds = f"{low if low is not None else 0}–{high if high is not None else '∞'}"
    return Finding("V03", _("The visit lasted %(minutes)s min, outside the allowed %(bounds)s min.",
                            minutes=_minutes(end - start), bounds=bounds),
                   {"minutes": _minutes(end - start), "min_minutes": low, "max_minutes": high})


def v06_eligibility(visit, settings, now):
    """V06: the beneficiary was active and assigned to the contract on the visit's day."""
    day = visit_day(visit)
    book = getattr(visit, "eligibility", None)  # an EligibilityBook read ahead for many visits
    if book is None:
        eligible, reason = eligible_on(visit.beneficiary_id, visit.contract_id, day)
    else:
        eligible, reason = book.on(visit.beneficiary_id, visit.contract_id, day)
    if eligible:
        return None
    return Finding("V06", _("The beneficiary was not eligible on %(day)s: %(reason)s", day=day.isoformat(),
                            reason=str(reason)), {"day": day.isoformat(), "reason": str(reason)})


def v08_times(visit, settings, now):
    """V08: missing or impossible times — no check-out once the visit's day is over, a check-out
    before the check-in, a check-in or check-out later than when the server received it (beyond
    the clock-skew tolerance)."""
    problems = []
    start, end = visit.effective_times
    received_in = visit.received_at or now
    received_out = visit.checked_out_received_at or received_in
    if visit.check_in_at > received_in + CLOCK_SKEW:
        problems.append("check_in_in_future")
    if visit.check_out_at is not None and visit.check_out_at > received_out + CLOCK_SKEW:
        problems.append("check_out_in_future")
    if end is not None and end < start:
        problems.append("check_out_before_check_in")
    if visit.check_out_at is None and to_local(now).date() > visit_day(visit):
        problems.append("no_check_out")
    if not problems:
        return None
    texts = {"check_in_in_future": _("the check-in time is in the future"),
             "check_out_in_future": _("the check-out time is in the future"),
             "check_out_before_check_in": _("the check-out is before the check-in"),
             "no_check_out": _("there is no check-out")}
    return Finding("V08", _("Missing or impossible times: %(problems)s.",
                            problems="; ".join(texts[p] for p in problems)), {"problems": problems})


def v09_late_upload(visit, settings, now):
    """V09 (warning): the check-out reached the server more than late_upload_hours after it."""
    if visit.check_out_at is None:
        return None
    received = visit.checked_out_received_at or visit.received_at
    limit = settings["late_upload_hours"]
    if received is None or received - visit.check_out_at <= timedelta(hours=limit):
        return None
    hours = round((received - visit.check_out_at).total_seconds() / 3600, 1)
    return Finding("V09", _("Uploaded %(hours)s h after the check-out; the limit is %(limit)s h.",
                            hours=hours, limit=limit), {"hours": hours, "limit_hours": limit}, warning=True)


def v11_photo(visit, settings, now):
    """V11: an item that requires a photo has at least one."""
    item = visit.service_item
    if item is None or not item.photo_required:
        return None
    has_photo = getattr(visit, "has_photo", None)  # read ahead for many visits at once
    if has_photo is None and "photos" in getattr(visit, "__dict__", {}):  # an ORM visit's loaded photos
        has_photo = bool(visit.photos)
    if has_photo is None:
        has_photo = db.session.execute(
            select(VisitPhoto.id).where(VisitPhoto.visit_id == visit.id).limit(1)).first() is not None
    if has_photo:
        return None
    return Finding("V11", _("This service item requires a photo and none was uploaded."), {})


SINGLE = {"V01": v01_unlisted_worker, "V02": v02_geofence, "V03": v03_duration, "V06": v06_eligibility,
          "V08": v08_times, "V09": v09_late_upload, "V11": v11_photo}


# --- comparative rules (the neighbours come from verification.py) ----------------------------------

def v04_overlap(slot, worker_slots):
    """V04: no other visit of the worker overlaps this one by more than the one-minute touch."""
    if slot.end is None:
        return None
    overlaps = {}
    for other in worker_slots:
        if other.visit.id == slot.visit.id or other.end is None:
            continue
        overlap = min(slot.end, other.end) - max(slot.start, other.start)
        if overlap > TOUCH_TOLERANCE:
            overlaps[other.visit.id] = _minutes(overlap)
    if not overlaps:
        return None
    worst = max(overlaps.values())
    return Finding("V04", ngettext("Overlaps %(num)s other visit of the same worker by up to %(minutes)s min.",
                                   "Overlaps %(num)s other visits of the same worker by up to %(minutes)s min.",
                                   len(overlaps), minutes=worst),
                   {"visits": sorted(overlaps), "overlap_minutes": worst})


def _leg(before, after, settings):
    """The travel from ``before`` to ``after``: (distance m, km/h or None when no time passed), or
    None when it is possible. A move within the geofence radius is GPS noise, not travel."""
    distance = haversine_m(*before.last_place, after.visit.check_in_lat, after.visit.check_in_lon)
    if distance <= settings["geofence_radius_m"]:
        return None
    seconds = (after.start - before.last_time).total_seconds()
    if seconds <= 0:
        return round(distance), None
    kmh = distance / 1000 / (seconds / 3600)
    return (round(distance), round(kmh, 1)) if kmh > settings["max_travel_kmh"] else None


def v05_travel(slot, previous, following, settings):
    """V05: the travel from the worker's previous visit (its check-out place and time, else its
    check-in) to this check-in, and from this visit to the next, is possible at max_travel_kmh."""
    legs = []
    for before, after, other in ((previous, slot, previous), (slot, following, following)):
        if before is None or after is None:
            continue
        leg = _leg(before, after, settings)
        if leg is not None:
            legs.append({"visit": other.visit.id, "distance_m": leg[0], "kmh": leg[1]})
    if not legs:
        return None
    speeds = [leg["kmh"] for leg in legs if leg["kmh"] is not None]
    shown = _("no time between them") if len(speeds) < len(legs) else f"{max(speeds)} km/h"
    return Finding("V05", _("Impossible travel from or to the worker's neighbouring visit (%(speed)s; the limit is "
                            "%(limit)s km/h).", speed=shown, limit=settings["max_travel_kmh"]),
                   {"legs": legs, "limit_kmh": settings["max_travel_kmh"]})


def _with_itself(slot, slots):
    """``slots`` in check-in order, ``slot`` among them even when the caller's set left it out (a
    rejected visit is nobody's neighbour, but it is still judged against the others)."""
    by_id = {s.visit.id: s for s in slots}
    by_id.setdefault(slot.visit.id, slot)
    return sorted(by_id.values(), key=lambda s: (s.visit.check_in_at, s.visit.id))


def v07_daily_limit(slot, same_item_that_day):
    """V07: at most daily_limit_per_beneficiary visits of the item to the beneficiary a day; those
    past the limit, in check-in order, fail."""
    limit = slot.visit.service_item.daily_limit_per_beneficiary if slot.visit.service_item else None
    if limit is None:
        return None
    ordered = _with_itself(slot, same_item_that_day)
    rank = next(i for i, s in enumerate(ordered, start=1) if s.visit.id == slot.visit.id)
    if rank <= limit:
        return None
    day = visit_day(slot.visit).isoformat()
    return Finding("V07", _("Visit %(rank)s of this service to the beneficiary on %(day)s; the daily limit is "
                            "%(limit)s.", rank=rank, day=day, limit=limit),
                   {"day": day, "rank": rank, "limit": limit,
                    "earlier_visits": [s.visit.id for s in ordered[:rank - 1]]})


def worker_key(visit):
    return ("staff", visit.staff_id) if visit.staff_id is not None else ("user", visit.worker_user_id)


def v10_shared_device(slot, device_visits_that_day):
    """V10: the visit's device was used by no other worker that day."""
    others = {worker_key(v) for v in device_visits_that_day} - {worker_key(slot.visit)}
    if not slot.visit.device_id or not others:
        return None
    day = visit_day(slot.visit).isoformat()
    contractors = sorted({v.contractor_id for v in device_visits_that_day})
    return Finding("V10", ngettext("The device of this visit was used by %(num)s other worker on %(day)s.",
                                   "The device of this visit was used by %(num)s other workers on %(day)s.",
                                   len(others), day=day),
                   {"day": day, "other_workers": len(others), "contractors": len(contractors),
                    "visits": sorted(v.id for v in device_visits_that_day if v.id != slot.visit.id)})


# --- findings → exception rows -----------------------------------------------------------------

# Findings that running the rules again never clears: work by someone on no roster (V01) goes only
# when a supervisor re-checks a corrected roster (unlisted.recheck_roster), never because the
# contractor back-dated a roster entry and the worker uploaded another photo.
CLEARED_ONLY_BY_A_SUPERVISOR = frozenset({"V01"})


def plan(existing, codes, findings):
    """What makes a visit's exceptions of ``codes`` match ``findings`` (code → Finding or None),
    given ``existing`` (code → its current exception, anything with ``status``, ``message``,
    ``details``, ``warning``): a list of ("remove", row), ("raise", code, finding) and
    ("refresh", row, finding). Open exceptions are refreshed or removed; answered and decided ones
    stay as they are, and so does a V01 finding the rule no longer makes
    (CLEARED_ONLY_BY_A_SUPERVISOR). The one definition both the per-visit and the set path follow."""
    steps = []
    for code in codes:
        finding, row = findings.get(code), existing.get(code)
        if row is not None and row.status in UNTOUCHABLE:
            continue
        if finding is None:
            if row is not None and code not in CLEARED_ONLY_BY_A_SUPERVISOR:
                steps.append(("remove", row))
        elif row is None:
            steps.append(("raise", code, finding))
        elif (row.message, row.details, row.warning) != (finding.message, finding.details, finding.warning):
            steps.append(("refresh", row, finding))
    return steps


def refresh(row, finding):
    if row.message != finding.message:
        row.message = finding.message
    if row.details != finding.details:
        row.details = finding.details
    if row.warning != finding.warning:
        row.warning = finding.warning


def apply(visit, codes, findings, now):
    """Make ``visit``'s exceptions of ``codes`` match ``findings`` (see ``plan``), on ORM rows."""
    for step in plan({e.code: e for e in visit.exceptions}, codes, findings):
        if step[0] == "remove":
            db.session.delete(step[1])
            visit.exceptions.remove(step[1])
        elif step[0] == "raise":
            row = VisitException(visit_id=visit.id, code=step[1], raised_at=now, status="open")
            refresh(row, step[2])
            visit.exceptions.append(row)
            db.session.add(row)
        else:
            refresh(step[1], step[2])


def worker_label(visit):
    """How a violation names the worker: their roster name, else their account's display name."""
    if visit.staff is not None:
        return visit.staff.name
    user = db.session.get(User, visit.worker_user_id)
    return (user.display_name or user.username) if user else ""
