"""Care plans on top of tests/beneficiary_world.care_world (docs/DOMAIN.md §6 "Care plans"): A's
care contract with 刘桂英 and 陈德福 (a-worker1), 黄秀兰 and 王细英 (a-worker2); each of the first
three with a final self-care class (CLASSES) and a needs assessment by a-manager recorded on the
first day of the previous month; 王细英 without any assessment. The bureau's minimum services a
month is MINIMUM. The demo's own care plans and needs assessments (if the demo has any) are
removed, so every test counts only what it made.

Plans are drafted, submitted and approved through careplans.plans with clocks set to a chosen day
(``as_of``), so a plan may start in the previous month; visits are recorded through the real
recording code (check-in, photo, check-out) and verified by the comparison job run directly
(verification.verify_visit). Each helper opens its own app context and tenant scope and commits."""
import io
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.core.months import previous_month
from portal.core.timeutil import LOCAL_TZ, local_today
from tests import support
from tests.beneficiary_world import TODAY, assign, care_world, number, register

CLASSES = {"刘桂英": "partial", "陈德福": "self_care", "黄秀兰": "complete"}
NOT_MET = {"self_care": 0, "partial": 2, "complete": 5}
MINIMUM = {"self_care": 3, "partial": 12, "complete": 18}
UNCLASSED = "王细英"
WORKERS = {"刘桂英": "a-worker1", "陈德福": "a-worker1", "黄秀兰": "a-worker2", UNCLASSED: "a-worker2"}
HOME = (25.861, 115.012)  # where beneficiary_world.register puts everyone
THIS_MONTH = local_today().replace(day=1)
LAST_MONTH = previous_month(THIS_MONTH)
SCORES = {"health": 3, "emotional": 4, "home_safety": 2, "capability": 3}
NOTES = {"health": "高血压，需定期测量", "emotional": "独居，情绪低落", "home_safety": "地面湿滑",
         "capability": "可自行做饭"}


def scope(app, code="ganxian"):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id(code))


