"""Rules of the procurement law beyond the happy path: the 失信名单 bans for one to three years and
platform-wide (政府采购法 §77); amendments are typed by rationale and only a same-subject addition
adds money (政府采购法 §49); the seal covers a bid's existence — an auditor cannot learn from the
audit trail that a bid exists before the deadline, and can after it."""
import io
import os
import re
from datetime import date

import pytest
from sqlalchemy import select, text, update

from portal.accounts.models import User
from portal.contractors import services as contractor_services
from portal.contractors.models import BlacklistEntry, Contractor
from portal.core.errors import DomainError
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.core.pgsecurity import show_scope
from tests import contract_world as cw
from tests import support
from tests.tender_world import PDF, make_contractor, make_tender, pass_deadline

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


def _user(username):
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def _a_id():
    return db.session.execute(select(Contractor.id).where(Contractor.name == "赣州市阳光社会工作服务中心")).scalar_one()


# --- the blacklist: one to three years --------------------------------------------------------

@pytest.mark.parametrize("ends_on, allowed", [
    (date(2027, 12, 8), False),   # a day short of one year
    (date(2027, 12, 9), True),    # one year, the start day counted
    (date(2029, 12, 9), True),    # three years
    (date(2029, 12, 10), False),  # a day more than three years
    (date(2031, 12, 9), False),   # five years
])
def test_a_ban_lasts_one_to_three_years(app, demo, english, ends_on, allowed):
    with tenant_scope(demo.tenant_id("ganxian")):
        contractor = db.session.get(Contractor, _a_id())
        add = lambda: contractor_services.add_blacklist_entry(  # noqa: E731
            contractor, reason="提供虚假材料", starts_on=date(2026, 12, 10), ends_on=ends_on, by=_user("gx-officer"))
        if allowed:
            assert add().ends_on == ends_on
        else:
            with pytest.raises(DomainError) as refused:
                add()
            assert "§77" in refused.value.message and "2027-12-09" in refused.value.message
            assert "2029-12-09" in refused.value.message and "ends_on" in refused.value.errors
            assert db.session.execute(select(BlacklistEntry)).scalars().all() == []
        db.session.rollback()


def test_a_five_year_ban_typed_in_the_page_is_refused_and_nothing_saved(app, demo, login):
    officer = login("gx-officer")
    with app.app_context():
        a_id = _a_id()
    response = support.form_post(officer, "/contractors/blacklist", {
        "contractor": a_id, "reason": "违规转包", "starts_on": "2026-12-01", "ends_on": "2031-11-30"})
    assert response.status_code == 200 and "政府采购法第七十七条" in response.get_data(as_text=True)
    with support.owner_connection(app) as conn:
        assert conn.execute(text("SELECT count(*) FROM blacklist_entry")).scalar_one() == 0


# --- the blacklist: platform-wide -------------------------------------------------------------

