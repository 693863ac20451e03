"""Monthly settlement (docs/DOMAIN.md §8): the computation, its traceability and the frozen approved
statement, on SQLite and PostgreSQL."""
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from portal.billing.models import Statement, StatementEntry, StatementLine
from portal.core.errors import DomainError
from portal.extensions import db
from portal.jobs.labels import progress_text
from tests import settlement_world as sw
from tests import support


def _lines(app, statement_id):
    with app.app_context(), sw.scope(app):
        return [(line.kind, line.units, line.unit_price_fen, line.multiplier, line.amount_fen)
                for line in db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement_id)
                                               .order_by(StatementLine.position)).scalars()]


def _entries(app, statement_id, **filters):
    with app.app_context(), sw.scope(app):
        stmt = select(StatementEntry).where(StatementEntry.statement_id == statement_id)
        for name, value in filters.items():
            stmt = stmt.where(getattr(StatementEntry, name) == value)
        return db.session.execute(stmt.order_by(StatementEntry.id)).scalars().all()


def test_worked_example_cap_quota_spot_checks_and_violation_to_the_fen(app, demo):
    """130 verified visits, monthly cap 120, 100 units of quota left → 100 units paid (the
    earliest visits); 2 visits not confirmed at multiplier 2 and 1 violation deducted."""
    sw.finance_colleague(app)
    world = sw.care_contract(app, price=8_000, quota=220, monthly_cap=120, multiplier=2, penalty=50_000)
    sw.add_visits(app, world, "2026-09", 120)
    september = sw.approved(app, world, "2026-09")  # uses 120 of the quota of 220
    assert sw.statement_row(app, september) == ("approved", 960_000, 0, 960_000)

    october = sw.add_visits(app, world, "2026-10", 130)
    rejected = sw.add_visits(app, world, "2026-10", 2, hour=16)
    sw.not_confirmed(app, world, rejected, "2026-10")
    sw.violation(app, world, date(2026, 10, 12))
    sw.violation(app, world, date(2026, 10, 13), status="dismissed")  # does not count
    sw.violation(app, world, date(2026, 11, 2))  # after the month: next month's

    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    gross = 100 * 8_000                     # min(130 verified, cap 120, quota left 100) = 100 units
    deductions = 2 * 8_000 * 2 + 50_000     # spot checks × price × multiplier + one fixed penalty
    assert (gross, deductions) == (800_000, 82_000)
    assert sw.statement_row(app, statement_id) == ("draft", 800_000, 82_000, 718_000)
    assert _lines(app, statement_id) == [("service", 100, 8_000, 1, 800_000),
                                         ("deduction_spot_check", 2, 8_000, 2, 32_000),
                                         ("deduction_violation", 1, 50_000, 1, 50_000)]
    with app.app_context(), sw.scope(app):
        service = db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement_id,
                                                                 StatementLine.kind == "service")).scalar_one()
        assert (service.verified_units, service.monthly_cap, service.quota_left) == (130, 120, 100)
        assert service.details["limited_by"] == "quota" and service.details["unpaid_count"] == 30
        assert service.details["unpaid_visit_ids"] == october[100:]
        assert all(isinstance(v, int) for v in (service.amount_fen, service.unit_price_fen))
    assert sw.entry_visits(app, statement_id, "paid") == october[:100]  # the earliest visits are paid
    assert sorted(sw.entry_visits(app, statement_id, "penalty")) == sorted(rejected)
    assert _entries(app, statement_id) == []  # entry rows, approved ids filled in, are written only on approval
    with app.app_context(), sw.scope(app):  # entries written in bulk leave the audit chain whole
        from portal.audit.chain import verify_chain
        assert verify_chain(db.session, demo.tenant_id("ganxian")).ok


