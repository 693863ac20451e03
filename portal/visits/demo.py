"""The demo's delivery history (docs/API.md): the whole previous calendar month of CARE-VISIT
visits by a-worker1 and a-worker2 to the people assigned to them — three or four visits a working
day each, 60–120 minutes, checked in within about 40 m of home, a photo each — mostly clean, with
a few cases of every rule V01–V11, and a few exceptions already answered by a-manager and decided
by gx-supervisor. Each visit records the catalogue services it gave (visits/catalogue.py, see
_services), so the care plans of the demo (careplans/demo.py) are met last month for everyone but
one person.

Visits go through the real recording (record_visit, add_photo, check_out) and verification code,
with clocks set to the visit's own times. Times come from a random generator seeded with the
month, so a run on the same day plans the same visits; every visit has a client id derived from
its place in the plan, and a second run skips the ones that exist (it creates nothing).

The comparison that verification normally queues per check-out is run here, in the process, once
per new visit after all of them exist (so no neighbour needs re-checking) — hundreds of background
jobs would only fill the job list."""
import io
import math
import random
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.beneficiaries.demo import DECEASED, HOSPITALISED, demo_contract
from portal.beneficiaries.models import Beneficiary
from portal.contractors.models import StaffMember
from portal.contracts.models import Assignment
from portal.core.geo import haversine_m
from portal.core.months import month_days, previous_month
from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.tenancy.workdays import tenant_calendar
from portal.visits import exceptions, recording, verification
from portal.visits.models import Visit, VisitException

WORKERS = ("a-worker1", "a-worker2")
HELPER = ("a-helper", "临时帮工（未列入花名册）")  # recorded a visit while not on A's roster: V01
ITEM = "CARE-VISIT"
NAMESPACE = uuid.UUID("6f1c2a52-3d4e-4b7a-9c1d-2b8e5f0a7d11")
NEAR_M, FAR_M = 40, 650
# Her counselling (心理疏导) was never recorded last month: the demo's one person missed against
# her care plan (careplans/demo.py plans counselling for everyone with a final self-care class).
UNCOUNSELLED = "刘桂英"


def tiny_jpeg():
    """A valid 8×8 grey baseline JPEG made in code (one block, DC only; one-code Huffman tables),
    so the demo needs no image library and no binary file."""
    def segment(marker, payload):
        return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1 for symbol 0
    return (b"\xff\xd8"
            + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + segment(0xDB, b"\x00" + b"\x01" * 64)
            + segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
            + segment(0xC4, b"\x00" + one_code) + segment(0xC4, b"\x10" + one_code)
            + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
            + b"\x3f"  # DC difference 0 ("0"), end of block ("0"), padded with ones
            + b"\xff\xd9")


def _near(rng, lat, lon, metres):
    """A point ``metres`` (±10 %) from (lat, lon) in a random direction."""
    distance = metres * rng.uniform(0.9, 1.0) if metres > NEAR_M else rng.uniform(3, metres)
    angle = rng.uniform(0, 2 * math.pi)
    return (round(lat + distance / 111_000 * math.sin(angle), 6),
            round(lon + distance / (111_000 * math.cos(math.radians(lat))) * math.cos(angle), 6))


def _local(day, minutes_after_midnight):
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ) + timedelta(minutes=minutes_after_midnight)


# --- the plan ----------------------------------------------------------------------------------

def _people_of(contract):
    """{username: [beneficiaries assigned to that worker]}, in assignment order."""
    rows = db.session.execute(
        select(User.username, Beneficiary).join(StaffMember, StaffMember.user_id == User.id)
        .join(Assignment, Assignment.staff_id == StaffMember.id)
        .join(Beneficiary, Beneficiary.id == Assignment.beneficiary_id)
        .where(Assignment.contract_id == contract.id, User.username.in_(WORKERS))
        .order_by(Assignment.id)).all()
    people = {username: [] for username in WORKERS}
    for username, person in rows:
        if person not in people[username]:
            people[username].append(person)
    return people


