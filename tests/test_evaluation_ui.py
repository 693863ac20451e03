"""The annual evaluation's pages after testing (issue 20 part 1): submitting too early names what is
missing (the indicators not scored, the conclusion); the new form offers only the contract/year
pairs that may be evaluated (the year ended, the contract ran in it, no evaluation yet) and says so
when there is none. The Excel's scores as numbers: tests/test_performance_evaluations.py."""
import pytest

from portal.extensions import db
from tests import support
from tests.assessment_world import scope
from tests.test_performance_evaluations import APPROVED_AT, _tenant, _user, _year_contract

FINANCE, BENEFIT = "资金使用与财务管理", "社会效益与群众评价"


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)


def _started(app, contract_id):
    from portal.contracts.models import Contract
    from portal.evaluations import services
    with app.app_context(), scope(app):
        evaluation = services.start(db.session.get(Contract, contract_id), 2025, _user("gx-officer"), tenant=_tenant(),
                                    now=APPROVED_AT)
        db.session.commit()
        return evaluation.id


def test_submitting_too_early_names_the_missing_indicators_and_the_conclusion(app, world, login):
    url = f"/evaluations/{_started(app, _year_contract(app))}"
    officer = login("gx-officer")
    refused = support.form_post(officer, f"{url}/submit", {}, token_url=url)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "该评价暂不能提交" not in page
    assert "提交前请为以下指标评分：" in page and FINANCE in page.split("提交前请为以下指标评分：")[1].split("。")[0]
    assert "提交前请填写评价结论。" in page
    saved = support.form_post(officer, f"{url}/compute", {"score-finance": "80", "score-management": "90",
                                                          "score-conclusion": "总体良好。"}, token_url=url)
    assert saved.status_code == 303
    page = support.form_post(officer, f"{url}/submit", {}, token_url=url).get_data(as_text=True)
    missing = page.split("提交前请为以下指标评分：")[1].split("。")[0]
    assert missing == BENEFIT and "提交前请填写评价结论" not in page


def test_the_new_form_offers_only_pairs_that_may_be_evaluated_and_says_when_none(app, world, login, monkeypatch):
    from portal.evaluations import services
    contract_id = _year_contract(app)  # ran in 2025 only
    officer = login("gx-officer")
    page = officer.get("/evaluations/new").get_data(as_text=True)
    assert f'value="{contract_id}:2025"' in page and f'value="{contract_id}:2024"' not in page
    created = support.form_post(officer, "/evaluations/new", {"candidate": f"{contract_id}:2025"})
    assert created.status_code == 303
    assert f'value="{contract_id}:2025"' not in officer.get("/evaluations/new").get_data(as_text=True)
    assert support.form_post(officer, "/evaluations/new", {"candidate": f"{contract_id}:2025"}).status_code == 409
    bad = support.form_post(officer, "/evaluations/new", {"candidate": "x:y"})
    assert bad.status_code == 422 and "请选择合同和年度。" in bad.get_data(as_text=True)
    monkeypatch.setattr(services, "ended_years", lambda today, count=5: [])
    none = officer.get("/evaluations/new").get_data(as_text=True)
    assert 'id="nothing-to-evaluate"' in none and 'name="candidate"' not in none