def test_an_entry_of_one_bureau_bans_bidding_at_every_bureau_and_every_bureau_sees_it(app, client, demo, login,
                                                                                         api_token):
    # 甲 is approved in both bureaus; ganxian blacklists it.
    gx_k = make_contractor(app, "ganxian", name="甲社工服务中心", manager="a-mgr")
    make_contractor(app, "zhanggong", name="甲社工服务中心", manager="a-mgr", staff=1)
    zg_tender = make_tender(app, "zhanggong")
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        contractor = db.session.get(Contractor, gx_k["id"])
        entry = contractor_services.add_blacklist_entry(
            contractor, reason="提供虚假材料谋取中标", starts_on=date.today(),
            ends_on=contractor_services.ban_end_bounds(date.today())[0], by=_user("gx-officer"))
        db.session.commit()
        entry_id = entry.id

    # Bidding with zhanggong is refused, with the rule and the bureau that recorded the ban.
    headers = api_token("a-mgr", tenant="zhanggong")
    with app.app_context(), tenant_scope(demo.tenant_id("zhanggong")):
        staff = [m.id for m in db.session.get(Contractor, gx_k["id"]).staff]
    refused = client.put(f"/api/v1/lots/{zg_tender['lots'][0]}/bid", headers=headers, json={
        "price_fen": 1_000_000, "staff_ids": staff, "unit_prices_fen": {"CARE-VISIT": 1000}})
    assert refused.status_code == 422
    detail = refused.get_json()["detail"]
    assert "失信名单" in detail and "第七十七条" in detail and "赣县区民政局" in detail
    with support.owner_connection(app) as conn:
        assert conn.execute(text("SELECT count(*) FROM bid")).scalar_one() == 0

    # Zhanggong's officers read ganxian's entry on their blacklist page and the contractor's page.
    zg_page = login("zg-officer").get("/contractors/blacklist").get_data(as_text=True)
    assert "提供虚假材料谋取中标" in zg_page and "赣县区民政局" in zg_page

    # Writing it stays with ganxian: zhanggong's code changes nothing, by ORM or by SQL.
    with app.app_context(), tenant_scope(demo.tenant_id("zhanggong")):
        result = db.session.execute(update(BlacklistEntry).where(BlacklistEntry.id == entry_id)
                                    .values(reason="改写"))
        assert result.rowcount == 0
        db.session.commit()
    if BACKEND == "postgresql":
        with app.app_context(), db.engine.connect() as conn:
            show_scope(conn, demo.tenant_id("zhanggong"))
            assert conn.execute(text("SELECT count(*) FROM blacklist_entry")).scalar_one() == 1  # readable
            assert conn.execute(text("UPDATE blacklist_entry SET reason = 'x' WHERE id = :i"),
                                {"i": entry_id}).rowcount == 0
            assert conn.execute(text("DELETE FROM blacklist_entry WHERE id = :i"), {"i": entry_id}).rowcount == 0
            conn.rollback()
    with support.owner_connection(app) as conn:
        assert conn.execute(text("SELECT reason FROM blacklist_entry")).scalar_one() == "提供虚假材料谋取中标"


# --- amendments typed by rationale ----------------------------------------------------------------

def _contract(app):
    world = cw.awarded(app, notice_on=date(2026, 9, 10), amount_fen=10_000_000)
    return cw.signed(app, world, on=date(2026, 9, 15))


def _amend(app, contract_id, rationale, added_fen=0, added_quotas=None, new_ends_on=None):
    from portal.contracts import services
    from portal.contracts.models import Contract
    with app.app_context(), cw.scope(app):
        amendment = services.add_amendment(
            db.session.get(Contract, contract_id), rationale=rationale, description="补充协议",
            added_fen=added_fen, added_quotas=added_quotas, new_ends_on=new_ends_on, signed_on=date(2026, 10, 20),
            user=None)
        db.session.commit()
        return amendment.id


@pytest.mark.parametrize("rationale", ["price_adjustment", "extension", "correction", "quantity_change", "other"])
def test_only_a_same_subject_addition_adds_money(app, demo, english, rationale):
    contract_id = _contract(app)
    with pytest.raises(DomainError) as refused:
        _amend(app, contract_id, rationale, added_fen=100_000)
    assert "§49" in refused.value.message and "same subject matter" in refused.value.message
    with pytest.raises(DomainError, match="§49"):
        _amend(app, contract_id, rationale, added_quotas={"CARE-VISIT": 10})
    with support.owner_connection(app) as conn:
        assert conn.execute(text("SELECT count(*) FROM amendment")).scalar_one() == 0
    # The same rationale without money is a lawful amendment.
    assert _amend(app, contract_id, rationale, new_ends_on=date(2027, 1, 31) if rationale == "extension" else None)


