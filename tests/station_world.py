"""Stations of the ganxian bureau for the station tests, on the demo people (docs/DOMAIN.md §6
"Stations and training"): a staffing contract of contractor A (an item of unit "station_month",
2025-01-01 – 2027-12-31) staffing the hub TS-HUB and the township station TS-01, a township station
TS-02 without a contract (none required of it), and a station ZG-01 of the zhanggong bureau. a-worker1 and a-worker2 are
posted to TS-01 from 2025-01-01 on, until further notice (both on A's roster since 2024-06-01).

The demo's own stations, if any, are removed first (with their postings, check-ins and logs), so
each test counts only what it made. Each helper opens its own app context and tenant scope and
commits."""
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.core.timeutil import LOCAL_TZ, local_midnight_utc, local_today, to_local, utcnow
from tests import support
from tests.beneficiary_world import make_contract

STATION_AT = {"TS-HUB": (25.8600, 115.0100), "TS-01": (25.8800, 115.0400), "TS-02": (25.9000, 115.0600),
              "ZG-01": (25.8300, 114.9300)}
RADIUS_M = 200
CONTRACT_DATES = (date(2025, 1, 1), date(2027, 12, 31))
POSTED_FROM = date(2025, 1, 1)
JOINED = date(2024, 6, 1)
WORKERS = ("a-worker1", "a-worker2")
# October 2025 on the State Council's schedule: 1–8 October off (National Day and Mid-Autumn),
# Saturday 11 October a working day (调休); 18 working days.
OCTOBER = date(2025, 10, 1)
OCTOBER_WORKING_DAYS = [9, 10, 11, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 27, 28, 29, 30, 31]


def scope(app, code="ganxian"):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id(code))


def user(username):
    from portal.accounts.models import User
    from portal.extensions import db
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def staff_id(username):
    from portal.contractors.models import StaffMember
    from portal.extensions import db
    return db.session.execute(select(StaffMember.id).where(
        StaffMember.user_id == user(username).id, StaffMember.left_on.is_(None))).scalar_one()


def station_world(app):
    """{"contract", "stations": {code: id}, "staff": {username: staff id}}; built once per run
    on the demo people, then restored (support.built_once)."""
    support.seed_demo(app)
    return support.built_once(app, "station_world", build, on="demo")


def without_stations(app, code):
    """Remove every station of bureau ``code`` with what hangs on it (a training session keeps
    itself, without its station)."""
    from portal.extensions import db
    from portal.stations.models import (Station, StationCheckIn, StationPosting, StationRequirement,
                                        StationServiceLog, TrainingSession)
    with app.app_context(), scope(app, code):
        for model in (StationCheckIn, StationServiceLog, StationPosting, StationRequirement):
            for row in db.session.execute(select(model)).scalars().all():
                db.session.delete(row)
        for session in db.session.execute(select(TrainingSession).where(
                TrainingSession.station_id.is_not(None))).scalars():
            session.station_id = None
        db.session.flush()
        for row in db.session.execute(select(Station)).scalars().all():
            db.session.delete(row)
        db.session.commit()


def build(app, clear=True):
    """What station_world builds, on the database as it is; ``clear=False`` keeps the stations
    already there (the route walk adds these beside the demo's)."""
    from portal.contractors.models import StaffMember
    from portal.extensions import db
    from portal.stations.models import Station, StationPosting
    for code in ("ganxian", "zhanggong") if clear else ():
        without_stations(app, code)
    contract_id = make_contract(app, "ganxian", "a-manager", starts_on=CONTRACT_DATES[0], ends_on=CONTRACT_DATES[1],
                                items=(("STATION-MONTH", "社工站驻站服务", "station_month", None, None, False),))
    stations = {}
    with app.app_context(), scope(app):
        staff = {name: staff_id(name) for name in WORKERS + ("b-worker1",)}
        for name in WORKERS:
            member = db.session.get(StaffMember, staff[name])
            member.joined_on = min(member.joined_on, JOINED)
        for code, name, kind, required, contract in (
                ("TS-HUB", "赣县区社会工作服务总站", "hub", 5, contract_id),
                ("TS-01", "梅林镇社工站", "township", 2, contract_id),
                ("TS-02", "王母渡镇社工站", "township", 1, None)):
            lat, lon = STATION_AT[code]
            station = Station(code=code, name=name, kind=kind, township=name[:3], address=f"{name[:3]}人民政府院内",
                              lat=lat, lon=lon, radius_m=RADIUS_M, required_staff=required, contract_id=contract,
                              opened_on=POSTED_FROM)
            db.session.add(station)
            db.session.flush()
            stations[code] = station.id
        for name in WORKERS:
            db.session.add(StationPosting(station_id=stations["TS-01"], staff_id=staff[name], from_on=POSTED_FROM))
        db.session.commit()
    with app.app_context(), scope(app, "zhanggong"):
        lat, lon = STATION_AT["ZG-01"]
        station = Station(code="ZG-01", name="章贡区水南街道社工站", kind="township", township="水南街道", lat=lat, lon=lon,
                          required_staff=1, opened_on=POSTED_FROM)
        db.session.add(station)
        db.session.commit()
        stations["ZG-01"] = station.id
    return {"contract": contract_id, "stations": stations, "staff": staff}


def recent(minutes=5):
    """A moment ``minutes`` ago, but never before today's Beijing midnight."""
    return max(utcnow() - timedelta(minutes=minutes), local_midnight_utc(local_today()))


def at(day, hour=9, minute=0):
    """An aware datetime on ``day`` (Beijing)."""
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def body(world, station="TS-01", *, when=None, offset_m=0, **overrides):
    """A check-in body at ``station`` (``offset_m`` metres north of it), made ``when`` (default:
    a few minutes ago)."""
    lat, lon = STATION_AT[station]
    payload = {"client_id": str(uuid.uuid4()), "station_id": world["stations"][station], "device_id": "phone-a1",
               "at": to_local(when or recent()).isoformat(), "lat": lat + offset_m / 111_320, "lon": lon,
               "accuracy_m": 8}
    payload.update(overrides)
    return payload


def check_in(app, world, username, day, *, station="TS-01", offset_m=0, hour=9):
    """A check-in of ``username`` at ``station`` on ``day`` through checkins.record_checkin, from
    the worker's own phone (a phone two workers use that day is flagged), received five minutes
    later (one received days later is flagged as late); returns (its id, its status)."""
    from portal.extensions import db
    from portal.stations import checkins
    with app.app_context(), scope(app):
        checkin, _created = checkins.record_checkin(
            body(world, station, when=at(day, hour), offset_m=offset_m, device_id=f"phone-{username}"),
            user(username), min(at(day, hour) + timedelta(minutes=5), utcnow()))
        db.session.commit()
        return checkin.id, checkin.status


def october(day):
    return OCTOBER.replace(day=day)
