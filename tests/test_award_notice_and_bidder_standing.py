"""Complete award notices (87号令 §69): unit prices required in every bid and listed in the notice
with quantity and requirements, the tender documents published with the result, and every
bidder told its own score and rank in "My bids" — never another bidder's. A bid needs its
technical proposal."""
import io
import re

import pytest
from sqlalchemy import select, text

from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import support
from tests.tender_world import PDF, confirm_award, make_contractor, make_tender, tenant_id, three_scored_bids

DOCUMENTS_PDF = b"%PDF-1.4\n% tender documents GX\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(tenant_id(app, "ganxian"))


def _en(client):
    client.set_cookie("lang", "en")
    return client


def _set_status(app, tender_id, status):
    from portal.tenders.models import Tender
    with app.app_context(), _scope(app):
        tender = db.session.get(Tender, tender_id)
        before, tender.status = tender.status, status
        db.session.commit()
        return before


def _attach_documents(login, tender_id, follow_redirects=False):
    officer = login("gx-officer")
    token = support.csrf_token_from(officer.get(f"/tenders/{tender_id}").get_data(as_text=True))
    return officer.post(f"/tenders/{tender_id}/documents", data={
        "csrf_token": token, "file": (io.BytesIO(DOCUMENTS_PDF), "招标文件.pdf")}, content_type="multipart/form-data",
        follow_redirects=follow_redirects)


def _award_notice(app):
    from portal.disclosures import Disclosure
    with app.app_context(), _scope(app):
        notice = db.session.execute(select(Disclosure).where(Disclosure.kind == "award_result")).scalar_one()
        return notice.id, notice.body, notice.data


# --- unit prices ----------------------------------------------------------------------------

def test_a_bid_without_a_unit_price_per_service_item_is_refused_and_nothing_is_saved(app, client, demo, api_token):
    tender = make_tender(app)
    a = make_contractor(app, name="甲社工服务中心", manager="a-mgr")
    client.set_cookie("lang", "en")
    headers = api_token("a-mgr", tenant="ganxian")
    lot = tender["lots"][0]
    lump_sum = client.put(f"/api/v1/lots/{lot}/bid", json={"price_fen": 15_000_000, "staff_ids": a["staff"]},
                          headers=headers)
    assert lump_sum.status_code == 422 and lump_sum.mimetype == "application/problem+json"
    message = lump_sum.get_json()["errors"]["unit_prices_fen"][0]
    assert "CARE-VISIT" in message and "87号令 §69" in message
    with support.owner_connection(app) as conn:
        assert conn.execute(text("SELECT count(*) FROM bid")).scalar_one() == 0
    mismatched = client.put(f"/api/v1/lots/{lot}/bid", headers=headers, json={
        "price_fen": 15_000_000, "staff_ids": a["staff"], "unit_prices_fen": {"CARE-VISIT": 14_000}})
    assert mismatched.status_code == 422
    assert "140,000.00 yuan" in mismatched.get_json()["errors"]["unit_prices_fen"][0]  # in yuan, not fen
    quoted = client.put(f"/api/v1/lots/{lot}/bid", headers=headers, json={
        "price_fen": 15_000_000, "staff_ids": a["staff"], "unit_prices_fen": {"CARE-VISIT": 15_000}})
    assert quoted.status_code == 201 and quoted.get_json()["unit_prices_fen"] == {"CARE-VISIT": 15_000}