def test_a_same_subject_addition_adds_up_to_10_percent_of_more_of_the_same_services(app, demo, english):
    from portal.contracts.models import Contract
    contract_id = _contract(app)
    _amend(app, contract_id, "additional_quantity", added_fen=1_000_000, added_quotas={"CARE-VISIT": 100})
    with pytest.raises(DomainError, match="10"):
        _amend(app, contract_id, "additional_quantity", added_fen=1)  # 10 % reached
    with app.app_context(), cw.scope(app):
        contract = db.session.get(Contract, contract_id)
        assert contract.total_fen == 11_000_000 and contract.items[0].quota == 1100


@pytest.mark.parametrize("added_fen, units, allowed", [
    (500_000, None, False),  # money without more of the services: a price rise in disguise
    (500_000, 49, False),    # 4,900.00 yuan of visits for 5,000.00 yuan
    (500_000, 50, True),     # 50 visits at 100.00 yuan
])
def test_a_same_subject_addition_adds_money_only_as_the_price_of_more_units(app, demo, english, added_fen, units,
                                                                             allowed):
    contract_id = _contract(app)  # 1,000 visits at 100.00 yuan
    quotas = {"CARE-VISIT": units} if units else None
    if allowed:
        assert _amend(app, contract_id, "additional_quantity", added_fen=added_fen, added_quotas=quotas)
    else:
        with pytest.raises(DomainError, match="§49"):
            _amend(app, contract_id, "additional_quantity", added_fen=added_fen, added_quotas=quotas)
        with support.owner_connection(app) as conn:
            assert conn.execute(text("SELECT count(*) FROM amendment")).scalar_one() == 0


def test_the_amendment_page_refuses_a_price_adjustment_that_adds_money(app, demo, login):
    contract_id = _contract(app)
    officer = login("gx-officer")
    response = support.form_post(officer, f"/contracts/{contract_id}/amendments/new", {
        "rationale": "price_adjustment", "description": "价格调整", "added": "1000", "signed_on": "2026-10-20"})
    assert response.status_code in (200, 422)
    assert "政府采购法第四十九条" in response.get_data(as_text=True)
    with support.owner_connection(app) as conn:
        assert conn.execute(text("SELECT count(*) FROM amendment")).scalar_one() == 0


# --- the seal covers existence: the audit trail --------------------------------------------------

def _object_cells(html):
    """The audit page's object cells ("Bid 12", "Tender 3" …)."""
    return [cell.strip() for cell in re.findall(r"<td>(?:<code>)?([A-Za-z_]+ [\d,]*)(?:</code>)?</td>", html)]


def _shown_count(browser):
    token = support.csrf_token_from(browser.get("/audit/").get_data(as_text=True))
    html = browser.post("/audit/verify", data={"csrf_token": token}).get_data(as_text=True)
    match = re.search(r'id="verify-result">(.*?)</p>', html, re.S)
    assert match and "flash-success" in html, html[:1000]
    return [int(n) for n in re.findall(r"\d+", match.group(1))]


def _chain_counts(app, demo):
    """(rows in ganxian's chain, rows about a Bid), counted as the table's owner."""
    with support.owner_connection(app) as conn:
        return conn.execute(text(
            "SELECT count(*), sum(CASE WHEN object_type = 'Bid' THEN 1 ELSE 0 END) FROM audit_entry WHERE chain = :c"),
            {"c": demo.tenant_id("ganxian")}).one()


