"""Sealed bids: who may bid, until when, and that nobody at the bureau can read a bid before the
deadline — by page, by API, by guessed id, in the audit trail — while they can after it."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import support
from tests.tender_world import PDF, make_contractor, make_tender, pass_deadline, tenant_id

BUREAU_USERS = ("gx-admin", "gx-officer", "gx-supervisor", "gx-finance", "gx-auditor")
SECRET_PRICE = 18_765_000  # 187,650.00 yuan (1000 visits at 187.65): numbers that appear nowhere else
SECRET_STRINGS = ("18765000", "187,650.00", "187650.00", "187.65")


@pytest.fixture(autouse=True)
def _english(client):
    """Problem details are read in English here (the default language is Chinese)."""
    client.set_cookie("lang", "en")


@pytest.fixture
def world(app, demo):
    tender = make_tender(app)
    a = make_contractor(app, name="甲社工服务中心", manager="a-mgr")
    b = make_contractor(app, name="乙养老服务公司", manager="b-mgr")
    return {"tender": tender, "lot": tender["lots"][0], "a": a, "b": b}


def _put_bid(client, headers, lot_id, price_fen, staff_ids, **extra):
    """A bid on the world's one-item lots (1000 × CARE-VISIT): the unit price follows the price
    unless the test gives its own."""
    if "unit_prices_fen" not in extra and price_fen % 1000 == 0:
        extra["unit_prices_fen"] = {"CARE-VISIT": price_fen // 1000}
    return client.put(f"/api/v1/lots/{lot_id}/bid", json={"price_fen": price_fen, "staff_ids": staff_ids, **extra},
                      headers=headers)


def _bid_rows(app):
    """How many bid rows exist, counted as the owner of the table (past the seal and tenancy)."""
    with support.owner_connection(app) as conn:
        return conn.execute(text("SELECT count(*) FROM bid")).scalar_one()


def _opens_at(app, bid_id):
    with support.owner_connection(app) as conn:
        value = conn.execute(text("SELECT opens_at FROM bid WHERE id = :id"), {"id": bid_id}).scalar_one()
    value = datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def test_contractor_submits_changes_withdraws_and_resubmits_before_the_deadline(app, client, world, api_token):
    headers = api_token("a-mgr", tenant="ganxian")
    lot, staff = world["lot"], world["a"]["staff"]
    created = _put_bid(client, headers, lot, 15_000_000, staff)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["price_fen"] == 15_000_000
    changed = _put_bid(client, headers, lot, 14_500_000, staff[:1])
    assert changed.status_code == 200
    assert changed.get_json()["price_fen"] == 14_500_000 and changed.get_json()["staff_ids"] == staff[:1]
    assert created.get_json()["id"] == changed.get_json()["id"]

    # The technical proposal: a PDF by its content; anything else is refused whatever its name.
    fake = client.post(f"/api/v1/lots/{lot}/bid/proposal", headers=headers,
                       data={"file": (io.BytesIO(b"GIF89a not a pdf"), "proposal.pdf")})
    assert fake.status_code == 422 and fake.mimetype == "application/problem+json"
    good = client.post(f"/api/v1/lots/{lot}/bid/proposal", headers=headers,
                       data={"file": (io.BytesIO(PDF), "技术方案.pdf")})
    assert good.status_code == 200 and good.get_json()["has_proposal"] is True

    withdrawn = client.delete(f"/api/v1/lots/{lot}/bid", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdrawn_at"]
    again = _put_bid(client, headers, lot, 14_000_000, staff)
    assert again.status_code == 200 and again.get_json()["withdrawn_at"] is None
    assert _bid_rows(app) == 1  # one bid per lot and contractor, kept on record


def test_price_above_the_maximum_and_staff_of_another_roster_are_refused(client, world, api_token):
    headers = api_token("a-mgr", tenant="ganxian")
    too_high = _put_bid(client, headers, world["lot"], 20_000_001, world["a"]["staff"])
    assert too_high.status_code == 422 and "price_fen" in too_high.get_json()["errors"]
    foreign = _put_bid(client, headers, world["lot"], 15_000_000, world["b"]["staff"])
    assert foreign.status_code == 422 and "staff_ids" in foreign.get_json()["errors"]
    wrong_sum = _put_bid(client, headers, world["lot"], 15_000_000, world["a"]["staff"],
                         unit_prices_fen={"CARE-VISIT": 14_000})  # 1000 × 140.00 = 140,000.00 ≠ 150,000.00
    assert wrong_sum.status_code == 422 and "unit_prices_fen" in wrong_sum.get_json()["errors"]
    right_sum = _put_bid(client, headers, world["lot"], 15_000_000, world["a"]["staff"],
                         unit_prices_fen={"CARE-VISIT": 15_000})
    assert right_sum.status_code == 201


def test_a_late_bid_is_refused(app, client, demo, api_token):
    late = make_tender(app, deadline=utcnow() - timedelta(seconds=1))
    a = make_contractor(app, name="甲社工服务中心", manager="a-mgr")
    response = _put_bid(client, api_token("a-mgr", tenant="ganxian"), late["lots"][0], 10_000_000, a["staff"])
    assert response.status_code == 422
    assert "deadline has passed" in response.get_json()["detail"]
    assert _bid_rows(app) == 0


def test_a_blacklisted_contractor_cannot_bid_while_the_entry_lasts(app, client, world, api_token):
    from portal.contractors.models import BlacklistEntry
    from portal.tenancy.scope import tenant_scope
    today = date.today()
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        db.session.add(BlacklistEntry(contractor_id=world["b"]["id"], reason="虚假材料",
                                      starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=300)))
        db.session.commit()
    response = _put_bid(client, api_token("b-mgr", tenant="ganxian"), world["lot"], 15_000_000, world["b"]["staff"])
    assert response.status_code == 422
    assert "blacklist" in response.get_json()["detail"]
    assert _bid_rows(app) == 0
    # The other contractor is not affected.
    assert _put_bid(client, api_token("a-mgr", tenant="ganxian"), world["lot"], 15_000_000,
                    world["a"]["staff"]).status_code == 201


def test_an_unapproved_contractor_cannot_bid(app, client, demo, api_token):
    tender = make_tender(app)
    pending = make_contractor(app, name="丙公司", manager="c-mgr", status="pending")
    response = _put_bid(client, api_token("c-mgr", tenant="ganxian"), tender["lots"][0], 1_000_000, pending["staff"])
    assert response.status_code == 422 and "waiting for approval" in response.get_json()["detail"]


def test_an_invited_tender_accepts_only_the_invited(app, client, demo, api_token):
    a = make_contractor(app, name="甲社工服务中心", manager="a-mgr")
    b = make_contractor(app, name="乙养老服务公司", manager="b-mgr")
    tender = make_tender(app, method="invited_tender", invited=[a["id"]])
    lot = tender["lots"][0]
    assert _put_bid(client, api_token("a-mgr", tenant="ganxian"), lot, 1_000_000, a["staff"]).status_code == 201
    refused = _put_bid(client, api_token("b-mgr", tenant="ganxian"), lot, 1_000_000, b["staff"])
    assert refused.status_code == 422 and "invited" in refused.get_json()["detail"]


def test_bureau_roles_cannot_bid_and_another_bureau_gets_404(app, client, world, api_token):
    officer = _put_bid(client, api_token("gx-officer"), world["lot"], 1_000_000, [1])
    assert officer.status_code == 403
    zhanggong = api_token("a-mgr", tenant="zhanggong")
    assert _put_bid(client, zhanggong, world["lot"], 1_000_000, world["a"]["staff"]).status_code == 404
    assert client.get(f"/api/v1/tenders/{world['tender']['tender']}", headers=api_token("zg-officer")).status_code == 404
    assert client.get(f"/api/v1/tenders/{world['tender']['tender']}/bids",
                      headers=api_token("zg-officer")).status_code == 404


def _assert_nothing_secret(text, where):
    for secret in SECRET_STRINGS:
        assert secret not in text, f"{where} shows the sealed price"
    assert "甲社工服务中心" not in text, f"{where} names a bidder"


def test_a_bid_is_sealed_from_every_bureau_role_until_the_deadline_and_readable_after(app, client, world,
                                                                                       api_token, login):
    tender_id, lot = world["tender"]["tender"], world["lot"]
    manager = api_token("a-mgr", tenant="ganxian")
    bid = _put_bid(client, manager, lot, SECRET_PRICE, world["a"]["staff"]).get_json()
    assert client.post(f"/api/v1/lots/{lot}/bid/proposal", headers=manager,
                       data={"file": (io.BytesIO(PDF), "proposal.pdf")}).status_code == 200
    bid_id = bid["id"]

    for username in BUREAU_USERS:
        # By API: the tender is there, its bids are not; a guessed bid id finds nothing.
        headers = api_token(username)
        assert client.get(f"/api/v1/tenders/{tender_id}", headers=headers).status_code == 200
        bids = client.get(f"/api/v1/tenders/{tender_id}/bids", headers=headers)
        assert bids.status_code == 200 and bids.get_json()["items"] == [], username
        _assert_nothing_secret(bids.get_data(as_text=True), f"{username} API")
        # By page: the evaluation pages, the ranking, the proposal by guessed id, the audit trail.
        browser = login(username)
        for url in (f"/tenders/{tender_id}/evaluation", f"/tenders/lots/{lot}/ranking", f"/tenders/lots/{lot}/scores",
                    "/audit/"):
            page = browser.get(url)
            if page.status_code == 200:
                _assert_nothing_secret(page.get_data(as_text=True), f"{username} {url}")
            else:
                assert page.status_code in (403, 404), (username, url, page.status_code)
        assert browser.get(f"/tenders/bids/{bid_id}/proposal").status_code == 404, username
        if username in ("gx-officer", "gx-auditor"):
            sheet = browser.get(f"/tenders/lots/{lot}/ranking.xlsx")
            assert sheet.status_code == 200
            cells = [c for row in load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True) for c in row]
            assert not any(str(c) in SECRET_STRINGS or c == "甲社工服务中心" for c in cells if c is not None)
    # An officer cannot act on it by a guessed id either.
    officer = login("gx-officer")
    token = support.csrf_token_from(officer.get(f"/tenders/{tender_id}/evaluation").get_data(as_text=True))
    assert officer.post(f"/tenders/bids/{bid_id}/validity",
                        data={"csrf_token": token, "decision": "invalid", "reason": "x"}).status_code == 404
    # In the data layer itself: a job (no user) or the bureau's own code finds no row.
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Bid
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        assert db.session.get(Bid, bid_id) is None
        assert db.session.execute(select(func.count()).select_from(Bid)).scalar_one() == 0
        assert db.session.execute(select(Bid.price_fen)).all() == []

    pass_deadline(app, tender_id)

    for username in BUREAU_USERS:
        bids = client.get(f"/api/v1/tenders/{tender_id}/bids", headers=api_token(username)).get_json()["items"]
        assert [(b["id"], b["price_fen"]) for b in bids] == [(bid_id, SECRET_PRICE)], username
        browser = login(username)
        page = browser.get(f"/tenders/{tender_id}/evaluation").get_data(as_text=True)
        assert "187,650.00" in page and "甲社工服务中心" in page, username
        proposal = browser.get(f"/tenders/bids/{bid_id}/proposal")
        assert proposal.status_code == 200 and proposal.data == PDF, username


def test_a_contractor_sees_only_its_own_bid_before_and_after_the_deadline(app, client, world, api_token, login):
    tender_id, lot = world["tender"]["tender"], world["lot"]
    a_headers, b_headers = api_token("a-mgr", tenant="ganxian"), api_token("b-mgr", tenant="ganxian")
    a_bid = _put_bid(client, a_headers, lot, SECRET_PRICE, world["a"]["staff"]).get_json()
    assert client.post(f"/api/v1/lots/{lot}/bid/proposal", headers=a_headers,
                       data={"file": (io.BytesIO(PDF), "proposal.pdf")}).status_code == 200
    b_bid = _put_bid(client, b_headers, lot, 16_000_000, world["b"]["staff"]).get_json()

    def check():
        own = client.get(f"/api/v1/tenders/{tender_id}/bids", headers=a_headers).get_json()["items"]
        assert [b["id"] for b in own] == [a_bid["id"]]
        other = client.get(f"/api/v1/tenders/{tender_id}/bids", headers=b_headers)
        assert [b["id"] for b in other.get_json()["items"]] == [b_bid["id"]]
        _assert_nothing_secret(other.get_data(as_text=True), "b-mgr API")
        b_browser = login("b-mgr", tenant="ganxian")
        assert b_browser.get(f"/tenders/bids/{a_bid['id']}/proposal").status_code == 404
        _assert_nothing_secret(b_browser.get("/tenders/my-bids").get_data(as_text=True), "b-mgr my bids")
        a_browser = login("a-mgr", tenant="ganxian")
        assert a_browser.get(f"/tenders/bids/{a_bid['id']}/proposal").data == PDF
        assert "187,650.00" in a_browser.get(f"/tenders/lots/{lot}/my-bid").get_data(as_text=True)

    check()
    pass_deadline(app, tender_id)
    check()
    # After the deadline the bid can no longer be changed or withdrawn.
    assert _put_bid(client, a_headers, lot, 1_000_000, world["a"]["staff"]).status_code == 422
    assert client.delete(f"/api/v1/lots/{lot}/bid", headers=a_headers).status_code == 422


def test_a_clarification_that_moves_the_deadline_keeps_every_bid_sealed_until_the_new_one(app, client, world,
                                                                                          api_token):
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Bid, Tender
    tender_id, lot = world["tender"]["tender"], world["lot"]
    bid_id = _put_bid(client, api_token("a-mgr", tenant="ganxian"), lot, SECRET_PRICE,
                      world["a"]["staff"]).get_json()["id"]
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        tender = db.session.get(Tender, tender_id)
        old = tender.bid_deadline
        tender.clarify("服务标准调整", True, utcnow(), support.fixture_calendar())
        db.session.commit()
        new = tender.bid_deadline
        assert new > old
    assert _opens_at(app, bid_id) == new  # the opening moved with the deadline
    with support.as_platform(app):  # even platform-wide code cannot read it before then
        assert db.session.execute(select(Bid.opens_at).where(Bid.id == bid_id)).scalar_one_or_none() is None


def test_the_bid_form_page_submits_a_sealed_bid(app, world, login):
    browser = login("a-mgr", tenant="ganxian")
    url = f"/tenders/lots/{world['lot']}/my-bid"
    response = support.form_post(browser, url, {"price": "150000.00", "staff": [str(world["a"]["staff"][0])],
                                                "unit_CARE-VISIT": "150.00",
                                                "proposal": (io.BytesIO(PDF), "方案.pdf")})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = browser.get(url).get_data(as_text=True)
    assert "150,000.00" in page and "方案.pdf" in page
    assert "150,000.00" in browser.get("/tenders/my-bids").get_data(as_text=True)
    too_high = support.form_post(browser, url, {"price": "300000.00", "staff": [str(world["a"]["staff"][0])],
                                                "unit_CARE-VISIT": "300.00"})
    assert too_high.status_code == 422  # above the maximum price
