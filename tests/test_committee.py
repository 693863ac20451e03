"""The evaluation committee (87号令 §47) and the score sheet: the composition per method at its
boundaries, refused before scoring, ranking and award; one wrong cell keeps the other entries and
is named; a blank cell is unscored (never 0) and blocks ranking and award; averages stay exact."""
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import support
from tests.tender_world import (add_opened_bid, evaluation_ready, make_contractor, make_tender, score_all, tenant_id,
                                three_scored_bids)


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(tenant_id(app, "ganxian"))


def _members(experts, others=0):
    return ([SimpleNamespace(is_expert=True)] * experts) + ([SimpleNamespace(is_expert=False)] * others)


# --- composition, rule by rule, at the boundaries ----------------------------------------------

@pytest.mark.parametrize("method", ["open_tender", "invited_tender"])
@pytest.mark.parametrize("experts, others, lawful", [
    (5, 0, True),    # the least: five members
    (4, 0, False),   # one short
    (3, 0, False),
    (4, 1, True),    # 4 of 5 experts: 12 ≥ 10
    (3, 2, False),   # 3 of 5: 9 < 10
    (6, 0, False),   # even
    (4, 2, False),   # even, whatever the experts
    (5, 2, True),    # 5 of 7: 15 ≥ 14
    (4, 3, False),   # 4 of 7: 12 < 14
    (7, 0, True),
])
def test_a_tender_committee_has_at_least_five_members_an_odd_number_and_two_thirds_experts(
        app, method, experts, others, lawful):
    from portal.tenders.committee import composition_problem
    with app.test_request_context():
        problem = composition_problem(method, _members(experts, others))
    assert (problem is None) is lawful, problem


@pytest.mark.parametrize("method", ["competitive_negotiation", "competitive_consultation", "request_for_quotation",
                                    "single_source"])
@pytest.mark.parametrize("experts, others, lawful", [
    (3, 0, True),
    (2, 1, True),    # 2 of 3 experts: 6 ≥ 6, exactly two thirds
    (1, 2, False),   # 1 of 3
    (2, 0, False),   # too few
    (1, 0, False),
    (4, 0, False),   # even
    (3, 1, False),   # even
    (4, 1, True),
    (3, 2, False),   # 3 of 5: 9 < 10
])
def test_the_other_methods_need_at_least_three_members_odd_with_two_thirds_experts(app, method, experts, others,
                                                                                    lawful):
    from portal.tenders.committee import composition_problem
    with app.test_request_context():
        problem = composition_problem(method, _members(experts, others))
    assert (problem is None) is lawful, problem


@pytest.mark.parametrize("method", ["open_tender", "invited_tender"])
@pytest.mark.parametrize("budget_fen, members, lawful", [
    (999_999_999, 5, True),        # 9,999,999.99 yuan: five members are enough
    (1_000_000_000, 5, False),     # 10,000,000 yuan (以上 includes it): at least seven
    (1_000_000_000, 7, True),
    (1_000_000_001, 5, False),
    (1_000_000_001, 8, False),     # still odd
    (1_000_000_001, 9, True),
])
def test_a_tender_of_ten_million_yuan_or_more_needs_seven_members(app, method, budget_fen, members, lawful):
    """87号令 §47 ¶2: budget ≥ 10,000,000 yuan → at least 7 members, an odd number."""
    from portal.tenders.committee import composition_problem, min_members
    assert min_members(method, budget_fen) == (7 if budget_fen >= 1_000_000_000 else 5)
    with app.test_request_context():
        problem = composition_problem(method, _members(members), budget_fen)
    assert (problem is None) is lawful, problem
    if members == 5 and not lawful:
        assert "至少需要 7 名" in problem


def test_a_large_budget_changes_nothing_for_the_other_methods(app):
    from portal.tenders.committee import min_members
    assert min_members("competitive_consultation", 2_000_000_000) == 3


def test_the_refusal_names_the_rule_in_chinese(app):
    from portal.tenders.committee import composition_problem
    with app.test_request_context():
        assert composition_problem("open_tender", _members(4)) == \
            "评标委员会现有 4 名成员；该采购方式至少需要 5 名（87号令第四十七条）。"
        assert composition_problem("open_tender", _members(6)) == \
            "评标委员会成员人数须为单数，现为 6 名（87号令第四十七条）。"
        assert composition_problem("open_tender", _members(4, 3)) == \
            "评标委员会中评审专家不得少于成员总数的三分之二：7 名成员中专家仅 4 名（87号令第四十七条）。"