def _plan(days, people, stops, rng):
    """Clean visits: per worker and working day 3–4 people in turn (never one twice a day, nobody
    after they left care), 60–120 minutes each, 20–40 minutes of travel between them."""
    plan = []
    for username in WORKERS:
        turn = 0
        for day in days:
            minute = 8 * 60 + 30 + rng.randint(0, 20)
            seen = set()
            for _k in range(rng.choice((3, 4, 4))):
                for _try in range(len(people[username])):
                    person = people[username][turn % len(people[username])]
                    turn += 1
                    if person.id not in seen and _serves(person, day, stops):
                        break
                else:
                    break
                seen.add(person.id)
                minutes = rng.randint(60, 120)
                plan.append({"user": username, "person": person, "day": day, "start": minute, "minutes": minutes,
                             "device": f"demo-{username}-phone", "offset_m": NEAR_M, "photo": True,
                             "check_out": True, "late_hours": 0, "case": ""})
                minute += minutes + rng.randint(20, 40)
    return plan


def _on(plan, username, day):
    return sorted((v for v in plan if v["user"] == username and v["day"] == day), key=lambda v: v["start"])


def _shift_after(plan, entry, minutes):
    """Move the worker's visits after ``entry`` that day by ``minutes``."""
    for later in _on(plan, entry["user"], entry["day"]):
        if later["start"] > entry["start"]:
            later["start"] += minutes


def _append(plan, username, day, **changes):
    """One more visit after the worker's last of the day (30 minutes later, 65 minutes long)."""
    last = _on(plan, username, day)[-1]
    entry = {**last, "start": last["start"] + last["minutes"] + 30, "minutes": 65, "offset_m": NEAR_M,
             "photo": True, "check_out": True, "late_hours": 0, "case": ""}
    entry.update(changes)
    plan.append(entry)
    return entry


def _serves(person, day, stops):
    return day < stops.get(person.name, day + timedelta(days=1))


def _cases(plan, days, people, stops, helper_name):
    """Turn a few planned visits into cases of each rule V01–V11, and add the visits some need."""
    def pick(i):
        return days[i % len(days)]
    w1, w2 = WORKERS
    _on(plan, w1, pick(2))[0].update(offset_m=FAR_M, case="V02")
    _on(plan, w2, pick(13))[0].update(offset_m=FAR_M, case="V02")
    for username, i, minutes in ((w1, 3, 20), (w2, 14, 250)):  # V03: too short, too long
        entry = _on(plan, username, pick(i))[1]
        _shift_after(plan, entry, minutes - entry["minutes"])
        entry.update(minutes=minutes, case="V03")
    entry["corrected_by"] = 20  # the manager corrects the long one (left 20 minutes earlier): it waits for a decision
    first, second = _on(plan, w2, pick(4))[:2]  # V04: the second starts 30 minutes before the first ends
    _shift_after(plan, first, first["start"] + first["minutes"] - 30 - second["start"])
    second["case"] = "V04"
    day = pick(5)  # V05: two minutes to the farthest of the worker's people
    first, second = _on(plan, w1, day)[:2]
    busy = {v["person"].id for v in _on(plan, w1, day)}
    far = max((p for p in people[w1] if p.id not in busy and _serves(p, day, stops)),
              key=lambda p: haversine_m(first["person"].lat, first["person"].lon, p.lat, p.lon))
    _shift_after(plan, first, first["start"] + first["minutes"] + 2 - second["start"])
    second.update(person=far, case="V05")
    for name in (HOSPITALISED, DECEASED):  # V06: visited after leaving care
        owner = next(u for u in WORKERS if any(p.name == name for p in people[u]))
        person = next(p for p in people[owner] if p.name == name)
        day = next((d for d in days if d >= stops[name] + timedelta(days=2)), None)
        if day is not None:
            _append(plan, owner, day, person=person, case="V06")
    _append(plan, w2, pick(6), person=_on(plan, w2, pick(6))[0]["person"], case="V07")  # V07: again that day
    _on(plan, w1, pick(7))[-1].update(check_out=False, case="V08")
    _on(plan, w2, pick(8))[0].update(late_hours=80, case="V09")
    _on(plan, w2, pick(9))[1].update(device=f"demo-{w1}-phone", case="V10")
    _on(plan, w1, pick(10))[2].update(photo=False, case="V11")
    _on(plan, w2, pick(12))[0].update(photo=False, case="V11")
    day = pick(11)  # V01: someone not on the roster serves one of a-worker1's people, late afternoon
    busy = {v["person"].id for v in plan if v["day"] == day}
    person = next(p for p in people[w1] if p.id not in busy and _serves(p, day, stops))
    plan.append({"user": helper_name, "person": person, "day": day, "start": 18 * 60, "minutes": 90,
                 "device": "demo-a-helper-phone", "offset_m": NEAR_M, "photo": True, "check_out": True,
                 "late_hours": 0, "case": "V01"})
    return plan