def test_monthly_cap_limits_and_the_earliest_visits_are_paid(app, demo):
    world = sw.care_contract(app, monthly_cap=5, quota=1000)
    ids = sw.add_visits(app, world, "2026-10", 8)
    sw.add_visits(app, world, "2026-10", 3, status="exception")  # not verified: not counted
    sw.add_visits(app, world, "2026-11", 4)  # another month
    statement_id = sw.prepare(app, world, "2026-10")
    assert _lines(app, statement_id) == [("service", 5, sw.PRICE, 1, 5 * sw.PRICE)]
    assert sw.entry_visits(app, statement_id, "paid") == ids[:5]
    assert sw.entry_visits(app, statement_id, "capped") == ids[5:]  # never late-payable
    with app.app_context(), sw.scope(app):
        line = db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement_id)).scalar_one()
        assert line.details["limited_by"] == "monthly_cap" and line.details["unpaid_visit_ids"] == ids[5:]


def test_month_follows_beijing_time(app, demo):
    """A visit checked in at 07:30 on 1 November in Beijing is 23:30 on 31 October in UTC: November's."""
    from datetime import datetime, timedelta, timezone

    from portal.core.months import month_bounds
    start, end = month_bounds("2026-11")
    assert start == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-11", 1, hour=7)
    assert _lines(app, sw.prepare(app, world, "2026-10"))[0][1] == 0
    assert _lines(app, sw.prepare(app, world, "2026-11"))[0][1] == 1
    assert end - start == timedelta(days=30)


@pytest.mark.parametrize("text_", ["2026-13", "26-10", "2026/10", "", None, "2026-1", "1999-12", "２０２６-10"])
def test_bad_month_is_refused(text_):
    from portal.core.months import parse_month
    with pytest.raises(DomainError) as refused:
        parse_month(text_)
    assert "month" in refused.value.errors


def test_net_never_below_zero(app, demo):
    world = sw.care_contract(app, penalty=100_000)
    sw.add_visits(app, world, "2026-10", 3)
    sw.violation(app, world, date(2026, 10, 5))
    statement_id = sw.prepare(app, world, "2026-10")
    assert sw.statement_row(app, statement_id) == ("draft", 3 * sw.PRICE, 100_000, 0)


def test_recomputing_a_draft_replaces_it_and_keeps_adjustments(app, demo):
    from portal.billing import adjustments
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 4)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        adjustments.add_adjustment(statement, sw.user("gx-finance"), -1_234, "九月多付一次上门服务")
        db.session.commit()
    assert sw.statement_row(app, statement_id) == ("draft", 4 * sw.PRICE, 1_234, 4 * sw.PRICE - 1_234)
    sw.add_visits(app, world, "2026-10", 2, first_day=21)
    assert sw.prepare(app, world, "2026-10") == statement_id  # the same statement, recomputed
    assert sw.statement_row(app, statement_id) == ("draft", 6 * sw.PRICE, 1_234, 6 * sw.PRICE - 1_234)
    assert [line[0] for line in _lines(app, statement_id)] == ["service", "adjustment"]
    assert len(sw.entry_visits(app, statement_id, "paid")) == 6


def test_adjustment_needs_a_reason_and_an_amount(app, demo):
    from portal.billing import adjustments
    world = sw.care_contract(app)
    statement_id = sw.prepare(app, world, "2026-10")
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        with pytest.raises(DomainError) as refused:
            adjustments.add_adjustment(statement, sw.user("gx-officer"), 0, " ")
        assert set(refused.value.errors) == {"amount", "reason"}
        with pytest.raises(DomainError):
            adjustments.add_adjustment(statement, sw.user("gx-officer"), 1.5, "小数")  # no floats for money
        line = adjustments.add_adjustment(statement, sw.user("gx-officer"), 5_000, "补付八月一次服务")
        assert (statement.gross_fen, statement.net_fen) == (5_000, 5_000)
        adjustments.remove_adjustment(statement, sw.user("gx-officer"), line.id)
        assert statement.net_fen == 0


