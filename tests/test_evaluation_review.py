"""The annual evaluation's fix round (issue 20 review): four eyes hold when another person saved the
evaluation unchanged (everyone who created, computed again or submitted it is an editor and may not
review it; the creator and the submitter are kept), a typed year out of range is a form error (never
a 500), approval is refused when a quarter's scorecard changed, vanished or is not published, and
the one reader of integer tenant settings (portal/tenancy/settings.py int_setting)."""
import re

import pytest
from sqlalchemy import select

from portal.core.errors import Conflict
from portal.extensions import db
from tests import support
from tests.assessment_world import scope
from tests.test_performance_evaluations import APPROVED_AT, FOUR, SCORES, _prepared, _tenant, _user, _year_contract


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)


def _scores_form(conclusion="总体良好，建议续约。", **changed):
    return {**{f"score-{k}": v for k, v in {**SCORES, **changed}.items()}, "score-conclusion": conclusion}


def test_a_supervisor_saving_unchanged_cannot_approve_what_the_officer_submits(app, world, login):
    """The reviewer's scenario: the officer creates and scores it, the supervisor saves it unchanged,
    the officer submits: neither may approve or return it; a third person (gx-supervisor2) may."""
    from portal.evaluations.models import PerformanceEvaluation
    contract_id = _year_contract(app)
    officer, supervisor, third = login("gx-officer"), login("gx-supervisor"), login("gx-supervisor2")
    created = support.form_post(officer, "/evaluations/new", {"contract": contract_id, "year": 2025})
    assert created.status_code == 303
    url = created.headers["Location"]
    evaluation_id = int(re.search(r"/evaluations/(\d+)", url).group(1))
    assert support.form_post(officer, f"{url}/compute", _scores_form(), token_url=url).status_code == 303
    assert support.form_post(supervisor, f"{url}/compute", _scores_form(), token_url=url).status_code == 303
    assert support.form_post(officer, f"{url}/submit", {}, token_url=url).status_code == 303
    with app.app_context(), scope(app):
        evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
        ids = {name: _user(name).id for name in ("gx-officer", "gx-supervisor")}
        assert evaluation.prepared_by_id == ids["gx-officer"]  # the creator, not whoever saved last
        assert evaluation.submitted_by_id == ids["gx-officer"]
        assert evaluation.editors == [ids["gx-officer"], ids["gx-supervisor"]]
    for client in (officer, supervisor):
        page = client.get(url).get_data(as_text=True)
        assert "/approve" not in page and "/return" not in page and "另一人审核" in page
        if client is supervisor:  # a reviewer by role, not of this one: shown disabled, the reason once
            assert 'id="approve-evaluation" disabled' in page and page.count("另一人审核") == 1
        refused = support.form_post(client, f"{url}/approve", {}, token_url=url)
        assert refused.status_code == 403 and "另一人审核" in refused.get_data(as_text=True)
        assert support.form_post(client, f"{url}/return", {"return-note": "请复核。"},
                                 token_url=url).status_code == 403
    page = third.get(url).get_data(as_text=True)
    assert "/approve" in page and "/return" in page
    assert support.form_post(third, f"{url}/approve", {}, token_url=url).status_code == 303
    with app.app_context(), scope(app):
        evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
        assert evaluation.status == "approved" and evaluation.reviewed_by_id == _user("gx-supervisor2").id


def test_editors_are_kept_after_a_return(app, world):
    """A return keeps every editor: the reviewer who returned it and then scored it may not approve."""
    from portal.core.errors import Forbidden
    from portal.evaluations import review, services
    from portal.evaluations.models import PerformanceEvaluation
    evaluation_id = _prepared(app, _year_contract(app))
    with app.app_context(), scope(app):
        evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
        supervisor, third = _user("gx-supervisor"), _user("gx-supervisor2")
        review.send_back(evaluation, supervisor, "管理指标请复核。", APPROVED_AT)
        services.recompute(evaluation, supervisor, tenant=_tenant(), scores={"management": "80"}, now=APPROVED_AT)
        review.submit(evaluation, _user("gx-officer"), APPROVED_AT)
        with pytest.raises(Forbidden):
            review.approve(evaluation, supervisor, APPROVED_AT)
        assert review.approve(evaluation, third, APPROVED_AT).status == "approved"


