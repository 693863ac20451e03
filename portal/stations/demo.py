"""The demo's social-work stations and training (docs/DOMAIN.md §2.4, §6, §8; issue 19), seeded
after the contracts and rosters exist. In ganxian:

* the district hub (区总站, 5 staff) and 20 township stations (社工站, 1 or 2 staff), each with
  its address and coordinates, staffed by B's contract of GX-DEMO-003 (STATION-MONTH); B's 30
  station social workers (b-sw01 … b-sw30, contractors/demo.py) on its work list and each
  posted to one station from the day the contract starts;
* presence: a counted check-in by every posted worker on every working day of the contract's first
  month (two months back: the contract is in force then, so that month is fully staffed rather
  than all missing), of the previous month (the bureau's calendar) and of this month before today, except at the short-staffed station
  (SHORT_STATION): one of its two workers was away on three days with nobody in their place, and on
  a fourth day checked in 1.2 km away — flagged, then rejected by gx-supervisor. Two other
  check-ins of last month outside the geofence were accepted with a reason, and one of this month
  waits for a decision;
* a handful of target-group service logs per station last month, the eight groups each served;
* two training sessions of last month, one online for B's station workers and one in the hub's
  training room for A's care workers and the hub's staff, with a few absences.

Rows are written with the models (the field check-in's body and hash as the phone would send
them); every row looks before it is created, so a second run changes nothing."""
import math
import random
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.beneficiaries.demo import demo_contract
from portal.beneficiaries.models import CATEGORIES
from portal.contractors.demo import station_usernames
from portal.contractors.models import StaffMember
from portal.contracts.models import ContractWorker
from portal.core.geo import haversine_m
from portal.core.months import month_days, previous_month
from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.extensions import db
from portal.stations.models import (Station, StationCheckIn, StationPosting, StationServiceLog, TrainingAttendee,
                                    TrainingSession)
from portal.tenancy.scope import tenant_scope
from portal.tenancy.services import settings_for
from portal.tenancy.workdays import tenant_calendar
from portal.visits.recording import body_hash

ITEM = "STATION-MONTH"
NAMESPACE = uuid.UUID("3c9e7b21-5a4d-4f60-8e2b-7d1a6c5f9e42")
PREFIX = "江西省赣州市赣县区"
# (code, name, kind, township, address, lat, lon, required staff); the hub in the district seat.
STATIONS = [("GX-HUB", "赣县区社会工作服务总站", "hub", "梅林镇", "梅林镇赣新大道2号区民政局综合楼一楼", 25.8603, 115.0098, 5)] + [
    (f"GX-SW{index:02d}", f"{township}社会工作服务站", "township", township, address, lat, lon, required)
    for index, (township, address, lat, lon, required) in enumerate([
        ("梅林镇", "梅林镇章水路16号便民服务中心二楼", 25.8668, 115.0195, 2),
        ("王母渡镇", "王母渡镇圩镇新街8号镇政府综合楼", 25.7061, 115.0474, 2),
        ("江口镇", "江口镇江口村圩上组12号镇便民服务中心", 25.9722, 115.1508, 2),
        ("田村镇", "田村镇田村圩新街18号镇社会事务办", 25.7178, 115.2367, 2),
        ("南塘镇", "南塘镇南塘圩中心路5号镇便民服务中心", 25.8095, 115.1602, 2),
        ("沙地镇", "沙地镇沙地圩正街22号镇政府一楼", 25.7923, 115.2951, 1),
        ("茅店镇", "茅店镇茅店村圩镇路3号镇便民服务中心", 25.8867, 115.0571, 1),
        ("吉埠镇", "吉埠镇吉埠圩胜利路6号镇政府综合楼", 25.9024, 115.1032, 1),
        ("五云镇", "五云镇五云圩新街11号镇社会事务办", 26.0051, 115.0987, 1),
        ("湖江镇", "湖江镇湖江圩沿江路9号镇便民服务中心", 25.9837, 115.1294, 1),
        ("储潭镇", "储潭镇储潭村码头路2号镇政府一楼", 25.9310, 115.0126, 1),
        ("韩坊镇", "韩坊镇韩坊圩建设路7号镇便民服务中心", 25.6018, 115.1043, 1),
        ("大埠乡", "大埠乡大埠圩中街4号乡政府综合楼", 25.7893, 114.9512, 1),
        ("大田乡", "大田乡大田圩新村路10号乡便民服务中心", 26.0483, 115.0469, 1),
        ("长洛乡", "长洛乡长洛圩正街15号乡政府一楼", 25.8017, 115.2055, 1),
        ("白鹭乡", "白鹭乡白鹭村古村路1号乡便民服务中心", 26.0012, 115.2488, 1),
        ("三溪乡", "三溪乡三溪圩新街6号乡社会事务办", 25.6512, 115.0036, 1),
        ("阳埠乡", "阳埠乡阳埠圩中心路8号乡政府综合楼", 25.6487, 115.1982, 1),
        ("石芫乡", "石芫乡石芫圩建设路3号乡便民服务中心", 25.9046, 115.2013, 1),
        ("赣州高新区", "赣州高新技术产业开发区管委会便民服务中心一楼", 25.8731, 114.9804, 1),
    ], start=1)]