def test_approved_statement_never_changes_in_the_service(app, demo):
    from portal.billing import adjustments, workflow
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 5)
    statement_id = sw.approved(app, world, "2026-10")
    before = sw.statement_row(app, statement_id)
    sw.add_visits(app, world, "2026-10", 7, first_day=22)
    assert sw.prepare(app, world, "2026-10") == statement_id
    assert sw.statement_row(app, statement_id) == before
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        with pytest.raises(DomainError):
            adjustments.add_adjustment(statement, sw.user("gx-officer"), 100, "改已批准的")
        with pytest.raises(DomainError):
            workflow.send_to_contractor(statement, sw.user("gx-officer"))
        entries = _entries(app, statement_id)
        assert len(entries) == 5 and all(e.approved_visit_id == e.visit_id for e in entries)


def test_direct_sql_update_of_an_approved_statement_fails(app, demo):
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 2)
    statement_id = sw.approved(app, world, "2026-10")
    with pytest.raises(DBAPIError):
        with support.owner_connection(app) as conn:
            conn.execute(text("UPDATE statement SET net_fen = net_fen + 100 WHERE id = :id"), {"id": statement_id})
    with pytest.raises(DBAPIError):
        with support.owner_connection(app) as conn:
            conn.execute(text("UPDATE statement_line SET amount_fen = 1 WHERE statement_id = :id"), {"id": statement_id})
    with pytest.raises(DBAPIError):
        with support.owner_connection(app) as conn:
            conn.execute(text("DELETE FROM statement_entry WHERE statement_id = :id"), {"id": statement_id})
    with pytest.raises(DBAPIError):  # the entries of a frozen statement can neither change nor grow
        with support.owner_connection(app) as conn:
            conn.execute(text("UPDATE statement_entry SET role = 'penalty' WHERE statement_id = :id"), {"id": statement_id})
    with pytest.raises(DBAPIError):
        with support.owner_connection(app) as conn:
            conn.execute(text("INSERT INTO statement_entry (tenant_id, statement_id, line_id, role, visit_id) "
                              "SELECT tenant_id, statement_id, line_id, 'paid', visit_id FROM statement_entry "
                              "WHERE statement_id = :id"), {"id": statement_id})
    with app.app_context(), sw.scope(app):  # and through the application's own connection
        with pytest.raises(DBAPIError):
            db.session.execute(text("UPDATE statement SET net_fen = 1 WHERE id = :id"), {"id": statement_id})
        db.session.rollback()
    assert sw.statement_row(app, statement_id) == ("approved", 2 * sw.PRICE, 0, 2 * sw.PRICE)


def test_a_visit_cannot_be_paid_twice(app, demo):
    """Across months: once approved, a visit is out of every later computation, the service refuses
    to approve a statement holding it again, and the unique constraint refuses a direct insert."""
    from portal.billing import entries, workflow
    world = sw.care_contract(app)
    ids = sw.add_visits(app, world, "2026-10", 3)
    october = sw.approved(app, world, "2026-10")
    with app.app_context(), sw.scope(app):
        # a rogue draft for November that lists October's visits (as if computed before approval)
        november = workflow.settlement.prepare_statement(
            db.session.get(workflow.Contract, world["contract"]), "2026-11", by=sw.user("gx-officer"))
        line = db.session.execute(select(StatementLine).where(StatementLine.statement_id == november.id)).scalar_one()
        assert line.units == 0  # October's visits are October's
        entries.keep(november, [(line, {"paid": [ids[0]]})])  # the ids a draft keeps behind its line
        workflow.send_to_contractor(november, sw.user("gx-officer"))
        workflow.confirm(november, sw.user("a-manager"))
        with pytest.raises(DomainError):
            workflow.approve(november, sw.user("gx-finance"))
        db.session.rollback()
    with app.app_context(), sw.scope(app):
        first = _entries(app, october)[0]
        db.session.add(StatementEntry(statement_id=sw.prepare(app, world, "2026-11"), line_id=first.line_id,
                                      role="paid", visit_id=first.visit_id, approved_visit_id=first.visit_id))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_spot_check_after_payment_is_deducted_in_a_later_month_once(app, demo):
    world = sw.care_contract(app)
    ids = sw.add_visits(app, world, "2026-09", 4)
    sw.approved(app, world, "2026-09")
    sw.not_confirmed(app, world, ids[:1], "2026-09")  # found out after September was paid
    october = sw.approved(app, world, "2026-10")
    assert sw.statement_row(app, october) == ("approved", 0, sw.PRICE * 2, 0)
    november = sw.prepare(app, world, "2026-11")
    # already penalised in October; what October could not cover carries forward, once
    assert sw.statement_row(app, november) == ("draft", 0, sw.PRICE * 2, 0)
    assert [line[0] for line in _lines(app, november)] == ["service", "deduction_carried_forward", "carried_out"]
    assert sw.entry_rows(app, november, "penalty") == []


