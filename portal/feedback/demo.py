"""The demo's public feedback (issue 20 part 4) in ganxian, received over the last weeks (Beijing
days, the bureau's working-day calendar): a complaint about A upheld and its answer published, a
complaint about B not upheld, a question about a service answered and published, one item assigned
but overdue (received two weeks ago), and one still due: unanswered, received on the day whose
answer is due the next working day after today (counted backwards on the bureau's calendar, so it is
in the "due" tab whatever day the demo is seeded). None names a person.

Through the services with back-dated clocks; texts already received are left alone."""
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.contractors.demo import CONTRACTORS
from portal.contractors.models import Contractor
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.feedback import services
from portal.feedback.models import FeedbackItem
from portal.tenancy.scope import all_tenants, tenant_scope
from portal.tenancy.workdays import tenant_calendar
from portal.tenders.demo import local_at

# (days ago received, topic, contractor key or None, text, contact, consent, answer or None, finding,
#  publish, assign only)
ITEMS = (
    (20, "contractor", "A", "护理员上周两次没有按约定时间上门，打电话也没人接。", "138****6021", True,
     "经核查，该机构护理员排班衔接不到位，已责令整改并在本季度考核中扣分，今后将加强回访。", "upheld", True, False),
    (16, "contractor", "B", "社工站周末没有人值班，去办事找不到人。", "", True,
     "经核查，该站按规定周一至周五驻站，周末不安排值班；已在站门口公示驻站时间和联系电话。", "not_upheld", True, False),
    (12, "service", None, "分散供养特困人员的照料护理服务一个月上门几次？", "", True,
     "按照本局标准，生活自理人员每月不少于3次，部分失能不少于12次，完全失能不少于18次，具体以一人一策服务计划为准。",
     "", True, False),
    (14, "notice", None, "年度绩效评价结果什么时候公开？", "微信 gx-reader", False, None, "", False, True),
    (None, "assessment_objection", None, "对本月公示的一户能力评估结果有疑问，希望复核。", "139****2210", False,
     None, "", False, False),
)


def _contractor_ids():
    with all_tenants():
        codes = {spec["key"]: spec["code"] for spec in CONTRACTORS}
        rows = db.session.execute(select(Contractor.credit_code, Contractor.id)).all()
    by_code = dict(rows)
    return {key: by_code.get(code) for key, code in codes.items()}


def _due_soon_received(tenant, now):
    """The moment (UTC) an item was received whose answer is due the first working day after today:
    the earliest Beijing day before today with that due day (services.submit counts
    answer_days working days after it), at 10:00, or an hour ago when that is today."""
    calendar = tenant_calendar()
    today = local_today(now)
    target, days = calendar.add_working_days(today, 1), services.answer_days(tenant)
    day = today
    while calendar.add_working_days(day - timedelta(days=1), days) >= target:
        day -= timedelta(days=1)
    return min(local_at(day, 10), now - timedelta(hours=1))


def seed_feedback(tenants):
    """Create the demo feedback that is missing; returns rows created."""
    created = 0
    tenant = tenants["ganxian"]
    with tenant_scope(tenant.id):
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one_or_none()
        if officer is None:
            return 0
        contractors = _contractor_ids()
        now = utcnow()
        for days, topic, key, text, contact, consent, answer, finding, publish, assign in ITEMS:
            if db.session.scalar(select(FeedbackItem.id).where(FeedbackItem.text == text)) is not None:
                continue
            received = now - timedelta(days=days) if days is not None else _due_soon_received(tenant, now)
            item = services.submit(tenant, topic, text, received, contact=contact, consent=consent,
                                   contractor_id=contractors.get(key) if key else None)
            if assign or answer:
                services.assign(item, officer.id)
            if answer:
                answered = received + timedelta(days=2)
                services.answer(item, answer, officer, answered, finding=finding or None)
                if publish:
                    services.publish(item, answered + timedelta(hours=1))
            created += 1
        db.session.flush()
    return created