SHORT_STATION = "GX-SW03"      # 江口镇: one of its two workers away on three days, a fourth rejected
ABSENT_DAYS = (3, 4, 11)       # the indexes of those days among last month's working days
REJECTED_DAY, REJECTED_M = 15, 1200
# (station code, index of the day) of last month's check-ins outside the geofence, accepted
ACCEPTED = (("GX-SW02", 7, 640, "当天在村委会开展低保政策宣讲，在村部签到，经电话核实属实。"),
            ("GX-SW12", 12, 520, "当天随镇民政办入户走访，在走访途中签到，经核实属实。"))
REJECTED_REASON = "签到位置距站点约1.2公里，当日未到岗，不予认可。"
PENDING = ("GX-SW04", 880)     # this month: one flagged check-in waiting for a supervisor
SERVICES = {
    "dibao": "低保政策宣传与入户核查协助", "tekun": "特困人员探访关爱",
    "dibao_marginal": "低保边缘家庭走访与需求评估", "expense_poverty": "支出型困难家庭救助政策咨询",
    "orphan": "孤儿关爱与学业辅导", "de_facto_orphan": "事实无人抚养儿童探访与心理陪伴",
    "disabled": "残疾人康复资源链接与走访", "homeless": "流浪乞讨人员救助引导与护送",
}
ONLINE = ("社会救助政策解读与个案管理实务（“互联网+”课堂）", "online", "赣南师范大学社会工作系 刘晓燕", 3,
          "线上直播授课，课后在线测验。")
OFFLINE = ("特困人员照料护理与居家安全实操培训", "offline", "赣县区人民医院护理部 钟丽萍", 4,
           "在区社会工作服务总站培训室现场演练。")
ONLINE_ABSENT = (9, 17, 26)    # station workers (by index) who missed the online class


def _local(day, minutes):
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ) + timedelta(minutes=minutes)


def _offset(lat, lon, metres, angle):
    return (round(lat + metres / 111_000 * math.sin(angle), 6),
            round(lon + metres / (111_000 * math.cos(math.radians(lat))) * math.cos(angle), 6))


def _working_days(calendar, start, end):
    days, day = [], start
    while day <= end:
        if calendar.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


# --- stations, the work list and the postings ------------------------------------------------------

def _stations(contract):
    created, stations = 0, []
    have = {s.code: s for s in db.session.scalars(select(Station))}
    for code, name, kind, township, address, lat, lon, required in STATIONS:
        station = have.get(code)
        if station is None:
            station = Station(code=code, name=name, kind=kind, township=township, address=PREFIX + address,
                              lat=lat, lon=lon, required_staff=required, contract_id=contract.id,
                              opened_on=contract.starts_on)
            db.session.add(station)
            created += 1
        stations.append(station)
    db.session.flush()
    return stations, created


def _staff():
    """B's station workers in STATION_WORKERS order: [(user, roster member)]."""
    rows = db.session.execute(select(User, StaffMember).join(StaffMember, StaffMember.user_id == User.id).where(
        User.username.in_(station_usernames()), StaffMember.left_on.is_(None))).all()
    by_name = {user.username: (user, member) for user, member in rows}
    return [by_name[name] for name in station_usernames() if name in by_name]