def test_prepare_month_skips_contracts_outside_the_month_and_reports_progress(app, demo):
    from portal.billing.settlement import prepare_month
    inside = sw.care_contract(app)
    later = sw.care_contract(app, manager="b-manager", starts_on=date(2026, 11, 1))
    sw.care_contract(app, manager="b-manager", status="draft")
    seen = []
    with app.app_context(), sw.scope(app):
        statements = prepare_month("2026-10", progress=lambda done, total: seen.append((done, total)))
        assert [s.contract_id for s in statements] == [inside["contract"]]
        assert seen == [(1, 1)]
        assert prepare_month("2026-10", contract_id=later["contract"]) == []
        db.session.rollback()


def test_rerunning_the_job_leaves_approved_statements_alone(app, demo, run_worker):
    from portal.jobs.models import JobRun
    from portal.jobs.queue import enqueue
    world = sw.care_contract(app)
    other = sw.care_contract(app, manager="b-manager")
    sw.add_visits(app, world, "2026-10", 6)
    approved = sw.approved(app, world, "2026-10")
    before = sw.statement_row(app, approved)
    sw.add_visits(app, world, "2026-10", 4, first_day=21)
    sw.add_visits(app, other, "2026-10", 3)
    for _ in range(2):
        with app.app_context(), sw.scope(app):
            run_id = enqueue("billing.prepare_month", month="2026-10").id
            db.session.commit()
        run_worker()
        with app.app_context(), sw.scope(app):
            run = db.session.get(JobRun, run_id)
            assert (run.status, run.progress) == ("finished", 100), run.error
            with force_locale("en"):
                assert "2026-10: 1 draft prepared" in progress_text(run.progress_note)
    assert sw.statement_row(app, approved) == before
    with app.app_context(), sw.scope(app):
        drafts = db.session.execute(select(Statement).where(Statement.status == "draft")).scalars().all()
        assert [(s.contract_id, s.net_fen, s.job_run_id) for s in drafts] == [(other["contract"], 3 * sw.PRICE, run_id)]
        assert db.session.execute(select(func.count()).select_from(Statement)).scalar_one() == 2


def test_scheduled_job_acts_only_on_the_first_working_day(app, demo, run_worker):
    from portal.jobs.models import JobRun
    from portal.jobs.queue import enqueue
    from portal.jobs.schedule import PERIODIC
    assert any(p.task == "billing.prepare_previous_month" and p.per_tenant for p in PERIODIC)
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 2)
    # 1 November 2026 is a Sunday: the first working day is Monday 2 November
    for day, expected in (("2026-11-01", 0), ("2026-11-03", 0), ("2026-11-02", 1)):
        with app.app_context(), sw.scope(app):
            run_id = enqueue("billing.prepare_previous_month", on=day).id
            db.session.commit()
        run_worker()
        with app.app_context(), sw.scope(app):
            assert db.session.get(JobRun, run_id).status == "finished"
            count = db.session.execute(select(func.count()).select_from(Statement)).scalar_one()
            assert count == expected, day
    assert sw.statement_row(app, sw.prepare(app, world, "2026-10")) == ("draft", 2 * sw.PRICE, 0, 2 * sw.PRICE)


