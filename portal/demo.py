"""The demo world of docs/API.md. Every step looks before it creates, so a second run
changes nothing. Later packages add their part in their own ``seed_*`` functions, called here."""
from sqlalchemy import select

from portal.accounts.models import TenantGrant, User
from portal.contractors.demo import seed_contractors
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import all_tenants

TENANTS = [
    ("ganxian", "赣县区民政局", "江西省赣州市赣县区"),
    ("zhanggong", "章贡区民政局", "江西省赣州市章贡区"),
]

BUREAU_USERS = [
    ("gx-admin", "赣县区管理员", "admin", "ganxian"),
    ("gx-officer", "赣县区采购经办", "officer", "ganxian"),
    ("gx-supervisor", "赣县区救助股监管员", "supervisor", "ganxian"),
    ("gx-supervisor2", "赣县区救助股复核员", "supervisor", "ganxian"),  # re-checks what gx-supervisor reviewed
    ("gx-finance", "赣县区财务审核", "finance", "ganxian"),
    ("zg-officer", "章贡区采购经办", "officer", "zhanggong"),
]

# (username, name, role, granted tenants)
GRANTED_USERS = [
    ("gx-auditor", "赣县区审计", "auditor", ["ganxian"]),
    ("city-auditor", "赣州市民政局审计", "auditor", ["ganxian", "zhanggong"]),
]


