"""The demo's annual performance evaluation (issue 20 part 1, docs/DOMAIN.md §7, §9): the previous
year's evaluation of A's previous care contract (GX-DEMO-000, portal/contracts/history_demo.py),
from its four published scorecards of that year (portal/scorecards/demo.py) and the bureau's
indicators as gx-officer scored them (finance 85, management 88, benefit 90), with a conclusion
that names nobody and states the year's financial reports and settled amount as the evaluation
carries them (seeded after them, portal/demo.py); submitted by gx-officer and approved by
gx-supervisor (four eyes), so published as a notice with its OCDS implementation release.

Through the services with back-dated clocks: prepared on the tenth working day of this year,
approved three working days later (never after now). An existing evaluation of that contract and
year is left alone, so a second run creates nothing."""
from datetime import date

from sqlalchemy import select

from portal.accounts.models import User
from portal.contracts.history_demo import previous_contract, previous_year
from portal.core.errors import DomainError
from portal.core.money import format_fen
from portal.core.timeutil import local_today, utcnow
from portal.evaluations import review, services
from portal.extensions import db
from portal.finreports.models import FinancialReport
from portal.finreports.summary import year_summary
from portal.tenancy.scope import tenant_scope
from portal.tenancy.workdays import tenant_calendar
from portal.tenders.demo import local_at

SCORES = {"finance": "85", "management": "88", "benefit": "90"}
SERVICE = "全年服务按合同计划开展，四个季度考核均已公开；第三季度上门完成率偏低，经督促已整改。"
CLOSING = "管理制度健全，服务对象总体满意。综合评价达标，建议续约时重点关注服务完成率。"


def written_conclusion(contract, year):
    """The evaluation's written conclusion, its finance sentence read from the figures
    the evaluation carries (finreports/summary.py year_summary), so the text never says more than they
    do. (The final acceptance, decided when the demo is seeded, is left out: it came after the
    evaluation.)"""
    summary = year_summary(contract, year)
    returned = sum(1 for report in db.session.scalars(select(FinancialReport).where(
        FinancialReport.contract_id == contract.id, FinancialReport.period.like(f"{year}-%")))
        if any(step.get("decision") == "return" for step in report.history or ()))
    if summary["reports"] and summary["accepted"] == summary["reports"] and not summary["difference_fen"]:
        again = f"（其中{returned}份退回补正后受理）" if returned else ""
        finance = (f"全年{summary['reports']}份月度财务报告均已受理{again}，报告支出{format_fen(summary['reported_fen'])}元，"
                   f"与结算净额一致，资金使用规范。")
    else:
        finance = (f"财务报告{summary['reports']}份，已受理{summary['accepted']}份；报告支出{format_fen(summary['reported_fen'])}元，"
                   f"结算净额{format_fen(summary['settled_fen'])}元，差额{format_fen(summary['difference_fen'])}元。")
    return SERVICE + finance + CLOSING


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
                services.recompute(evaluation, officer, tenant=tenant, scores=SCORES,
                                   conclusion=written_conclusion(contract, year), now=prepared)
                review.submit(evaluation, officer, _moment(prepared_day, 16))
                review.approve(evaluation, supervisor, _moment(approved_day, 10))
        except DomainError:  # a quarter without a published scorecard yet: nothing to evaluate
            return 0
        db.session.flush()
    return 2  # the evaluation and its notice
