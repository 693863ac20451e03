"""The demo's annual performance evaluation (issue 20 part 1, docs/DOMAIN.md §7, §9): the previous
year's evaluation of A's previous care contract (GX-DEMO-000, portal/contracts/history_demo.py),
from its four published scorecards of that year (portal/scorecards/demo.py) and the bureau's
indicators as gx-officer scored them (finance 85, management 88, benefit 90), with a conclusion
that names nobody; submitted by gx-officer and approved by gx-supervisor (four eyes), so published
as a notice with its OCDS implementation release.

Through the services with back-dated clocks: prepared on the tenth working day of this year,
approved three working days later (never after now). An existing evaluation of that contract and
year is left alone, so a second run creates nothing."""
from datetime import date

from sqlalchemy import select

from portal.accounts.models import User
from portal.contracts.history_demo import previous_contract, previous_year
from portal.core.errors import DomainError
from portal.core.timeutil import local_today, utcnow
from portal.evaluations import review, services
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.tenancy.workdays import tenant_calendar
from portal.tenders.demo import local_at

SCORES = {"finance": "85", "management": "88", "benefit": "90"}
CONCLUSION = ("全年服务按合同计划开展，四个季度考核均已公开；第三季度上门完成率偏低，经督促已整改。"
              "财务报告按时提交，资金使用规范；管理制度健全，服务对象总体满意。综合评价达标，建议续约时重点关注服务完成率。")


def _moment(day, hour):
    """``day`` at ``hour`` in Beijing, or now when that is still to come."""
    return min(local_at(day, hour), utcnow())


def seed_evaluation(tenants):
    """Create the previous year's approved evaluation of A's previous contract in ganxian when it is
    missing; returns rows created (0 on a second run, or when its scorecards are not all there)."""
    tenant = tenants["ganxian"]
    with tenant_scope(tenant.id):
        contract, year = previous_contract(), previous_year()
        if contract is None or services.find(contract.id, year) is not None:
            return 0
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(("gx-officer", "gx-supervisor"))))}
        if len(users) < 2:
            return 0
        officer, supervisor = users["gx-officer"], users["gx-supervisor"]
        calendar = tenant_calendar()
        prepared_day = min(calendar.add_working_days(date(year, 12, 31), 10), local_today())
        approved_day = min(calendar.add_working_days(prepared_day, 3), local_today())
        try:
            with db.session.begin_nested():
                prepared = _moment(prepared_day, 10)
                evaluation = services.start(contract, year, officer, tenant=tenant, now=prepared)
                services.recompute(evaluation, officer, tenant=tenant, scores=SCORES, conclusion=CONCLUSION,
                                   now=prepared)
                review.submit(evaluation, officer, _moment(prepared_day, 16))
                review.approve(evaluation, supervisor, _moment(approved_day, 10))
        except DomainError:  # a quarter without a published scorecard yet: nothing to evaluate
            return 0
        db.session.flush()
    return 2  # the evaluation and its notice
