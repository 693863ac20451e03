"""The annual performance evaluation (issue 20 part 1, docs/DOMAIN.md §7, §9): the score worked out
by hand from four stored scorecards and the indicators (exact, half-up), a contract running for
two quarters of the year, a quarter without a scorecard refused, an open year refused, four eyes
(the preparer cannot approve), return → recompute → submit → approve, the disclosure's data shape
and due day (late when approved after it), nothing private in it, a contract below the threshold
flagged and listed, another bureau's evaluation 404, the list's second page, the Excel."""
import io
import re
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.core.errors import Conflict, DomainError, Forbidden
from portal.core.timeutil import local_today
from portal.extensions import db
from tests import support
from tests.assessment_world import scope

# Scorecards 80.01, 75.25, 90.50, 66.34: Σ = 312.10, / 4 = 78.025 -> 78.03 half-up (78.02 to even)
FOUR = {"2025-Q1": 8001, "2025-Q2": 7525, "2025-Q3": 9050, "2025-Q4": 6634}
SCORES = {"finance": "85.5", "management": "90", "benefit": "77.14"}
# (70 × 7803 + 10 × 8550 + 10 × 9000 + 10 × 7714) / 100 = 798850 / 100 = 7988.5 -> 7989 half-up
EXPECTED_AVERAGE, EXPECTED_SCORE = 7803, 7989
APPROVED_AT = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing, 2 March 2026


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)


def _contract(code="ganxian"):
    from portal.contracts.models import Contract
    return db.session.scalars(select(Contract).where(Contract.status != "draft").order_by(Contract.id)).first()


def _tenant(code="ganxian"):
    from portal.tenancy.models import Tenant
    return db.session.scalar(select(Tenant).where(Tenant.code == code))


def _user(username):
    from portal.accounts.models import User
    return db.session.scalar(select(User).where(User.username == username))


def _scorecards(contract, scores):
    from portal.scorecards.models import Scorecard
    from portal.scorecards.services import parse_quarter
    for quarter, centi in scores.items():
        start, end = parse_quarter(quarter)
        db.session.add(Scorecard(contract_id=contract.id, quarter=quarter, period_start=start, period_end=end,
                                 score_centi=centi, components=[], weights={}, published_at=APPROVED_AT))
    db.session.flush()


def _year_contract(app, starts=date(2025, 1, 1), ends=date(2025, 12, 31), scores=FOUR, **settings):
    """The first ganxian contract running ``starts``–``ends`` with ``scores``; the id."""
    with app.app_context(), scope(app):
        contract = _contract()
        contract.starts_on, contract.ends_on = starts, ends
        _scorecards(contract, scores)
        if settings:
            tenant = _tenant()
            tenant.settings = {**(tenant.settings or {}), **settings}
        db.session.commit()
        return contract.id


def _prepared(app, contract_id, year=2025, scores=SCORES, conclusion="服务总体良好，建议续约。", by="gx-officer"):
    """A submitted evaluation (services) of the contract; its id."""
    from portal.contracts.models import Contract
    from portal.evaluations import review, services
    with app.app_context(), scope(app):
        officer, tenant = _user(by), _tenant()
        evaluation = services.start(db.session.get(Contract, contract_id), year, officer, tenant=tenant,
                                    now=APPROVED_AT)
        services.recompute(evaluation, officer, tenant=tenant, scores=scores, conclusion=conclusion, now=APPROVED_AT)
        review.submit(evaluation, officer, APPROVED_AT)
        db.session.commit()
        return evaluation.id


def test_the_score_by_hand_from_four_scorecards_and_the_indicators(app, world):
    from portal.evaluations import services
    from portal.evaluations.models import PerformanceEvaluation
    evaluation_id = _prepared(app, _year_contract(app))
    with app.app_context(), scope(app):
        evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
        assert [q["quarter"] for q in evaluation.quarters] == list(FOUR)
        assert evaluation.scorecard_centi == EXPECTED_AVERAGE
        assert evaluation.score_centi == EXPECTED_SCORE
        assert evaluation.weights == {"scorecards": 70, "finance": 10, "management": 10, "benefit": 10}
        assert [(i["code"], i["score_centi"]) for i in evaluation.indicators] == [
            ("finance", 8550), ("management", 9000), ("benefit", 7714)]
        assert evaluation.threshold_centi == 6000 and evaluation.below_threshold is False
        assert evaluation.due_on == date(2026, 3, 31)  # 31 Dec 2025 + 90 days
        assert evaluation.finance["settled_fen"] == 0 and "difference_fen" in evaluation.finance
        assert services.weighted_score({"scorecards": 1, "finance": 1, "management": 0, "benefit": 0}, 5001,
                                       {"finance": 5000, "management": None, "benefit": None}) == 5001  # 5000.5


