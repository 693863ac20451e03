"""Late contract signing (issue 16): after day 30 of the award notice a signing is recorded only
with its reason and stays flagged (the contract page, the officer's agenda). Single-source
procurement (实施条例 §38): the reasons are publicised for 5 working days before the decision; an
award before then is refused with the earliest lawful day."""
from datetime import date, datetime, timedelta, timezone

import pytest

from portal.core.errors import DomainError
from portal.extensions import db
from tests import contract_world as cw
from tests import support


def _contract(contract_id):
    from portal.contracts.models import Contract
    return db.session.get(Contract, contract_id)


def test_day_30_signs_normally_and_day_31_only_with_a_reason(app, demo):
    from portal.contracts import services
    notice_on = date(2026, 9, 8)  # day 30 is Thu 8 October, a working day
    world = cw.awarded(app, notice_on=notice_on)
    on_time, late = cw.draft(app, world), None
    with app.app_context(), cw.scope(app):
        contract = _contract(on_time)
        services.sign(contract, notice_on + timedelta(days=30), late_reason="不该记录")
        assert contract.signed_late is False and contract.late_signing_reason == ""  # day 30 is on time
        db.session.rollback()
        contract = _contract(on_time)
        with pytest.raises(DomainError) as refused:
            services.sign(contract, notice_on + timedelta(days=31), late_reason="  ")
        assert "2026-10-08" in refused.value.message and "late_reason" in refused.value.errors
        services.sign(contract, notice_on + timedelta(days=31), late_reason="供应商法定代表人住院，延期签订")
        db.session.commit()
        assert (contract.status, contract.signed_on, contract.signed_late) == ("signed", date(2026, 10, 9), True)
        late = contract.id
    assert late == on_time


def test_a_late_signing_through_the_page_is_flagged_on_the_contract_and_the_agenda(app, demo, login):
    today = date.today()
    notice_on = today - timedelta(days=35)
    world = cw.awarded(app, notice_on=notice_on)
    contract_id = cw.draft(app, world)
    officer = login("gx-officer")
    agenda = officer.get("/tenders/due").get_data(as_text=True)
    assert "day 30 has passed" in agenda or "已过第 30 天" in agenda
    form = officer.get(f"/contracts/{contract_id}/sign").get_data(as_text=True)
    assert 'name="late_reason"' in form and 'role="alert"' in form
    refused = support.form_post(officer, f"/contracts/{contract_id}/sign", {"on": today.isoformat()})
    assert refused.status_code == 422
    signed = support.form_post(officer, f"/contracts/{contract_id}/sign",
                               {"on": today.isoformat(), "late_reason": "中标人迟延提交履约保证金"})
    assert signed.status_code == 302
    page = officer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert 'id="signed-late"' in page and "中标人迟延提交履约保证金" in page
    agenda = officer.get("/tenders/due").get_data(as_text=True)
    assert "中标人迟延提交履约保证金" in agenda


# --- single source ---------------------------------------------------------------------------------

def _single_source(app, published_on):
    """A single-source tender in evaluation whose notice (the publicity of its reasons) went out on
    ``published_on``, with one opened, valid, scored bid. Returns the make_tender ids."""
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Tender
    from tests.tender_world import evaluation_ready, make_tender, pass_deadline, score, tenant_id
    from tests.tender_world import add_opened_bid, make_contractor
    ids = make_tender(app, method="single_source",
                      deadline=datetime.combine(published_on, datetime.min.time(), tzinfo=timezone.utc) + timedelta(days=1))
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        tender = db.session.get(Tender, ids["tender"])
        tender.notice_published_at = datetime.combine(published_on, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=2)
        tender.single_source_publicity_from = published_on
        db.session.commit()
    contractor = make_contractor(app, name="赣州单一来源服务中心", manager="ss-manager")["id"]
    bid_id = add_opened_bid(app, ids["lots"][0], contractor, 100_000_00)
    pass_deadline(app, ids["tender"])
    experts = evaluation_ready(app, ids["tender"], experts=("王专家", "陈专家", "李专家"))  # 87号令 §47: 3
    for expert in experts:
        score(app, bid_id, expert, 40, 20)
    return ids


def test_the_decision_waits_for_5_working_days_of_publicity(app, demo):
    """Published Mon 2026-11-23: the 5 working days of publicity are 24–27 and 30 Nov (the day of
    publication not counted), the decision may come on Tue 1 Dec; Mon 30 Nov is refused naming
    that day."""
    from portal.tenders import awards
    from portal.tenders.models import Lot, Tender
    ids = _single_source(app, date(2026, 11, 23))
    with app.app_context(), cw.scope(app):
        tender = db.session.get(Tender, ids["tender"])
        from portal.tenancy.workdays import tenant_calendar
        assert tender.single_source_decision_from(tenant_calendar()) == date(2026, 12, 1)
        lot = db.session.get(Lot, ids["lots"][0])
        last_day_of_publicity = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
        with pytest.raises(DomainError) as refused:
            awards.confirm_award(lot, last_day_of_publicity)
        assert "2026-12-01" in refused.value.message and "2026-11-23" in refused.value.message
        db.session.rollback()
        lot = db.session.get(Lot, ids["lots"][0])
        award = awards.confirm_award(lot, datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc))
        assert award.confirmed_on == date(2026, 12, 1)


def test_publishing_a_single_source_notice_starts_its_publicity(app, demo):
    from portal.tenancy.scope import tenant_scope
    from portal.tenancy.workdays import tenant_calendar
    from portal.tenders.models import Tender
    from tests.tender_world import make_tender, tenant_id
    ids = make_tender(app, method="single_source", status="intention_published",
                      deadline=datetime(2027, 1, 20, 2, 0, tzinfo=timezone.utc))
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        tender = db.session.get(Tender, ids["tender"])
        tender.documents_from = date(2027, 1, 4)
        from portal.tenders.planning import create_intention, publish_intention
        tender.intention = create_intention(tender, datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc))
        publish_intention(tender.intention, datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc))
        tender.publish_notice(datetime(2026, 12, 31, 2, 0, tzinfo=timezone.utc), tenant_calendar())
        assert tender.single_source_publicity_from == date(2026, 12, 31)
        # published Thu 31 Dec; 元旦 1–3 Jan 2027; publicised 4–8 Jan: the decision from Mon 11 Jan 2027
        assert tender.single_source_decision_from(tenant_calendar()) == date(2027, 1, 11)
        db.session.rollback()
