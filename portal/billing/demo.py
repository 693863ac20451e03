"""The demo's statements (docs/API.md, issue 12): the previous month settled for the two
ganxian contracts through the real workflow, so the settlement pages show each rule at work:

* contractor A's care statement: prepared by gx-officer; an answered exception of the month is
  then accepted by gx-supervisor, so the draft is stale; it is recomputed (the page's history says
  why), sent, confirmed by a-manager and approved by gx-finance. Another answered exception is
  accepted after the approval: that visit is on the late-verified list, to be paid by A's next
  statement;
* contractor B's assessment statement: a subcontracting violation of the month costs more than the
  month's gross, so the approved statement carries the uncovered deduction to B's next statement
  and the carried-forward balances list it;
* contractor D's household-survey statements of the month before last and of last month: each pays
  the month's signed-off surveys (one unit each), and last month's deducts the survey the bureau's
  re-check found with another outcome (surveys/demo.py).

A's previous care contract (GX-DEMO-000, contracts/history_demo.py) is settled month by month
after its delivery history (``settle_previous_contract``): each month prepared, sent, confirmed,
approved and paid on the day the demo is seeded (the workflow dates its steps by the clock, and a
payment never precedes its approval); the final month only once its final acceptance passed (the
rule of acceptance/results.py).

Idempotent: once the previous month's statement of A (of D) exists nothing is done again."""
from datetime import timedelta

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.billing import settlement, workflow
from portal.billing.models import Statement
from portal.core import months
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.tenancy.scope import tenant_scope

USERS = ("gx-officer", "gx-finance", "gx-supervisor", "a-manager", "b-manager", "d-manager")


def _decidable_exceptions(contract, month):
    """Undecided non-V01 exceptions of the contract's visits of ``month`` whose acceptance leaves
    the visit with nothing else blocking: the answered ones first, then open ones (oldest visit
    first), so the demo does not depend on which exceptions the supervision demo answered."""
    from portal.visits.models import Visit, VisitException
    start, end = months.month_bounds(month)
    rows = db.session.scalars(
        select(VisitException).join(Visit, Visit.id == VisitException.visit_id)
        .where(Visit.contract_id == contract.id, Visit.check_in_at >= start, Visit.check_in_at < end,
               VisitException.status.in_(("answered", "open")), VisitException.code != "V01",
               VisitException.warning.is_(False), Visit.status == "exception")
        .order_by(Visit.check_in_at, VisitException.id)).all()
    usable = []
    for row in rows:
        others = [e for e in row.visit.exceptions if e.id != row.id and not e.warning
                  and e.status in ("open", "answered")]
        if not others and all(e.code != "V01" for e in row.visit.exceptions):
            usable.append(row)
    return sorted(usable, key=lambda row: row.status != "answered")[:2]


def _accept(row, users, note, now=None):
    """a-manager answers the exception if it is still open, then gx-supervisor accepts it."""
    from portal.visits import exceptions
    if row.status == "open":
        exceptions.respond(row, reason="data_entry_error", text="演示：补充说明，服务已按时完成。",
                           user=users["a-manager"], now=now)
    exceptions.accept(row, users["gx-supervisor"], note, now=now)


def _through_the_workflow(statement, users, manager):
    workflow.send_to_contractor(statement, users["gx-officer"])
    workflow.confirm(statement, users[manager])
    workflow.approve(statement, users["gx-finance"])


def _survey_statements(users, month):
    """D's statements of the month before ``month`` and of ``month``, approved in turn."""
    from portal.beneficiaries.demo import demo_contract
    survey = demo_contract("D", "HH-SURVEY")
    if survey is None or db.session.execute(select(Statement.id).where(Statement.contract_id == survey.id,
                                                                       Statement.month == month)).first():
        return 0
    created = 0
    for settled in (months.month_text(months.previous_month(month)), month):
        if months.parse_month(settled) < months.first_day(survey.starts_on):
            continue
        statement = settlement.prepare_statement(survey, settled, by=users["gx-officer"])
        _through_the_workflow(statement, users, "d-manager")
        created += 1 + len(statement.lines)
    return created