def _services(plan):
    """The catalogue codes each visit records: daily watch, personal care, emotional comfort and
    humanistic care every time; at the person's clean visits (no case of a rule) social integration
    every other time and counselling at the first three of the month — never for UNCOUNSELLED.
    ``plan`` is in time order."""
    clean = Counter()
    for entry in plan:
        codes = ["daily_watch", "personal_care", "emotional_comfort", "humanistic_care"]
        person = entry["person"]
        if not entry["case"]:
            k = clean[person.id]
            clean[person.id] += 1
            if k % 2 == 1:
                codes.append("social_integration")
            if k < 3 and person.name != UNCOUNSELLED:
                codes.append("counselling")
        entry["services"] = codes
    return plan


# --- recording ----------------------------------------------------------------------------------

@contextmanager
def comparisons_in_process():
    """Collect the visits whose comparison verification would queue; the caller runs them (the
    demo's own visits here, and the home visits of the assessments demo)."""
    pending = []
    queue = verification.schedule_comparison
    verification.schedule_comparison = lambda visit: pending.append(visit.id)
    try:
        yield pending
    finally:
        verification.schedule_comparison = queue


def _record(entry, users, rng, photo):
    """One planned visit through the recording code, each step at its own moment. Returns the
    visit, or None when a previous run recorded it already."""
    client_id = str(uuid.uuid5(NAMESPACE, f"{entry['user']}:{entry['day'].isoformat()}:{entry['start']}:"
                                          f"{entry['person'].id}:{entry['case']}"))
    if db.session.execute(select(Visit.id).where(Visit.client_id == client_id)).first() is not None:
        return None
    user, person = users[entry["user"]], entry["person"]
    check_in = _local(entry["day"], entry["start"])
    check_out = check_in + timedelta(minutes=entry["minutes"])
    lat, lon = _near(rng, person.lat, person.lon, entry["offset_m"])
    out_lat, out_lon = _near(rng, person.lat, person.lon, NEAR_M)
    received = check_in + timedelta(minutes=1)
    payload = {"client_id": client_id, "beneficiary_id": person.id, "service_item": ITEM,
               "device_id": entry["device"], "services": entry["services"],
               "check_in": {"at": check_in.isoformat(), "lat": lat, "lon": lon, "accuracy_m": 12}}
    if entry["late_hours"]:  # kept offline: everything arrives at once, days later
        received = check_out + timedelta(hours=entry["late_hours"])
        payload["check_out"] = {"at": check_out.isoformat(), "lat": out_lat, "lon": out_lon}
    visit, _created = recording.record_visit(payload, user, received)
    if entry["photo"]:
        recording.add_photo(visit, FileStorage(io.BytesIO(photo), filename="photo.jpg"), user,
                            received + timedelta(minutes=2))
    if entry["check_out"] and not entry["late_hours"]:
        recording.check_out(visit, {"at": check_out.isoformat(), "lat": out_lat, "lon": out_lon}, user,
                            check_out + timedelta(minutes=1))
    if entry.get("corrected_by") and "a-manager" in users:
        recording.correct_times(visit, reason_code="left_early", user=users["a-manager"],
                                now=check_out + timedelta(hours=20), note="服务对象家属确认提前结束。",
                                check_out_at=(check_out - timedelta(minutes=entry["corrected_by"])).isoformat())
    return visit


