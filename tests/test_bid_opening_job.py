"""The hourly bid-opening job (portal/tenders/services.py close_due_bidding): it opens tenders an
earlier job only closed, records the deadline as the opening time (87号令 §39), keeps going past a
tender it cannot open, and the officer's 开标 locks the tender so it never opens twice."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from tests import support
from tests import tender_world as tw


def _closed_only(app, bids=0):
    """A tender past its deadline that the old job closed with ``close_bidding`` alone: in
    evaluation, ``opened_at`` set, its lots still open and its bids never screened."""
    from portal.tenders.models import Tender
    ids = tw.make_tender(app, deadline=utcnow() + timedelta(days=1))
    for n in range(bids):
        firm = tw.make_contractor(app, name=f"旧任务机构{n}{ids['tender']}", manager=f"old-{ids['tender']}-{n}")
        tw.add_opened_bid(app, ids["lots"][0], firm["id"], 150_000_00 + n * 1000_00, valid=None)
    tw.pass_deadline(app, ids["tender"])
    with app.app_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        tender = db.session.get(Tender, ids["tender"])
        tender.close_bidding(utcnow())
        db.session.commit()
    return ids


def _failed_notices(lot_id):
    from portal.disclosures.models import Disclosure
    return db.session.execute(select(Disclosure).where(Disclosure.kind == "failed_tender",
                                                       Disclosure.subject_id == lot_id)).scalars().all()


def test_the_job_opens_a_tender_the_old_job_only_closed_at_its_deadline(app, demo, login):
    from portal.tenders.models import Lot, Tender
    from portal.tenders.services import close_due_bidding
    ids = _closed_only(app, bids=0)
    page = login("gx-officer").get(f"/tenders/{ids['tender']}/evaluation").get_data(as_text=True)
    assert f"/tenders/{ids['tender']}/evaluation/open" in page and 'id="opened"' not in page  # still to open
    with app.test_request_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        assert ids["tender"] in close_due_bidding()
        db.session.commit()
        tender = db.session.get(Tender, ids["tender"])
        assert db.session.get(Lot, ids["lots"][0]).status == "failed"
        assert len(_failed_notices(ids["lots"][0])) == 1
        assert tender.status == "failed"
        assert tender.opened_at == tender.bid_deadline      # the bids open at the deadline, not at the run
        assert ids["tender"] not in close_due_bidding()    # a second run finds nothing to open
        db.session.commit()
        assert len(_failed_notices(ids["lots"][0])) == 1


def test_a_job_opening_records_the_deadline_not_the_run_time(app, demo):
    from portal.tenders.models import Tender
    from portal.tenders.services import close_due_bidding
    ids = tw.make_tender(app, deadline=utcnow() + timedelta(days=1))
    tw.pass_deadline(app, ids["tender"])
    with app.test_request_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        close_due_bidding(utcnow() + timedelta(minutes=50))
        db.session.commit()
        tender = db.session.get(Tender, ids["tender"])
        assert tender.opened_at == tender.bid_deadline
        assert tender.opened_at < utcnow()


def test_a_bid_without_its_proposal_is_ruled_invalid_when_the_job_opens_a_closed_tender(app, demo):
    from portal.tenders.models import Bid, Lot
    from portal.tenders.services import close_due_bidding
    ids = _closed_only(app, bids=3)
    with app.app_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        bid = db.session.execute(select(Bid).where(Bid.lot_id == ids["lots"][0]).order_by(Bid.id)).scalars().first()
        bid.proposal_file_id = None
        db.session.commit()
    with app.test_request_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        assert ids["tender"] in close_due_bidding()
        db.session.commit()
        bids = db.session.execute(select(Bid).where(Bid.lot_id == ids["lots"][0]).order_by(Bid.id)).scalars().all()
        assert bids[0].valid is False and bids[0].invalid_reason
        assert db.session.get(Lot, ids["lots"][0]).status == "failed"   # 2 valid bids < 3


def test_a_year_without_a_holiday_schedule_does_not_stop_the_job(app, demo, monkeypatch):
    """A failed lot in a year with no schedule is still published (due that day), and a tender
    that cannot be opened at all is logged by id while the bureau's other tenders proceed."""
    from portal.tenders import services
    from portal.tenders.models import Lot, Tender
    broken = _closed_only(app, bids=0)
    later = _closed_only(app, bids=0)
    far = datetime(2041, 3, 5, 4, 0, tzinfo=timezone.utc)    # no holiday schedule for 2041
    real_open = services.open_bids

    def open_bids(tender, now):
        if tender.id == broken["tender"]:
            raise RuntimeError("boom")
        return real_open(tender, now)
    monkeypatch.setattr(services, "open_bids", open_bids)
    with app.test_request_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        opened = services.close_due_bidding(far)
        db.session.commit()
        assert later["tender"] in opened and broken["tender"] not in opened
        assert db.session.get(Lot, later["lots"][0]).status == "failed"
        notices = _failed_notices(later["lots"][0])
        assert len(notices) == 1 and notices[0].due_on == datetime(2041, 3, 5).date()
        assert db.session.get(Lot, broken["lots"][0]).status == "open"
        assert db.session.get(Tender, broken["tender"]).status == "evaluation"


def test_the_officers_open_locks_the_tender_and_a_second_open_is_a_no_op(app, demo, login):
    from portal.tenders.models import Tender
    ids = tw.make_tender(app, deadline=utcnow() + timedelta(days=1),
                         lots=((100_000_00 * 2, "Care services"), (100_000_00, "Meals")))
    for n in range(3):      # the second lot stays open, so the tender stays in evaluation
        firm = tw.make_contractor(app, name=f"加锁机构{n}{ids['tender']}", manager=f"lock-{ids['tender']}-{n}")
        tw.add_opened_bid(app, ids["lots"][1], firm["id"], 90_000_00 + n * 1000_00, valid=None)
    tw.pass_deadline(app, ids["tender"])
    officer = login("gx-officer")
    url = f"/tenders/{ids['tender']}/evaluation"
    locked = []

    def spy(state):
        stmt = state.statement
        if state.is_select and getattr(stmt, "_for_update_arg", None) is not None and \
                any(d.get("entity") is Tender for d in stmt.column_descriptions):
            locked.append(stmt)
    from sqlalchemy.orm import Session
    event.listen(Session, "do_orm_execute", spy)
    try:
        assert support.form_post(officer, f"{url}/open", {}, token_url=url).status_code == 302
        assert locked, "the officer's open does not lock the tender row"
        assert support.form_post(officer, f"{url}/open", {}, token_url=url).status_code == 302
    finally:
        event.remove(Session, "do_orm_execute", spy)
    with app.app_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        assert len(_failed_notices(ids["lots"][0])) == 1 and not _failed_notices(ids["lots"][1])
        assert db.session.get(Tender, ids["tender"]).status == "evaluation"
