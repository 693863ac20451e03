"""Contract pages: the officer makes a contract from an award and signs it; contractor managers
see their own contracts only (another contractor's, or another bureau's, answers 404)."""
from datetime import timedelta

from sqlalchemy import select

from portal.core.timeutil import local_today
from portal.extensions import db
from tests import contract_world as cw
from tests import support


def _item_fields(price="100.00", quota="1000"):
    return {"items-0-code": "CARE-VISIT", "items-0-name": "上门照料", "items-0-unit": "visit",
            "items-0-unit_price": price, "items-0-quota": quota, "items-0-min_minutes": "30",
            "items-0-max_minutes": "240", "items-0-daily_limit": "1", "items-0-photo_required": "y"}


def _contract_fields(world, **overrides):
    values = {"title": "特困人员照料护理服务合同", "budget_line_id": str(world["line"]),
              "starts_on": local_today().isoformat(), "ends_on": (local_today() + timedelta(days=200)).isoformat(),
              "performance_bond": "5000", "payment_terms": "monthly_settlement",
              "spot_check_penalty_multiplier": "2", "violation_penalty": "500", **_item_fields()}
    values.update(overrides)
    return values


def test_an_officer_creates_a_contract_from_an_award_and_signs_it(app, demo, login):
    from portal.contracts.models import Contract
    world = cw.awarded(app, amount_fen=10_000_000, unit_prices={"CARE-VISIT": 10_000})
    officer = login("gx-officer")
    listing = officer.get("/contracts/").get_data(as_text=True)
    assert f"/contracts/new/{world['award']}" in listing  # the award waits for its contract
    form = officer.get(f"/contracts/new/{world['award']}").get_data(as_text=True)
    assert 'value="100.00"' in form and "CARE-VISIT" in form  # unit price from the winning bid
    assert "严禁服务转包" in form or "乙方不得将本合同项下服务" in form

    too_big = support.form_post(officer, f"/contracts/new/{world['award']}",
                                _contract_fields(world, performance_bond="10000.01"))
    assert too_big.status_code == 422
    assert "10,000.00" in too_big.get_data(as_text=True)

    created = support.form_post(officer, f"/contracts/new/{world['award']}", _contract_fields(world))
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    with app.app_context(), cw.scope(app):
        contract = db.session.execute(select(Contract)).scalar_one()
        contract_id = contract.id
        assert (contract.amount_fen, contract.performance_bond_fen, contract.violation_penalty_fen) == (
            10_000_000, 500_000, 50_000)
        assert contract.items[0].photo_required and contract.items[0].unit_price_fen == 10_000

    today = local_today()
    signed = support.form_post(officer, f"/contracts/{contract_id}/sign", {"on": today.isoformat()})
    assert signed.status_code == 302
    page = officer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    due = support.fixture_calendar().add_working_days(today, 2)  # the demo bureau has no calendar overrides
    assert due.isoformat() in page and "<svg" in page
    # wrong move by page: a signed contract cannot be signed again
    again = support.form_post(officer, f"/contracts/{contract_id}/sign", {"on": today.isoformat()})
    assert again.status_code == 422


def test_contractor_b_gets_404_for_contractor_a_s_contract(app, demo, login):
    world = cw.awarded(app, manager="a-manager")
    contract_id = cw.signed(app, world)
    missing = contract_id + 1000

    a = login("a-manager", tenant="ganxian")
    assert a.get(f"/contracts/{contract_id}").status_code == 200
    assert world and "CARE-VISIT" in a.get(f"/contracts/{contract_id}").get_data(as_text=True)

    b = login("b-manager", tenant="ganxian")
    assert b.get(f"/contracts/{contract_id}").status_code == 404
    assert b.get(f"/contracts/{missing}").status_code == 404
    listing = b.get("/contracts/").get_data(as_text=True)
    assert f"/contracts/{contract_id}" not in listing
    # a manager cannot move a contract at all
    assert b.get(f"/contracts/{contract_id}/sign").status_code == 403

    zg = login("zg-officer")  # another bureau: not found, never forbidden
    assert zg.get(f"/contracts/{contract_id}").status_code == 404
    assert zg.get(f"/contracts/{contract_id}/edit").status_code == 404


def test_an_officer_amends_a_signed_contract_by_page(app, demo, login):
    world = cw.awarded(app, amount_fen=10_000_000)
    contract_id = cw.signed(app, world)
    officer = login("gx-officer")
    on = local_today().isoformat()
    too_much = support.form_post(officer, f"/contracts/{contract_id}/amendments/new",
                                 {"rationale": "additional_quantity", "description": "增加服务数量",
                                  "added": "10000.01", "signed_on": on})
    assert too_much.status_code == 422
    with app.app_context(), cw.scope(app):
        from portal.contracts.models import Contract
        item_id = db.session.get(Contract, contract_id).items[0].id  # 100 yuan a visit
    done = support.form_post(officer, f"/contracts/{contract_id}/amendments/new",
                             {"rationale": "additional_quantity", "description": "增加服务数量",
                              "added": "10000", "signed_on": on, f"added_quota-{item_id}": "100"})
    assert done.status_code == 302
    page = officer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "110,000.00" in page  # the amount with the amendment


def test_the_contract_form_shows_this_awards_own_sign_by_and_challenge_days(app, demo, login):
    """A lot awarded later than the tender's first award: the form states the days Contract.sign
    and the challenge check enforce for this award, not the tender's earlier ones."""
    from portal.tenancy.workdays import tenant_calendar
    from portal.tenders import deadlines
    from portal.tenders.models import Award, Tender
    first_day = local_today() - timedelta(days=20)
    world = cw.awarded(app, notice_on=first_day, manager="b-manager")
    later_day = local_today() - timedelta(days=3)
    with app.app_context(), cw.scope(app):
        award = db.session.get(Award, world["award"])
        award.notice_published_at = cw.at(later_day)          # this lot's award notice went out later
        award.challenge_until = later_day + timedelta(days=10)
        db.session.commit()
        tender = db.session.get(Tender, world["tender"])
        tender_sign_by, tender_challenge = tender.contract_sign_by(), tender.challenge_until
        award_sign_by = deadlines.contract_sign_by(later_day, tenant_calendar())
    assert tender_sign_by != award_sign_by and tender_challenge != later_day + timedelta(days=10)
    form = login("gx-officer").get(f"/contracts/new/{world['award']}").get_data(as_text=True)
    assert award_sign_by.isoformat() in form
    assert (later_day + timedelta(days=10)).isoformat() in form
    assert tender_sign_by.isoformat() not in form and tender_challenge.isoformat() not in form
