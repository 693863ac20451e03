"""The contract total (docs/DOMAIN.md §5, issue 12 point 5): a contract's service items (quota × unit
price) never add up to more than its amount with its amendments — refused when the items are
saved (service, web form, the award path) and again at signing; a lot's items (quantity × maximum
unit price) never add up to more than the lot's budget."""
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import contract_world as cw
from tests import support
from tests.test_contracts_pages import _contract_fields


def _contract(contract_id):
    from portal.contracts.models import Contract
    return db.session.get(Contract, contract_id)


# --- contracts: at save --------------------------------------------------------------------------

def test_items_over_the_contract_amount_are_refused_at_save_naming_both_totals(app, demo):
    world = cw.awarded(app, amount_fen=10_000_000)
    with pytest.raises(DomainError) as refused:
        cw.draft(app, world, item_list=cw.items(price=10_001, quota=1000))  # 100,010.00 > 100,000.00
    assert "100,010.00" in refused.value.message and "100,000.00" in refused.value.message
    with app.app_context(), cw.scope(app):
        from portal.contracts.models import Contract
        assert db.session.execute(select(Contract)).first() is None  # nothing saved
    # exactly the amount is allowed
    contract_id = cw.draft(app, world, item_list=cw.items(price=10_000, quota=1000))
    with app.app_context(), cw.scope(app):
        assert _contract(contract_id).items[0].quota == 1000


def test_editing_a_draft_cannot_raise_its_items_above_the_amount(app, demo):
    from portal.contracts import services
    world = cw.awarded(app, amount_fen=10_000_000)
    contract_id = cw.draft(app, world)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        two_items = cw.items() + cw.items(code="ESCORT", name="送医陪护", price=100, quota=1)
        with pytest.raises(DomainError, match="100,001.00"):
            services.update_contract(contract, cw.terms(), two_items)
        db.session.rollback()
        assert [(i.code, i.quota) for i in _contract(contract_id).items] == [("CARE-VISIT", 1000)]


def test_the_award_path_refuses_quoted_unit_prices_above_the_award_amount(app, demo):
    """The items proposed from an award (the lot's quantity at the bid's quoted unit price) are
    checked like typed ones: a quote that does not fit the winning price is refused."""
    from portal.contracts import services
    from portal.tenders.models import Award
    world = cw.awarded(app, amount_fen=10_000_000, quantity=1000, unit_prices={"CARE-VISIT": 12_000})
    with app.app_context(), cw.scope(app), force_locale("en"):
        award = db.session.get(Award, world["award"])
        items = services.proposed_items(award)
        for item in items:
            item.update(min_minutes=30, max_minutes=240)
        with pytest.raises(DomainError, match="120,000.00 yuan .* more than .* 100,000.00 yuan"):
            services.create_contract(award, cw.terms(), items, SimpleNamespace(id=None))


def test_the_contract_form_refuses_items_over_the_amount_in_chinese(app, demo, login):
    from portal.contracts.models import Contract
    world = cw.awarded(app, amount_fen=10_000_000)
    officer = login("gx-officer")
    page = support.form_post(officer, f"/contracts/new/{world['award']}",
                             _contract_fields(world, **{"items-0-unit_price": "100.01"}))
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "超过合同金额" in body and "100,010.00" in body and "100,000.00" in body
    with app.app_context(), cw.scope(app):
        assert db.session.execute(select(Contract)).first() is None


# --- contracts: at signing -----------------------------------------------------------------------

def test_items_over_the_contract_amount_are_refused_at_signing(app, demo):
    """Items that reached the database by another way (an import, a direct write) are checked
    again when the contract is signed."""
    from portal.contracts import services
    from portal.contracts.models import ServiceItem
    world = cw.awarded(app, amount_fen=10_000_000)
    contract_id = cw.draft(app, world)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        db.session.add(ServiceItem(contract=contract, code="ESCORT", name="送医陪护", unit="visit",
                                   unit_price_fen=5_000, quota=10))
        db.session.commit()
    with app.app_context(), cw.scope(app), force_locale("en"):
        contract = _contract(contract_id)
        with pytest.raises(DomainError, match="100,500.00 yuan .* 100,000.00 yuan"):
            services.sign(contract, world["notice_on"] + timedelta(days=1), now=utcnow())
        db.session.rollback()
        assert _contract(contract_id).status == "draft"


