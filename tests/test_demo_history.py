"""The demo's previous year for A (issue 20 point 7, phase 1; portal/contracts/history_demo.py,
portal/scorecards/demo.py): tender GX-DEMO-000 awarded to A on a budget line of the previous year,
its contract from Jan 1 of that year to the end of the last ended quarter, completed on its last
day, delivered by A's workers to A's people month by month, with spot checks; a published
scorecard for every quarter of it, the scores differing and equal to a fresh compute on the stored
data; the current contract untouched; a second seed run adds nothing."""
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.core.timeutil import local_today, to_local
from portal.extensions import db
from tests import support


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id("ganxian"))


def _quarters(starts_on, ends_on):
    from portal.scorecards.services import parse_quarter, quarter_of
    quarters, day = [], starts_on
    while day <= ends_on:
        quarters.append(quarter_of(day))
        day = parse_quarter(quarters[-1])[1] + timedelta(days=1)
    return quarters


def test_the_previous_contract_of_a_was_tendered_and_completed_with_its_period(app):
    from portal.beneficiaries.demo import demo_contract
    from portal.contracts.history_demo import PREVIOUS_NUMBER, QUOTA, previous_contract
    from portal.tenders.awards import award_of_lot
    from portal.tenders.models import Bid
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        today = local_today()
        contract = previous_contract()
        current = demo_contract("A", "CARE-VISIT")
        assert contract is not None and current is not None and contract.id != current.id
        tender = contract.award.lot.tender
        assert tender.number == PREVIOUS_NUMBER and f"{today.year - 1}年度" in tender.title
        assert tender.budget_line.year == today.year - 1
        assert tender.notice_published_at is not None and to_local(tender.notice_published_at).year == today.year - 2
        lot = tender.lots[0]
        assert award_of_lot(lot).id == contract.award_id
        assert db.session.scalar(select(func.count(Bid.id)).where(Bid.lot_id == lot.id)) == 3
        assert contract.contractor_id == current.contractor_id  # A's, as the current care contract
        assert contract.status == "completed" and contract.completed_on == contract.ends_on
        assert contract.starts_on == date(today.year - 1, 1, 1)
        quarter_end = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)
        assert contract.ends_on == min(quarter_end, current.starts_on - timedelta(days=1))
        assert contract.ends_on < current.starts_on  # the two never run at once
        assert contract.signed_on < contract.starts_on and contract.notice_published_at is not None
        [item] = contract.items
        assert (item.code, item.quota) == ("CARE-VISIT", QUOTA)


def test_as_people_and_workers_served_the_previous_contract_until_its_last_day(app):
    from portal.accounts.models import User
    from portal.beneficiaries.demo import demo_contract
    from portal.contracts.history_demo import previous_contract
    from portal.contracts.models import Assignment, ContractWorker
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        contract, current = previous_contract(), demo_contract("A", "CARE-VISIT")
        workers = db.session.scalars(select(ContractWorker).where(ContractWorker.contract_id == contract.id)).all()
        usernames = {db.session.get(User, w.staff.user_id).username for w in workers}
        assert usernames == {"a-worker1", "a-worker2"}
        assert all(w.from_on == contract.starts_on and w.until_on == contract.ends_on for w in workers)
        assert all(w.staff.on_roster(contract.starts_on) for w in workers)
        mine = db.session.scalars(select(Assignment).where(Assignment.contract_id == contract.id)).all()
        theirs = db.session.scalars(select(Assignment).where(Assignment.contract_id == current.id)).all()
        assert {(a.beneficiary_id, a.staff_id) for a in mine} == {(a.beneficiary_id, a.staff_id) for a in theirs}
        assert all(a.until_on == contract.ends_on for a in mine)
        assert all(a.until_on is None for a in theirs)


