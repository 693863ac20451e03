"""A statement pays exactly what is payable when it is approved (issue 12, docs/DOMAIN.md §8): stale
drafts are refused and recomputed, V01 work is never paid, uncovered deductions carry forward,
only ended months are settled, late-verified visits are paid later once, and settlement never
pays beyond the contract total — on SQLite and PostgreSQL."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.billing import workflow
from portal.billing.models import Statement, StatementLine
from portal.core.errors import Conflict, DomainError
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import settlement_world as sw
from tests import support


def _statement(statement_id):
    return db.session.get(Statement, statement_id)


def _paid_visits(app, statement_id):
    return sorted(sw.entry_visits(app, statement_id, "paid"))


def _lines(app, statement_id):
    with app.app_context(), sw.scope(app):
        return [(line.kind, line.units, line.amount_fen) for line in db.session.execute(
            select(StatementLine).where(StatementLine.statement_id == statement_id)
            .order_by(StatementLine.position)).scalars()]


def _v01(app, visit_id, status="accepted"):
    """A V01 finding on a visit that is nonetheless verified (as if a supervisor accepted it)."""
    from portal.visits.models import VisitException
    with app.app_context(), sw.scope(app):
        db.session.add(VisitException(visit_id=visit_id, code="V01", message="不在花名册", status=status,
                                      decided_at=utcnow()))
        db.session.commit()


# --- 1. payable at approval ---------------------------------------------------------------------------

def test_a_visit_rejected_after_the_draft_is_refused_at_sending_then_recomputed_and_not_paid(app, demo):
    sw.finance_colleague(app)
    world = sw.care_contract(app)
    visits = sw.add_visits(app, world, "2026-10", 5)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    assert _paid_visits(app, statement_id) == sorted(visits)
    sw.not_confirmed(app, world, visits[:1], "2026-10")  # the sampled visit is found not confirmed
    with app.app_context(), sw.scope(app):
        with pytest.raises(workflow.StaleStatement) as refused:
            workflow.send_to_contractor(_statement(statement_id), sw.user("gx-officer"))
        assert refused.value.status == 409 and refused.value.code == "stale_statement"
        db.session.rollback()
        workflow.recompute(_statement(statement_id), sw.user("gx-officer"))
        workflow.send_to_contractor(_statement(statement_id), sw.user("gx-officer"))
        workflow.confirm(_statement(statement_id), sw.user("a-manager"))
        workflow.approve(_statement(statement_id), sw.user("gx-finance"))
        statement = _statement(statement_id)
        assert statement.stale_recomputed_by_id == sw.user("gx-officer").id
        db.session.commit()
    assert visits[0] not in _paid_visits(app, statement_id)
    assert sw.statement_row(app, statement_id) == ("approved", 4 * sw.PRICE, sw.PRICE * sw.MULTIPLIER,
                                                   4 * sw.PRICE - sw.PRICE * sw.MULTIPLIER)


def test_a_visit_rejected_after_confirmation_blocks_approval_until_recomputed(app, demo):
    world = sw.care_contract(app)
    visits = sw.add_visits(app, world, "2026-10", 3)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    with app.app_context(), sw.scope(app):
        workflow.send_to_contractor(_statement(statement_id), sw.user("gx-officer"))
        workflow.confirm(_statement(statement_id), sw.user("a-manager"))
        db.session.commit()
    sw.not_confirmed(app, world, visits[1:2], "2026-10")
    with app.app_context(), sw.scope(app):
        with pytest.raises(workflow.StaleStatement):
            workflow.approve(_statement(statement_id), sw.user("gx-finance"))
        db.session.rollback()
        assert _statement(statement_id).status == "confirmed"
        workflow.recompute(_statement(statement_id), sw.user("gx-officer"))  # back to draft, sent again
        assert _statement(statement_id).status == "draft"
        db.session.commit()
    assert visits[1] not in _paid_visits(app, statement_id)


def test_approval_rechecks_each_paid_visit_is_verified_then(app, demo):
    """Even with a digest that still matches (as if computed by a stale engine), a paid visit no
    longer verified at approval blocks it."""
    from portal.visits.models import Visit
    world = sw.care_contract(app)
    visits = sw.add_visits(app, world, "2026-10", 2)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    with app.app_context(), sw.scope(app):
        workflow.send_to_contractor(_statement(statement_id), sw.user("gx-officer"))
        workflow.confirm(_statement(statement_id), sw.user("a-manager"))
        db.session.get(Visit, visits[0]).status = "rejected"
        db.session.flush()
        from portal.billing import settlement
        _statement(statement_id).plan_digest = settlement.current_plan(_statement(statement_id))[1]
        with pytest.raises(workflow.StaleStatement):
            workflow.approve(_statement(statement_id), sw.user("gx-finance"))
        db.session.rollback()


def test_a_draft_recomputed_by_the_job_after_a_change_records_why(app, demo):
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 2)
    statement_id = sw.prepare(app, world, "2026-10")
    sw.prepare(app, world, "2026-10")  # nothing changed
    with app.app_context(), sw.scope(app):
        assert _statement(statement_id).stale_recomputed_at is None
    sw.violation(app, world, date(2026, 10, 9))
    sw.prepare(app, world, "2026-10")
    with app.app_context(), sw.scope(app):
        assert _statement(statement_id).stale_recomputed_at is not None


# --- 2. V01 never payable -----------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["accepted", "answered", "open", "rejected"])
def test_a_visit_with_a_v01_finding_is_never_paid_whatever_its_status(app, demo, status):
    world = sw.care_contract(app)
    visits = sw.add_visits(app, world, "2026-10", 3)
    _v01(app, visits[0], status)
    statement_id = sw.approved(app, world, "2026-10")
    assert _paid_visits(app, statement_id) == sorted(visits[1:])
    assert sw.statement_row(app, statement_id)[1] == 2 * sw.PRICE


# --- 3. carry-forward -----------------------------------------------------------------------------------

def test_deductions_of_218000_against_9000_carry_209000_to_the_next_month(app, demo, login, api_token, client):
    world = sw.care_contract(app, price=9_000, penalty=218_000)
    sw.add_visits(app, world, "2026-10", 1)
    sw.violation(app, world, date(2026, 10, 20))
    october = sw.approved(app, world, "2026-10")
    assert sw.statement_row(app, october) == ("approved", 9_000, 218_000, 0)
    assert _lines(app, october)[-1] == ("carried_out", 1, 209_000)
    november = sw.prepare(app, world, "2026-11", by="gx-officer")
    assert ("deduction_carried_forward", 1, 209_000) in _lines(app, november)
    assert sw.statement_row(app, november) == ("draft", 0, 209_000, 0)
    # shown on both statements: page, print, API, Excel
    finance = login("gx-finance")
    for statement_id in (october, november):
        page = finance.get(f"/billing/{statement_id}").get_data(as_text=True)
        assert "2,090.00" in page
        assert "2,090.00" in finance.get(f"/billing/{statement_id}/print").get_data(as_text=True)
    body = client.get(f"/api/v1/settlements/{october}", headers=api_token("gx-finance")).get_json()
    assert body["carried_out_fen"] == 209_000 and body["net_fen"] == 0
    body = client.get(f"/api/v1/settlements/{november}", headers=api_token("gx-finance")).get_json()
    carried = [d for d in body["deductions"] if d["kind"] == "deduction_carried_forward"]
    assert carried[0]["amount_fen"] == 209_000 and carried[0]["from_statements"][0]["statement_id"] == october
    import io

    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(finance.get(f"/billing/{october}.xlsx").data), read_only=True)
    cells = [v for row in book.worksheets[0].iter_rows(values_only=True) for v in row if v is not None]
    assert any(str(v) == "2090.00" or v == 2090 for v in cells)


def test_a_carried_balance_is_deducted_once_and_listed_unrecovered_at_the_contract_end(app, demo, login):
    world = sw.care_contract(app, price=9_000, penalty=218_000, ends_on=date(2026, 11, 30))
    sw.add_visits(app, world, "2026-10", 1)
    sw.violation(app, world, date(2026, 10, 20))
    sw.approved(app, world, "2026-10")
    sw.add_visits(app, world, "2026-11", 30)  # 270,000 gross covers the 209,000 carried
    sw.accepted(app, world)  # November is the final payment (acceptance/results.py)
    november = sw.approved(app, world, "2026-11")
    assert sw.statement_row(app, november) == ("approved", 270_000, 209_000, 61_000)
    finance = login("gx-finance")
    assert "carried-balances" in finance.get("/billing/balances").get_data(as_text=True)
    assert 'class="unrecoverable"' not in finance.get("/billing/balances").get_data(as_text=True)
    # another contract ends owing: its last month is approved with deductions left uncovered
    ending = sw.care_contract(app, manager="b-manager", price=9_000, penalty=218_000, ends_on=date(2026, 10, 31))
    sw.violation(app, ending, date(2026, 10, 2))
    sw.accepted(app, ending)
    sw.approved(app, ending, "2026-10", manager="b-manager")
    page = finance.get("/billing/balances").get_data(as_text=True)
    assert f'data-contract="{ending["contract"]}" class="unrecoverable"' in page and "2,180.00" in page
    assert 'id="owed-balances"' in finance.get("/billing/").get_data(as_text=True)


# --- 4. closing periods ----------------------------------------------------------------------------------

def test_the_current_month_cannot_be_settled_by_the_command_the_form_the_job_or_the_service(app, demo, login,
                                                                                           run_worker):
    from portal.billing.settlement import first_allowed_day, prepare_statement
    from portal.core.months import month_text as month_of
    from portal.contracts.models import Contract
    from portal.core.timeutil import local_today
    from portal.jobs.models import JobRun
    from portal.jobs.queue import enqueue
    world = sw.care_contract(app, ends_on=date(2099, 12, 31))
    current = month_of(local_today())
    allowed = first_allowed_day(current).isoformat()
    result = support.platform_app(app).test_cli_runner().invoke(args=["settle", "--tenant", "ganxian", "--month", current])
    assert result.exit_code != 0 and "nothing prepared" in result.output and allowed in result.output
    with app.app_context(), sw.scope(app):
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar_one() == 0
        with pytest.raises(DomainError) as refused:
            prepare_statement(db.session.get(Contract, world["contract"]), current)
        assert allowed in refused.value.errors["month"][0]
        run_id = enqueue("billing.prepare_month", month=current).id
        db.session.commit()
    run_worker()
    with app.app_context(), sw.scope(app):
        assert allowed in db.session.get(JobRun, run_id).progress_note
    response = sw_form_post(login("gx-officer"), current)
    assert response.status_code == 422 and allowed in response.get_data(as_text=True)
    with app.app_context(), sw.scope(app):
        assert db.session.execute(select(func.count()).select_from(Statement)).scalar_one() == 0


def sw_form_post(client, month):
    from tests import support
    return support.form_post(client, "/billing/prepare", {"month": month, "contract_id": "0"}, token_url="/billing/")


def test_a_visit_verified_after_its_month_was_approved_is_listed_and_paid_once_next_month(app, demo, login):
    from portal.visits.models import Visit
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 2)
    [late] = sw.add_visits(app, world, "2026-10", 1, status="exception", hour=15)
    october = sw.approved(app, world, "2026-10")
    assert late not in _paid_visits(app, october)
    with app.app_context(), sw.scope(app):  # a supervisor accepts its exception after approval
        visit = db.session.get(Visit, late)
        visit.status, visit.verified_at = "verified", utcnow() + timedelta(seconds=1)
        db.session.commit()
    finance = login("gx-finance")
    listing = finance.get("/billing/late-verified").get_data(as_text=True)
    assert f'data-visit="{late}"' in listing
    november = sw.approved(app, world, "2026-11")
    assert ("late_verified", 1, sw.PRICE) in _lines(app, november)
    assert _paid_visits(app, november) == [late]
    assert sw.statement_row(app, october)[1] == 2 * sw.PRICE  # the approved month never changes
    listing = finance.get("/billing/late-verified?page=1").get_data(as_text=True)
    assert f'data-visit="{late}"' in listing and "HT-" in listing[listing.index(f'data-visit="{late}"'):]
    with app.app_context(), sw.scope(app):  # paid once: nothing later picks it up again
        from portal.billing.sources import _late_visits
        from portal.billing.settlement import Period
        from portal.core.months import month_bounds
        start, end = month_bounds("2026-12")
        period = Period(db.session.get(workflow.Contract, world["contract"]), "2026-12", start, end,
                        date(2026, 12, 1), date(2026, 12, 31), None)
        assert db.session.execute(select(func.count()).select_from(Visit).where(*_late_visits(period))).scalar_one() == 0


# --- 5. the contract total ----------------------------------------------------------------------------

def test_settlement_never_pays_beyond_the_contract_total_with_amendments(app, demo, login):
    from portal.contracts.models import Amendment, Contract
    world = sw.care_contract(app)
    with app.app_context(), sw.scope(app):
        contract = db.session.get(Contract, world["contract"])
        contract.amount_fen = 5 * sw.PRICE
        db.session.add(Amendment(contract_id=contract.id, number=1, rationale="additional_quantity",
                                 description="增加一次", added_fen=sw.PRICE, signed_on=date(2026, 9, 1)))
        db.session.commit()
    sw.add_visits(app, world, "2026-09", 4)
    september = sw.approved(app, world, "2026-09")
    assert sw.statement_row(app, september)[1] == 4 * sw.PRICE
    sw.add_visits(app, world, "2026-10", 5)
    october = sw.prepare(app, world, "2026-10", by="gx-officer")
    assert _lines(app, october)[0] == ("service", 2, 2 * sw.PRICE)  # 6 visits' worth in all
    with app.app_context(), sw.scope(app):
        line = _statement(october).lines[0]
        assert line.details["limited_by"] == "contract_total" and line.details["unpaid_count"] == 3
        assert "480.00" in line.description
    page = login("gx-finance").get(f"/billing/{october}").get_data(as_text=True)
    assert 'data-limit="contract_total"' in page


def test_approval_refuses_to_go_beyond_the_contract_total_when_another_month_was_approved_first(app, demo):
    from portal.contracts.models import Contract
    world = sw.care_contract(app)
    with app.app_context(), sw.scope(app):
        db.session.get(Contract, world["contract"]).amount_fen = 5 * sw.PRICE
        db.session.commit()
    sw.add_visits(app, world, "2026-09", 4)
    sw.add_visits(app, world, "2026-10", 4)
    september, october = sw.prepare(app, world, "2026-09"), sw.prepare(app, world, "2026-10")
    with app.app_context(), sw.scope(app):
        for statement_id in (september, october):
            workflow.send_to_contractor(_statement(statement_id), sw.user("gx-officer"))
            workflow.confirm(_statement(statement_id), sw.user("a-manager"))
        workflow.approve(_statement(september), sw.user("gx-finance"))
        with pytest.raises(Conflict):
            workflow.approve(_statement(october), sw.user("gx-finance"))
        db.session.rollback()
