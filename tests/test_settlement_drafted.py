"""A draft keeps the ids behind its lines and approval writes the entry rows once (portal/billing/
entries.py, issue 15): approval re-checks those very ids, a visit is paid at most once however many
drafts hold it, and what a statement shows does not change when its ids become entry rows — on
SQLite and PostgreSQL."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.billing import entries, settlement, workflow
from portal.billing.models import Statement, StatementEntry, StatementLine
from portal.core.errors import Conflict
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import settlement_world as sw


def _statement(statement_id):
    return db.session.get(Statement, statement_id)


def _sent_and_confirmed(statement_id):
    workflow.send_to_contractor(_statement(statement_id), sw.user("gx-officer"))
    workflow.confirm(_statement(statement_id), sw.user("a-manager"))


def _entry_rows(app, statement_id):
    """The statement's StatementEntry rows: (role, visit id, approved visit id), in id order."""
    with app.app_context(), sw.scope(app):
        return [tuple(row) for row in db.session.execute(
            select(StatementEntry.role, StatementEntry.visit_id, StatementEntry.approved_visit_id)
            .where(StatementEntry.statement_id == statement_id).order_by(StatementEntry.id))]


def _paid_anywhere(app, visit_id):
    """How many approved entries pay the visit."""
    with app.app_context(), sw.scope(app):
        return db.session.execute(select(func.count()).select_from(StatementEntry).where(
            StatementEntry.approved_visit_id == visit_id, StatementEntry.role == "paid")).scalar_one()


def _kept_ids(app, statement_id):
    """The lines' entry_ids column (None once approved)."""
    lines = StatementLine.__table__
    with app.app_context(), sw.scope(app):
        return [ids for ids in db.session.execute(select(lines.c.entry_ids).where(
            lines.c.statement_id == statement_id).order_by(lines.c.position)).scalars()]


def test_a_draft_keeps_ids_in_its_lines_and_approval_writes_them_once_as_approved_entries(app, demo):
    world = sw.care_contract(app, monthly_cap=3)
    ids = sw.add_visits(app, world, "2026-10", 5)
    rejected = sw.add_visits(app, world, "2026-10", 1, hour=15)
    sw.not_confirmed(app, world, rejected, "2026-10")
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    assert _entry_rows(app, statement_id) == []  # drafting writes no entry row
    assert _kept_ids(app, statement_id) == [{"paid": ids[:3], "capped": ids[3:]}, {"penalty": rejected}]
    drafted = sw.entry_rows(app, statement_id)
    with app.app_context(), sw.scope(app):
        _sent_and_confirmed(statement_id)
        workflow.approve(_statement(statement_id), sw.user("gx-finance"))
        db.session.commit()
    assert _entry_rows(app, statement_id) == ([("paid", v, v) for v in ids[:3]] + [("capped", v, v) for v in ids[3:]]
                                              + [("penalty", v, v) for v in rejected])
    assert sw.entry_rows(app, statement_id) == drafted  # the same lines, roles and order
    assert _kept_ids(app, statement_id) == [None, None]  # one place at a time


def test_the_api_shows_the_same_visits_before_and_after_approval(app, demo, client, api_token):
    world = sw.care_contract(app, monthly_cap=2)
    sw.add_visits(app, world, "2026-10", 4)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    with app.app_context(), sw.scope(app):
        _sent_and_confirmed(statement_id)
        db.session.commit()
    before = client.get(f"/api/v1/settlements/{statement_id}", headers=api_token("gx-finance")).get_json()
    with app.app_context(), sw.scope(app):
        workflow.approve(_statement(statement_id), sw.user("gx-finance"))
        db.session.commit()
    after = client.get(f"/api/v1/settlements/{statement_id}", headers=api_token("gx-finance")).get_json()
    assert len(before["lines"][0]["visit_ids"]) == 2
    assert [line["visit_ids"] for line in after["lines"]] == [line["visit_ids"] for line in before["lines"]]


def test_a_visit_no_longer_verified_at_approval_is_never_paid_even_if_the_digest_is_not_checked(app, demo,
                                                                                                monkeypatch):
    """The re-check at approval reads the ids the draft kept, not a fresh plan: with the digest
    comparison switched off (as if it had a hole), a visit rejected between the draft and the
    approval still blocks the approval and nothing is paid."""
    from portal.visits.models import Visit
    world = sw.care_contract(app)
    ids = sw.add_visits(app, world, "2026-10", 3)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    with app.app_context(), sw.scope(app):
        _sent_and_confirmed(statement_id)
        db.session.commit()
    with app.app_context(), sw.scope(app):  # an exception reopened after the draft was confirmed
        db.session.get(Visit, ids[1]).status = "exception"
        db.session.commit()
    monkeypatch.setattr(workflow, "ensure_current", lambda statement: None)
    with app.app_context(), sw.scope(app):
        with pytest.raises(workflow.StaleStatement):
            workflow.approve(_statement(statement_id), sw.user("gx-finance"))
        db.session.rollback()
    assert sw.statement_row(app, statement_id)[0] == "confirmed"
    assert _entry_rows(app, statement_id) == [] and _paid_anywhere(app, ids[1]) == 0


