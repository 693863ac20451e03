"""The officer's stage bar on the tender page and the earliest timetable on the tender form
(issue 16 point 8): the current stage, the next action with its earliest lawful day, offered as a
link only to who may take it; after the bid deadline the way into opening and evaluation."""
import re
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import delete

from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from tests import support
from tests.tender_world import make_tender, tenant_id


def _current(body):
    found = re.search(r'data-stage="([a-z_]+)" aria-current="step"', body)
    return found.group(1) if found else None


def _next(body):
    found = re.search(r'<p id="next-action">(.*?)</p>', body, re.S)
    return found.group(1) if found else ""


def test_after_the_bid_deadline_the_way_into_opening_is_offered(app, demo, login):
    ids = make_tender(app, deadline=utcnow() - timedelta(hours=2))
    body = login("gx-officer").get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert _current(body) == "opening"
    action = _next(body)
    assert f'href="/tenders/{ids["tender"]}/evaluation"' in action
    from portal.tenders.deadlines import local_date
    assert local_date(ids["deadline"]).isoformat() in action
    assert "截止投标并开标" in action
    assert f'/tenders/{ids["tender"]}/clarify' not in body   # no clarification after the deadline
    # done stages come before, the later ones after
    assert 'class="stage stage-done" data-stage="documents"' in body
    assert 'class="stage stage-upcoming" data-stage="evaluation"' in body
    # a supervisor reads the step but is offered no link
    other = login("gx-supervisor").get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert _current(other) == "opening" and "<a" not in _next(other)


def test_before_the_deadline_the_clarification_lead_is_named(app, demo, login):
    deadline = datetime(2027, 2, 22, 1, 30, tzinfo=timezone.utc)   # Monday 22 Feb 2027, 09:30 Beijing
    ids = make_tender(app, deadline=deadline)
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        from portal.tenders.models import Tender
        db.session.get(Tender, ids["tender"]).documents_until = date(2027, 2, 1)
        db.session.commit()
    body = login("gx-officer").get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert _current(body) == "documents"
    action = _next(body)
    assert "2027-02-22" in action and "2027-02-07" in action      # 15 days before the deadline
    assert f'href="/tenders/{ids["tender"]}/clarify"' in action


def test_a_draft_offers_the_intention_and_says_the_30_day_rule(app, demo, login):
    ids = make_tender(app, status="draft")
    body = login("gx-officer").get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert _current(body) == "intention"
    assert f'href="/tenders/{ids["tender"]}/intention"' in _next(body) and "30" in _next(body)
    auditor = login("city-auditor", tenant="ganxian").get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert _current(auditor) == "intention" and "<a" not in _next(auditor)
    manager = login("a-manager").get(f"/tenders/{ids['tender']}")
    assert 'id="next-action"' not in manager.get_data(as_text=True)


def test_the_notice_step_names_the_day_30_days_after_the_intention(app, demo, login):
    from portal.tenders.models import Tender
    from portal.tenders.planning import create_intention, publish_intention
    ids = make_tender(app, status="intention_published")
    published = utcnow() - timedelta(days=10)
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        tender = db.session.get(Tender, ids["tender"])
        tender.intention = create_intention(tender, published)
        publish_intention(tender.intention, published)
        db.session.commit()
    body = login("gx-officer").get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert _current(body) == "notice"
    expected = local_today(published) + timedelta(days=30)
    assert expected.isoformat() in _next(body)
    # 20 days early: the step is shown disabled with the day it becomes possible, not as a link
    assert f'href="/tenders/{ids["tender"]}/publish"' not in _next(body)
    assert re.search(r'<button type="button" class="button" disabled aria-describedby="next-action-why">发布招标公告'
                     r'</button>\s*<span class="why" id="next-action-why">[^<]*' + expected.isoformat(), _next(body))
    # once the 30 days have run, the same step is a link
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        intention = db.session.get(Tender, ids["tender"]).intention
        intention.published_at = utcnow() - timedelta(days=31)
        db.session.commit()
    body = login("gx-officer").get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert f'href="/tenders/{ids["tender"]}/publish"' in _next(body) and "disabled" not in _next(body)


def test_an_awarded_tender_in_its_challenge_period_points_to_the_contract(app, demo, login):
    from tests import contract_world as cw
    world = cw.awarded(app, notice_on=local_today() - timedelta(days=1))
    body = login("gx-officer").get(f"/tenders/{world['tender']}").get_data(as_text=True)
    assert _current(body) == "challenge"
    assert f'href="/contracts/new/{world["award"]}"' in _next(body)
    assert (local_today() - timedelta(days=1) + timedelta(days=30)).isoformat() in _next(body)
    contract_id = cw.draft(app, world)
    body = login("gx-officer").get(f"/tenders/{world['tender']}").get_data(as_text=True)
    assert f'href="/contracts/{contract_id}"' in _next(body)


def test_the_tender_form_shows_the_earliest_timetable_before_any_date(app, demo, login):
    from portal.tenancy.workdays import tenant_calendar
    from portal.tenders import deadlines
    make_tender(app)   # a budget line to choose
    body = login("gx-officer").get("/tenders/new").get_data(as_text=True)
    assert 'id="timetable-preview"' in body
    today = local_today()
    notice_on = today + timedelta(days=30)
    assert notice_on.isoformat() in body and "30" in body
    with app.test_request_context(), tenant_scope(tenant_id(app, "ganxian")):
        calendar = tenant_calendar()
        open_tender = deadlines.earliest_bid_deadline(notice_on, "open_tender", calendar)
        negotiation = deadlines.earliest_bid_deadline(notice_on, "competitive_negotiation", calendar)
    assert open_tender.isoformat() in body and negotiation.isoformat() in body


def test_the_tender_form_warns_when_the_earliest_dates_cannot_be_counted(app, demo, login):
    from portal.tenancy.models import CalendarDay, CalendarYear
    make_tender(app)
    with app.app_context():
        db.session.execute(delete(CalendarDay))
        db.session.execute(delete(CalendarYear))
        db.session.commit()
    page = login("gx-officer").get("/tenders/new")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'role="alert"' in body and "2027" in body


def test_the_tender_form_lists_the_published_intentions_with_their_first_notice_day(app, demo, login):
    from portal.tenders.models import BudgetLine, PurchaseIntention
    make_tender(app)
    published = utcnow() - timedelta(days=12)
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        line = db.session.execute(db.select(BudgetLine)).scalars().first()
        intention = PurchaseIntention(budget_line_id=line.id, title="居家养老上门服务采购意向", budget_fen=100_000_00,
                                      expected_month=local_today().replace(day=1), published_at=published)
        db.session.add(intention)
        db.session.commit()
        intention_id = intention.id
    officer = login("gx-officer")
    body = officer.get("/tenders/new").get_data(as_text=True)
    first_notice = local_today(published) + timedelta(days=30)
    assert "居家养老上门服务采购意向" in body and first_notice.isoformat() in body
    # chosen on the form (sent back with an error elsewhere), the table counts from that intention
    refused = support.form_post(officer, "/tenders/new", {"intention_id": str(intention_id), "title": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code in (200, 422)
    assert f"{local_today(published).isoformat()} 公开" in text and first_notice.isoformat() in text
