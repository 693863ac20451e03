"""Assessments recorded through the real recording code on the demo world: contractor B's
``ADL-ASSESS`` contract with b-worker1 on its work list and a few demo people of ganxian assigned
to it (the demo contract has no assignments of its own). Each helper opens its own app context
and tenant scope and commits."""
import uuid
from datetime import timedelta

from sqlalchemy import select

from portal.core.timeutil import local_today, to_local, utcnow
from tests import support

ASSESSED = ("刘桂英", "陈德福", "黄秀兰")  # assigned to B's contract with b-worker1
ALL_MET = {name: True for name in ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing")}


def scope(app, code="ganxian"):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id(code))


def assessment_world(app):
    """{"contract": B's ADL-ASSESS contract id, "people": {name: id} of ganxian's demo people,
    "homes": {name: (lat, lon)}}; ASSESSED are assigned to the contract with b-worker1. Built once
    per run on the demo world with its history (portal.demo.seed), then restored
    (support.built_once)."""
    support.seed_demo(app, history=True)
    return support.built_once(app, "assessment_world", build, on="history")


def build(app):
    """What assessment_world builds, on the database as it is (for worlds built on top of it)."""
    from portal.accounts.models import User
    from portal.beneficiaries import assignments
    from portal.beneficiaries.demo import demo_contract
    from portal.beneficiaries.models import Beneficiary
    from portal.contractors.models import StaffMember
    from portal.contracts import assignments as work_list
    from portal.contracts.models import ContractWorker
    from portal.extensions import db
    with app.app_context(), scope(app):
        contract = demo_contract("B", "ADL-ASSESS")
        staff = db.session.execute(select(StaffMember).join(User, User.id == StaffMember.user_id)
                                   .where(User.username == "b-worker1")).scalar_one()
        start = max(contract.starts_on, staff.joined_on)
        listed = db.session.execute(select(ContractWorker.id).where(
            ContractWorker.contract_id == contract.id, ContractWorker.staff_id == staff.id)).first()
        if listed is None:
            work_list.add_worker(contract, staff.id, start)
        people = {p.name: p for p in db.session.execute(select(Beneficiary)).scalars()}
        for name in ASSESSED:
            if not assignments_of(db, contract.id, people[name].id):  # (unless the demo assigns them itself)
                assignments.assign(contract, people[name].id, staff.id, start)
        db.session.commit()
        return {"contract": contract.id, "people": {name: p.id for name, p in people.items()},
                "homes": {name: (p.lat, p.lon) for name, p in people.items()}}


def assignments_of(db, contract_id, beneficiary_id):
    from portal.contracts.models import Assignment
    return db.session.execute(select(Assignment.id).where(Assignment.contract_id == contract_id,
                                                          Assignment.beneficiary_id == beneficiary_id)).all()


def indicators(not_met=0):
    """The six indicators with the first ``not_met`` of them not met."""
    names = list(ALL_MET)
    return {name: index >= not_met for index, name in enumerate(names)}


def body(world, name="刘桂英", *, not_met=0, at=None, offset_m=0, **overrides):
    """An assessment body for ``name`` at their home (``offset_m`` metres north of it)."""
    lat, lon = world["homes"][name]
    at = at or utcnow() - timedelta(hours=2)
    payload = {"client_id": str(uuid.uuid4()), "beneficiary_id": world["people"][name],
               "assessed_at": to_local(at).isoformat(), "lat": lat + offset_m / 111_320, "lon": lon,
               "accuracy_m": 6, "indicators": indicators(not_met), "notes": "入户评估，老人状态平稳",
               "device_id": "phone-b1"}
    payload.update(overrides)
    return payload


def record(app, world, name="刘桂英", *, username="b-worker1", not_met=0, **overrides):
    """An assessment recorded through recording.record_assessment; returns its id."""
    from portal.accounts.models import User
    from portal.assessments import recording
    from portal.extensions import db
    with app.app_context(), scope(app):
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        assessment, _created = recording.record_assessment(body(world, name, not_met=not_met, **overrides), user,
                                                           utcnow())
        db.session.commit()
        return assessment.id


TODAY = local_today()
