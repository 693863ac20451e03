"""Open data of a contract's annual evaluation and acceptance (issue 20 part 6, docs/DOMAIN.md §9):
publishing a "performance_evaluation" or "acceptance_result" disclosure makes an implementation
release on the contract's process, with the notice as a document of the documentType the OCDS
codelist gives (physicalProgressReport, completionCertificate); release and record packages stay
valid against the vendored 1.1.5 schema; nothing private goes out."""
from datetime import date, timedelta

from sqlalchemy import select

from portal.core.timeutil import utcnow
from tests.ocds_schema import record_package_errors, release_package_errors
from tests.opendata_world import API, scope, seed_full
from tests.test_opendata import _assert_nothing_private

MEMBER, COMMENT = "评审专家欧阳明", "护理员周末不来，老人很不满意"


def _publish_both(app, status="failed", to_the_end=False):
    """A's first contract evaluated for 2025 and accepted (``status``) for its first half-year (or
    up to its effective end), both published through portal.disclosures.publish; returns (contract
    number, [disclosure ids])."""
    from portal.acceptance.models import Acceptance, AcceptanceOpinion
    from portal.beneficiaries.models import Beneficiary
    from portal.contracts.models import Contract
    from portal.disclosures import publish
    from portal.evaluations.models import PerformanceEvaluation
    from portal.extensions import db
    with app.app_context(), scope(app):
        contract = db.session.execute(select(Contract).where(Contract.award_id.is_not(None))
                                      .order_by(Contract.id)).scalars().first()
        evaluation = PerformanceEvaluation(contract_id=contract.id, year=2025, status="approved", score_centi=5850,
                                           scorecard_centi=6000, threshold_centi=6000, below_threshold=True,
                                           conclusion="年度考核未达标", due_on=date(2026, 3, 31))
        end = contract.effective_end if to_the_end else date(2025, 6, 30)
        acceptance = Acceptance(contract_id=contract.id, period_start=date(2025, 1, 1), period_end=end,
                                status=status, seed="s", sample_size=1, members=[{"name": MEMBER}],
                                conclusion="验收不合格", decided_on=date(2025, 7, 20))
        db.session.add_all([evaluation, acceptance])
        db.session.flush()
        person = db.session.execute(select(Beneficiary).order_by(Beneficiary.id)).scalars().first()
        db.session.add(AcceptanceOpinion(acceptance_id=acceptance.id, beneficiary_id=person.id, opinion="not",
                                         comment=COMMENT, asked_on=date(2025, 7, 10)))
        common = {"contract_number": contract.number, "contractor": contract.contractor.name}
        first = publish("performance_evaluation", f"2025年度绩效评价 {contract.number}", "得分 58.50", evaluation,
                        date(2026, 3, 31), utcnow(), data={
                            **common, "year": 2025, "score_centi": 5850, "scorecard_centi": 6000,
                            "threshold_centi": 6000, "below_threshold": True,
                            "quarters": [{"quarter": "2025-Q1", "score_centi": 6000}],
                            "indicators": [{"code": "finance", "weight": 10, "score_centi": 5000}],
                            "approved_on": "2026-02-01"})
        second = publish("acceptance_result", f"验收结果 {contract.number}", "不合格", acceptance,
                         date(2025, 7, 27), utcnow() + timedelta(seconds=1), data={
                             **common, "period_start": "2025-01-01", "period_end": end.isoformat(), "status": status,
                             "decided_on": "2025-07-20", "counts": {"satisfied": 0, "basic": 0, "not_satisfied": 1,
                                                                   "unreachable": 0, "not_asked": 0},
                             "sample_size": 1, "members": 1})
        db.session.commit()
        return contract.number, [first.id, second.id]