def seed_statements(tenants):
    """Settle last month for A's, B's and D's ganxian contracts as described above; returns how many
    rows were created (0 when they exist already or the demo lacks their ingredients)."""
    month = months.month_text(months.previous_month(local_today()))
    with tenant_scope(tenants["ganxian"].id):
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(USERS)))}
        created = _care_and_assessment_statements(users, month)
        if len(users) == len(USERS):
            created += _survey_statements(users, month)
        db.session.flush()
        return created


def _care_and_assessment_statements(users, month):
    """A's and B's statements of ``month`` (see the module docstring)."""
    from portal.beneficiaries.demo import demo_contract
    from portal.violations.detection import record_violation
    care, assessment = demo_contract("A", "CARE-VISIT"), demo_contract("B", "ADL-ASSESS")
    if care is None or assessment is None or not set(USERS[:5]) <= set(users):  # D's manager: D's statements
        return 0
    if db.session.execute(select(Statement.id).where(Statement.contract_id == care.id,
                                                     Statement.month == month)).first():
        return 0
    created = 0
    decidable = _decidable_exceptions(care, month)
    statement = settlement.prepare_statement(care, month, by=users["gx-officer"])
    created += 1 + len(statement.lines)
    if decidable:  # a decision after the draft makes it stale: it is recomputed, not sent as it was
        _accept(decidable[0], users, "演示：核实后接受。")
    if settlement.is_stale(statement):
        workflow.recompute(statement, users["gx-officer"])
    _through_the_workflow(statement, users, "a-manager")
    if len(decidable) > 1:  # accepted after the approval: a late-verified visit
        _accept(decidable[1], users, "演示：批准后核实接受。", now=statement.approved_at + timedelta(seconds=1))
    first = months.parse_month(month)
    violation = record_violation(
        "unlisted_worker", contract_id=assessment.id, staff_id=None, occurred_on=first + timedelta(days=9),
        evidence={"source": "demo"}, summary="演示：一次由未列入花名册人员完成的评估（转包）。",
        dedupe_key=f"demo:billing:{assessment.number}:{month}")
    statement = settlement.prepare_statement(assessment, month, by=users["gx-officer"])
    _through_the_workflow(statement, users, "b-manager")
    created += 1 + len(statement.lines) + (1 if violation is not None else 0)
    return created


def settle_previous_contract(tenants):
    """Every month of A's previous contract settled through the workflow and paid, what is missing
    of it (a month with a statement past draft is left alone); returns rows created. The workflow
    dates sending, confirming and approving by the clock, so the whole backlog is approved and paid
    on the day the demo is seeded (a payment never precedes its approval); the final month only once
    the final acceptance has passed (acceptance/results.py)."""
    from portal.acceptance.models import Acceptance
    from portal.contracts.history_demo import previous_contract
    with tenant_scope(tenants["ganxian"].id):
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(USERS)))}
        contract = previous_contract()
        if contract is None or not set(USERS[:4]) <= set(users):
            return 0
        done = set(db.session.scalars(select(Statement.month).where(Statement.contract_id == contract.id,
                                                                    Statement.status == "paid")))
        final = db.session.scalar(select(func.max(Acceptance.decided_on)).where(
            Acceptance.contract_id == contract.id, Acceptance.status == "passed",
            Acceptance.period_end >= contract.ends_on))
        paid_on, created = local_today(), 0
        for month in months.months_between(contract.starts_on, contract.ends_on):
            text = months.month_text(month)
            if final is None and month == months.first_day(contract.effective_end):
                break  # the final payment waits for the final acceptance
            if text not in done:
                statement = settlement.prepare_statement(contract, text, by=users["gx-officer"])
                if statement.status == "draft":
                    _through_the_workflow(statement, users, "a-manager")
                    created += 1 + len(statement.lines)
                workflow.mark_paid(statement, users["gx-finance"], paid_on, f"GKZF{text.replace('-', '')}A000")
        db.session.flush()
        return created