def test_settle_command_prepares_drafts_and_a_second_run_changes_no_approved_statement(app, demo, run_worker):
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-09", 3)
    september = sw.approved(app, world, "2026-09")
    sw.add_visits(app, world, "2026-10", 5)
    runner = support.platform_app(app).test_cli_runner()
    for month in ("2026-10", "2026-09", "2026-10"):
        result = runner.invoke(args=["settle", "--tenant", "ganxian", "--month", month])
        assert result.exit_code == 0, result.output
        assert month in result.output  # what it did: the statements, or the job it queued
        assert '"m":' not in result.output  # the job's note in words, not as it is stored
        run_worker()
    assert sw.statement_row(app, september) == ("approved", 3 * sw.PRICE, 0, 3 * sw.PRICE)
    with app.app_context(), sw.scope(app):
        october = db.session.execute(select(Statement).where(Statement.month == "2026-10")).scalar_one()
        assert (october.status, october.net_fen) == ("draft", 5 * sw.PRICE)
    result = runner.invoke(args=["settle", "--tenant", "ganxian", "--month", "2026-13"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
    result = runner.invoke(args=["settle", "--tenant", "ganxian", "--month", "2099-01"])
    assert result.exit_code != 0 and "has not ended" in result.output and "2099-02-01" in result.output
    result = runner.invoke(args=["settle", "--tenant", "nowhere", "--month", "2026-10"])
    assert result.exit_code != 0
    result = runner.invoke(args=["settle", "--tenant", "ganxian", "--month", "2026-10", "--contract", "999999"])
    assert result.exit_code != 0 and "no contract" in result.output


def test_a_further_deduction_source_can_be_registered(app, demo, monkeypatch):
    """A deduction source is a function of the period returning lines (staffing.py registers one the same way)."""
    from portal.billing import settlement

    def staffing(period):
        assert (period.month, period.first_day, period.last_day) == ("2026-10", date(2026, 10, 1), date(2026, 10, 31))
        return [settlement.LinePlan(kind="deduction_staffing", description="站点缺员", units=3, unit_price_fen=1_000,
                                    amount_fen=3_000)]
    monkeypatch.setattr(settlement, "DEDUCTION_SOURCES", [*settlement.DEDUCTION_SOURCES, staffing])
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 1)
    statement_id = sw.prepare(app, world, "2026-10")
    assert sw.statement_row(app, statement_id) == ("draft", sw.PRICE, 3_000, sw.PRICE - 3_000)
    assert _lines(app, statement_id)[-1] == ("deduction_staffing", 3, 1_000, 1, 3_000)


def test_lines_are_written_in_the_language_of_record_whatever_the_page_language(app, demo):
    """An officer reading the portal in English prepares the statement: its lines are records and
    stay in the bureau's language (Chinese), like every public notice."""
    from flask_babel import gettext

    from portal.billing.settlement import prepare_statement
    from portal.contracts.models import Contract
    world = sw.care_contract(app)
    sw.not_confirmed(app, world, sw.add_visits(app, world, "2026-10", 1), "2026-10")
    sw.violation(app, world, date(2026, 10, 12))
    with app.test_request_context("/billing/", headers={"Cookie": "lang=en"}), sw.scope(app):
        assert gettext("Subcontracting violations") == "Subcontracting violations"  # the page is English
        statement = prepare_statement(db.session.get(Contract, world["contract"]), "2026-10")
        descriptions = {line.kind: line.description for line in statement.lines}
        db.session.rollback()
    assert descriptions["deduction_violation"] == "转包违规"
    assert descriptions["deduction_spot_check"].startswith("抽查未证实的服务")