def test_an_evaluation_and_an_acceptance_become_valid_implementation_releases(app, client):
    from portal.extensions import db
    from portal.opendata.models import OcdsRelease
    seed_full(app)
    number, (evaluation_id, acceptance_id) = _publish_both(app)
    package = client.get(f"{API}/ganxian/ocds/releases").get_json()
    assert release_package_errors(package) == []
    ours = {r["id"].rsplit("-", 2)[-2]: r for r in package["releases"]
            if r["id"].endswith((f"evaluation-{evaluation_id}", f"acceptance-{acceptance_id}"))}
    assert set(ours) == {"evaluation", "acceptance"}
    for key, document_type, disclosure_id in (("evaluation", "physicalProgressReport", evaluation_id),
                                              ("acceptance", "physicalProgressReport", acceptance_id)):
        release = ours[key]
        assert release["tag"] == ["implementation"]
        [contract] = release["contracts"]
        assert contract["id"] == number and "description" not in contract  # without the terms
        [document] = contract["implementation"]["documents"]
        assert document["documentType"] == document_type
        assert document["url"].endswith(f"/public/ganxian/notices/{disclosure_id}")
    assert ours["evaluation"]["ocid"] == ours["acceptance"]["ocid"]
    record = client.get(f"{API}/ganxian/ocds/records/{ours['evaluation']['ocid']}").get_json()
    assert record_package_errors(record) == []
    compiled = next(c for c in record["records"][0]["compiledRelease"]["contracts"] if c["id"] == number)
    assert {d["documentType"] for d in compiled["implementation"]["documents"]} == {"physicalProgressReport"}
    assert "严禁服务转包" in compiled["description"]  # the contract release's terms survive the merge
    text = client.get(f"{API}/ganxian/ocds/bulk").get_data(as_text=True) + str(record)
    assert MEMBER not in text and COMMENT not in text
    _assert_nothing_private(app, "ganxian", text)
    with app.app_context(), scope(app):  # one release per disclosure
        assert db.session.execute(select(OcdsRelease).where(
            OcdsRelease.release_id.like(f"%-evaluation-{evaluation_id}"))).scalars().all().__len__() == 1


def test_the_release_builder_retried_returns_the_first_and_an_unpublished_disclosure_makes_none(app):
    from portal.disclosures import Disclosure
    from portal.extensions import db
    from portal.opendata.releases import release_disclosure
    seed_full(app)
    _number, (evaluation_id, _acceptance_id) = _publish_both(app)
    with app.app_context(), scope(app):
        disclosure = db.session.get(Disclosure, evaluation_id)
        first = release_disclosure(disclosure)
        assert first is not None and release_disclosure(disclosure).id == first.id
        draft = Disclosure(kind="acceptance_result", title="x", body="x", subject_type="acceptance",
                           subject_id=disclosure.subject_id, data={}, due_on=None, published_at=None)
        assert release_disclosure(draft) is None
        orphan = Disclosure(kind="performance_evaluation", title="x", body="x", subject_type="", subject_id=None,
                            data={}, due_on=None, published_at=utcnow())
        assert release_disclosure(orphan) is None
        db.session.rollback()


def _acceptance_document_type(app, client, **kwargs):
    seed_full(app)
    _number, (_evaluation_id, acceptance_id) = _publish_both(app, **kwargs)
    package = client.get(f"{API}/ganxian/ocds/releases").get_json()
    assert release_package_errors(package) == []
    [release] = [r for r in package["releases"] if r["id"].endswith(f"acceptance-{acceptance_id}")]
    return release["contracts"][0]["implementation"]["documents"][0]["documentType"]


def test_only_a_passed_acceptance_reaching_the_effective_end_is_a_completion_certificate(app, client):
    assert _acceptance_document_type(app, client, status="passed", to_the_end=True) == "completionCertificate"


def test_a_passed_acceptance_of_part_of_the_period_is_a_progress_report(app, client):
    assert _acceptance_document_type(app, client, status="passed") == "physicalProgressReport"


def test_a_failed_acceptance_to_the_end_is_a_progress_report(app, client):
    assert _acceptance_document_type(app, client, status="failed", to_the_end=True) == "physicalProgressReport"