def test_the_delivery_history_is_verified_visits_each_month_and_a_few_spot_checks(app):
    from portal.contracts.history_demo import previous_contract
    from portal.core.months import month_text, next_month
    from portal.spotchecks.models import SpotCheck, SpotCheckSample
    from portal.visits.models import Visit, VisitPhoto
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        contract = previous_contract()
        visits = db.session.scalars(select(Visit).where(Visit.contract_id == contract.id)).all()
        days = [to_local(v.check_in_at).date() for v in visits]
        assert min(days) >= contract.starts_on and max(days) <= contract.ends_on
        statuses = Counter(v.status for v in visits)
        assert set(statuses) <= {"verified", "rejected"} and statuses["rejected"] >= 1
        assert all(v.check_out_at > v.check_in_at and v.distance_from_home_m < 100 for v in visits)
        per_month = Counter(month_text(d.replace(day=1)) for d in days)
        months, month = [], contract.starts_on.replace(day=1)
        while month <= contract.ends_on:
            months.append(month_text(month))
            month = next_month(month)
        assert set(per_month) == set(months)
        assert all(8 <= n <= 20 for n in per_month.values())  # modest: 15–20 a month, one quarter weaker
        per_worker_day = Counter((v.worker_user_id, to_local(v.check_in_at).date()) for v in visits)
        assert max(per_worker_day.values()) == 1  # nobody twice a day, so no comparative rule applies
        photographed = db.session.scalar(select(func.count(func.distinct(VisitPhoto.visit_id))).where(
            VisitPhoto.visit_id.in_([v.id for v in visits])))
        assert photographed == len(visits)
        samples = db.session.scalars(select(SpotCheckSample).where(SpotCheckSample.contract_id == contract.id)).all()
        assert sorted(s.month for s in samples) == months
        checks = db.session.scalars(select(SpotCheck).join(SpotCheckSample).where(
            SpotCheckSample.contract_id == contract.id)).all()
        outcomes = Counter(c.outcome for c in checks)
        assert outcomes["not_confirmed"] == 1 and outcomes["confirmed"] == len(checks) - 1
        assert {c.satisfaction for c in checks if c.outcome == "confirmed"} == {4, 5}
        rejected = [v for v in visits if v.status == "rejected"]
        assert [v.id for v in rejected] == [c.visit_id for c in checks if c.outcome == "not_confirmed"]


def test_every_quarter_has_a_published_scorecard_equal_to_a_fresh_compute(app):
    from portal.accounts.models import User
    from portal.contracts.history_demo import previous_contract
    from portal.disclosures.models import Disclosure
    from portal.scorecards.models import Scorecard
    from portal.scorecards.services import compute_components, parse_quarter, weights_of
    from portal.tenancy.models import Tenant
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        contract = previous_contract()
        tenant = db.session.get(Tenant, contract.tenant_id)
        scorecards = db.session.scalars(select(Scorecard).where(Scorecard.contract_id == contract.id)
                                        .order_by(Scorecard.period_start)).all()
        quarters = _quarters(contract.starts_on, contract.ends_on)
        assert [s.quarter for s in scorecards] == quarters
        if local_today().month >= 10:
            assert len(quarters) == 7  # the previous year's four and this year's first three
        scores = [s.score_centi for s in scorecards]
        assert len(set(scores)) == len(scores), scores
        completion = []
        for scorecard in scorecards:
            start, end = parse_quarter(scorecard.quarter)
            assert scorecard.weights == weights_of(tenant)
            assert compute_components(contract, start, end, scorecard.weights) == (
                scorecard.score_centi, scorecard.components)
            assert scorecard.published_at is not None
            assert db.session.get(User, scorecard.published_by_id).username == "gx-officer"
            assert to_local(scorecard.computed_at).date() > end and to_local(scorecard.published_at).date() > end
            disclosure = db.session.get(Disclosure, scorecard.disclosure_id)
            assert disclosure.kind == "scorecard" and disclosure.data["score_centi"] == scorecard.score_centi
            parts = {c["key"]: c for c in scorecard.components}
            assert parts["completion"]["applicable"] and parts["confirmation"]["applicable"]
            completion.append(float(parts["completion"]["rate_percent"]))
        good = [rate for rate in completion if 80 <= rate <= 100]
        assert len(good) == len(completion) - 1, completion  # one weaker quarter
        assert min(completion) < 80 and scores.index(min(scores)) == completion.index(min(completion))