def test_an_auditor_cannot_learn_that_a_bid_exists_before_the_deadline_and_can_after(app, client, demo, login,
                                                                                       api_token):
    tender = make_tender(app)
    a = make_contractor(app, name="甲社工服务中心", manager="a-mgr")
    lot = tender["lots"][0]
    auditor = login("gx-auditor")

    manager = api_token("a-mgr", tenant="ganxian")
    bid = client.put(f"/api/v1/lots/{lot}/bid", headers=manager, json={
        "price_fen": 15_000_000, "staff_ids": a["staff"], "unit_prices_fen": {"CARE-VISIT": 15_000}})
    assert bid.status_code == 201
    bid_id = bid.get_json()["id"]
    assert client.post(f"/api/v1/lots/{lot}/bid/proposal", headers=manager,
                       data={"file": (io.BytesIO(PDF), "方案.pdf")}).status_code == 200
    assert client.put(f"/api/v1/lots/{lot}/bid", headers=manager, json={  # a change: another row about the bid
        "price_fen": 14_000_000, "staff_ids": a["staff"], "unit_prices_fen": {"CARE-VISIT": 14_000}}).status_code == 200

    # The rows are written and chained: the command verifies them all.
    result = support.platform_app(app).test_cli_runner().invoke(args=["audit-verify", "--tenant", "ganxian"])
    assert result.exit_code == 0, result.output
    with support.owner_connection(app) as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_entry WHERE object_type = 'Bid'")).scalar_one() >= 2

    for username in ("gx-auditor", "gx-admin", "city-auditor"):
        browser = login(username, tenant="ganxian") if username == "city-auditor" else login(username)
        for url in ("/audit/", "/audit/?object_type=Bid", "/audit/?object_type=Bid&action=insert",
                    "/audit/?action=insert", "/audit/?actor=a-mgr"):
            html = browser.get(url).get_data(as_text=True)
            assert not any(cell.startswith("Bid") for cell in _object_cells(html)), (username, url)
            assert url != "/audit/" or _object_cells(html), "the object cells are read from the page"
            assert "甲社工服务中心" not in html and "15000000" not in html and "14000000" not in html
        if username == "gx-auditor":  # the verification counts every row but the bid's
            shown = _shown_count(browser)
            total, about_bids = _chain_counts(app, demo)
            assert about_bids >= 2 and shown == [total - about_bids]
    # Nor do the dashboard, the tender page or the API tell.
    officer = login("gx-officer")
    for url in ("/", f"/tenders/{tender['tender']}", "/tenders/", f"/tenders/{tender['tender']}/evaluation"):
        page = officer.get(url)
        assert page.status_code in (200, 302, 403, 404)
        assert "甲社工服务中心" not in page.get_data(as_text=True), url
    listed = client.get(f"/api/v1/tenders/{tender['tender']}/bids", headers=api_token("gx-auditor")).get_json()
    assert listed["items"] == []

    pass_deadline(app, tender["tender"])

    after = auditor.get("/audit/?object_type=Bid").get_data(as_text=True)
    assert f"Bid {bid_id}" in _object_cells(after)
    assert _shown_count(auditor) == [_chain_counts(app, demo)[0]]
    result = support.platform_app(app).test_cli_runner().invoke(args=["audit-verify", "--tenant", "ganxian"])
    assert result.exit_code == 0, result.output


def test_a_moved_opening_is_recorded_without_the_number_of_sealed_bids(app, client, demo, api_token):
    import json

    from portal.core.timeutil import utcnow
    from portal.core.workdays import Calendar
    from portal.tenders.models import Tender
    tender = make_tender(app)
    a = make_contractor(app, name="甲社工服务中心", manager="a-mgr")
    assert client.put(f"/api/v1/lots/{tender['lots'][0]}/bid", headers=api_token("a-mgr", tenant="ganxian"), json={
        "price_fen": 15_000_000, "staff_ids": a["staff"], "unit_prices_fen": {"CARE-VISIT": 15_000}}).status_code == 201
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        db.session.get(Tender, tender["tender"]).clarify("服务标准调整", True, utcnow(), Calendar())
        db.session.commit()
    with support.owner_connection(app) as conn:
        rows = conn.execute(text("SELECT after FROM audit_entry WHERE action = 'bid_opening_moved'")).scalars().all()
    assert rows
    for after in rows:
        after = json.loads(after) if isinstance(after, str) else after
        assert set(after) == {"opens_at"}  # when, not how many