@pytest.mark.parametrize("year", ["9999", "-3", "12345678901234567890", "1999", "abc", ""])
def test_a_year_out_of_range_is_a_form_error_never_500(app, world, login, year):
    from portal.evaluations.models import PerformanceEvaluation
    contract_id = _year_contract(app)
    officer = login("gx-officer")
    response = support.form_post(officer, "/evaluations/new", {"contract": contract_id, "year": year})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="error' in page or "error" in page
    if year in ("9999", "-3", "12345678901234567890", "1999"):
        assert "请选择2000年至" in page
    with app.app_context(), scope(app):
        assert db.session.scalar(select(PerformanceEvaluation.id).where(
            PerformanceEvaluation.contract_id == contract_id)) is None


def test_approval_is_refused_when_a_quarters_scorecard_changed(app, world, login):
    """After submission Q2's scorecard is computed again with another score, Q3's is unpublished and
    Q4's is deleted: approval is refused naming the three quarters; returned and computed again
    (Q3 published again, Q4 recomputed) it is approved."""
    from portal.evaluations import review, services
    from portal.evaluations.models import PerformanceEvaluation
    from portal.scorecards.models import Scorecard
    contract_id = _year_contract(app)
    evaluation_id = _prepared(app, contract_id)
    with app.app_context(), scope(app):
        cards = {c.quarter: c for c in db.session.scalars(select(Scorecard).where(Scorecard.contract_id == contract_id,
                                                                                 Scorecard.quarter.like("2025-%")))}
        cards["2025-Q2"].score_centi = FOUR["2025-Q2"] + 1
        cards["2025-Q3"].published_at = None
        db.session.delete(cards["2025-Q4"])
        db.session.commit()
    supervisor = login("gx-supervisor")
    url = f"/evaluations/{evaluation_id}"
    refused = support.form_post(supervisor, f"{url}/approve", {}, token_url=url)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "2025-Q2, 2025-Q3, 2025-Q4" in text and "2025-Q1," not in text
    with app.app_context(), scope(app):
        evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
        assert evaluation.status == "submitted" and evaluation.disclosure_id is None
        with pytest.raises(Conflict):
            review.approve(evaluation, _user("gx-supervisor"), APPROVED_AT)
        review.send_back(evaluation, _user("gx-supervisor"), "季度考核已变更，请重新计算。", APPROVED_AT)
        db.session.scalar(select(Scorecard).where(Scorecard.contract_id == contract_id,
                                                  Scorecard.quarter == "2025-Q3")).published_at = APPROVED_AT
        from tests.test_performance_evaluations import _scorecards
        from portal.contracts.models import Contract
        _scorecards(db.session.get(Contract, contract_id), {"2025-Q4": FOUR["2025-Q4"]})
        officer = _user("gx-officer")
        services.recompute(evaluation, officer, tenant=_tenant(), now=APPROVED_AT)
        review.submit(evaluation, officer, APPROVED_AT)
        assert review.approve(evaluation, _user("gx-supervisor2"), APPROVED_AT).status == "approved"
        assert [q["score_centi"] for q in evaluation.quarters][1] == FOUR["2025-Q2"] + 1


def test_one_reader_of_integer_settings(app, world):
    """int_setting: an int in range, else the default (a bool, text, out of range, no tenant); the
    financial reports' due days and the acceptance sample read it."""
    from portal.acceptance.services import acceptance_sample_size
    from portal.finreports.services import due_days
    from portal.tenancy.settings import int_setting
    with app.app_context(), scope(app):
        tenant = _tenant()
        assert int_setting(None, "financial_report_due_days", 1, 90) == 15
        for bad in (True, "20", 0, 91, None):
            tenant.settings = {**(tenant.settings or {}), "financial_report_due_days": bad}
            assert int_setting(tenant, "financial_report_due_days", 1, 90) == 15 and due_days(tenant) == 15
        tenant.settings = {**tenant.settings, "financial_report_due_days": 30}
        assert due_days(tenant) == 30
        tenant.settings = {**tenant.settings, "acceptance_sample_percent": 1000, "acceptance_sample_min": 2}
        assert acceptance_sample_size(100, tenant) == 10  # 1000 % is out of range: the default 10 %
        tenant.settings = {**tenant.settings, "acceptance_sample_percent": 15}
        assert acceptance_sample_size(101, tenant) == 16  # ceil(15.15)
        db.session.rollback()
