"""Stations, postings and check-ins made directly with the models for the settlement and training
tests (tests/test_billing_stations.py, tests/test_training.py), on top of the demo people. Codes
start with "T-" so that nothing here depends on the demo's own stations. Each helper opens its own
app context and tenant scope and commits."""
import uuid
from datetime import date, datetime, time

from sqlalchemy import select

from portal.core.timeutil import LOCAL_TZ
from tests import support
from tests.settlement_world import scope, user

STATION_PRICE = 200_000  # fen per station-month


def new_staff(app, manager, name, seq, *, username=None):
    """A roster member of ``manager``'s contractor (and a field worker account when ``username``
    is given). Returns the staff id."""
    from portal.accounts.models import User
    from portal.contractors.demo import id_number
    from portal.contractors.models import StaffMember
    from portal.core import crypto
    from portal.extensions import db
    with app.app_context():
        contractor_id = user(manager).contractor_id
        account = None
        if username:
            account = User(username=username, display_name=name, role="field_worker", contractor_id=contractor_id)
            account.set_password(support.PASSWORD)
            db.session.add(account)
            db.session.flush()
        number = id_number(f"36072119950101{seq:03d}")
        member = StaffMember(contractor_id=contractor_id, name=name, id_number_encrypted=crypto.encrypt(number),
                             id_number_hash=crypto.keyed_hash(number), id_number_masked=crypto.mask_id_number(number),
                             joined_on=date(2025, 1, 1), user_id=account.id if account else None)
        db.session.add(member)
        db.session.commit()
        return member.id


def station(app, code, name, required_staff, contract_id, *, active=True, kind="township"):
    """A station at Meilin (lat/lon of the town). Returns its id."""
    from portal.extensions import db
    from portal.stations.models import Station
    with app.app_context(), scope(app):
        row = Station(code=code, name=name, kind=kind, township="梅林镇", address="梅林镇政府院内", lat=25.861,
                      lon=115.012, required_staff=required_staff, contract_id=contract_id, active=active,
                      opened_on=date(2024, 1, 1))
        db.session.add(row)
        db.session.commit()
        return row.id


def post(app, station_id, staff_id, from_on, until_on=None):
    """A posting of ``staff_id`` at the station. Returns its id."""
    from portal.extensions import db
    from portal.stations.models import StationPosting
    with app.app_context(), scope(app):
        row = StationPosting(station_id=station_id, staff_id=staff_id, from_on=from_on, until_on=until_on)
        db.session.add(row)
        db.session.commit()
        return row.id


def check_in(app, station_id, staff_id, days, *, status="counted"):
    """A check-in of ``staff_id`` at the station at 08:30 Beijing time on each of ``days``, with
    ``status``. Returns their ids."""
    from portal.contractors.models import StaffMember
    from portal.extensions import db
    from portal.stations.models import StationCheckIn
    with app.app_context(), scope(app):
        member = db.session.get(StaffMember, staff_id)
        worker_user_id = member.user_id or user("a-worker1").id
        rows = [StationCheckIn(client_id=str(uuid.uuid4()), body_hash="0" * 64, station_id=station_id,
                               staff_id=staff_id, worker_user_id=worker_user_id, device_id="test-phone",
                               checked_in_at=datetime.combine(day, time(8, 30), tzinfo=LOCAL_TZ), day=day,
                               lat=25.861, lon=115.012, accuracy_m=10.0, distance_m=5, status=status)
                for day in days]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def set_status(app, checkin_ids, status):
    from portal.extensions import db
    from portal.stations.models import StationCheckIn
    with app.app_context(), scope(app):
        for checkin_id in checkin_ids:
            db.session.get(StationCheckIn, checkin_id).status = status
        db.session.commit()


def checkins_of(app, staff_id, day):
    """Ids of ``staff_id``'s check-ins on ``day``."""
    from portal.extensions import db
    from portal.stations.models import StationCheckIn
    with app.app_context(), scope(app):
        return db.session.scalars(select(StationCheckIn.id).where(StationCheckIn.staff_id == staff_id,
                                                                  StationCheckIn.day == day)).all()