def local(day, hour=10, minute=0):
    """An aware datetime at ``hour`` (Beijing) on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def careplan_world(app):
    """{"a_contract", "b_contract", "people": {name: id}}: see the module docstring. Built once per
    run on care_world, then restored (support.built_once)."""
    world = care_world(app)
    return support.built_once(app, "careplan_world", lambda app: _build(app, world), on="care_world")


def _build(app, world):
    from portal.assessments.models import Assessment, INDICATORS, care_class
    from portal.careplans.models import CarePlan, NeedsAssessment
    from portal.contracts.models import Contract
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.services import change_settings
    with support.as_platform(app):  # the demo's plans, if any: every test counts only its own
        for model in (CarePlan, NeedsAssessment):
            for row in db.session.scalars(select(model)).all():
                db.session.delete(row)
                db.session.flush()
        db.session.commit()
    people = dict(world["people"])
    people[UNCLASSED] = register(app, "ganxian", UNCLASSED, number(31))
    assign(app, "ganxian", world["a_contract"], people[UNCLASSED], "a-worker2")
    with app.app_context(), scope(app):
        contract_b = db.session.get(Contract, world["b_contract"])
        assessor = _user("b-worker1")
        for name, cls in CLASSES.items():
            not_met = NOT_MET[cls]
            assert care_class(not_met) == cls
            day = TODAY - timedelta(days=300)
            db.session.add(Assessment(
                client_id=str(uuid.uuid4()), body_hash="0" * 64, contract_id=contract_b.id,
                contractor_id=contract_b.contractor_id, beneficiary_id=people[name], assessor_user_id=assessor.id,
                assessed_at=local(day), lat=HOME[0], lon=HOME[1],
                indicators={n: i >= not_met for i, n in enumerate(INDICATORS)}, not_met=not_met, care_class=cls,
                status="final", final_class=cls, final_at=local(day + timedelta(days=20))))
        tenant = db.session.get(Tenant, support.World(app).tenant_id("ganxian"))
        change_settings(tenant, {"min_services_per_month": dict(MINIMUM)})
        db.session.commit()
    for name in CLASSES:
        record_needs(app, people[name], world["a_contract"], LAST_MONTH)
    return {"a_contract": world["a_contract"], "b_contract": world["b_contract"], "people": people}


def _user(username):
    from portal.accounts.models import User
    from portal.extensions import db
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def record_needs(app, person_id, contract_id, day, scores=None):
    """A needs assessment by a-manager on ``day`` (through careplans.needs). Returns its id."""
    from portal.beneficiaries.models import Beneficiary
    from portal.careplans import needs
    from portal.extensions import db
    with app.app_context(), scope(app):
        row = needs.record_needs(db.session.get(Beneficiary, person_id), contract_id, day, scores or SCORES, NOTES,
                                 _user("a-manager"), local(day, 9))
        db.session.commit()
        return row.id


def draft(app, person_id, services, *, in_person=1, month=None, reason="", as_of=None, manager="a-manager"):
    """A draft version (careplans.plans.draft) made on ``as_of`` (default: now), starting in ``month``
    (default: the month of ``as_of``). Returns its id."""
    from portal.beneficiaries.models import Beneficiary
    from portal.careplans import plans
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    now = as_of or utcnow()
    with app.app_context(), scope(app):
        plan = plans.draft(db.session.get(Beneficiary, person_id), _user(manager), now, services=services,
                           in_person=in_person, effective_from=month or local_today(now).replace(day=1),
                           reason=reason)
        db.session.commit()
        return plan.id


def approved(app, person_id, services, *, in_person=1, month=None, reason="", as_of=None,
             approver="gx-supervisor"):
    """A version drafted, submitted and approved on ``as_of`` (default: now). Returns its id."""
    from portal.careplans import plans
    from portal.careplans.models import CarePlan
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    now = as_of or utcnow()
    plan_id = draft(app, person_id, services, in_person=in_person, month=month, reason=reason, as_of=now)
    with app.app_context(), scope(app):
        plan = db.session.get(CarePlan, plan_id)
        plans.submit(plan, _user("a-manager"), now)
        plans.approve(plan, _user(approver), now + timedelta(minutes=5))
        db.session.commit()
    return plan_id


def last_month_plan(app, person_id, services, **kwargs):
    """An approved version in force from the previous month (drafted and approved on its 1st)."""
    return approved(app, person_id, services, month=LAST_MONTH, as_of=local(LAST_MONTH, 11), **kwargs)


def visit(app, world, name, day, hour, services, *, far_m=0, photo=True):
    """A visit of ``name`` by their worker on ``day`` at ``hour`` (Beijing), 60 minutes, carrying
    ``services``, checked in ``far_m`` metres north of home, recorded (check-in, photo, check-out)
    and then judged by the comparison job. Returns (visit id, status)."""
    from portal.extensions import db
    from portal.visits import recording, verification
    from portal.visits.demo import tiny_jpeg
    from portal.visits.models import Visit
    start = local(day, hour)
    end = start + timedelta(minutes=60)
    with app.app_context(), scope(app):
        user = _user(WORKERS[name])
        point = {"lat": HOME[0] + far_m / 111_320, "lon": HOME[1]}
        payload = {"client_id": str(uuid.uuid4()), "beneficiary_id": world["people"][name],
                   "service_item": "CARE-VISIT", "device_id": f"phone-{WORKERS[name]}", "services": list(services),
                   "check_in": {"at": start.isoformat(), **point}}
        found, _created = recording.record_visit(payload, user, start + timedelta(minutes=1))
        if photo:
            recording.add_photo(found, FileStorage(io.BytesIO(tiny_jpeg()), filename="p.jpg"), user,
                                start + timedelta(minutes=2))
        recording.check_out(found, {"at": end.isoformat(), **point}, user, end + timedelta(minutes=1))
        db.session.commit()
        visit_id = found.id
    with app.app_context(), scope(app):
        verification.verify_visit(visit_id, end + timedelta(minutes=5))
        db.session.commit()
        return visit_id, db.session.get(Visit, visit_id).status


def month_row(app, person_id, month):
    """The person's PlanMonth of ``month`` as plain data (None without a plan in force)."""
    from portal.careplans.delivery import month_of_plans
    with app.app_context(), scope(app):
        rows = month_of_plans(month, beneficiary_ids=[person_id])
        if not rows:
            return None
        row = rows[0]
        return {"plan": row.plan.id, "version": row.plan.version, "planned": row.planned, "delivered": row.delivered,
                "in_person": row.in_person, "by_service": dict(row.by_service), "short": dict(row.short_services),
                "missed": row.missed}
