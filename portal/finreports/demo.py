"""The demo's financial reports (issue 20 part 3), written after the statements so that finance
reviews them beside last month's settled amounts: A's report of last month on its care contract,
submitted and accepted by gx-finance; B's report of last month on its station contract, submitted
and returned with the corrections it needs (B corrects it later).

Through the services; a contract that has a report for the month already is left alone."""
import io

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.beneficiaries.demo import demo_contract
from portal.core.months import month_text, previous_month
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
