"""Late-verified visits (docs/DOMAIN.md §8) are decided from the approved statements' entries,
never from clocks, and a late line pays within each source month's monthly cap and the quota —
on SQLite and PostgreSQL."""
from datetime import timedelta

import pytest

from sqlalchemy import select

from portal.billing.models import StatementLine
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import settlement_world as sw


def _entries(app, statement_id, role):
    return sorted(sw.entry_visits(app, statement_id, role))


def _lines(app, statement_id):
    with app.app_context(), sw.scope(app):
        return [(line.kind, line.units, line.amount_fen) for line in db.session.execute(
            select(StatementLine).where(StatementLine.statement_id == statement_id)
            .order_by(StatementLine.position)).scalars()]


def _verify(app, visit_ids, verified_at=None):
    from portal.visits.models import Visit
    with app.app_context(), sw.scope(app):
        for visit_id in visit_ids:
            visit = db.session.get(Visit, visit_id)
            visit.status, visit.verified_at = "verified", verified_at or utcnow() + timedelta(seconds=1)
        db.session.commit()


def test_late_visits_are_paid_only_within_their_months_cap(app, demo):
    world = sw.care_contract(app, monthly_cap=2)
    sw.add_visits(app, world, "2026-08", 2)
    waiting = sw.add_visits(app, world, "2026-08", 3, status="exception", hour=15)
    august = sw.approved(app, world, "2026-08")
    assert sw.statement_row(app, august)[1] == 2 * sw.PRICE
    _verify(app, waiting)  # the three exceptions are accepted after approval
    september = sw.approved(app, world, "2026-09")
    assert ("late_verified", 0, 0) in _lines(app, september)  # October already paid its cap of 2
    assert _entries(app, september, "paid") == []
    assert _entries(app, september, "capped") == waiting  # recorded: never picked up again
    later = sw.prepare(app, world, "2026-10")
    assert [kind for kind, _units, _amount in _lines(app, later)] == ["service"]


def test_late_visits_fill_what_is_left_of_their_months_cap(app, demo):
    world = sw.care_contract(app, monthly_cap=3)
    sw.add_visits(app, world, "2026-08", 1)
    waiting = sw.add_visits(app, world, "2026-08", 4, status="exception", hour=15)
    sw.approved(app, world, "2026-08")
    _verify(app, waiting)
    september = sw.approved(app, world, "2026-09")
    assert ("late_verified", 2, 2 * sw.PRICE) in _lines(app, september)
    assert _entries(app, september, "paid") == waiting[:2]
    assert _entries(app, september, "capped") == waiting[2:]


def test_a_visit_left_unpaid_by_the_cap_never_becomes_late(app, demo):
    world = sw.care_contract(app, monthly_cap=2)
    ids = sw.add_visits(app, world, "2026-08", 3)
    august = sw.approved(app, world, "2026-08")
    assert _entries(app, august, "capped") == ids[2:]
    _verify(app, ids[2:])  # verified again (e.g. a correction re-verifies it) after approval
    september = sw.prepare(app, world, "2026-09")
    assert [kind for kind, _units, _amount in _lines(app, september)] == ["service"]


def test_a_verification_committed_during_approval_is_late_whatever_its_clock(app, demo, login):
    """verified_at before the approval's approved_at, but not in the approved statement: still late."""
    from portal.billing.models import Statement
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-08", 2)
    [racing] = sw.add_visits(app, world, "2026-08", 1, status="exception", hour=15)
    august = sw.approved(app, world, "2026-08")
    with app.app_context(), sw.scope(app):
        approved_at = db.session.get(Statement, august).approved_at
    _verify(app, [racing], verified_at=approved_at - timedelta(seconds=5))
    listing = login("gx-finance").get("/billing/late-verified").get_data(as_text=True)
    assert f'data-visit="{racing}"' in listing
    september = sw.approved(app, world, "2026-09")
    assert ("late_verified", 1, sw.PRICE) in _lines(app, september)
    assert _entries(app, september, "paid") == [racing]


def test_the_digest_covers_exactly_the_entries_written(app, demo):
    from portal.billing import settlement
    from portal.billing.models import Statement
    world = sw.care_contract(app, monthly_cap=2)
    sw.add_visits(app, world, "2026-08", 4)
    statement_id = sw.prepare(app, world, "2026-08")
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        plans, digest = settlement.current_plan(statement)
        assert digest == statement.plan_digest
        selected = sorted(plans[0].selected()["visits"] + plans[0].selected()["capped"])
    written = sorted(visit_id for _line, _role, visit_id, _violation in sw.entry_rows(app, statement_id))
    assert selected == written and len(written) == 4


# --- approvals of one contract are serialised ---------------------------------------------------------

