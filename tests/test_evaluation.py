"""Comprehensive scoring (综合评分法) with numbers worked out by hand, the tie-breaks of §3, the
failure of an open-tender lot with fewer than 3 valid bids, re-tendering, the Excel ranking."""
import io
import re
from fractions import Fraction

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import support
from tests.tender_world import (add_opened_bid, evaluation_ready, make_contractor, make_tender, score, score_all,
                                tenant_id, three_scored_bids)

YUAN = 100  # fen


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(tenant_id(app, "ganxian"))


def _contractors(app, n):
    names = ["甲社工服务中心", "乙养老服务公司", "丙社会工作事务所", "丁家政公司"][:n]
    return [make_contractor(app, name=name, manager=f"m{i}", staff=1) for i, name in enumerate(names)]


def _score(app, bid_id, expert_id, technical, business):
    score(app, bid_id, expert_id, technical, business)


def _ranking(app, lot_id):
    from portal.tenders import evaluation
    from portal.tenders.models import Lot
    with app.app_context(), _scope(app):
        return [(r.bid.id, r.price_centipoints, r.technical_centipoints, r.business_centipoints, r.total_centipoints)
                for r in evaluation.ranking(db.session.get(Lot, lot_id))]


@pytest.fixture
def three_bids(app, demo):
    return three_scored_bids(app)


def test_three_bids_are_scored_by_the_formula_and_the_best_total_wins(app, three_bids):
    a, b, c = three_bids["bids"]
    # By hand: the lowest valid price is 90,000.00.
    #   A: price 90,000/90,000 × 30 = 30.00; technical (40+42)/2 = 41.00; business (20+21)/2 = 20.50 → 91.50
    #   B: 90,000/100,000 × 30 = 27.00; (45+44)/2 = 44.50; (22+23)/2 = 22.50 → 94.00
    #   C: 90,000/120,000 × 30 = 22.50; (46+45.5)/2 = 45.75; (24+23)/2 = 23.50 → 91.75
    assert _ranking(app, three_bids["lot"]) == [
        (b, 2700, 4450, 2250, 9400),
        (c, 2250, 4575, 2350, 9175),
        (a, 3000, 4100, 2050, 9150),
    ]


def test_scores_above_the_criteria_maxima_are_refused(app, three_bids):
    with pytest.raises(DomainError):
        _score(app, three_bids["bids"][0], three_bids["experts"][0], "46.01", "10")  # technical max 46
    with pytest.raises(DomainError):
        _score(app, three_bids["bids"][0], three_bids["experts"][0], "10", "24.01")  # business max 24


class _Bid:
    def __init__(self, id, price_fen):
        self.id, self.price_fen = id, price_fen


def test_rounding_happens_once_at_the_end():
    from portal.tenders.evaluation import rank
    cheap, dear = _Bid(1, 90_000 * YUAN), _Bid(2, 110_000 * YUAN)
    # dear: price 90/110 × 30 = 24.5454…; technical (40 + 40 + 40.02)/3 = 40.00666…; business 20.
    # Exact total 84.5521… → 84.55; rounding each part first would give 24.55 + 40.01 + 20.00 = 84.56.
    scores = {1: [(4000, 2000)] * 3, 2: [(4000, 2000), (4000, 2000), (4002, 2000)]}
    rows = {r.bid.id: r for r in rank([cheap, dear], scores, 30)}
    assert rows[2].total == Fraction(90, 110) * 30 + Fraction(12002, 300) + 20
    assert rows[2].total_centipoints == 8455
    assert rows[2].price_centipoints + rows[2].technical_centipoints + rows[2].business_centipoints == 8456


def test_a_tie_on_the_total_goes_to_the_lower_price(app, demo):
    tender = make_tender(app, price_weight=10, deadline=utcnow())
    lot = tender["lots"][0]
    x, y, z = _contractors(app, 3)
    dear = add_opened_bid(app, lot, x["id"], 125_000 * YUAN)
    cheap = add_opened_bid(app, lot, y["id"], 100_000 * YUAN)
    last = add_opened_bid(app, lot, z["id"], 150_000 * YUAN)
    experts = evaluation_ready(app, tender["tender"])
    # Technical max 60, business max 30. cheap: 10.00 + 58 + 22 = 90.00; dear: 100/125 × 10 = 8.00 + 60 + 22 = 90.00
    score_all(app, cheap, experts, "58", "22")
    score_all(app, dear, experts, "60", "22")
    score_all(app, last, experts, "50", "20")  # 6.67 + 50 + 20 = 76.67
    ranking = _ranking(app, lot)
    assert [(row[0], row[4]) for row in ranking] == [(cheap, 9000), (dear, 9000), (last, 7667)]


def test_a_tie_on_total_and_price_goes_to_the_higher_technical_score(app, demo):
    tender = make_tender(app, price_weight=10, deadline=utcnow())
    lot = tender["lots"][0]
    x, y, z = _contractors(app, 3)
    first = add_opened_bid(app, lot, x["id"], 100_000 * YUAN)
    second = add_opened_bid(app, lot, y["id"], 100_000 * YUAN)
    third = add_opened_bid(app, lot, z["id"], 100_000 * YUAN)
    experts = evaluation_ready(app, tender["tender"])
    score_all(app, first, experts, "55", "25")   # 10 + 55 + 25 = 90.00
    score_all(app, second, experts, "60", "20")  # 10 + 60 + 20 = 90.00, higher technical
    score_all(app, third, experts, "50", "30")   # 10 + 50 + 30 = 90.00, lowest technical
    assert [row[0] for row in _ranking(app, lot)] == [second, first, third]


