"""The statement workflow (docs/DOMAIN.md §8): draft → sent → confirmed/disputed → approved → paid, who
may make each move, four eyes on approval, and who sees which statement."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.billing import adjustments, workflow
from portal.billing.models import Statement, StatementLine
from portal.core.errors import DomainError, Forbidden, NotFound
from portal.core.timeutil import local_today
from portal.extensions import db
from tests import settlement_world as sw


@pytest.fixture
def october(app, demo):
    """A contract with 4 verified October visits and its draft prepared by the scheduled job."""
    sw.finance_colleague(app)
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 4)
    world["statement"] = sw.prepare(app, world, "2026-10")
    return world


def _statement(statement_id):
    return db.session.get(Statement, statement_id)


def test_the_whole_way_from_draft_to_paid(app, october, monkeypatch):
    payments = []
    monkeypatch.setattr("portal.opendata.releases.record_payment", payments.append)
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        assert statement.prepared_by_id is None  # the job prepared it
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        assert (statement.status, statement.prepared_by_id, statement.sent_by_id) == (
            "sent", sw.user("gx-officer").id, sw.user("gx-officer").id)
        workflow.confirm(statement, sw.user("a-manager"))
        assert (statement.status, statement.responded_by_id) == ("confirmed", sw.user("a-manager").id)
        workflow.approve(statement, sw.user("gx-finance"))
        assert (statement.status, statement.approved_by_id) == ("approved", sw.user("gx-finance").id)
        assert statement.approved_at is not None
        workflow.mark_paid(statement, sw.user("gx-finance2"), local_today(), "GK-2026-1107")
        db.session.commit()
        assert (statement.status, statement.payment_reference, statement.paid_by_id) == (
            "paid", "GK-2026-1107", sw.user("gx-finance2").id)
        assert payments == [statement]
        assert statement.net_fen == 4 * sw.PRICE


def test_the_preparer_and_the_sender_cannot_approve(app, october):
    with app.app_context(), sw.scope(app):
        statement = sw.prepare(app, october, "2026-10", by="gx-finance")
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        assert statement.prepared_by_id == sw.user("gx-finance").id
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        workflow.confirm(statement, sw.user("a-manager"))
        with pytest.raises(DomainError) as refused:
            workflow.approve(statement, sw.user("gx-finance"))
        assert "approved_by" in refused.value.errors
        assert statement.status == "confirmed"
        workflow.approve(statement, sw.user("gx-finance2"))
        assert statement.status == "approved"


def test_the_sender_cannot_approve(app, october):
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        workflow.send_to_contractor(statement, sw.user("gx-finance"))
        workflow.confirm(statement, sw.user("a-manager"))
        with pytest.raises(DomainError):
            workflow.approve(statement, sw.user("gx-finance"))


def test_each_move_needs_its_role_and_organisation(app, october):
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        with pytest.raises(NotFound):  # supervisors do not see statements at all
            workflow.send_to_contractor(statement, sw.user("gx-supervisor"))
        with pytest.raises(Forbidden):
            workflow.send_to_contractor(statement, sw.user("gx-auditor"))
        with pytest.raises(NotFound):
            workflow.send_to_contractor(statement, sw.user("a-manager"))
        with pytest.raises(NotFound):  # another bureau's officer
            workflow.send_to_contractor(statement, sw.user("zg-officer"))
        with pytest.raises(NotFound):  # a draft is not the contractor's yet
            workflow.confirm(statement, sw.user("a-manager"))
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        with pytest.raises(NotFound):
            workflow.confirm(statement, sw.user("b-manager"))
        with pytest.raises(Forbidden):
            workflow.confirm(statement, sw.user("gx-officer"))
        with pytest.raises(DomainError):  # not confirmed yet
            workflow.approve(statement, sw.user("gx-finance"))
        workflow.confirm(statement, sw.user("a-manager"))
        with pytest.raises(Forbidden):
            workflow.approve(statement, sw.user("gx-admin"))
        with pytest.raises(DomainError):  # approved first
            workflow.mark_paid(statement, sw.user("gx-finance"), local_today(), "X-1")
        assert statement.status == "confirmed"


def test_dispute_needs_a_reason_and_lines_then_rework_recomputes(app, october):
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        line_id = statement.lines[0].id
        with pytest.raises(DomainError) as refused:
            workflow.dispute(statement, sw.user("a-manager"), "  ", [])
        assert set(refused.value.errors) == {"reason", "line_ids"}
        with pytest.raises(DomainError) as refused:
            workflow.dispute(statement, sw.user("a-manager"), "少算了两次", [line_id + 1000])
        assert set(refused.value.errors) == {"line_ids"}
        with pytest.raises(DomainError):
            workflow.dispute(statement, sw.user("a-manager"), "少算了两次", ["abc"])
        with pytest.raises(NotFound):
            workflow.dispute(statement, sw.user("b-manager"), "少算了两次", [line_id])
        workflow.dispute(statement, sw.user("a-manager"), "少算了两次", [line_id])
        line = db.session.get(StatementLine, line_id)
        assert (statement.status, statement.dispute_reason, line.disputed) == ("disputed", "少算了两次", True)
        with pytest.raises(DomainError):
            workflow.confirm(statement, sw.user("a-manager"))
        db.session.commit()
    sw.add_visits(app, october, "2026-10", 2, first_day=22)  # the two visits the contractor missed
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        reworked = workflow.rework(statement, sw.user("gx-finance"))
        assert reworked.id == statement.id
        assert (statement.status, statement.net_fen, statement.sent_by_id) == ("draft", 6 * sw.PRICE, None)
        assert not any(line.disputed for line in statement.lines)
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        workflow.confirm(statement, sw.user("a-manager"))
        with pytest.raises(DomainError):  # gx-finance prepared the reworked draft
            workflow.approve(statement, sw.user("gx-finance"))
        workflow.approve(statement, sw.user("gx-finance2"))


def test_payment_needs_a_past_day_and_a_reference(app, october):
    sw.finance_colleague(app)
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        workflow.confirm(statement, sw.user("a-manager"))
        workflow.approve(statement, sw.user("gx-finance"))
        with pytest.raises(DomainError) as refused:
            workflow.mark_paid(statement, sw.user("gx-finance"), local_today() + timedelta(days=1), "")
        assert set(refused.value.errors) == {"paid_on", "reference"}
        with pytest.raises(DomainError):
            workflow.mark_paid(statement, sw.user("gx-finance"), "2026-11-20", "GK-1")
        with pytest.raises(Forbidden):
            workflow.mark_paid(statement, sw.user("gx-officer"), local_today(), "GK-1")
        workflow.mark_paid(statement, sw.user("gx-finance"), local_today(), "GK-1")
        db.session.commit()
        with pytest.raises(DomainError):
            workflow.mark_paid(statement, sw.user("gx-finance"), local_today(), "GK-2")
    assert sw.statement_row(app, october["statement"])[0] == "paid"


def test_approval_refuses_to_pay_beyond_the_quota(app, demo):
    """Two drafts computed against the same quota: once one is approved, the other must be reworked."""
    world = sw.care_contract(app, quota=5)
    sw.add_visits(app, world, "2026-09", 4)
    sw.add_visits(app, world, "2026-10", 4)
    september, october = sw.prepare(app, world, "2026-09"), sw.prepare(app, world, "2026-10")
    with app.app_context(), sw.scope(app):
        for statement_id in (september, october):
            statement = _statement(statement_id)
            workflow.send_to_contractor(statement, sw.user("gx-officer"))
            workflow.confirm(statement, sw.user("a-manager"))
        workflow.approve(_statement(september), sw.user("gx-finance"))
        with pytest.raises(DomainError):
            workflow.approve(_statement(october), sw.user("gx-finance"))
        db.session.commit()
    assert sw.statement_row(app, october)[0] == "confirmed"


def test_who_sees_which_statement(app, october):
    with app.app_context(), sw.scope(app):
        draft_id = october["statement"]
        for username in ("gx-finance", "gx-officer", "gx-auditor", "gx-admin"):
            assert workflow.statement_for(sw.user(username), draft_id).id == draft_id
        for username in ("gx-supervisor", "a-manager", "b-manager", "a-worker1"):
            with pytest.raises(NotFound):
                workflow.statement_for(sw.user(username), draft_id)
        workflow.send_to_contractor(_statement(draft_id), sw.user("gx-officer"))
        assert workflow.statement_for(sw.user("a-manager"), draft_id).id == draft_id
        with pytest.raises(NotFound):
            workflow.statement_for(sw.user("b-manager"), draft_id)
        with pytest.raises(NotFound):
            workflow.statement_for(sw.user("a-manager"), 10**12)
        listed = db.session.execute(workflow.visible_statements(sw.user("b-manager"))).scalars().all()
        assert listed == []
        db.session.rollback()
    with app.app_context(), sw.scope(app, "zhanggong"):  # another bureau sees nothing of ganxian
        assert db.session.execute(workflow.visible_statements(sw.user("zg-officer"))).scalars().all() == []


def test_statements_of_the_job_do_not_overwrite_adjustments_or_progress(app, october):
    """A draft adjusted by hand is recomputed by the monthly job with the adjustment kept; once
    sent, the job leaves it alone."""
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        adjustments.add_adjustment(statement, sw.user("gx-officer"), 2_500, "补付九月一次送医陪护")
        db.session.commit()
    sw.prepare(app, october, "2026-10")
    assert sw.statement_row(app, october["statement"]) == ("draft", 4 * sw.PRICE + 2_500, 0, 4 * sw.PRICE + 2_500)
    with app.app_context(), sw.scope(app):
        workflow.send_to_contractor(_statement(october["statement"]), sw.user("gx-officer"))
        db.session.commit()
    sw.add_visits(app, october, "2026-10", 3, first_day=23)
    sw.prepare(app, october, "2026-10")
    assert sw.statement_row(app, october["statement"]) == ("sent", 4 * sw.PRICE + 2_500, 0, 4 * sw.PRICE + 2_500)


def test_statement_cannot_be_prepared_for_a_future_month_or_a_draft_contract(app, demo):
    from portal.billing.settlement import prepare_statement
    from portal.core.months import month_text as month_of
    from portal.contracts.models import Contract
    world = sw.care_contract(app)
    draft = sw.care_contract(app, status="draft")
    following = month_of(date(local_today().year + 1, 1, 1))
    with app.app_context(), sw.scope(app):
        with pytest.raises(DomainError) as refused:
            prepare_statement(db.session.get(Contract, world["contract"]), following)
        assert "month" in refused.value.errors
        with pytest.raises(DomainError):
            prepare_statement(db.session.get(Contract, draft["contract"]), "2026-10")
        with pytest.raises(DomainError) as refused:  # before the contract period
            prepare_statement(db.session.get(Contract, world["contract"]), "2025-12")
        assert "month" in refused.value.errors
        assert db.session.execute(select(Statement)).scalars().all() == []


def test_a_payment_recorded_by_finance_is_published_as_open_data(app, october, client):
    """mark_paid → an implementation release of the contract's process, with the payment as a
    transaction, valid against the official schema (the open data of §9 shows payments)."""
    from tests.ocds_schema import release_package_errors
    with app.app_context(), sw.scope(app):
        statement = _statement(october["statement"])
        workflow.send_to_contractor(statement, sw.user("gx-officer"))
        workflow.confirm(statement, sw.user("a-manager"))
        workflow.approve(statement, sw.user("gx-finance"))
        workflow.mark_paid(statement, sw.user("gx-finance2"), local_today(), "GK-2026-1108")
        db.session.commit()
        number, net_fen = statement.number, statement.net_fen
    package = client.get("/api/v1/public/ganxian/ocds/releases").get_json()
    assert release_package_errors(package) == []
    release = package["releases"][0]
    assert release["tag"] == ["implementation"]
    [transaction] = release["contracts"][0]["implementation"]["transactions"]
    assert transaction["id"] == number
    assert round(transaction["value"]["amount"] * 100) == net_fen == 4 * sw.PRICE