def test_the_sign_page_refuses_items_over_the_amount(app, demo, login):
    from portal.contracts.models import ServiceItem
    world = cw.awarded(app, amount_fen=10_000_000)
    contract_id = cw.draft(app, world)
    with app.app_context(), cw.scope(app):
        db.session.get(ServiceItem, _contract(contract_id).items[0].id).quota = 1001
        db.session.commit()
    officer = login("gx-officer")
    page = support.form_post(officer, f"/contracts/{contract_id}/sign",
                             {"on": (world["notice_on"] + timedelta(days=1)).isoformat()})
    assert page.status_code == 422 and "100,100.00" in page.get_data(as_text=True)
    with app.app_context(), cw.scope(app):
        assert _contract(contract_id).status == "draft"


def test_the_ceiling_is_the_amount_plus_the_amendments(app, demo):
    from portal.contracts import services
    from portal.contracts.totals import check_items_within_ceiling, contract_ceiling_fen
    world = cw.awarded(app, amount_fen=10_000_000)
    contract_id = cw.signed(app, world)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert contract_ceiling_fen(contract) == 10_000_000
        services.add_amendment(contract, rationale="additional_quantity", description="增加上门服务 100 人次",
                               added_fen=1_000_000, new_ends_on=None, signed_on=contract.signed_on, user=None,
                               added_quotas={"CARE-VISIT": 100})
        assert contract_ceiling_fen(contract) == 11_000_000
        # 1,100 visits at 100 yuan now fit; 1,101 do not
        assert check_items_within_ceiling(contract, cw.items(quota=1100)) == 11_000_000
        with pytest.raises(DomainError):
            check_items_within_ceiling(contract, cw.items(quota=1101))
        db.session.rollback()


# --- lots ----------------------------------------------------------------------------------------

def _draft_lot(budget_fen=1_000_000):
    from portal.tenders import services
    from tests.test_tender_lifecycle import make_line
    data = {"title": "家庭经济状况核查服务", "method": "open_tender", "budget_line_id": make_line().id,
            "budget_fen": budget_fen, "bid_bond_fen": 0, "price_weight_percent": 10, "buyer_contact": "0797-0000000",
            "description": "", "documents_from": date(2026, 9, 2), "documents_until": date(2026, 9, 9),
            "bid_deadline": None}
    tender = services.create_tender(data, SimpleNamespace(id=None))
    return services.save_lot(tender, None, title="核查", budget_fen=budget_fen, max_price_fen=budget_fen)


def test_lot_items_over_the_lot_budget_are_refused(app, demo):
    from portal.tenders import services
    with app.app_context(), cw.scope(app), force_locale("en"):
        lot = _draft_lot(budget_fen=1_000_000)  # 10,000.00 yuan
        services.save_item(lot, None, code="HH-SURVEY", name="入户核查", unit="household_survey", quantity=40,
                           max_unit_price_fen=20_000)                       # 8,000.00
        with pytest.raises(DomainError, match="10,500.00 yuan .* 10,000.00 yuan"):
            services.save_item(lot, None, code="NEIGHBOUR", name="邻里走访", unit="visit", quantity=25,
                               max_unit_price_fen=10_000)                   # + 2,500.00
        # changing an item is checked with its new values, not added to its old ones
        [item] = [i for i in lot.items if i.code == "HH-SURVEY"]
        services.save_item(lot, item, code="HH-SURVEY", name="入户核查", unit="household_survey", quantity=50,
                           max_unit_price_fen=20_000)                       # exactly 10,000.00
        with pytest.raises(DomainError, match="10,200.00"):
            services.save_item(lot, item, code="HH-SURVEY", name="入户核查", unit="household_survey", quantity=51,
                               max_unit_price_fen=20_000)
        # nor can the budget drop below the items
        with pytest.raises(DomainError, match="10,000.00 yuan .* 9,999.99 yuan"):
            services.save_lot(lot.tender, lot, title="核查", budget_fen=999_999, max_price_fen=999_999)
        db.session.rollback()