def _post(contract, stations, staff, manager):
    """The work list and one posting per worker by b-manager, from the day the contract starts; returns
    ({station code: [(user, member)]}, rows created)."""
    created, posted, queue = 0, {}, iter(staff)
    listed = set(db.session.scalars(select(ContractWorker.staff_id).where(ContractWorker.contract_id == contract.id)))
    postings = set(db.session.execute(select(StationPosting.station_id, StationPosting.staff_id)).all())
    for station in stations:
        posted[station.code] = []
        for user, member in [next(queue) for _ in range(station.required_staff)]:
            since = max(contract.starts_on, member.joined_on)
            if member.id not in listed:
                db.session.add(ContractWorker(contract_id=contract.id, staff_id=member.id, from_on=since))
                created += 1
            if (station.id, member.id) not in postings:
                db.session.add(StationPosting(station_id=station.id, staff_id=member.id, from_on=since,
                                              created_by_id=manager.id))
                created += 1
            posted[station.code].append((user, member))
    db.session.flush()
    return posted, created


# --- presence --------------------------------------------------------------------------------------

def _checkin(station, user, member, day, minutes, metres, rng, radius):
    """A StationCheckIn (not yet added) as the field app would have sent it, its client id
    derived from the worker, station and day."""
    client_id = str(uuid.uuid5(NAMESPACE, f"{user.username}:{station.code}:{day.isoformat()}"))
    at = _local(day, minutes)
    lat, lon = _offset(station.lat, station.lon, metres, rng.uniform(0, 2 * math.pi))
    payload = {"client_id": client_id, "station_id": station.id, "device_id": f"demo-{user.username}-phone",
               "at": at.isoformat(), "lat": lat, "lon": lon, "accuracy_m": rng.randint(6, 20)}
    distance = round(haversine_m(station.lat, station.lon, lat, lon))
    return StationCheckIn(client_id=client_id, body_hash=body_hash(payload), station_id=station.id,
                          staff_id=member.id, worker_user_id=user.id, device_id=payload["device_id"],
                          checked_in_at=at, day=day, lat=lat, lon=lon, accuracy_m=payload["accuracy_m"],
                          distance_m=distance, status="counted" if distance <= radius else "flagged",
                          received_at=at + timedelta(minutes=1))


def _presence(stations, posted, last_days, this_days, supervisor, rng):
    """Check-ins of last month's working days and this month's before today (see the module
    docstring); returns rows created."""
    radius = int(settings_for(stations[0].tenant_id)["geofence_radius_m"])
    have = set(db.session.scalars(select(StationCheckIn.client_id)))
    accepted = {(code, index): (metres, reason) for code, index, metres, reason in ACCEPTED}
    created = 0
    for station in stations:
        for number, (user, member) in enumerate(posted[station.code]):
            away = station.code == SHORT_STATION and number == 1
            for index, day in enumerate(last_days + this_days):
                last_month = index < len(last_days)
                if away and last_month and index in ABSENT_DAYS:
                    continue  # away, nobody in their place: a short day
                metres, decision = rng.uniform(5, 60), None
                if away and index == REJECTED_DAY:
                    metres, decision = REJECTED_M, ("rejected", REJECTED_REASON)
                elif number == 0 and last_month and (station.code, index) in accepted:
                    metres, reason = accepted[(station.code, index)]
                    decision = ("accepted", reason)
                elif number == 0 and day == (this_days or [None])[0] and station.code == PENDING[0]:
                    metres = PENDING[1]
                row = _checkin(station, user, member, day, 8 * 60 + rng.randint(0, 45), metres, rng,
                               station.radius_m or radius)
                if row.client_id in have:
                    continue
                if decision is not None and row.status == "flagged":
                    row.status, row.decision_reason = decision
                    row.decided_by_id = supervisor.id
                    row.decided_at = min(_local(day + timedelta(days=1), 10 * 60), utcnow())
                db.session.add(row)
                created += 1
    db.session.flush()
    return created


def _earlier_presence(stations, posted, days, radius_of):
    """A counted check-in by every posted worker on each of ``days`` (the month two months back,
    fully staffed); returns rows created."""
    rng = random.Random(f"demo-stations-earlier:{days[0].isoformat()}") if days else None  # nosec B311 # demo data
    have = set(db.session.scalars(select(StationCheckIn.client_id).where(StationCheckIn.day <= days[-1]))) if days \
        else set()
    created = 0
    for station in stations:
        for user, member in posted[station.code]:
            for day in days:
                if day < member.joined_on:
                    continue
                row = _checkin(station, user, member, day, 8 * 60 + rng.randint(0, 45), rng.uniform(5, 60), rng,
                               radius_of(station))
                if row.client_id not in have:
                    db.session.add(row)
                    created += 1
    db.session.flush()
    return created


# --- service logs and training ---------------------------------------------------------------------

