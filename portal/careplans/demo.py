"""The demo's care plans (一人一策, docs/DOMAIN.md §2.2, §6; issue 19), seeded after the self-care
assessments (a plan needs the person's final class) and before the statements.

Every person on A's care contract (CARE-VISIT) whose self-care class is final — the six B assessed
last month (assessments/demo.py) — gets, from a-manager, a needs assessment on the four dimensions
the day after the class became final and a plan drafted from the class's template (TEMPLATES:
catalogue services with monthly frequencies, never below the bureau's ``min_services_per_month``
for the class, with one or two visits in person a month), submitted the same day and approved by
gx-supervisor the next, in force from the first day of last month. One person (SECOND_VERSION)
gets a second needs assessment and plan late last month, in force from this month with its reason
(the first version superseded).

Last month's visits (visits/demo.py) carry the catalogue codes: every planned person got their
plan but one, whose counselling was never recorded (visits/demo.py ``UNCOUNSELLED``) — the month's
one missed person (careplans.delivery.missed).

Rows are written with the models; a person who has a plan already is left alone, so a second run
changes nothing."""
from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.assessments.people import current_assessment
from portal.beneficiaries.demo import demo_contract
from portal.careplans.models import CarePlan, NeedsAssessment
from portal.contracts.models import Assignment
from portal.core.months import last_day, next_month, previous_month
from portal.core.timeutil import LOCAL_TZ, local_today, to_local, utcnow
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.tenancy.services import settings_for

ITEM = "CARE-VISIT"
# {class: ({catalogue code: times a month}, visits in person a month)}; the visits of the demo
# deliver them with three (four for the fully unable) clean visits verified a month
# (visits/demo.py _services).
TEMPLATES = {
    "self_care": ({"daily_watch": 2, "emotional_comfort": 1, "counselling": 1}, 1),
    "partial": ({"daily_watch": 3, "personal_care": 3, "emotional_comfort": 2, "humanistic_care": 2,
                 "social_integration": 1, "counselling": 1}, 1),
    "complete": ({"daily_watch": 4, "personal_care": 4, "emotional_comfort": 4, "humanistic_care": 3,
                  "social_integration": 1, "counselling": 2}, 2),
}
SCORES = {"self_care": (2, 3, 2, 2), "partial": (3, 3, 3, 3), "complete": (5, 4, 4, 4)}
NOTES = {
    "health": "患有慢性病，需定期测量血压、提醒按时服药。",
    "emotional": "独居，子女长期在外务工，情绪较低落，希望有人陪伴聊天。",
    "home_safety": "老房子地面湿滑，卫生间无扶手，夜间照明不足。",
    "capability": "可在协助下完成简单家务，愿意参加村里的集体活动。",
}
SECOND_VERSION = "陈德福"
SECOND_REASON = "上月体检发现血压偏高，医生建议每月到镇卫生院复查一次：增加送医陪护每月1次。"
SECOND_SCORES = {"health": 4}
APPROVAL_NOTE = "与需求评估结果相符，服务频次不低于本局最低标准，同意执行。"


def _local(day, hour):
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


def _planned_people(contract):
    """[(person, their latest final assessment)] of the contract's people whose class is final, by id."""
    people = db.session.scalars(select(Assignment.beneficiary_id).where(Assignment.contract_id == contract.id)
                                .distinct().order_by(Assignment.beneficiary_id)).all()
    found = []
    for beneficiary_id in people:
        assessment = current_assessment(beneficiary_id)
        if assessment is not None and assessment.final_class:
            found.append((assessment.beneficiary, assessment))
    return found


def _services(care_class, minimum):
    services, in_person = TEMPLATES[care_class]
    services = dict(services)
    services["daily_watch"] += max(0, int(minimum.get(care_class, 0)) - sum(services.values()))
    return services, in_person


def _version(person, contract, users, care_class, day, number, services, in_person, effective_from,
             scores=None, reason=""):
    """A needs assessment on ``day`` and the plan version drafted from it that day, submitted, and
    approved the next day (never later than now)."""
    manager, supervisor = users["a-manager"], users["gx-supervisor"]
    values = dict(zip(("health", "emotional", "home_safety", "capability"), SCORES[care_class]))
    values.update(scores or {})
    needs = NeedsAssessment(beneficiary_id=person.id, contract_id=contract.id, contractor_id=contract.contractor_id,
                            assessed_on=day, scores=values, notes=dict(NOTES), recorded_by_id=manager.id,
                            recorded_at=_local(day, 11))
    db.session.add(needs)
    db.session.flush()
    plan = CarePlan(beneficiary_id=person.id, contract_id=contract.id, contractor_id=contract.contractor_id,
                    needs_assessment_id=needs.id, version=number, care_class=care_class, services=services,
                    in_person_per_month=in_person, effective_from=effective_from, reason=reason, status="approved",
                    drafted_by_id=manager.id, drafted_at=_local(day, 15), submitted_at=_local(day, 17),
                    decided_by_id=supervisor.id, decided_at=min(_local(day + timedelta(days=1), 10), utcnow()),
                    decision_note=APPROVAL_NOTE)
    db.session.add(plan)
    db.session.flush()
    return plan


def seed_care_plans(tenants):
    """Create the plans that are missing (see the module docstring); returns rows created."""
    today = local_today()
    last_month = previous_month(today)
    created = 0
    with tenant_scope(tenants["ganxian"].id):
        contract = demo_contract("A", ITEM)
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(("a-manager", "gx-supervisor"))))}
        if contract is None or len(users) < 2:
            return 0
        minimum = settings_for(tenants["ganxian"].id)["min_services_per_month"]
        planned = set(db.session.scalars(select(CarePlan.beneficiary_id)))
        for person, assessment in _planned_people(contract):
            if person.id in planned:
                continue
            care_class = assessment.final_class
            day = min(to_local(assessment.final_at).date() + timedelta(days=1), today - timedelta(days=1))
            services, in_person = _services(care_class, minimum)
            first = _version(person, contract, users, care_class, day, 1, services, in_person, last_month)
            created += 2
            if person.name != SECOND_VERSION:
                continue
            later = min(max(day + timedelta(days=3), last_month + timedelta(days=24)), last_day(last_month))
            _version(person, contract, users, care_class, later, 2, {**services, "hospital_escort": 1}, in_person,
                     next_month(last_month), SECOND_SCORES, SECOND_REASON)
            first.status = "superseded"
            created += 2
        db.session.flush()
    return created