def test_an_id_slipped_into_a_draft_line_is_rechecked_at_approval(app, demo):
    """A visit that is not verified, written into a confirmed draft's line behind the engine's
    back (the digest left matching), is refused at approval."""
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 2)
    [pending] = sw.add_visits(app, world, "2026-10", 1, status="exception", hour=15)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    with app.app_context(), sw.scope(app):
        _sent_and_confirmed(statement_id)
        statement = _statement(statement_id)
        line = db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement_id,
                                                              StatementLine.kind == "service")).scalar_one()
        [kept] = _kept_ids(app, statement_id)
        entries.keep(statement, [(line, {"paid": kept["paid"] + [pending]})])
        with pytest.raises(workflow.StaleStatement):
            workflow.approve(statement, sw.user("gx-finance"))
        db.session.rollback()
    assert _paid_anywhere(app, pending) == 0


def test_a_payable_visit_slipped_into_a_draft_line_is_refused_at_approval(app, demo):
    """A verified visit of another month, unpaid, written into a confirmed draft's line behind the
    engine's back: verified, no V01 finding, in no approved statement — yet not what the rules pay
    for this statement now, so approval refuses it and nothing of it is paid."""
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-10", 2)
    [other_month] = sw.add_visits(app, world, "2026-09", 1)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    with app.app_context(), sw.scope(app):
        _sent_and_confirmed(statement_id)
        db.session.commit()
    [kept] = _kept_ids(app, statement_id)
    with app.app_context(), sw.scope(app):
        statement = _statement(statement_id)
        line = db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement_id,
                                                              StatementLine.kind == "service")).scalar_one()
        entries.keep(statement, [(line, {"paid": kept["paid"] + [other_month]})])
        with pytest.raises(workflow.StaleStatement):
            workflow.approve(statement, sw.user("gx-finance"))
        db.session.rollback()
    assert _paid_anywhere(app, other_month) == 0 and sw.statement_row(app, statement_id)[0] == "confirmed"


def _late_in_two_drafts(app):
    """A visit of September verified after September's approval, held by the drafts of October and
    November (both computed before either is approved), both confirmed."""
    from portal.visits.models import Visit
    world = sw.care_contract(app)
    sw.add_visits(app, world, "2026-09", 1)
    [late] = sw.add_visits(app, world, "2026-09", 1, status="exception", hour=15)
    sw.approved(app, world, "2026-09")
    with app.app_context(), sw.scope(app):
        visit = db.session.get(Visit, late)
        visit.status, visit.verified_at = "verified", utcnow() + timedelta(seconds=1)
        db.session.commit()
    october = sw.prepare(app, world, "2026-10", by="gx-officer")
    november = sw.prepare(app, world, "2026-11", by="gx-officer")
    for statement_id in (october, november):
        assert sw.entry_visits(app, statement_id, "paid") == [late]
        with app.app_context(), sw.scope(app):
            _sent_and_confirmed(statement_id)
            db.session.commit()
    return late, october, november


def test_a_visit_in_two_concurrent_drafts_is_paid_once(app, demo):
    late, october, november = _late_in_two_drafts(app)
    with app.app_context(), sw.scope(app):
        workflow.approve(_statement(october), sw.user("gx-finance"))
        db.session.commit()
    with app.app_context(), sw.scope(app):
        with pytest.raises(workflow.StaleStatement):
            workflow.approve(_statement(november), sw.user("gx-finance"))
        db.session.rollback()
    assert _paid_anywhere(app, late) == 1
    assert sw.statement_row(app, november)[0] == "confirmed"


def test_the_unique_guard_refuses_a_second_payment_when_every_check_before_it_is_off(app, demo, monkeypatch):
    """The last line of defence: with the digest, the payability and the already-approved checks all
    switched off, writing the second statement's entries hits the unique constraint; the approval
    is refused (409), the statement stays confirmed and the visit is paid once."""
    late, october, november = _late_in_two_drafts(app)
    with app.app_context(), sw.scope(app):
        workflow.approve(_statement(october), sw.user("gx-finance"))
        db.session.commit()
    for name in ("ensure_current", "_check_kept_ids", "_check_paid_visits_payable", "_check_not_settled_twice"):
        monkeypatch.setattr(workflow, name, lambda statement: None)
    with app.app_context(), sw.scope(app):
        with pytest.raises(Conflict) as refused:
            workflow.approve(_statement(november), sw.user("gx-finance"))
        assert refused.value.status == 409
        db.session.rollback()
    assert _paid_anywhere(app, late) == 1
    assert sw.statement_row(app, november)[0] == "confirmed"
    assert _entry_rows(app, november) == []


def test_recomputing_a_draft_replaces_its_ids_and_writes_no_entry_row(app, demo):
    world = sw.care_contract(app)
    ids = sw.add_visits(app, world, "2026-10", 2)
    statement_id = sw.prepare(app, world, "2026-10", by="gx-officer")
    more = sw.add_visits(app, world, "2026-10", 1, first_day=20)
    with app.app_context(), sw.scope(app):
        settlement.recompute(_statement(statement_id), by=sw.user("gx-officer"))
        db.session.commit()
    assert _kept_ids(app, statement_id) == [{"paid": ids + more}]
    assert _entry_rows(app, statement_id) == []
