"""Contracts from awards (docs/DOMAIN.md §5): the terms, the budget line, the signing window and the
challenge block, the contract notice and amendments published by the job, the subcontracting
ban that cannot be removed, and the state machine."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.core.errors import DomainError
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import contract_world as cw
from tests import support


def _contract(contract_id):
    from portal.contracts.models import Contract
    return db.session.get(Contract, contract_id)


def test_a_contract_from_an_award_takes_its_supplier_amount_line_and_quoted_unit_prices(app, demo):
    from portal.contracts import services
    from portal.tenders.models import Award
    quoted = cw.awarded(app, amount_fen=10_800_000, quantity=1200, unit_prices={"CARE-VISIT": 9000})
    total_only = cw.awarded(app, amount_fen=10_000_000)
    with app.app_context(), cw.scope(app):
        [item] = services.proposed_items(db.session.get(Award, quoted["award"]))
        assert (item["code"], item["unit"], item["quota"], item["unit_price_fen"]) == ("CARE-VISIT", "visit", 1200, 9000)
        [item] = services.proposed_items(db.session.get(Award, total_only["award"]))
        assert item["unit_price_fen"] is None  # the officer enters it
    contract_id = cw.draft(app, quoted, item_list=cw.items(price=9000, quota=1200))
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert contract.status == "draft" and contract.amount_fen == 10_800_000
        assert contract.contractor_id == quoted["contractor"] and contract.budget_line_id == quoted["line"]
        assert contract.spot_check_penalty_multiplier == 2 and contract.payment_terms == "monthly_settlement"
        [row] = contract.items
        assert (row.unit_price_fen, row.quota, row.min_minutes, row.max_minutes, row.daily_limit_per_beneficiary,
                row.photo_required) == (9000, 1200, 30, 240, 1, True)
    with pytest.raises(DomainError, match="已签订合同|already has a contract"):
        cw.draft(app, quoted)


def test_a_performance_bond_over_10_percent_is_refused_and_exactly_10_allowed(app, demo):
    world = cw.awarded(app, amount_fen=10_000_000)
    with pytest.raises(DomainError) as refused:
        cw.draft(app, world, performance_bond_fen=1_000_001)
    assert "10" in refused.value.message and "10,000.00" in refused.value.message
    contract_id = cw.draft(app, world, performance_bond_fen=1_000_000)
    with app.app_context(), cw.scope(app):
        assert _contract(contract_id).performance_bond_fen == 1_000_000


def test_a_contract_beyond_its_budget_line_is_refused(app, demo):
    from portal.tenders.models import Award, BudgetLine
    world = cw.awarded(app, amount_fen=10_000_000, line_amount=12_000_000)
    # another award on the same line leaves 1,999,999 fen short of this contract
    cw.awarded(app, manager="b-manager", amount_fen=2_000_001, line_id=world["line"])
    with pytest.raises(DomainError) as refused:
        cw.draft(app, world)
    assert "99,999.99" in refused.value.message  # what is left on the line, in yuan
    # a line with room takes it; a smaller line chosen instead is refused
    roomy = cw.awarded(app, amount_fen=10_000_000, line_amount=10_000_000)
    with app.app_context(), cw.scope(app):
        small = BudgetLine(year=2026, name="小额资金", fund_source="专项", amount_fen=9_999_999)
        db.session.add(small)
        db.session.commit()
        small_id = small.id
    with pytest.raises(DomainError, match="99,999.99"):
        cw.draft(app, roomy, budget_line_id=small_id)
    contract_id = cw.draft(app, roomy)
    with app.app_context(), cw.scope(app):
        from portal.tenders.planning import committed_fen
        line = db.session.get(BudgetLine, roomy["line"])
        assert committed_fen(line) == 10_000_000  # the award and its contract count once
        assert db.session.get(Award, roomy["award"]) is not None and _contract(contract_id).budget_line_id == line.id


def test_signing_31_days_after_the_award_notice_is_refused_and_30_days_allowed(app, demo):
    from portal.contracts import services
    notice_on = date(2026, 9, 8)
    world = cw.awarded(app, notice_on=notice_on)
    contract_id = cw.draft(app, world)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert contract.sign_by() == date(2026, 10, 8)
        with pytest.raises(DomainError) as refused:
            services.sign(contract, notice_on + timedelta(days=31))
        assert "2026-10-08" in refused.value.message and "2026-10-09" in refused.value.message
        assert contract.status == "draft"
        with pytest.raises(DomainError):
            services.sign(contract, notice_on - timedelta(days=1))  # before the award notice
        with pytest.raises(DomainError):
            services.sign(contract, date.today() + timedelta(days=400))  # a day not yet come
        services.sign(contract, notice_on + timedelta(days=30))
        db.session.commit()
        assert (contract.status, contract.signed_on) == ("signed", date(2026, 10, 8))


def test_a_thirtieth_day_in_the_national_holiday_lets_the_contract_be_signed_on_the_next_working_day(app, demo):
    """Award notice on 1 September: day 30 is 1 October (National Day), so the last day is Thu 8
    October (民法典 §203) — signing then needs no late-signing reason."""
    from portal.contracts import services
    notice_on = date(2026, 9, 1)
    world = cw.awarded(app, notice_on=notice_on)
    contract_id = cw.draft(app, world)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert contract.sign_by() == date(2026, 10, 8)
        services.sign(contract, date(2026, 10, 8))
        db.session.commit()
        assert (contract.status, contract.signed_late) == ("signed", False)


def test_signing_during_an_open_challenge_is_refused(app, demo):
    from portal.contracts import services
    from portal.tenders import awards
    from portal.tenders.models import Award
    world = cw.awarded(app)
    contract_id = cw.draft(app, world)
    with app.app_context(), cw.scope(app):
        award = db.session.get(Award, world["award"])
        challenge = awards.record_challenge(award, challenger="赣州市同心社会工作服务中心", grounds="评分有误",
                                            may_change_result=True, now=utcnow())
        contract = _contract(contract_id)
        with pytest.raises(DomainError) as refused:
            services.sign(contract, world["notice_on"] + timedelta(days=2))
        assert "质疑" in refused.value.message or "challenge" in refused.value.message
        assert contract.status == "draft"
        awards.answer_challenge(challenge, outcome="dismissed", answer="评分无误", now=utcnow())
        services.sign(contract, world["notice_on"] + timedelta(days=2))
        assert contract.status == "signed"


def test_the_contract_notice_is_due_2_working_days_after_signing_and_published_once_by_the_job(
        app, demo, run_worker):
    from portal.contracts.models import Contract
    from portal.disclosures import Disclosure
    from portal.jobs.queue import enqueue
    world = cw.awarded(app, notice_on=date(2026, 9, 10), amount_fen=10_000_000)
    # signed on Wednesday 30 September 2026; 1–7 October is the National Day holiday
    contract_id = cw.signed(app, world, on=date(2026, 9, 30), performance_bond_fen=500_000)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert contract.notice_due_on == date(2026, 10, 9)  # 8 and 9 October are the 2 working days
        assert contract.notice_published_at is None
    gx = demo.tenant_id("ganxian")

    def run_job():
        with app.app_context():
            enqueue("contracts.publish_notices", tenant_id=gx)
            db.session.commit()
        run_worker()

    run_job()
    with support.as_platform(app):
        notices = db.session.execute(select(Disclosure).where(Disclosure.kind == "contract_notice")).scalars().all()
        assert len(notices) == 1
        [notice] = notices
        contract = db.session.get(Contract, contract_id)
        assert contract.notice_published_at is not None
        assert (notice.subject_type, notice.subject_id, notice.due_on) == ("contract", contract_id, date(2026, 10, 9))
        assert notice.tenant_id == gx
        for public in ("赣州市阳光社会工作服务中心", "100,000.00", "CARE-VISIT", "严禁服务转包", contract.number,
                       contract.subcontracting_ban_clause):
            assert public in notice.body, public
        assert "5,000.00" not in notice.body  # the bond is not part of the notice
        assert notice.data["amount_fen"] == 10_000_000 and notice.data["items"][0]["quota"] == 1000

    run_job()  # idempotent: nothing is published twice
    with support.as_platform(app):
        assert db.session.execute(select(func.count()).select_from(Disclosure)
                                  .where(Disclosure.kind == "contract_notice")).scalar_one() == 1


def test_amendments_may_add_10_percent_in_total_and_each_is_published(app, demo, run_worker):
    from portal.contracts import services
    from portal.contracts.models import Amendment
    from portal.disclosures import Disclosure
    from portal.jobs.queue import enqueue
    world = cw.awarded(app, notice_on=date(2026, 9, 10), amount_fen=10_000_000)
    contract_id = cw.signed(app, world, on=date(2026, 9, 15))

    def amend(added, on=date(2026, 10, 20), **kwargs):
        with app.app_context(), cw.scope(app):
            amendment = services.add_amendment(
                _contract(contract_id), rationale=kwargs.get("rationale", "additional_quantity"),
                description="增加服务数量", added_fen=added, new_ends_on=kwargs.get("new_ends_on"),
                signed_on=on, user=None, added_quotas={"CARE-VISIT": added // 10_000})  # 100 yuan a visit
            db.session.commit()
            return amendment.id

    amend(600_000)
    with pytest.raises(DomainError) as refused:
        amend(400_001)  # 1,000,001 in total: past 10 % of 10,000,000
    assert "10" in refused.value.message and "4,000.00" in refused.value.message
    with pytest.raises(DomainError):
        amend(100, rationale="because")  # the rationale is typed
    amend(400_000, new_ends_on=date(2027, 1, 31))  # exactly 10 % in total is allowed
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert (contract.added_fen, contract.total_fen, contract.amendment_room_fen) == (1_000_000, 11_000_000, 0)
        assert contract.ends_on == date(2027, 1, 31)
        from portal.tenders.planning import committed_fen
        assert committed_fen(contract.budget_line) == 11_000_000

    with app.app_context():
        enqueue("contracts.publish_notices", tenant_id=demo.tenant_id("ganxian"))
        db.session.commit()
    run_worker()
    with support.as_platform(app):
        published = db.session.execute(select(Disclosure).where(Disclosure.kind == "amendment")
                                       .order_by(Disclosure.id)).scalars().all()
        assert [d.data["number"] for d in published] == [1, 2]
        assert all(a.published_at is not None for a in db.session.execute(select(Amendment)).scalars())
        assert published[1].due_on == date(2026, 10, 22)  # 2 working days after 20 October


def test_the_subcontracting_ban_clause_cannot_be_removed_or_changed(app, demo):
    from portal.contracts.models import SUBCONTRACTING_BAN_CLAUSE
    world = cw.awarded(app)
    for clause in ("", "乙方可以转包。"):
        with pytest.raises(DomainError, match="转包|subcontracting"):
            cw.draft(app, world, subcontracting_ban_clause=clause)
    contract_id = cw.draft(app, world)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert contract.subcontracting_ban_clause == SUBCONTRACTING_BAN_CLAUSE
        with pytest.raises(DomainError):
            contract.subcontracting_ban_clause = ""
        with pytest.raises(DomainError):
            contract.subcontracting_ban_clause = None
        db.session.rollback()
        assert _contract(contract_id).subcontracting_ban_clause == SUBCONTRACTING_BAN_CLAUSE


def test_wrong_state_moves_are_refused_and_the_right_ones_go_through(app, demo):
    from portal.contracts import services
    world = cw.awarded(app, notice_on=date(2026, 9, 10))
    contract_id = cw.draft(app, world)
    day = date(2026, 9, 20)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        for wrong in (lambda: services.activate(contract, day), lambda: services.complete(contract, day),
                      lambda: services.suspend(contract, day, "x"), lambda: services.resume(contract, day),
                      lambda: services.terminate(contract, day, "x", 0)):
            with pytest.raises(DomainError, match="草稿|draft"):
                wrong()
        services.sign(contract, day)
        with pytest.raises(DomainError):
            services.sign(contract, day)  # signed once
        with pytest.raises(DomainError):
            services.complete(contract, day)  # not active yet
        services.activate(contract, day)
        with pytest.raises(DomainError):
            services.resume(contract, day)  # not suspended
        with pytest.raises(DomainError):
            services.suspend(contract, day, "  ")  # a reason is required
        services.suspend(contract, date(2026, 10, 10), "履约检查")
        assert contract.status == "suspended"
        with pytest.raises(DomainError):
            services.complete(contract, date(2026, 10, 11))  # suspended contracts do not complete
        services.resume(contract, date(2026, 10, 12))
        with pytest.raises(DomainError):
            services.terminate(contract, date(2026, 10, 13), "违约", contract.total_fen + 1)  # more than the amount
        services.terminate(contract, date(2026, 10, 13), "严重违约", 1_000_000)
        assert (contract.status, contract.amount_paid_at_termination_fen) == ("terminated", 1_000_000)
        for wrong in (lambda: services.resume(contract, day), lambda: services.activate(contract, day),
                      lambda: services.terminate(contract, day, "x", 0)):
            with pytest.raises(DomainError):
                wrong()
        from portal.tenders.planning import committed_fen
        assert committed_fen(contract.budget_line) == 1_000_000  # a terminated contract commits what was paid


def test_the_dashboard_shows_quota_money_and_next_deadlines(app, demo):
    from portal.contracts.dashboard import contract_dashboard, units_delivered
    world = cw.awarded(app, notice_on=date(2026, 9, 10))
    contract_id = cw.draft(app, world)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        board = contract_dashboard(contract)
        assert units_delivered(contract, contract.items[0]) == 0
        assert [(r["used"], r["quota"], r["percent"]) for r in board["rows"]] == [(0, 1000, 0)]
        assert (board["used_fen"], board["remaining_fen"]) == (0, 10_000_000)
        assert date(2026, 10, 10) in [d["due_on"] for d in board["deadlines"]]  # sign by
        from portal.contracts import services
        services.sign(contract, date(2026, 9, 30))
        due = {d["due_on"] for d in contract_dashboard(contract)["deadlines"]}
        assert date(2026, 10, 9) in due and date(2026, 12, 31) in due and date(2026, 10, 10) not in due


def test_the_contract_notice_job_is_declared_hourly_per_bureau():
    from portal.jobs.queue import TASKS
    from portal.jobs.schedule import PERIODIC
    [periodic] = [p for p in PERIODIC if p.task == "contracts.publish_notices"]
    assert periodic.every == "hourly" and periodic.per_tenant
    import portal.contracts.tasks  # noqa: F401
    assert "contracts.publish_notices" in TASKS
