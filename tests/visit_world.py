"""Visits recorded through the real recording code on top of tests/beneficiary_world.care_world,
for the exception and report tests (each helper opens its own app context and tenant scope and
commits)."""
import io
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.core.timeutil import LOCAL_TZ, local_today
from tests import support

HOME = (25.861, 115.012)  # where beneficiary_world.register puts everyone
DAY = local_today() - timedelta(days=3)


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def scope(app, code="ganxian"):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id(code))


def record(app, person_id, *, username="a-worker1", start=None, minutes=90, photo=True, check_out=True,
           device="test-phone-1", code="ganxian"):
    """A visit checked in at ``start`` (default 09:00 on DAY) at the person's home, with a photo and
    a check-out ``minutes`` later unless told otherwise. Returns the visit id."""
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.visits import recording
    from portal.visits.demo import tiny_jpeg
    start = start or at(DAY, 9)
    end = start + timedelta(minutes=minutes)
    with app.app_context(), scope(app, code):
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        payload = {"client_id": str(uuid.uuid4()), "beneficiary_id": person_id, "service_item": "CARE-VISIT",
                   "device_id": device, "check_in": {"at": start.isoformat(), "lat": HOME[0], "lon": HOME[1]}}
        visit, _ = recording.record_visit(payload, user, start + timedelta(minutes=1))
        if photo:
            recording.add_photo(visit, FileStorage(io.BytesIO(tiny_jpeg()), filename="p.jpg"), user,
                                start + timedelta(minutes=2))
        if check_out:
            recording.check_out(visit, {"at": end.isoformat(), "lat": HOME[0], "lon": HOME[1]}, user,
                                end + timedelta(minutes=1))
        db.session.commit()
        return visit.id


def visit_state(app, visit_id, code="ganxian"):
    """(visit status, {code: exception status})."""
    from portal.extensions import db
    from portal.visits.models import Visit
    with app.app_context(), scope(app, code):
        visit = db.session.get(Visit, visit_id)
        return visit.status, {e.code: e.status for e in visit.exceptions}


def exception_id(app, visit_id, exception_code, code="ganxian"):
    from portal.extensions import db
    from portal.visits.models import VisitException
    with app.app_context(), scope(app, code):
        return db.session.execute(select(VisitException.id).where(
            VisitException.visit_id == visit_id, VisitException.code == exception_code)).scalar_one()


def update_visit(app, visit_id, code="ganxian", **values):
    """Set fields of a visit directly (its status, source …), as a test's starting point."""
    from portal.extensions import db
    from portal.visits.models import Visit
    with app.app_context(), scope(app, code):
        visit = db.session.get(Visit, visit_id)
        for name, value in values.items():
            setattr(visit, name, value)
        db.session.commit()
