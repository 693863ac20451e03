"""The demo's financial reports (issue 20 part 3), written after the statements so that finance
reviews them beside last month's settled amounts: A's report of last month on its care contract,
submitted and accepted by gx-finance; B's report of last month on its station contract, submitted
and returned with the corrections it needs (B corrects it later).

A's previous care contract (GX-DEMO-000) has a report for every month of it by a-manager (after
its statements, portal/billing/demo.py ``settle_previous_contract``): the month's settled net split
into staff 72 %, travel 9 %, materials 7 % and management (the rest, to the fen), a voucher
attached, submitted and accepted by gx-finance when the demo is seeded (after the statements it is
reviewed beside); the report of the contract's sixth month was first returned (its travel lumped into
management) and then corrected and accepted, so its history holds both decisions.

Through the services; a contract that has a report for the month already is left alone."""
import io
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.beneficiaries.demo import demo_contract
from portal.core.money import format_fen, parse_yuan
from portal.core.months import month_text, months_between, previous_month
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.finreports import services
from portal.finreports.models import FinancialReport
from portal.tenancy.scope import tenant_scope

VOUCHER_PDF = b"%PDF-1.4\n% demo expense vouchers\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# (contractor, item, manager, amounts in yuan, note, decision, finance's comment)
REPORTS = (
    ("A", "CARE-VISIT", "a-manager",
     {"staff": "7,800.00", "travel": "1,150.00", "materials": "620.50", "management": "700.00"},
     "护理员工资及社保、交通补贴、护理耗材，凭证见附件。", "accept", ""),
    ("B", "STATION-MONTH", "b-manager",
     {"staff": "30,000.00", "travel": "5,800.00", "materials": "1,200.00", "management": "3,000.00",
      "other": "2,400.00"},
     "驻站社工工资、下乡交通费、培训资料费。", "return",
     "差旅费5,800.00元未附票据明细；“其他”2,400.00元请说明用途后重新提交。"),
)


def seed_financial_reports(tenants):
    """Create the demo reports that are missing; returns rows created (roughly)."""
    created = 0
    with tenant_scope(tenants["ganxian"].id):
        period = month_text(previous_month(local_today()))
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(("gx-finance", "a-manager", "b-manager"))))}
        for contractor, item, manager, amounts, note, decision, comment in REPORTS:
            contract = demo_contract(contractor, item)
            if contract is None or manager not in users or db.session.scalar(select(FinancialReport.id).where(
                    FinancialReport.contract_id == contract.id, FinancialReport.period == period)) is not None:
                continue
            report = services.create(users[manager], contract.id, period, amounts, note)
            services.attach(report, users[manager], FileStorage(io.BytesIO(VOUCHER_PDF), filename="费用凭证.pdf"))
            services.submit(report, users[manager], utcnow())
            services.review(report, users["gx-finance"], decision, comment, utcnow())
            created += 3
        db.session.flush()
    return created


SHARES = (("staff", 72), ("travel", 9), ("materials", 7))  # percent of the settled net; management the rest
RETURNED_MONTH = 5  # the sixth month of the previous contract: returned once, then corrected
RETURN_COMMENT = "交通补贴未单列，与管理费合并填报，请按类别分列后重新提交。"
PREVIOUS_NOTE = "护理员工资及社保、交通补贴、护理耗材、机构管理费，凭证见附件。"


def split_net(net_fen):
    """{category: yuan text} of ``net_fen`` by SHARES, management taking the rest (exact fen)."""
    amounts = {category: net_fen * percent // 100 for category, percent in SHARES}
    amounts["management"] = net_fen - sum(amounts.values())
    return {category: format_fen(fen) for category, fen in amounts.items()}


def _review_moments(corrected):
    """(submitted, decided) moments of a report, a minute apart from now — after the statements the
    demo approves now, beside which finance reviews it; when ``corrected``, the returned
    submission's pair followed by the corrected one's."""
    now = utcnow()
    return [now + timedelta(minutes=k) for k in range(4 if corrected else 2)]


def seed_previous_reports(tenants):
    """Every month of A's previous contract reported and accepted, what is missing of it (a month
    with a report is left alone); returns rows created."""
    from portal.billing.models import Statement
    from portal.contracts.history_demo import previous_contract
    created = 0
    with tenant_scope(tenants["ganxian"].id):
        contract = previous_contract()
        users = {u.username: u for u in db.session.scalars(select(User).where(
            User.username.in_(("gx-finance", "a-manager"))))}
        if contract is None or len(users) < 2:
            return 0
        nets = dict(db.session.execute(select(Statement.month, Statement.net_fen).where(
            Statement.contract_id == contract.id, Statement.status == "paid")).all())
        have = set(db.session.scalars(select(FinancialReport.period).where(
            FinancialReport.contract_id == contract.id)))
        manager, finance = users["a-manager"], users["gx-finance"]
        for index, month in enumerate(months_between(contract.starts_on, contract.ends_on)):
            period, corrected = month_text(month), index == RETURNED_MONTH
            if period not in have and nets.get(period, 0) > 0:
                amounts = split_net(nets[period])
                moments = _review_moments(corrected)
                first = dict(amounts, management=format_fen(parse_yuan(amounts["management"])
                                                            + parse_yuan(amounts["travel"])), travel="")
                report = services.create(manager, contract.id, period, first if corrected else amounts,
                                         PREVIOUS_NOTE)
                services.attach(report, manager, FileStorage(io.BytesIO(VOUCHER_PDF), filename="费用凭证.pdf"))
                services.submit(report, manager, moments[0])
                if corrected:
                    services.review(report, finance, "return", RETURN_COMMENT, moments[1])
                    services.update(report, manager, amounts, PREVIOUS_NOTE)
                    services.submit(report, manager, moments[2])
                services.review(report, finance, "accept", "", moments[-1])
                created += 3
        db.session.flush()
    return created