def test_an_open_tender_lot_with_two_valid_bids_fails_and_can_be_tendered_again(app, demo, login):
    from portal.disclosures import Disclosure
    from portal.tenders import evaluation
    from portal.tenders.models import Bid, Lot, Tender
    tender = make_tender(app, deadline=utcnow())
    lot = tender["lots"][0]
    a, b, c = _contractors(app, 3)
    bids = [add_opened_bid(app, lot, k["id"], price * YUAN, valid=None)
            for k, price in ((a, 90_000), (b, 100_000), (c, 120_000))]
    evaluation_ready(app, tender["tender"])
    with app.app_context(), _scope(app):
        evaluation.decide_validity(db.session.get(Bid, bids[0]), True, "", utcnow())
        evaluation.decide_validity(db.session.get(Bid, bids[1]), False, "未按要求提供人员配置", utcnow())
        assert db.session.get(Lot, lot).status == "open"  # one bid still undecided
        evaluation.decide_validity(db.session.get(Bid, bids[2]), True, "", utcnow())
        db.session.commit()
        assert db.session.get(Lot, lot).status == "failed"
        assert db.session.get(Tender, tender["tender"]).status == "failed"
        notice = db.session.execute(select(Disclosure).where(Disclosure.kind == "failed_tender")).scalar_one()
        assert re.search(r"[(（]2 家[)）]", notice.body) and notice.published_at is not None  # 2 valid bids
        assert "甲社工服务中心" not in notice.body  # no bidder named in the failure notice

    officer = login("gx-officer")
    overview = f"/tenders/{tender['tender']}/evaluation"
    response = support.form_post(officer, f"/tenders/{tender['tender']}/retender", {}, token_url=overview)
    assert response.status_code == 302
    with app.app_context(), _scope(app):
        copy = db.session.execute(select(Tender).where(Tender.retender_of_id == tender["tender"])).scalar_one()
        assert copy.status == "draft" and copy.number.endswith("-R1")
        assert [(l.title, l.max_price_fen, [i.code for i in l.items]) for l in copy.lots] == [
            ("Care services", 20_000_000, ["CARE-VISIT"])]
        assert sum(c.max_points for c in copy.criteria) == 70
    # Only once.
    again = support.form_post(officer, f"/tenders/{tender['tender']}/retender", {}, token_url=overview)
    assert again.status_code == 422


def test_an_open_tender_lot_with_only_two_bids_fails_at_the_opening(app, demo):
    from portal.tenders.models import Lot
    tender = make_tender(app, deadline=utcnow())
    lot = tender["lots"][0]
    a, b = _contractors(app, 2)
    add_opened_bid(app, lot, a["id"], 90_000 * YUAN, valid=None)
    add_opened_bid(app, lot, b["id"], 95_000 * YUAN, valid=None)
    evaluation_ready(app, tender["tender"], experts=())
    with app.app_context(), _scope(app):
        assert db.session.get(Lot, lot).status == "failed"


def test_the_officer_exports_the_ranking_to_excel(app, three_bids, login):
    officer = login("gx-officer")
    response = officer.get(f"/tenders/lots/{three_bids['lot']}/ranking.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    # Four lines about the project, a blank line, the header, then the ranking.
    ranked = [(row[0], row[1], float(row[2]), float(row[6])) for row in rows[6:9]]
    assert ranked == [(1, "乙养老服务公司", 100000.0, 94.0), (2, "丙社会工作事务所", 120000.0, 91.75),
                      (3, "甲社工服务中心", 90000.0, 91.5)]
    assert login("gx-supervisor").get(f"/tenders/lots/{three_bids['lot']}/ranking.xlsx").status_code == 403


def test_the_scoring_grid_and_ranking_pages(app, three_bids, login):
    officer = login("gx-officer")
    lot, a, e1 = three_bids["lot"], three_bids["bids"][0], three_bids["experts"][0]
    grid = officer.get(f"/tenders/lots/{lot}/scores")
    assert grid.status_code == 200 and 'value="45.50"' in grid.get_data(as_text=True)
    response = support.form_post(officer, f"/tenders/lots/{lot}/scores", {f"t-{a}-{e1}": "46", f"b-{a}-{e1}": "22.5"})
    assert response.status_code == 302
    # A: technical (46+42+41×3)/5 = 42.20, business (22.5+21+20.5×3)/5 = 21.00, price 30 → 93.20
    assert (a, 3000, 4220, 2100, 9320) in _ranking(app, lot)
    page = officer.get(f"/tenders/lots/{lot}/ranking").get_data(as_text=True)
    assert "94.00" in page and "93.20" in page and "91.75" in page
    assert 'data-confirm' in page  # confirming the winner asks first


def test_the_officer_opens_the_bids_after_the_deadline_and_a_lot_with_one_bid_fails(app, demo, login):
    from portal.disclosures import Disclosure
    from portal.tenders.models import Lot, Tender
    tender = make_tender(app, deadline=utcnow())
    (a,) = _contractors(app, 1)
    add_opened_bid(app, tender["lots"][0], a["id"], 90_000 * YUAN, valid=None)
    officer = login("gx-officer")
    overview = f"/tenders/{tender['tender']}/evaluation"
    page = officer.get(overview).get_data(as_text=True)
    assert "data-confirm" in page and "90,000.00" in page  # the deadline has passed: the bid is readable
    assert login("gx-finance").post(f"/tenders/{tender['tender']}/evaluation/open").status_code in (400, 403)
    response = support.form_post(officer, f"/tenders/{tender['tender']}/evaluation/open", {}, token_url=overview)
    assert response.status_code == 302
    with app.app_context(), _scope(app):
        assert db.session.get(Lot, tender["lots"][0]).status == "failed"
        assert db.session.get(Tender, tender["tender"]).status == "failed"
        assert db.session.execute(select(Disclosure.kind)).scalars().all() == ["failed_tender"]