def test_a_contract_of_two_quarters_averages_them_and_a_missing_quarter_is_named(app, world):
    from portal.contracts.models import Contract
    from portal.evaluations import services
    contract_id = _year_contract(app, starts=date(2025, 7, 1), ends=date(2026, 6, 30), scores={"2025-Q3": 6000})
    with app.app_context(), scope(app):
        contract, officer = db.session.get(Contract, contract_id), _user("gx-officer")
        with pytest.raises(DomainError) as refused:
            services.start(contract, 2025, officer, tenant=_tenant(), now=APPROVED_AT)
        assert "2025-Q4" in refused.value.message and "2025-Q3" not in refused.value.message
        _scorecards(contract, {"2025-Q4": 5001})
        evaluation = services.start(contract, 2025, officer, tenant=_tenant(), now=APPROVED_AT)
        assert [q["quarter"] for q in evaluation.quarters] == ["2025-Q3", "2025-Q4"]
        assert evaluation.scorecard_centi == 5501  # 110.01 / 2 = 55.005 -> 55.01 half-up
        with pytest.raises(Conflict):
            services.start(contract, 2025, officer, tenant=_tenant(), now=APPROVED_AT)


def test_a_year_not_ended_in_beijing_is_refused(app, world):
    from portal.contracts.models import Contract
    from portal.evaluations import services
    contract_id = _year_contract(app)
    # 31 Dec 2025 15:59 UTC is 23:59 in Beijing: not ended; 16:00 UTC is 1 January there
    with app.app_context(), scope(app):
        contract, officer = db.session.get(Contract, contract_id), _user("gx-officer")
        with pytest.raises(DomainError) as refused:
            services.start(contract, 2025, officer, tenant=_tenant(),
                           now=datetime(2025, 12, 31, 15, 59, tzinfo=timezone.utc))
        assert "2026-01-01" in refused.value.message
        assert services.start(contract, 2025, officer, tenant=_tenant(),
                              now=datetime(2025, 12, 31, 16, 0, tzinfo=timezone.utc)).year == 2025