def test_the_award_notice_lists_unit_price_quantity_and_requirements_and_the_tender_documents(app, demo, login):
    scored = three_scored_bids(app)
    # attached while the tender was a draft, the only time they may be (then through clarifications)
    status = _set_status(app, scored["tender"], "draft")
    assert _attach_documents(login, scored["tender"]).status_code == 302
    _set_status(app, scored["tender"], status)
    confirm_award(app, scored["lot"])
    notice_id, body, data = _award_notice(app)
    # 乙 won at 100,000.00 yuan for 1000 visits: 100.00 yuan each, with the item's requirements.
    assert "100.00" in body and "1000" in body and "每次不少于30分钟" in body
    assert "已包含在总价中" not in body and "included in the total price" not in body
    assert data["items"][0]["unit_price_fen"] == 10_000
    assert "招标文件.pdf" in body and data["tender_documents"]["name"] == "招标文件.pdf"

    # The public notice page offers the documents, and they are the file the officer attached.
    client = app.test_client()
    page = client.get(f"/public/ganxian/notices/{notice_id}").get_data(as_text=True)
    link = f"/public/ganxian/notices/{notice_id}/documents"
    assert link in page and "招标文件.pdf" in page
    download = client.get(link)
    assert download.status_code == 200 and download.data == DOCUMENTS_PDF
    # Only what a published notice names: another notice, or another bureau's address, has nothing.
    assert client.get(f"/public/zhanggong/notices/{notice_id}/documents").status_code == 404

    # The award release of the open data links them too, valid OCDS (documentType biddingDocuments).
    from tests.ocds_schema import release_package_errors
    package = client.get("/api/v1/public/ganxian/ocds/releases?page=1").get_json()
    assert release_package_errors(package) == []
    [release] = [r for r in package["releases"] if r["tag"] == ["award"]]
    documents = {d["documentType"]: d for d in release["awards"][0]["documents"]}
    assert documents["biddingDocuments"]["url"].endswith(link) and documents["biddingDocuments"]["format"] == \
        "application/pdf"


