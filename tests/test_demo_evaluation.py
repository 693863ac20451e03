"""The demo's annual evaluation (portal/evaluations/demo.py): the previous year's evaluation of A's
previous contract, prepared and submitted by gx-officer, approved by gx-supervisor; its score equal
to a recompute by hand from the year's four published scorecards and the indicators (85, 88, 90);
its notice published with the agreed data and nothing private; its OCDS implementation release in
a valid record package; a second run creates nothing."""
import math
from fractions import Fraction

from sqlalchemy import func, select

from portal.extensions import db
from tests import support
from tests.ocds_schema import record_package_errors

API = "/api/v1/public"


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id("ganxian"))


def _half_up(value):
    return math.floor(value + Fraction(1, 2))


def _evaluation():
    from portal.contracts.history_demo import previous_contract, previous_year
    from portal.evaluations.models import PerformanceEvaluation
    contract = previous_contract()
    return contract, db.session.scalar(select(PerformanceEvaluation).where(
        PerformanceEvaluation.contract_id == contract.id, PerformanceEvaluation.year == previous_year()))


def test_the_previous_year_s_evaluation_is_approved_by_another_person_and_recomputes(app):
    from portal.accounts.models import User
    from portal.scorecards.models import Scorecard
    from portal.tenancy.models import Tenant
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        contract, evaluation = _evaluation()
        assert evaluation is not None and evaluation.status == "approved"
        names = {u.id: u.username for u in db.session.scalars(select(User))}
        assert names[evaluation.prepared_by_id] == "gx-officer" == names[evaluation.submitted_by_id]
        assert names[evaluation.reviewed_by_id] == "gx-supervisor"
        assert [names[i] for i in evaluation.editors] == ["gx-officer"]
        year = evaluation.year
        cards = db.session.scalars(select(Scorecard).where(
            Scorecard.contract_id == contract.id, Scorecard.quarter.like(f"{year}-Q%"))
            .order_by(Scorecard.quarter)).all()
        assert [c.quarter for c in cards] == [f"{year}-Q{n}" for n in range(1, 5)]
        assert all(c.published_at is not None for c in cards)
        assert [(q["quarter"], q["scorecard_id"], q["score_centi"]) for q in evaluation.quarters] == [
            (c.quarter, c.id, c.score_centi) for c in cards]
        average = _half_up(Fraction(sum(c.score_centi for c in cards), 4))
        weights = db.session.get(Tenant, contract.tenant_id).setting("evaluation_weights")
        indicators = {"finance": 8500, "management": 8800, "benefit": 9000}
        expected = _half_up(Fraction(weights["scorecards"] * average + sum(
            weights[code] * centi for code, centi in indicators.items()), sum(weights.values())))
        assert evaluation.scorecard_centi == average and evaluation.score_centi == expected
        assert {i["code"]: i["score_centi"] for i in evaluation.indicators} == indicators
        assert evaluation.below_threshold is (expected < evaluation.threshold_centi)
        assert evaluation.conclusion and evaluation.reviewed_at > evaluation.submitted_at


def test_its_notice_is_published_with_a_valid_ocds_release(app, client):
    from portal.accounts.models import User
    from portal.beneficiaries.models import Beneficiary
    from portal.disclosures.models import Disclosure
    from portal.opendata.models import OcdsRelease
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        contract, evaluation = _evaluation()
        disclosure = db.session.get(Disclosure, evaluation.disclosure_id)
        assert disclosure.kind == "performance_evaluation" and disclosure.published_at is not None
        assert disclosure.data["score_centi"] == evaluation.score_centi
        assert disclosure.data["contract_number"] == contract.number
        assert contract.award.lot.tender.number == "GX-DEMO-000"
        assert [q["score_centi"] for q in disclosure.data["quarters"]] == [
            q["score_centi"] for q in evaluation.quarters]
        public = disclosure.title + disclosure.body + repr(disclosure.data)
        private = [u.display_name for u in db.session.scalars(select(User)) if u.display_name] + \
            list(db.session.scalars(select(Beneficiary.name)))
        assert not [name for name in private if name in public]
        [release] = db.session.scalars(select(OcdsRelease).where(
            OcdsRelease.release_id.like(f"%-evaluation-{disclosure.id}"))).all()
        ocid, disclosure_id = release.ocid, disclosure.id
        assert release.tags == ["implementation"]
    assert client.get(f"/public/ganxian/notices/{disclosure_id}").status_code == 200
    record = client.get(f"{API}/ganxian/ocds/records/{ocid}").get_json()
    assert record_package_errors(record) == []
    [ours] = [r for r in record["records"][0]["releases"] if r["id"].endswith(f"-evaluation-{disclosure_id}")]
    [document] = ours["contracts"][0]["implementation"]["documents"]
    assert document["documentType"] == "physicalProgressReport"


def test_a_second_demo_run_creates_no_evaluation(app):
    from portal.demo import seed
    from portal.disclosures.models import Disclosure
    from portal.evaluations.demo import seed_evaluation
    from portal.evaluations.models import PerformanceEvaluation
    from portal.opendata.models import OcdsRelease
    from portal.tenancy.models import Tenant
    support.seed_demo(app, history=True)
    models = (PerformanceEvaluation, Disclosure, OcdsRelease)
    with support.platform_app(app).app_context():  # the second `flask seed-demo` run, as the platform role
        with _scope(app):
            before = [db.session.scalar(select(func.count()).select_from(m)) for m in models]
        assert seed(support.PASSWORD) == 0
        tenants = {t.code: t for t in db.session.scalars(select(Tenant))}
        assert seed_evaluation(tenants) == 0
        db.session.commit()
        with _scope(app):
            assert [db.session.scalar(select(func.count()).select_from(m)) for m in models] == before


def test_its_finance_summary_is_the_year_s_reports_and_settlements_and_its_conclusion_says_so(app):
    from portal.core.money import format_fen
    from portal.finreports.summary import year_summary
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        contract, evaluation = _evaluation()
        summary = year_summary(contract, evaluation.year)
        assert evaluation.finance == summary
        assert summary["reports"] == summary["accepted"] == 12 and summary["settled_fen"] > 0
        assert summary["difference_fen"] == 0
        assert f"全年12份月度财务报告均已受理（其中1份退回补正后受理），报告支出{format_fen(summary['reported_fen'])}元" \
            in evaluation.conclusion
        assert evaluation.acceptance["status"] == "passed"


def test_the_feedback_demo_has_one_item_due_soon_and_one_overdue(app):
    from portal.feedback.services import items_query
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        due = db.session.scalars(items_query("due")).all()
        overdue = db.session.scalars(items_query("overdue")).all()
        assert len(due) == 1 and due[0].status != "answered"
        assert len(overdue) == 1 and overdue[0].status == "assigned"