def _three_bids(app, method="open_tender"):
    tender = make_tender(app, method=method, price_weight=30, deadline=utcnow())
    lot = tender["lots"][0]
    names = ("甲社工服务中心", "乙养老服务公司", "丙社会工作事务所")
    contractors = [make_contractor(app, name=name, manager=f"m{i}", staff=1) for i, name in enumerate(names)]
    bids = [add_opened_bid(app, lot, k["id"], yuan * 100) for k, yuan in zip(contractors, (90_000, 100_000, 120_000))]
    return tender, lot, bids


def test_scoring_ranking_and_award_are_refused_with_an_unlawful_committee(app, demo):
    from portal.tenders import awards, evaluation
    from portal.tenders.models import Bid, Expert, Lot, Tender
    tender, lot_id, bids = _three_bids(app)
    members = evaluation_ready(app, tender["tender"], experts=("王专家", "陈专家", "李专家", "赵专家"))
    with app.app_context(), _scope(app):
        bid, member = db.session.get(Bid, bids[0]), db.session.get(Expert, members[0])
        with pytest.raises(DomainError, match="至少需要 5 名"):
            evaluation.enter_score(bid, member, 4000, 2000)
        lot = db.session.get(Lot, lot_id)
        assert "至少需要 5 名" in evaluation.ranking_incomplete(lot)
        with pytest.raises(DomainError, match="至少需要 5 名"):
            awards.confirm_award(lot, utcnow())
        # a fifth member who is the buyer's representative: 4 experts of 5 is lawful
        evaluation.add_expert(db.session.get(Tender, tender["tender"]), "黄代表", kind="buyer_representative")
        evaluation.enter_score(bid, member, 4000, 2000)
        db.session.commit()


def test_the_officer_records_members_with_their_kind_and_sees_the_rule_broken(app, demo, login):
    from portal.tenders.models import Expert
    tender, _lot, _bids = _three_bids(app)
    evaluation_ready(app, tender["tender"], experts=("王专家", "陈专家"))
    officer = login("gx-officer")
    overview = f"/tenders/{tender['tender']}/evaluation"
    page = officer.get(overview).get_data(as_text=True)
    assert "评标委员会现有 2 名成员" in page
    response = support.form_post(officer, f"/tenders/{tender['tender']}/evaluation/experts",
                                 {"name": "黄代表", "kind": "buyer_representative", "field": "ignored"},
                                 token_url=overview)
    assert response.status_code == 302
    assert "采购人代表已登记" in officer.get(overview).get_data(as_text=True)  # not "the expert is recorded"
    support.form_post(officer, f"/tenders/{tender['tender']}/evaluation/experts",
                      {"name": "刘专家", "kind": "expert", "field": "养老护理"}, token_url=overview)
    with app.app_context(), _scope(app):
        rows = {e.name: (e.kind, e.field) for e in db.session.scalars(select(Expert))}
    assert rows["黄代表"] == ("buyer_representative", "") and rows["刘专家"] == ("expert", "养老护理")
    page = officer.get(overview).get_data(as_text=True)
    assert "评标委员会现有 4 名成员；该采购方式至少需要 5 名" in page and "采购人代表" in page


# --- the score sheet -----------------------------------------------------------------------------

@pytest.fixture
def sheet(app, demo):
    """Three valid bids, a committee of three (competitive consultation: 2 experts and the buyer's
    representative), nothing scored yet. Technical max 46, business max 24."""
    tender, lot, bids = _three_bids(app, method="competitive_consultation")
    from portal.tenders.models import Expert
    members = evaluation_ready(app, tender["tender"], experts=("王专家", "陈专家", "黄代表"))
    with app.app_context(), _scope(app):
        db.session.get(Expert, members[2]).kind = "buyer_representative"
        db.session.commit()
    return {"tender": tender["tender"], "lot": lot, "bids": bids, "members": members}


def _cells(app, lot_id):
    from portal.tenders.models import Bid, BidScore
    with app.app_context(), _scope(app):
        rows = db.session.execute(select(BidScore).join(Bid, BidScore.bid_id == Bid.id).where(Bid.lot_id == lot_id))
        return {(s.bid_id, s.expert_id): (s.technical_centipoints, s.business_centipoints) for s in rows.scalars()}