@pytest.mark.parametrize("move", ["approve", "recompute", "send", "prepare"])
def test_settlement_moves_lock_the_contract_row(app, demo, move):
    """Each move locks the contract's row first (FOR UPDATE on PostgreSQL; SQLite serialises writers
    and renders no lock, so only the call is checked there)."""
    from sqlalchemy import event

    from portal.billing import settlement, workflow
    from portal.billing.models import Statement
    from portal.contracts.models import Contract
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-08", 2)
    statement_id = sw.prepare(app, world, "2026-08", by="gx-officer")
    with app.app_context(), sw.scope(app):
        if move == "approve":
            workflow.send_to_contractor(db.session.get(Statement, statement_id), sw.user("gx-officer"))
            workflow.confirm(db.session.get(Statement, statement_id), sw.user("a-manager"))
            db.session.commit()
        seen, locks = [], []
        engine = db.session.get_bind()
        original = settlement.lock_settlement

        def spy(*args, **kwargs):
            locks.append(args[0])
            return original(*args, **kwargs)

        def capture(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)
        event.listen(engine, "before_cursor_execute", capture)
        settlement.lock_settlement = spy
        try:
            statement = db.session.get(Statement, statement_id)
            if move == "approve":
                workflow.approve(statement, sw.user("gx-finance"))
            elif move == "recompute":
                workflow.recompute(statement, sw.user("gx-officer"))
            elif move == "send":
                workflow.send_to_contractor(statement, sw.user("gx-officer"))
            else:
                settlement.prepare_statement(db.session.get(Contract, world["contract"]), "2026-08")
        finally:
            settlement.lock_settlement = original
            event.remove(engine, "before_cursor_execute", capture)
        db.session.rollback()
    assert locks == [world["contract"]]
    if engine.dialect.name == "postgresql":
        assert any("FOR UPDATE" in sql and "FROM contract" in sql for sql in seen)


def test_late_visits_beyond_the_quota_are_capped(app, demo):
    world = sw.care_contract(app, quota=3)
    sw.add_visits(app, world, "2026-08", 2)
    waiting = sw.add_visits(app, world, "2026-08", 3, status="exception", hour=15)
    sw.approved(app, world, "2026-08")
    _verify(app, waiting)
    september = sw.approved(app, world, "2026-09")
    assert ("late_verified", 1, sw.PRICE) in _lines(app, september)
    assert _entries(app, september, "paid") == waiting[:1]
    assert _entries(app, september, "capped") == waiting[1:]


def test_the_late_verified_page_is_one_query_whatever_the_approved_statements(app, demo):
    """No condition per approved statement (SQLite refuses expressions deeper than 1000)."""
    from portal.billing.balances import late_verified_select
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-08", 1)
    with app.app_context(), sw.scope(app):
        before = str(late_verified_select())
    sw.approved(app, world, "2026-08")
    other = sw.care_contract(app)
    sw.add_visits(app, other, "2026-08", 1)
    sw.approved(app, other, "2026-08")
    with app.app_context(), sw.scope(app):
        assert str(late_verified_select()) == before


def test_late_visits_of_the_contracts_last_month_are_listed_as_owed_at_its_end(app, demo, login):
    from datetime import date
    world = sw.care_contract(app, starts_on=date(2026, 8, 1), ends_on=date(2026, 9, 30))
    sw.add_visits(app, world, "2026-09", 1)
    waiting = sw.add_visits(app, world, "2026-09", 2, status="exception", hour=15)
    finance = login("gx-finance")
    sw.approved(app, world, "2026-08")
    sw.accepted(app, world)  # September is the final payment (acceptance/results.py)
    sw.approved(app, world, "2026-09")
    _verify(app, waiting)
    page = finance.get("/billing/balances").get_data(as_text=True)
    row = page[page.index(f'data-owed-contract="{world["contract"]}"'):]
    assert "<td>2</td>" in row[:row.index("</tr>")] and "160.00" in row[:row.index("</tr>")]


# --- a paid visit rejected since is clawed back once ----------------------------------------------------

def test_a_paid_visit_rejected_since_is_clawed_back_once(app, demo):
    from portal.visits.models import Visit
    world = sw.care_contract(app)
    ids = sw.add_visits(app, world, "2026-08", 3)
    sw.approved(app, world, "2026-08")
    with app.app_context(), sw.scope(app):  # a later decision rejects a visit already paid
        db.session.get(Visit, ids[0]).status = "rejected"
        db.session.commit()
    sw.add_visits(app, world, "2026-09", 2)
    september = sw.approved(app, world, "2026-09")
    assert ("deduction_clawback", 1, sw.PRICE) in _lines(app, september)
    assert _entries(app, september, "clawback") == [ids[0]]
    assert sw.statement_row(app, september)[3] == 2 * sw.PRICE - sw.PRICE
    later = sw.prepare(app, world, "2026-10")
    assert "deduction_clawback" not in [kind for kind, _units, _amount in _lines(app, later)]


def test_a_visit_rejected_by_a_spot_check_is_not_also_clawed_back(app, demo):
    world = sw.care_contract(app)
    ids = sw.add_visits(app, world, "2026-08", 2)
    sw.approved(app, world, "2026-08")
    sw.not_confirmed(app, world, ids[:1], "2026-09")
    september = sw.prepare(app, world, "2026-09")
    kinds = [kind for kind, _units, _amount in _lines(app, september)]
    assert "deduction_spot_check" in kinds and "deduction_clawback" not in kinds