def test_four_eyes_return_recompute_submit_approve_through_the_pages(app, world, login):
    from portal.disclosures.models import Disclosure
    from portal.evaluations.models import PerformanceEvaluation
    contract_id = _year_contract(app)
    officer, supervisor, finance = login("gx-officer"), login("gx-supervisor"), login("gx-finance")
    assert finance.get("/evaluations/new").status_code == 403
    created = support.form_post(officer, "/evaluations/new", {"contract": contract_id, "year": 2025})
    assert created.status_code == 303, created.get_data(as_text=True)[:2000]
    url = created.headers["Location"]
    evaluation_id = int(re.search(r"/evaluations/(\d+)", url).group(1))
    again = support.form_post(officer, "/evaluations/new", {"contract": contract_id, "year": 2025})
    assert again.status_code == 409
    # submitting before the indicators and the conclusion: refused
    assert support.form_post(officer, f"{url}/submit", {}, token_url=url).status_code == 422
    bad = support.form_post(officer, f"{url}/compute", {"score-finance": "101", "score-management": "abc"},
                            token_url=url)
    assert bad.status_code == 422 and "0" in bad.get_data(as_text=True)
    saved = support.form_post(officer, f"{url}/compute", {
        **{f"score-{k}": v for k, v in SCORES.items()}, "score-conclusion": "总体良好。"}, token_url=url)
    assert saved.status_code == 303
    assert support.form_post(officer, f"{url}/submit", {}, token_url=url).status_code == 303
    assert support.form_post(officer, f"{url}/compute", {"score-finance": "10"}, token_url=url).status_code == 409
    own = support.form_post(officer, f"{url}/approve", {}, token_url=url)
    assert own.status_code == 403 and "另一人审核" in own.get_data(as_text=True)
    assert support.form_post(finance, f"{url}/approve", {}, token_url=url).status_code == 403
    assert support.form_post(supervisor, f"{url}/return", {"return-note": " "}, token_url=url).status_code == 422
    returned = support.form_post(supervisor, f"{url}/return", {"return-note": "管理指标偏高，请复核。"}, token_url=url)
    assert returned.status_code == 303
    page = officer.get(url).get_data(as_text=True)
    assert "管理指标偏高" in page
    assert support.form_post(officer, f"{url}/compute", {**{f"score-{k}": v for k, v in SCORES.items()},
                                                         "score-management": "80",
                                                         "score-conclusion": "总体良好。"}, token_url=url).status_code == 303
    assert support.form_post(officer, f"{url}/submit", {}, token_url=url).status_code == 303
    approved = support.form_post(supervisor, f"{url}/approve", {}, token_url=url)
    assert approved.status_code == 303
    assert support.form_post(supervisor, f"{url}/approve", {}, token_url=url).status_code == 409
    assert support.form_post(supervisor, f"{url}/return", {"return-note": "x"}, token_url=url).status_code == 409
    with app.app_context(), scope(app):
        evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
        # (70 × 7803 + 10 × 8550 + 10 × 8000 + 10 × 7714) / 100 = 788850 / 100 = 7888.5 -> 7889
        assert evaluation.status == "approved" and evaluation.score_centi == 7889
        disclosure = db.session.get(Disclosure, evaluation.disclosure_id)
        assert disclosure.kind == "performance_evaluation" and disclosure.data["score_centi"] == 7889
    printed = supervisor.get(f"{url}/print").get_data(as_text=True)
    with app.app_context():
        names = [_user(u).display_name or u for u in ("gx-officer", "gx-supervisor")]
    assert all(name in printed for name in names) and printed.count('class="signature-line"') == 4
    seen = finance.get(url)
    assert seen.status_code == 200 and "/approve" not in seen.get_data(as_text=True)