def test_one_wrong_cell_keeps_every_other_entry_and_names_the_cell(app, sheet, login):
    officer = login("gx-officer")
    (a, b, c), (m1, m2, m3) = sheet["bids"], sheet["members"]
    url = f"/tenders/lots/{sheet['lot']}/scores"
    typed = {f"t-{a}-{m1}": "40", f"b-{a}-{m1}": "20", f"t-{a}-{m2}": "41.5", f"b-{a}-{m2}": "20.25",
             f"t-{b}-{m1}": "46.01", f"b-{b}-{m1}": "22",  # technical above its maximum of 46
             f"t-{c}-{m3}": "abc", f"b-{c}-{m3}": "20"}    # not a number
    response = support.form_post(officer, url, typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "乙养老服务公司 × 王专家" in page and "丙社会工作事务所 × 黄代表" in page
    assert "已保存 2 格" in page
    assert 'value="46.01"' in page and 'value="abc"' in page  # what was typed stays in the form
    assert _cells(app, sheet["lot"]) == {(a, m1): (4000, 2000), (a, m2): (4150, 2025)}


def test_a_half_filled_cell_is_refused_not_read_as_zero(app, sheet, login):
    officer = login("gx-officer")
    a, b, m1 = sheet["bids"][0], sheet["bids"][1], sheet["members"][0]
    response = support.form_post(officer, f"/tenders/lots/{sheet['lot']}/scores",
                                 {f"t-{a}-{m1}": "40", f"b-{a}-{m1}": "", f"t-{b}-{m1}": "44", f"b-{b}-{m1}": "22"})
    assert response.status_code == 422
    assert "甲社工服务中心 × 王专家" in response.get_data(as_text=True)
    assert _cells(app, sheet["lot"]) == {(b, m1): (4400, 2200)}


def test_a_blank_cell_is_unscored_and_blocks_ranking_and_award(app, sheet, login):
    from portal.tenders import awards, evaluation
    from portal.tenders.models import Lot
    (a, b, c), (m1, m2, m3) = sheet["bids"], sheet["members"]
    score_all(app, a, [m1, m2, m3], "40", "20")
    score_all(app, b, [m1, m2, m3], "45", "22")
    score_all(app, c, [m1, m2], "46", "24")  # 黄代表 has not scored 丙
    with app.app_context(), _scope(app):
        lot = db.session.get(Lot, sheet["lot"])
        problem = evaluation.ranking_incomplete(lot)
        assert problem == "每位评审专家须对每份有效投标评分。尚未评分：丙社会工作事务所 × 黄代表。"
        with pytest.raises(DomainError, match="丙社会工作事务所 × 黄代表"):
            awards.confirm_award(lot, utcnow())
    officer = login("gx-officer")
    page = officer.get(f"/tenders/lots/{sheet['lot']}/ranking").get_data(as_text=True)
    assert "丙社会工作事务所 × 黄代表" in page and "evaluation_award" not in page
    assert "/award" not in page  # no confirmation button
    assert "未评分" in officer.get(f"/tenders/lots/{sheet['lot']}/scores").get_data(as_text=True)
    # the last cell scored: the ranking is complete and the average is over the three members
    score_all(app, c, [m3], "45.01", "24")
    with app.app_context(), _scope(app):
        lot = db.session.get(Lot, sheet["lot"])
        assert evaluation.ranking_incomplete(lot) is None
        rows = {r.bid.id: r for r in evaluation.ranking(lot)}
        # technical (46 + 46 + 45.01) / 3 = 45.67 exactly to the centipoint (45.6700)
        assert rows[c].technical * 300 == 4600 + 4600 + 4501 and rows[c].technical_centipoints == 4567
        assert rows[c].scored_by == 3


def test_an_even_committee_is_refused_for_the_whole_sheet_and_nothing_is_saved(app, sheet, login):
    from portal.tenders import evaluation
    from portal.tenders.models import Tender
    with app.app_context(), _scope(app):
        evaluation.add_expert(db.session.get(Tender, sheet["tender"]), "赵专家")  # four members
        db.session.commit()
    a, m1 = sheet["bids"][0], sheet["members"][0]
    officer = login("gx-officer")
    response = support.form_post(officer, f"/tenders/lots/{sheet['lot']}/scores",
                                 {f"t-{a}-{m1}": "40", f"b-{a}-{m1}": "20"}, follow_redirects=True)
    assert "评标委员会成员人数须为单数，现为 4 名" in response.get_data(as_text=True)
    assert _cells(app, sheet["lot"]) == {}


def test_the_award_announcement_names_the_experts_not_the_buyer_representative(app, demo):
    from portal.disclosures import Disclosure
    from portal.tenders import awards, evaluation
    from portal.tenders.models import Expert, Lot, Tender
    scored = three_scored_bids(app)
    with app.app_context(), _scope(app):
        tender = db.session.get(Tender, scored["tender"])
        db.session.get(Expert, scored["experts"][0]).field = "社会工作"
        rep = evaluation.add_expert(tender, "黄代表", kind="buyer_representative")
        extra = evaluation.add_expert(tender, "钱专家", field="护理")
        for bid_id in scored["bids"]:
            for member in (rep, extra):
                from portal.tenders.models import Bid
                evaluation.enter_score(db.session.get(Bid, bid_id), member, 4000, 2000)
        awards.confirm_award(db.session.get(Lot, scored["lot"]), utcnow())
        db.session.commit()
        notice = db.session.execute(select(Disclosure).where(Disclosure.kind == "award_result")).scalar_one()
        assert "王专家（社会工作）" in notice.body and "钱专家（护理）" in notice.body and "黄代表" not in notice.body
        assert notice.data["experts"] == ["王专家", "陈专家", "李专家", "赵专家", "孙专家", "钱专家"]
        assert notice.data["expert_fields"] == {"王专家": "社会工作", "钱专家": "护理"}
        assert db.session.scalar(select(Expert.kind).where(Expert.name == "黄代表")) == "buyer_representative"


def test_the_score_sheet_goes_out_and_comes_back_in_excel_keeping_the_good_cells(app, sheet, login):
    import io

    from openpyxl import load_workbook
    (a, b, c), (m1, m2, m3) = sheet["bids"], sheet["members"]
    score_all(app, a, [m1], "40", "20")
    officer = login("gx-officer")
    url = f"/tenders/lots/{sheet['lot']}/scores.xlsx"
    download = officer.get(url)
    assert download.status_code == 200
    assert login("gx-supervisor").get(url).status_code == 403
    book = load_workbook(io.BytesIO(download.data))
    rows = [r for r in book.active.iter_rows(values_only=True) if r[0] is not None]
    assert len(rows) == 1 + 3 * 3  # header, then every valid bid × member
    assert rows[1][:6] == (a, "甲社工服务中心", m1, "王专家", "40.00", "20.00")
    for row in book.active.iter_rows(min_row=2):
        bid, member = row[0].value, row[2].value
        if (bid, member) == (b, m2):
            row[4].value, row[5].value = 44.5, 22      # typed as numbers: read exactly
        elif (bid, member) == (c, m3):
            row[4].value, row[5].value = "47", "20"    # above the technical maximum of 46
        elif (bid, member) == (a, m1):
            row[4].value = "41.25"
    for column, value in enumerate([999999, "x", m1, "y", "10", "10"], start=1):  # no such bid on this lot
        book.active.cell(row=11, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    grid_page = f"/tenders/lots/{sheet['lot']}/scores"
    token = support.csrf_token_from(officer.get(grid_page).get_data(as_text=True))
    response = officer.post(f"/tenders/lots/{sheet['lot']}/scores/import",
                            data={"csrf_token": token, "file": (io.BytesIO(out.getvalue()), "scores.xlsx")},
                            content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "丙社会工作事务所 × 黄代表" in page and "第 11 行" in page and "已保存 2 格" in page
    assert _cells(app, sheet["lot"]) == {(a, m1): (4125, 2000), (b, m2): (4450, 2200)}
    # not a workbook: refused, nothing changes
    refused = officer.post(f"/tenders/lots/{sheet['lot']}/scores/import",
                           data={"csrf_token": token, "file": (io.BytesIO(b"not excel"), "scores.xlsx")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "Excel" in refused.get_data(as_text=True)
    assert _cells(app, sheet["lot"]) == {(a, m1): (4125, 2000), (b, m2): (4450, 2200)}
    # a workbook that is not this lot's score sheet: refused by name, not "saved"
    from openpyxl import Workbook
    from portal.tenders.score_workbook import HEADERS
    other = Workbook()
    other.active.append(list(HEADERS))  # the sheet's headings and no row of it
    unrelated = io.BytesIO()
    other.save(unrelated)
    response = officer.post(f"/tenders/lots/{sheet['lot']}/scores/import",
                            data={"csrf_token": token, "file": (io.BytesIO(unrelated.getvalue()), "other.xlsx")},
                            content_type="multipart/form-data", follow_redirects=True)
    assert "评分已保存" not in response.get_data(as_text=True)
    assert _cells(app, sheet["lot"]) == {(a, m1): (4125, 2000), (b, m2): (4450, 2200)}
