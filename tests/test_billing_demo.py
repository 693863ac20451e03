"""The demo's statements (issue 12): seed-demo settles last month through the real workflow and
shows one stale draft recomputed, one carried-forward deduction and one late-verified visit;
D's survey statements pay the signed-off surveys and deduct a re-check discrepancy (issue 18);
a second run changes nothing."""
from sqlalchemy import func, select

from tests import support


def test_the_demo_shows_a_recomputed_draft_a_carried_deduction_and_a_late_visit(app, login):
    from portal.billing import balances
    from portal.billing.models import Statement, StatementLine
    from portal.contracts.history_demo import previous_contract
    from portal.demo import seed
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    support.seed_demo(app, history=True)  # portal.demo.seed, built once per run
    with support.platform_app(app).app_context():  # the second `flask seed-demo` run, as the platform role
        with tenant_scope(support.World(app).tenant_id("ganxian")):
            previous = previous_contract()
            statements = db.session.scalars(select(Statement).where(Statement.contract_id != previous.id)
                                            .order_by(Statement.id)).all()
            # A's and B's of last month, D's of the month before and of last month, B's stations' of
            # last month (portal/demo.py settle_stations); A's previous contract's months all paid
            # (portal/billing/demo.py settle_previous_contract, tests/test_demo_history.py)
            assert [s.status for s in statements] == ["approved"] * 5
            survey = [s for s in statements if any(line.kind == "deduction_survey_discrepancy" for line in s.lines)]
            assert len(survey) == 1 and survey[0].month == statements[0].month
            [deduction] = [line for line in survey[0].lines if line.kind == "deduction_survey_discrepancy"]
            [service] = [line for line in survey[0].lines if line.kind == "service"]
            assert deduction.units == 1 and deduction.amount_fen == service.unit_price_fen * deduction.multiplier
            assert service.units == 3 and survey[0].net_fen == service.amount_fen - deduction.amount_fen
            recomputed_ids = [s.id for s in statements if s.stale_recomputed_at is not None]
            assert len(recomputed_ids) == 1
            carried = db.session.scalars(select(StatementLine).where(StatementLine.kind == "carried_out")).all()
            assert len(carried) == 1 and carried[0].amount_fen > 0
            assert len(db.session.scalars(balances.late_verified_select()).all()) == 1
            counts = db.session.execute(select(func.count()).select_from(StatementLine)).scalar_one()
        assert seed(support.PASSWORD) == 0
        db.session.commit()
        with tenant_scope(support.World(app).tenant_id("ganxian")):
            assert db.session.execute(select(func.count()).select_from(StatementLine)).scalar_one() == counts
    finance = login("gx-finance")
    late = finance.get("/billing/late-verified").get_data(as_text=True)
    assert late.count("data-visit=") == 1
    owed = finance.get("/billing/balances").get_data(as_text=True)
    assert owed.count("data-contract=") == 1
    recomputed = finance.get(f"/billing/{recomputed_ids[0]}").get_data(as_text=True)
    history = recomputed[recomputed.index('id="statement-history"'):]
    assert history.count("<tr>") == 6  # header, recomputed, prepared, sent, confirmed, approved
    for username in ("a-manager", "gx-supervisor"):
        client = login(username, tenant="ganxian") if username == "a-manager" else login(username)
        assert client.get("/billing/late-verified").status_code == 403
        assert client.get("/billing/balances").status_code == 403
