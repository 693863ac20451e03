"""Many visits at once, for the tests of the comparison's cost and of its robustness: one visit per
worker is recorded through the real recording code (care_world), then cloned row by row with other
times, devices, people and statuses — far faster than recording hundreds of visits one by one.
Also the reference the set-based pass is compared with: each visit judged against the
neighbourhood of its own, found visit by visit (the pairwise way verification used to work)."""
import uuid
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.visits import recording
from portal.visits import rules
from portal.visits.models import Visit
from portal.visits.neighbourhoods import Neighbourhood
from portal.visits.verification import comparative_findings, settings_of
from tests import visit_world
from tests.beneficiary_world import care_world

WORKERS = ("a-worker1", "a-worker2", "b-worker1")
COPIED = [c.key for c in Visit.__table__.columns if c.key not in ("id", "client_id", "status", "verified_at")]


def crowd_world(app):
    """care_world plus one recorded template visit per worker: {"templates": {username: visit id},
    "people": {username: [person ids]}, ...}."""
    world = care_world(app)
    people = world["people"]
    by_worker = {"a-worker1": [people["刘桂英"], people["陈德福"]], "a-worker2": [people["黄秀兰"]],
                 "b-worker1": [people["钟长生"]]}
    items = {"a-worker1": "CARE-VISIT", "a-worker2": "CARE-VISIT", "b-worker1": "ADL-ASSESS"}
    start = visit_world.at(visit_world.DAY - timedelta(days=2), 6)  # out of the way of the day the tests fill
    templates = {}
    with app.app_context(), visit_world.scope(app):
        for worker, persons in by_worker.items():
            user = db.session.execute(select(User).where(User.username == worker)).scalar_one()
            payload = {"client_id": str(uuid.uuid4()), "beneficiary_id": persons[0], "service_item": items[worker],
                       "device_id": f"template-{worker}",
                       "check_in": {"at": start.isoformat(), "lat": visit_world.HOME[0], "lon": visit_world.HOME[1]},
                       "check_out": {"at": (start + timedelta(minutes=30)).isoformat(), "lat": visit_world.HOME[0],
                                     "lon": visit_world.HOME[1]}}
            visit, _created = recording.record_visit(payload, user, start + timedelta(minutes=31))
            templates[worker] = visit.id
        db.session.commit()
    return {**world, "templates": templates, "persons": by_worker}


def clone(template, *, start, minutes, device, person=None, status="pending", place=None):
    """A new visit row like ``template`` (added to the session, not flushed)."""
    values = {key: getattr(template, key) for key in COPIED}
    values.update(client_id=str(uuid.uuid4()), check_in_at=start, device_id=device, status=status,
                  check_out_at=None if minutes is None else start + timedelta(minutes=minutes),
                  received_at=start + timedelta(minutes=(minutes or 0) + 1),
                  checked_out_received_at=None if minutes is None else start + timedelta(minutes=minutes + 1))
    if person is not None:
        values["beneficiary_id"] = person
    if place is not None:
        values["check_in_lat"], values["check_in_lon"] = place
        if minutes is not None:
            values["check_out_lat"], values["check_out_lon"] = place
    visit = Visit(**values)
    db.session.add(visit)
    return visit


def templates(world):
    return {worker: db.session.get(Visit, visit_id) for worker, visit_id in world["templates"].items()}


def pairwise_findings(visit):
    """The comparative findings of ``visit`` found the old way: its own neighbourhood, queried for
    it alone, each neighbour's times from its latest correction."""
    hood = Neighbourhood(visit)

    def slot(v):
        return None if v is None else rules.Slot(v, *v.effective_times)
    same_item = hood.same_item if any(v.id == visit.id for v in hood.same_item) else [*hood.same_item, visit]
    device = hood.device if any(v.id == visit.id for v in hood.device) else [*hood.device, visit]
    settings = settings_of(visit)
    return {"V04": rules.v04_overlap(slot(visit), [slot(v) for v in hood.worker]),
            "V05": rules.v05_travel(slot(visit), slot(hood.previous), slot(hood.following), settings),
            "V07": rules.v07_daily_limit(slot(visit), [slot(v) for v in same_item]),
            "V10": rules.v10_shared_device(slot(visit), device)}


def set_based_findings(visit, comparison):
    return comparative_findings(visit, comparison)


def as_data(findings):
    """Findings → plain data, to compare two ways of judging."""
    return {code: None if f is None else (f.message, f.details, f.warning) for code, f in findings.items()}


def all_visits():
    return db.session.scalars(select(Visit).order_by(Visit.id)).all()
