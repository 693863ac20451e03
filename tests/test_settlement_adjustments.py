"""Manual adjustments (docs/DOMAIN.md §8) count against the contract total like paying lines, and
whoever added or removed one may not approve the statement (four eyes) — on SQLite and
PostgreSQL."""
import pytest

from portal.billing import adjustments, steps, workflow
from portal.billing.models import Statement
from portal.core.errors import Conflict, Forbidden
from portal.extensions import db
from tests import settlement_world as sw


def _statement(statement_id):
    return db.session.get(Statement, statement_id)


def _sent_and_confirmed(statement_id, by="gx-officer"):
    workflow.send_to_contractor(_statement(statement_id), sw.user(by))
    workflow.confirm(_statement(statement_id), sw.user("a-manager"))


def test_a_positive_adjustment_cannot_pay_beyond_the_contract_total(app, demo):
    from portal.contracts.models import Contract
    world = sw.care_contract(app)
    with app.app_context(), sw.scope(app):
        db.session.get(Contract, world["contract"]).amount_fen = 5 * sw.PRICE
        db.session.commit()
    sw.add_visits(app, world, "2026-09", 4)
    september = sw.prepare(app, world, "2026-09", by="gx-officer")
    with app.app_context(), sw.scope(app):
        adjustments.add_adjustment(_statement(september), sw.user("gx-officer"), 2 * sw.PRICE, "补付八月两次上门")
        _sent_and_confirmed(september)
        with pytest.raises(Conflict):
            workflow.approve(_statement(september), sw.user("gx-finance"))
        db.session.rollback()


def test_an_approved_positive_adjustment_counts_against_the_contract_total_later(app, demo):
    from portal.billing.sources import amount_approved
    from portal.contracts.models import Contract
    world = sw.care_contract(app)
    with app.app_context(), sw.scope(app):
        db.session.get(Contract, world["contract"]).amount_fen = 5 * sw.PRICE
        db.session.commit()
    sw.add_visits(app, world, "2026-09", 2)
    september = sw.prepare(app, world, "2026-09", by="gx-officer")
    with app.app_context(), sw.scope(app):
        adjustments.add_adjustment(_statement(september), sw.user("gx-officer"), 2 * sw.PRICE, "补付八月两次上门")
        _sent_and_confirmed(september)
        workflow.approve(_statement(september), sw.user("gx-finance"))
        db.session.commit()
        assert amount_approved(world["contract"], None) == 4 * sw.PRICE
    sw.add_visits(app, world, "2026-10", 3)
    october = sw.prepare(app, world, "2026-10", by="gx-officer")
    with app.app_context(), sw.scope(app):
        assert _statement(october).lines[0].units == 1  # 5 visits' worth in all


def test_whoever_adjusted_a_statement_cannot_approve_it(app, demo):
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-09", 2)
    september = sw.prepare(app, world, "2026-09", by="gx-officer")
    with app.app_context(), sw.scope(app):
        adjustments.add_adjustment(_statement(september), sw.user("gx-finance"), 1_000_000, "补付")
        _sent_and_confirmed(september)
        assert "approve" not in steps.offered_steps(_statement(september), sw.user("gx-finance"))
        with pytest.raises(Forbidden):
            workflow.approve(_statement(september), sw.user("gx-finance"))
        db.session.rollback()


def test_whoever_removed_an_adjustment_cannot_approve_it(app, demo):
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-09", 2)
    september = sw.prepare(app, world, "2026-09", by="gx-officer")
    with app.app_context(), sw.scope(app):
        line = adjustments.add_adjustment(_statement(september), sw.user("gx-officer"), -50_000, "八月多付一次")
        adjustments.remove_adjustment(_statement(september), sw.user("gx-finance"), line.id)
        _sent_and_confirmed(september)
        db.session.commit()
        assert workflow.adjusters(_statement(september)) == {sw.user("gx-officer").id, sw.user("gx-finance").id}
        with pytest.raises(Forbidden):
            workflow.approve(_statement(september), sw.user("gx-finance"))
        db.session.rollback()
        workflow.approve(_statement(september), sw.user(sw.finance_colleague(app)))
        db.session.commit()
        assert _statement(september).status == "approved"