def test_tender_documents_are_a_pdf_and_only_an_officer_attaches_them(app, demo, login):
    tender = make_tender(app, status="draft")
    officer = _en(login("gx-officer"))
    token = support.csrf_token_from(officer.get(f"/tenders/{tender['tender']}").get_data(as_text=True))
    fake = officer.post(f"/tenders/{tender['tender']}/documents", data={
        "csrf_token": token, "file": (io.BytesIO(b"GIF89a no pdf"), "招标文件.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "PDF" in fake.get_data(as_text=True)
    with app.app_context(), _scope(app):
        from portal.tenders.models import Tender
        assert db.session.get(Tender, tender["tender"]).documents_file_id is None
    supervisor = login("gx-supervisor")
    token = support.csrf_token_from(supervisor.get(f"/tenders/{tender['tender']}").get_data(as_text=True))
    assert supervisor.post(f"/tenders/{tender['tender']}/documents", data={
        "csrf_token": token, "file": (io.BytesIO(DOCUMENTS_PDF), "x.pdf")},
        content_type="multipart/form-data").status_code == 403


@pytest.mark.parametrize("status, replaceable", [("draft", True), ("intention_published", True),
                                                 ("tendering", False), ("evaluation", False)])
def test_tender_documents_are_replaced_only_before_the_tender_notice(app, demo, login, status, replaceable):
    """After the notice bidders rely on the documents: a change goes out as a clarification."""
    from portal.tenders.models import Tender
    tender = make_tender(app, status=status)
    response = _attach_documents(login, tender["tender"], follow_redirects=True)
    assert response.status_code == 200 and response.request.path == f"/tenders/{tender['tender']}"
    page = response.get_data(as_text=True)
    with app.app_context(), _scope(app):
        attached = db.session.get(Tender, tender["tender"]).documents_file_id is not None
    assert attached is replaceable
    assert ("招标文件不能再替换，如需修改请发布澄清" in page) is not replaceable


# --- each bidder's own score and rank ---------------------------------------------------------

def _standing(page):
    match = re.search(r'<span class="own-standing">(.*?)</span>', page, re.S)
    return match.group(1) if match else None


def test_each_bidder_reads_its_own_score_and_rank_once_the_result_is_published_and_no_one_elses(app, demo, login):
    scored = three_scored_bids(app)  # totals 甲 91.50 (3rd), 乙 94.00 (1st), 丙 91.75 (2nd)
    before = login("m0", tenant="ganxian").get("/tenders/my-bids").get_data(as_text=True)
    assert _standing(before) is None  # no result yet: nothing to tell
    confirm_award(app, scored["lot"])

    expected = {"m0": ("91.50", "3"), "m1": ("94.00", "1"), "m2": ("91.75", "2")}
    for manager, (score, rank) in expected.items():
        page = _en(login(manager, tenant="ganxian")).get("/tenders/my-bids").get_data(as_text=True)
        standing = _standing(page)
        assert standing is not None, manager
        assert score in standing and f"rank {rank} of 3" in standing, (manager, standing)
        for other, (other_score, _rank) in expected.items():
            if other != manager:
                assert other_score not in page, (manager, other_score)
    # The result page of the lot tells the bidder the same, and only that.
    with app.app_context(), _scope(app):
        from portal.tenders.models import Award
        award_id = db.session.execute(select(Award.id)).scalar_one()
    result_page = _en(login("m2", tenant="ganxian")).get(f"/tenders/awards/{award_id}/my-challenge")
    html = result_page.get_data(as_text=True)
    assert result_page.status_code == 200 and "91.75" in html and "rank 2 of 3" in html and "91.50" not in html
    # Reading the ranking left no other bid behind in the contractor's reach.
    m0 = login("m0", tenant="ganxian")
    for other_bid in scored["bids"][1:]:
        assert m0.get(f"/tenders/bids/{other_bid}/proposal").status_code in (403, 404)


# --- the technical proposal -----------------------------------------------------------------------

def test_the_bid_page_refuses_a_bid_without_its_technical_proposal_and_saves_nothing(app, demo, login):
    tender = make_tender(app)
    a = make_contractor(app, name="甲社工服务中心", manager="a-mgr")
    browser = _en(login("a-mgr", tenant="ganxian"))
    url = f"/tenders/lots/{tender['lots'][0]}/my-bid"
    fields = {"price": "150000.00", "staff": [str(a["staff"][0])], "unit_CARE-VISIT": "150.00"}
    refused = support.form_post(browser, url, fields)
    assert refused.status_code == 422
    assert "technical proposal" in refused.get_data(as_text=True)
    with support.owner_connection(app) as conn:
        assert conn.execute(text("SELECT count(*) FROM bid")).scalar_one() == 0
    accepted = support.form_post(browser, url, {**fields, "proposal": (io.BytesIO(PDF), "方案.pdf")})
    assert accepted.status_code == 302
    # Changing the price later keeps the proposal already attached.
    assert support.form_post(browser, url, {**fields, "price": "140000.00", "unit_CARE-VISIT": "140.00"}
                             ).status_code == 302


def test_a_bid_still_without_its_proposal_at_the_opening_is_invalid(app, client, demo, api_token):
    from portal.tenders import evaluation
    from portal.tenders.models import Bid, Tender
    from tests.tender_world import pass_deadline
    tender = make_tender(app, method="competitive_consultation")
    lot = tender["lots"][0]
    a = make_contractor(app, name="甲社工服务中心", manager="a-mgr")
    b = make_contractor(app, name="乙养老服务公司", manager="b-mgr")
    for manager, k, price in (("a-mgr", a, 15_000_000), ("b-mgr", b, 16_000_000)):
        headers = api_token(manager, tenant="ganxian")
        assert client.put(f"/api/v1/lots/{lot}/bid", headers=headers, json={
            "price_fen": price, "staff_ids": k["staff"], "unit_prices_fen": {"CARE-VISIT": price // 1000}}
        ).status_code == 201
        if manager == "a-mgr":
            assert client.post(f"/api/v1/lots/{lot}/bid/proposal", headers=headers,
                               data={"file": (io.BytesIO(PDF), "方案.pdf")}).status_code == 200
    pass_deadline(app, tender["tender"])
    with app.app_context(), _scope(app):
        evaluation.open_bids(db.session.get(Tender, tender["tender"]), utcnow())
        db.session.commit()
        bids = {bid.contractor_id: bid for bid in db.session.execute(select(Bid)).scalars()}
        assert bids[a["id"]].valid is None  # complete: its validity is for the committee
        assert bids[b["id"]].valid is False and "技术方案" in bids[b["id"]].invalid_reason  # in the bureau's language