def _user(username, display_name, role, password, tenant_id=None):
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None:
        return user, 0
    user = User(username=username, display_name=display_name, role=role, tenant_id=tenant_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, 1


def settle_stations(tenants):
    """Last month of B's station contract settled through billing's settlement and workflow, as
    billing/demo.py settles the others: prepared and sent by gx-officer, confirmed by b-manager,
    approved by gx-finance (the station-months and the staffing shortfall of the short station,
    docs/DOMAIN.md §8). Returns rows created (0 once the statement exists)."""
    from portal.beneficiaries.demo import demo_contract
    from portal.billing import settlement, workflow
    from portal.billing.models import Statement
    from portal.core import months
    from portal.core.timeutil import local_today
    from portal.stations.demo import ITEM
    from portal.tenancy.scope import tenant_scope
    month = months.month_text(months.previous_month(local_today()))
    with tenant_scope(tenants["ganxian"].id):
        contract = demo_contract("B", ITEM)
        names = ("gx-officer", "b-manager", "gx-finance")
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
        if contract is None or len(users) < len(names) or months.parse_month(month) < contract.starts_on:
            return 0
        if db.session.execute(select(Statement.id).where(Statement.contract_id == contract.id,
                                                         Statement.month == month)).first():
            return 0
        statement = settlement.prepare_statement(contract, month, by=users["gx-officer"])
        workflow.send_to_contractor(statement, users["gx-officer"])
        workflow.confirm(statement, users["b-manager"])
        workflow.approve(statement, users["gx-finance"])
        db.session.flush()
        return 1 + len(statement.lines)


def seed(password="demo-pass-2026", history=True):  # nosec B107 # the documented demo password (README, Demo logins)
    """Create what is missing of the demo world; returns how many rows were created. Without
    ``history`` only bureaus, users and contractors are made (the tests' starting point)."""
    created = 0
    with all_tenants():
        tenants = {}
        for code, name, region in TENANTS:
            tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()
            if tenant is None:
                tenant = Tenant(code=code, name=name, region=region, settings={})
                db.session.add(tenant)
                db.session.flush()
                created += 1
            tenants[code] = tenant
        _, n = _user("platform", "平台运营", "platform_admin", password)
        created += n
        for username, name, role, code in BUREAU_USERS:
            _, n = _user(username, name, role, password, tenants[code].id)
            created += n
        for username, name, role, codes in GRANTED_USERS:
            user, n = _user(username, name, role, password)
            created += n
            have = {g.tenant_id for g in user.grants}
            for code in codes:
                if tenants[code].id not in have:
                    db.session.add(TenantGrant(user_id=user.id, tenant_id=tenants[code].id))
                    created += 1
        db.session.flush()
    created += seed_contractors(password, tenants)
    from portal.tenancy.demo import seed_demo_calendars
    created += seed_demo_calendars()
    if history:
        # Before the tenders: B's station social workers are on B's roster when it bids.
        from portal.contractors.demo import seed_station_roster
        created += seed_station_roster(password)
        from portal.tenders.demo import seed_tenders
        created += seed_tenders(tenants)
        from portal.contracts.demo import seed_contracts
        created += seed_contracts(tenants)
        # After the contracts: the demo people are assigned to A's and C's contracts.
        from portal.beneficiaries.demo import seed_beneficiaries
        created += seed_beneficiaries(tenants)
        # After the registry: the re-assessments its stay in hospital (and a changed condition) call for.
        from portal.assessments.change_demo import seed_change_reports
        created += seed_change_reports(tenants)
        # After the assignments: last month's visits go to the people assigned to A's workers.
        from portal.visits.demo import seed_visits
        created += seed_visits(tenants, password)
        # After the visits: last month's spot checks (docs/DOMAIN.md §7).
        from portal.spotchecks.demo import seed_spot_checks
        created += seed_spot_checks(tenants)
        # After the visits and spot checks, before the statements: B's assessments, last month's
        # round made final (so B's statement pays them) and this month's round in publicity.
        from portal.assessments.demo import seed_assessments
        created += seed_assessments(tenants)
        # After the assessments, before the statements: D's household surveys of the last two months,
        # their re-check and the bureau's survey settings (so D's statement pays and deducts them).
        from portal.surveys.demo import seed_surveys
        created += seed_surveys(tenants)
        # After the contracts and rosters: the hub and township stations staffed by B's contract of
        # GX-DEMO-003, last month's presence (one station short), service logs and training.
        from portal.stations.demo import seed_stations
        created += seed_stations(tenants)
        # After the visits and the assessments' final classes: the care plans, one person missed.
        from portal.careplans.demo import seed_care_plans
        created += seed_care_plans(tenants)
        # After the visits: last month settled, with a stale draft, a carry-forward and a late visit.
        from portal.billing.demo import seed_statements
        created += seed_statements(tenants)
        # After the others (their statements come first): B's station statement of last month.
        created += settle_stations(tenants)
        # After the statements (so none of them sees it): A's previous care contract (GX-DEMO-000,
        # from Jan 1 of the previous year to the last ended quarter), its delivery history, spot
        # checks and completion, and its published quarterly scorecards.
        from portal.contracts.history_demo import seed_previous_contract
        created += seed_previous_contract(tenants)
        from portal.scorecards.demo import seed_history
        created += seed_history(tenants)
        # After its visits and scorecards: the previous contract's final acceptance (its whole period),
        # every month of it settled and paid (the final month once that acceptance passed), and a
        # financial report of every month accepted beside the settled net (docs/DOMAIN.md §7, §8).
        from portal.acceptance.demo import seed_final_acceptance
        created += seed_final_acceptance(tenants)
        from portal.billing.demo import settle_previous_contract
        created += settle_previous_contract(tenants)
        from portal.finreports.demo import seed_previous_reports
        created += seed_previous_reports(tenants)
        # After the statements (issue 20): last month's acceptance of A's care contract, published;
        # the month's financial reports reviewed beside the settled amounts (A's accepted, B's
        # returned); public feedback answered, published, overdue and due.
        from portal.acceptance.demo import seed_acceptance
        created += seed_acceptance(tenants)
        from portal.finreports.demo import seed_financial_reports
        created += seed_financial_reports(tenants)
        from portal.feedback.demo import seed_feedback
        created += seed_feedback(tenants)
        # After the previous contract's scorecards, statements and reports: its previous year's
        # evaluation (the year's finance summary and final acceptance), approved and published.
        from portal.evaluations.demo import seed_evaluation
        created += seed_evaluation(tenants)
        from portal.public.demo import seed_policy_pages
        created += seed_policy_pages(tenants)
        # Last: the signed head of every audit chain, so the public list of heads is not empty (a
        # second run finds the same heads signed and writes none).
        from portal.audit.checkpoints import write_checkpoints
        created += len(write_checkpoints([None, *(t.id for t in tenants.values())]))
    return created