def _service_logs(stations, posted, days, rng):
    """Four logs a station last month (the hub eight), the target groups taken in turn."""
    created, turn = 0, 0
    logged = set(db.session.scalars(select(StationServiceLog.station_id).where(StationServiceLog.day >= days[0])))
    for station in stations:
        count = 8 if station.kind == "hub" else 4
        recorder = posted[station.code][0][0]
        for k in range(count):
            group = CATEGORIES[turn % len(CATEGORIES)]
            turn += 1
            if station.id in logged:
                continue
            day = days[(k * len(days)) // count + rng.randint(0, max(0, len(days) // count - 1))]
            db.session.add(StationServiceLog(station_id=station.id, day=day, target_group=group,
                                             service=SERVICES[group], people=rng.randint(2, 25),
                                             volunteers=rng.randint(0, 5), recorded_by_id=recorder.id,
                                             recorded_at=_local(day, 17 * 60)))
            created += 1
    db.session.flush()
    return created


def _session(spec, day, officer, attendees, **where):
    """A training session with its attendees [(member, attended)] unless one with its topic exists."""
    topic, mode, trainer, hours, notes = spec
    if db.session.execute(select(TrainingSession.id).where(TrainingSession.topic == topic)).first():
        return 0
    session = TrainingSession(topic=topic, mode=mode, held_on=day, trainer=trainer, hours=hours, notes=notes,
                              created_by_id=officer.id, created_at=_local(day - timedelta(days=7), 10 * 60), **where)
    db.session.add(session)
    db.session.flush()
    for member, attended in attendees:
        db.session.add(TrainingAttendee(session_id=session.id, staff_id=member.id,
                                        contractor_id=member.contractor_id, attended=attended))
    db.session.flush()
    return 1 + len(attendees)


def _training(contract, stations, posted, staff, days, officer):
    """The online class for B's station workers and the offline one at the hub (see the docstring)."""
    created = _session(ONLINE, days[len(days) // 3], officer,
                       [(member, index not in ONLINE_ABSENT) for index, (_user, member) in enumerate(staff)],
                       contract_id=contract.id)
    care = db.session.scalars(select(StaffMember).join(User, User.id == StaffMember.user_id).where(
        User.username.in_(("a-worker1", "a-worker2")), StaffMember.left_on.is_(None)).order_by(User.username)).all()
    hub = next(s for s in stations if s.kind == "hub")
    people = [(member, True) for member in care] + [(member, True) for _user, member in posted[hub.code]]
    people[1] = (people[1][0], False)    # a-worker2 was serving that day
    people[-1] = (people[-1][0], False)  # one of the hub's staff was on leave
    created += _session(OFFLINE, days[(2 * len(days)) // 3], officer, people, station_id=hub.id)
    return created


# --- the entry point -------------------------------------------------------------------------------

def seed_stations(tenants):
    """Create what is missing of the above in ganxian; returns how many rows were created."""
    today = local_today()
    with tenant_scope(tenants["ganxian"].id):
        contract = demo_contract("B", ITEM)
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(("gx-officer", "gx-supervisor", "b-manager"))))}
        staff = _staff()
        needed = sum(spec[-1] for spec in STATIONS)
        if contract is None or len(users) < 3 or len(staff) < needed:
            return 0
        calendar = tenant_calendar()
        start, end = month_days(previous_month(today))
        last_days = _working_days(calendar, max(start, contract.starts_on), end)
        this_days = _working_days(calendar, end + timedelta(days=1), today - timedelta(days=1))
        if len(last_days) <= max(ABSENT_DAYS + (REJECTED_DAY,)):
            return 0
        stations, created = _stations(contract)
        posted, n = _post(contract, stations, staff, users["b-manager"])
        created += n
        rng = random.Random(f"demo-stations:{start.isoformat()}")  # nosec B311 # demo data, the same on every seeding
        created += _presence(stations, posted, last_days, this_days, users["gx-supervisor"], rng)
        first, last = month_days(previous_month(previous_month(today)))
        radius = int(settings_for(stations[0].tenant_id)["geofence_radius_m"])
        created += _earlier_presence(stations, posted, _working_days(calendar, max(first, contract.starts_on), last),
                                     lambda station: station.radius_m or radius)
        created += _service_logs(stations, posted, last_days, rng)
        created += _training(contract, stations, posted, staff, last_days, users["gx-officer"])
        db.session.flush()
    return created