def test_the_lot_item_page_refuses_items_over_the_budget(app, demo, login):
    from portal.tenders.models import LotItem
    with app.app_context(), cw.scope(app):
        lot = _draft_lot(budget_fen=1_000_000)
        tender_id, lot_id = lot.tender_id, lot.id
        db.session.commit()
    officer = login("gx-officer")
    url = f"/tenders/{tender_id}/lots/{lot_id}/items/new"
    page = support.form_post(officer, url, {"code": "HH-SURVEY", "name": "入户核查", "unit": "household_survey",
                                            "quantity": "51", "max_unit_price": "200", "requirements": ""})
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "标段预算" in body and "10,200.00" in body
    with app.app_context(), cw.scope(app):
        assert db.session.execute(select(LotItem).where(LotItem.lot_id == lot_id)).first() is None


# --- amendments: more of the same services, within the total ---------------------------------------

def _amend(contract, added_fen, added_quotas=None, rationale="additional_quantity"):
    from portal.contracts import services
    return services.add_amendment(contract, rationale=rationale, description="增加上门服务", added_fen=added_fen,
                                  new_ends_on=None, signed_on=contract.signed_on, user=None,
                                  added_quotas=added_quotas)


def test_an_amendment_adds_quota_to_the_same_services_only_within_the_new_total(app, demo):
    world = cw.awarded(app, amount_fen=10_000_000)
    contract_id = cw.signed(app, world)  # 1,000 visits at 100 yuan: exactly the amount
    with app.app_context(), cw.scope(app), force_locale("en"):
        contract = _contract(contract_id)
        # more visits without more money: 100,100.00 > 100,000.00
        with pytest.raises(DomainError, match="100,100.00 yuan .* 100,000.00 yuan"):
            _amend(contract, 0, {"CARE-VISIT": 1})
        # 101 more visits for 10,000.00 yuan: 110,100.00 > 110,000.00
        with pytest.raises(DomainError, match="110,100.00 yuan .* 110,000.00 yuan"):
            _amend(contract, 1_000_000, {"CARE-VISIT": 101})
        # a service the contract does not have
        with pytest.raises(DomainError, match="ESCORT"):
            _amend(contract, 1_000_000, {"ESCORT": 10})
        with pytest.raises(DomainError, match="whole number"):
            _amend(contract, 1_000_000, {"CARE-VISIT": -5})
        assert contract.items[0].quota == 1000 and contract.amendments == []
        amendment = _amend(contract, 1_000_000, {"CARE-VISIT": 100})
        db.session.commit()
        assert amendment.added_quotas == {"CARE-VISIT": 100}
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert contract.items[0].quota == 1100 and contract.total_fen == 11_000_000


def test_the_amendment_page_adds_quota_and_refuses_more_than_the_money(app, demo, login):
    world = cw.awarded(app, amount_fen=10_000_000)
    contract_id = cw.signed(app, world)
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        item_id, signed_on = contract.items[0].id, contract.signed_on
    officer = login("gx-officer")
    url = f"/contracts/{contract_id}/amendments/new"
    fields = {"rationale": "additional_quantity", "description": "增加上门服务 100 人次", "added": "10000",
              "signed_on": signed_on.isoformat()}
    page = officer.get(url).get_data(as_text=True)
    assert f'name="added_quota-{item_id}"' in page
    refused = support.form_post(officer, url, {**fields, f"added_quota-{item_id}": "101"})
    assert refused.status_code == 422 and "110,100.00" in refused.get_data(as_text=True)
    bad = support.form_post(officer, url, {**fields, f"added_quota-{item_id}": "ten"})
    assert bad.status_code == 422
    saved = support.form_post(officer, url, {**fields, f"added_quota-{item_id}": "100"})
    assert saved.status_code == 302
    with app.app_context(), cw.scope(app):
        contract = _contract(contract_id)
        assert contract.items[0].quota == 1100 and [a.added_quotas for a in contract.amendments] == [
            {"CARE-VISIT": 100}]
    detail = officer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "CARE-VISIT：配额增加 100" in detail and "¥110,000.00" in detail  # items total = amount now