def test_a_second_demo_run_adds_nothing_to_the_history(app):
    from portal.contracts.models import Assignment, Contract
    from portal.demo import seed
    from portal.scorecards.models import Scorecard
    from portal.spotchecks.models import SpotCheck, SpotCheckSample
    from portal.tenders.models import BudgetLine, Tender
    from portal.visits.models import Visit, VisitPhoto
    support.seed_demo(app, history=True)
    models = (Tender, BudgetLine, Contract, Assignment, Visit, VisitPhoto, SpotCheckSample, SpotCheck, Scorecard)
    with support.platform_app(app).app_context():  # the second `flask seed-demo` run, as the platform role
        with _scope(app):
            before = [db.session.scalar(select(func.count()).select_from(m)) for m in models]
        assert seed(support.PASSWORD) == 0
        db.session.commit()
        with _scope(app):
            assert [db.session.scalar(select(func.count()).select_from(m)) for m in models] == before
    assert all(before)


def test_every_month_of_the_previous_contract_is_paid_and_reported_and_its_final_acceptance_passed(app):
    from portal.acceptance.models import Acceptance
    from portal.acceptance.results import final_payment_refusal
    from portal.accounts.models import User
    from portal.billing.models import Statement
    from portal.contracts.history_demo import previous_contract
    from portal.core.months import month_text, next_month
    from portal.finreports.demo import split_net
    from portal.finreports.models import FinancialReport
    from portal.finreports.overdue import overdue_months
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        contract = previous_contract()
        names = {u.username: u for u in db.session.scalars(select(User))}
        months, month = [], contract.starts_on.replace(day=1)
        while month <= contract.ends_on:
            months.append(month_text(month))
            month = next_month(month)
        statements = {s.month: s for s in db.session.scalars(select(Statement).where(
            Statement.contract_id == contract.id))}
        assert sorted(statements) == months
        assert all(s.status == "paid" and s.net_fen > 0 and s.payment_reference for s in statements.values())
        assert all(s.approved_by_id == names["gx-finance"].id and s.responded_by_id == names["a-manager"].id
                   for s in statements.values())
        for text in months:  # never paid before approved
            assert statements[text].paid_on >= to_local(statements[text].approved_at).date()
        [final] = db.session.scalars(select(Acceptance).where(Acceptance.contract_id == contract.id)).all()
        assert (final.period_start, final.period_end, final.status) == (contract.starts_on, contract.ends_on, "passed")
        assert final.published_at is not None and all(o.opinion for o in final.opinions)
        assert statements[months[-1]].paid_on >= final.decided_on
        assert final_payment_refusal(contract, months[-1]) is None
        reports = {r.period: r for r in db.session.scalars(select(FinancialReport).where(
            FinancialReport.contract_id == contract.id))}
        assert sorted(reports) == months
        for period, report in reports.items():
            net = statements[period].net_fen
            assert report.status == "accepted" and report.attachments
            assert report.created_by_id == names["a-manager"].id == report.submitted_by_id
            assert report.reviewed_by_id == names["gx-finance"].id
            assert report.total_fen == report.settled_fen == net
            assert {k: v for k, v in report.amounts.items() if v} == {
                k: int(v.replace(",", "").replace(".", "")) for k, v in split_net(net).items()}
        decisions = {period: [step["decision"] for step in r.history] for period, r in reports.items()}
        returned = [period for period, steps in decisions.items() if steps != ["accept"]]
        assert len(returned) == 1 and decisions[returned[0]] == ["return", "accept"]
        late = overdue_months(names["gx-finance"])
        assert not [row for row in late if row.contract.id == contract.id]