def _helper(contractor_id, password):
    """A field-worker account of contractor A without a roster entry (the V01 case)."""
    user = db.session.execute(select(User).where(User.username == HELPER[0])).scalar_one_or_none()
    if user is not None:
        return user, 0
    user = User(username=HELPER[0], display_name=HELPER[1], role="field_worker", contractor_id=contractor_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, 1


# --- decisions ----------------------------------------------------------------------------------

DECISIONS = [  # (code, nth exception of that code, answer reason, answer, decision)
    ("V02", 0, "gps_drift", "村里信号差，定位漂移，家属可以证明当天上门服务。", "accept"),
    ("V03", 0, "family_request", "老人当天身体不适，家属要求提前结束服务。", "reject"),
    ("V11", 0, "data_entry_error", "照片拍摄后未上传成功，手机相册中有当天照片。", None),
    ("V06", 0, "hospital_escort", "当天陪同老人办理出院手续后送回家中。", None),
]


def _decide(month_end, contract):
    """A few exceptions of A's visits answered by a-manager, some of them decided by gx-supervisor
    (once)."""
    manager = db.session.execute(select(User).where(User.username == "a-manager")).scalar_one_or_none()
    supervisor = db.session.execute(select(User).where(User.username == "gx-supervisor")).scalar_one_or_none()
    if manager is None or supervisor is None:
        return 0
    changed = 0
    answered_at = datetime.combine(month_end + timedelta(days=3), time(10), tzinfo=LOCAL_TZ)
    for code, nth, reason, text, decision in DECISIONS:
        rows = db.session.scalars(select(VisitException).join(Visit, Visit.id == VisitException.visit_id)
                                  .where(VisitException.code == code, Visit.contract_id == contract.id)
                                  .order_by(Visit.check_in_at, VisitException.id)).all()
        if len(rows) <= nth:
            continue
        row = rows[nth]
        if row.status == "open":
            exceptions.respond(row, reason=reason, text=text, user=manager, now=answered_at)
            changed += 1
        if decision and row.status == "answered":
            exceptions.DECIDE[decision](row, supervisor, "核实后决定。" if decision == "accept" else "理由不成立。",
                                        answered_at + timedelta(days=1))
            changed += 1
    return changed


# --- the entry point ---------------------------------------------------------------------------------

def seed_visits(tenants, password="demo-pass-2026"):  # nosec B107 # the documented demo password (README, Demo logins)
    """Record what is missing of last month's demo visits in ganxian and verify them; returns how
    many rows were created (visits, plus the helper account and decisions on a first run)."""
    today = local_today()
    start, end = month_days(previous_month(today))
    created = 0
    with tenant_scope(tenants["ganxian"].id):
        contract = demo_contract("A", ITEM)
        if contract is None:
            return 0
        people = _people_of(contract)
        if not all(people.values()):
            return 0
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(WORKERS + ("a-manager",))))}
        helper, n = _helper(contract.contractor_id, password)
        created += n
        users[helper.username] = helper
        calendar = tenant_calendar()
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        days = [d for d in days if calendar.is_working_day(d) and d >= contract.starts_on]
        if len(days) < 3:
            return created
        stops = {person.name: person.status_since for group in people.values() for person in group
                 if person.status in ("hospitalised", "deceased", "moved")}
        rng = random.Random(f"demo-visits:{start.isoformat()}")  # nosec B311 # demo data, the same on every seeding
        plan = _cases(_plan(days, people, stops, rng), days, people, stops, helper.username)
        plan.sort(key=lambda v: (v["day"], v["start"], v["user"]))
        _services(plan)
        photo = tiny_jpeg()
        new = []
        with comparisons_in_process():
            for entry in plan:
                visit = _record(entry, users, rng, photo)
                if visit is not None:
                    new.append(visit)
        # Every visit exists now, so each needs its own comparison only (not its neighbours').
        for visit in new:
            now = (visit.checked_out_received_at or visit.received_at) + timedelta(minutes=5)
            verification.run_comparative_rules(visit, now)
            verification.settle_status(visit, now, final=True)
        if new:
            verification.flag_missing_check_outs(today=today, now=utcnow())
            created += len(new)
        created += _decide(end, contract)
        db.session.flush()
    return created