def test_the_disclosure_data_shape_due_day_lateness_and_nothing_private(app, world, client):
    from portal.disclosures.models import Disclosure
    from portal.evaluations import review, services
    from portal.evaluations.models import PerformanceEvaluation
    evaluation_id = _prepared(app, _year_contract(app))
    with app.app_context(), scope(app):
        evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
        supervisor = _user("gx-supervisor")
        with pytest.raises(Forbidden):
            review.approve(evaluation, _user("gx-officer"), APPROVED_AT)
        late_day = datetime(2026, 3, 31, 16, 30, tzinfo=timezone.utc)  # 1 April 00:30 in Beijing: one day late
        review.approve(evaluation, supervisor, late_day)
        disclosure = db.session.get(Disclosure, evaluation.disclosure_id)
        assert disclosure.subject_type == "performance_evaluation" and disclosure.subject_id == evaluation.id
        assert set(disclosure.data) == {"contract_number", "contractor", "year", "score_centi", "scorecard_centi",
                                        "threshold_centi", "below_threshold", "quarters", "indicators",
                                        "approved_on"}
        assert disclosure.data["quarters"] == [{"quarter": q, "score_centi": c} for q, c in FOUR.items()]
        assert disclosure.data["indicators"][0] == {"code": "finance", "weight": 10, "score_centi": 8550}
        assert disclosure.data["approved_on"] == "2026-04-01" and disclosure.data["year"] == 2025
        assert disclosure.due_on == date(2026, 3, 31) and disclosure.late is True
        public = disclosure.title + disclosure.body + repr(disclosure.data)
        for user in (_user("gx-officer"), supervisor):
            assert user.username not in public and (user.display_name or user.username) not in public
        with pytest.raises(Conflict):
            services.recompute(evaluation, supervisor, tenant=_tenant(), scores={"finance": "1"})
        db.session.commit()
        disclosure_id, number = disclosure.id, evaluation.contract.number
        private = [u.username for u in (_user("gx-officer"), supervisor)] + \
                  [u.display_name for u in (_user("gx-officer"), supervisor) if u.display_name]
    page = client.get(f"/public/ganxian/notices/{disclosure_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert number in text and "79.89" in text and not any(name in text for name in private)


def test_a_conclusion_naming_a_person_served_is_refused(app, world):
    from portal.beneficiaries.models import Beneficiary
    contract_id = _year_contract(app)
    with app.app_context(), scope(app):
        name = db.session.scalars(select(Beneficiary.name)).first()
    with pytest.raises(DomainError) as refused:
        _prepared(app, contract_id, conclusion=f"{name}反映服务及时。")
    assert "conclusion" in refused.value.errors


def test_below_the_threshold_is_flagged_listed_and_counted(app, world, login):
    from portal.disclosures.models import Disclosure
    from portal.evaluations import review, services
    from portal.evaluations.models import PerformanceEvaluation
    contract_id = _year_contract(app, evaluation_threshold=80)
    evaluation_id = _prepared(app, contract_id)
    supervisor = login("gx-supervisor")
    assert 'id="tab-flagged"' in supervisor.get("/evaluations/").get_data(as_text=True)
    with app.app_context(), scope(app):
        evaluation = db.session.get(PerformanceEvaluation, evaluation_id)
        assert evaluation.below_threshold and evaluation.threshold_centi == 8000
        number = evaluation.contract.number
        assert services.flagged_count() == 0  # not approved yet
        review.approve(evaluation, _user("gx-supervisor"), APPROVED_AT)
        db.session.commit()
        assert services.flagged_count() == 1
        assert evaluation.published_at is not None and not db.session.get(Disclosure, evaluation.disclosure_id).late
    flagged = supervisor.get("/evaluations/?tab=flagged").get_data(as_text=True)
    assert number in flagged and f'data-evaluation="{evaluation_id}"' in flagged
    assert supervisor.get("/evaluations/flagged").status_code == 302
    home = supervisor.get("/").get_data(as_text=True)
    assert "/evaluations/flagged" in home
    review = supervisor.get("/evaluations/?tab=review").get_data(as_text=True)
    assert f'data-evaluation="{evaluation_id}"' not in review
    assert f'data-evaluation="{evaluation_id}"' not in supervisor.get("/evaluations/?q=NOPE").get_data(as_text=True)
    assert f'data-evaluation="{evaluation_id}"' in supervisor.get(f"/evaluations/?q={number}&year=2025").get_data(as_text=True)
    assert f'data-evaluation="{evaluation_id}"' not in supervisor.get("/evaluations/?year=2024").get_data(as_text=True)


def test_another_bureau_gets_404_and_the_list_has_a_second_page_and_an_excel(app, world, login, monkeypatch):
    first = _prepared(app, _year_contract(app))
    second = _prepared(app, _year_contract(app, scores={f"2024-Q{n}": 7000 for n in range(1, 5)},
                                           starts=date(2024, 1, 1)), year=2024)
    zg = login("zg-officer")
    for path in (f"/evaluations/{first}", f"/evaluations/{first}/print"):
        assert zg.get(path).status_code == 404
    assert support.form_post(zg, f"/evaluations/{first}/approve", {}, token_url="/evaluations/").status_code == 404
    assert f'data-evaluation="{first}"' not in zg.get("/evaluations/").get_data(as_text=True)
    assert login("a-manager").get("/evaluations/").status_code in (302, 403)
    officer = login("gx-officer")
    assert officer.get("/evaluations/999999").status_code == 404
    monkeypatch.setitem(app.config, "MAX_PER_PAGE", 1)
    # the demo's own evaluation of the previous year is listed too (portal/evaluations/demo.py)
    pages = [officer.get(f"/evaluations/?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    on_page = {key: [n for n, page in enumerate(pages, 1) if f'data-evaluation="{key}"' in page]
               for key in (first, second)}
    assert on_page[first] in ([1], [2]) and on_page[second] == [3]  # 2025 first, then 2024
    workbook = officer.get("/evaluations/export.xlsx?year=2025")
    assert workbook.status_code == 200
    rows = list(load_workbook(io.BytesIO(workbook.data)).active.iter_rows(values_only=True))
    demo_2025 = local_today().year - 1 == 2025  # the demo's evaluation is of the previous year
    assert len(rows) == 2 + demo_2025 and {row[0] for row in rows[1:]} == {2025}
    assert any(79.89 in row for row in rows[1:])  # scores are numbers, shown with two decimals
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    scores = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value == 79.89]
    assert scores and all(cell.data_type == "n" and cell.number_format == "0.00" for cell in scores)
    assert not any(isinstance(value, str) and re.fullmatch(r"\d+\.\d\d", value) for row in rows[1:] for value in row)
