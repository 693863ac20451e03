"""Each role's home page lists its work (issue 22 item 1): the supervisor's open exceptions and
spot checks to record as the database counts them, with the age of the oldest; finance its
statements awaiting approval and the manager those to confirm; the auditor the accesses refused;
the officer's navigation leads to the disclosures due; a field worker's home is the field app."""
import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from portal.extensions import db
from tests import settlement_world as sw


@pytest.fixture
def world(app, demo):
    return sw.care_contract(app)


def _href(app, endpoint, **args):
    with app.test_request_context():
        return url_for(endpoint, **args)


def _card(client, href):
    """(value, the card's whole item) of the home page's card leading to ``href``, or (None, "")."""
    html = client.get("/").get_data(as_text=True)
    found = re.search(r'<li class="card"><a href="' + re.escape(href)
                      + r'"><span class="card-value">(\d+)</span>.*?</li>', html, re.S)
    return (None, "") if found is None else (int(found.group(1)), found.group(0))


def _last_month():
    from portal.core.months import first_day, month_text, previous_month
    from portal.core.timeutil import local_today
    return month_text(previous_month(first_day(local_today())))


def _exceptions_and_checks(app, world):
    """Three visits of last month, an open exception raised ten days ago, another today, one
    answered; last month's spot-check sample drawn."""
    from portal.contracts.models import Contract
    from portal.core.months import parse_month
    from portal.core.timeutil import utcnow
    from portal.spotchecks.services import draw
    from portal.visits.models import VisitException
    visits = sw.add_visits(app, world, _last_month(), 3)
    from portal.tenancy.models import Tenant
    with app.app_context(), sw.scope(app):
        tenant = db.session.get(Tenant, sw.support.World(app).tenant_id("ganxian"))
        now = utcnow()
        for visit_id, status, raised in ((visits[0], "open", now - timedelta(days=10)),
                                         (visits[1], "open", now), (visits[2], "answered", now)):
            db.session.add(VisitException(visit_id=visit_id, code="V05", message="test", details={},
                                          status=status, raised_at=raised))
        draw(db.session.get(Contract, world["contract"]), parse_month(_last_month()),
             tenant=tenant)
        db.session.commit()


def test_the_supervisors_home_shows_the_open_exceptions_and_the_spot_checks_to_record(app, world, login):
    from portal.spotchecks.models import SpotCheck
    from portal.visits.models import VisitException
    _exceptions_and_checks(app, world)
    with app.app_context(), sw.scope(app):
        open_, answered = (db.session.scalar(select(func.count()).select_from(VisitException)
                                             .where(VisitException.status == status)) for status in ("open", "answered"))
        to_record = db.session.scalar(select(func.count()).select_from(SpotCheck).where(SpotCheck.outcome.is_(None)))
    assert open_ >= 2 and answered >= 1 and to_record >= 1
    supervisor = login("gx-supervisor")
    value, item = _card(supervisor, _href(app, "visits.exceptions", status="open"))
    assert value == open_
    assert "10" in item  # the oldest was raised ten days ago
    assert _card(supervisor, _href(app, "visits.exceptions", status="answered"))[0] == answered
    html = supervisor.get("/").get_data(as_text=True)
    spot = re.search(r'href="(/supervision/spot-checks/[^"]*state=open[^"]*)"><span class="card-value">(\d+)</span>',
                     html)
    assert spot is not None and int(spot.group(2)) == to_record
    assert supervisor.get(spot.group(1).replace("&amp;", "&")).status_code == 200
    # the manager answers the open ones of its organisation; the officer gets neither card
    assert _card(login("a-manager", tenant="ganxian"), _href(app, "visits.exceptions", status="open"))[0] == open_
    assert _card(login("gx-officer"), _href(app, "visits.exceptions", status="open"))[0] is None
    assert _card(login("b-manager", tenant="ganxian"), _href(app, "visits.exceptions", status="open"))[0] == 0


def test_finance_sees_statements_awaiting_approval_and_the_manager_those_to_confirm(app, world, login):
    from portal.billing import workflow
    from portal.billing.models import Statement
    sw.add_visits(app, world, _last_month(), 2)
    finance, manager = login("gx-finance"), login("a-manager", tenant="ganxian")
    approve_href, confirm_href = (_href(app, "billing.index", status=s) for s in ("confirmed", "sent"))
    value, item = _card(finance, approve_href)
    assert value == 0 and ("暂无待办" in item or "Nothing to do" in item)
    statement_id = sw.prepare(app, world, _last_month(), by="gx-officer")
    with app.app_context(), sw.scope(app):
        workflow.send_to_contractor(db.session.get(Statement, statement_id), sw.user("gx-officer"))
        db.session.commit()
    assert _card(manager, confirm_href)[0] == 1
    assert _card(finance, confirm_href)[0] is None  # the contractor's step, not finance's
    with app.app_context(), sw.scope(app):
        workflow.confirm(db.session.get(Statement, statement_id), sw.user("a-manager"))
        db.session.commit()
        confirmed = db.session.scalar(select(func.count()).select_from(Statement).where(Statement.status == "confirmed"))
    assert _card(finance, approve_href)[0] == confirmed == 1
    assert _card(manager, confirm_href)[0] == 0
    assert _card(login("gx-officer"), approve_href)[0] is None


def test_a_field_worker_goes_to_the_field_app(app, demo, login):
    worker = login("a-worker1", tenant="ganxian")
    response = worker.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/field/")
    assert worker.get("/field/").status_code == 200


def test_the_officers_navigation_leads_to_the_disclosures_due(app, demo, login):
    href = _href(app, "dashboard.disclosures_due")
    assert f'href="{href}"' in login("gx-officer").get("/").get_data(as_text=True)
    assert f'href="{href}"' not in login("gx-finance").get("/").get_data(as_text=True)


def test_the_auditor_sees_the_accesses_refused_and_the_chain(app, demo, login):
    auditor = login("gx-auditor", tenant="ganxian")
    href = _href(app, "audit.index", action="access_denied")
    before = _card(auditor, href)[0]
    assert before is not None
    assert auditor.get("/users").status_code in (403, 404)  # refused: recorded
    assert _card(auditor, href)[0] == before + 1
    assert _card(auditor, _href(app, "audit.index"))[0] is not None
    assert _card(login("gx-finance"), href)[0] is None


def test_in_the_demo_world_the_supervisor_sees_every_open_exception_and_pending_check(app, login):
    """The finding of issue 22: the demo's supervisor saw only "flagged contracts 0" while exceptions
    were open and spot checks pending. The cards now give what the database holds."""
    from portal.careplans.missed import missed_for
    from portal.core.months import first_day, previous_month
    from portal.core.timeutil import local_today
    from portal.spotchecks.models import SpotCheck
    from portal.visits.models import VisitException
    from tests import support
    support.seed_demo(app, history=True)
    with app.app_context(), sw.scope(app):
        open_ = db.session.scalar(select(func.count()).select_from(VisitException)
                                  .where(VisitException.status == "open"))
        to_record = db.session.scalar(select(func.count()).select_from(SpotCheck).where(SpotCheck.outcome.is_(None)))
        missed = len(missed_for(sw.user("gx-supervisor"), previous_month(first_day(local_today()))))
    assert open_ > 0 and to_record > 0
    supervisor = login("gx-supervisor")
    html = supervisor.get("/").get_data(as_text=True)
    assert _card(supervisor, _href(app, "visits.exceptions", status="open"))[0] == open_
    spot = re.search(r'href="/supervision/spot-checks/[^"]*state=open[^"]*"><span class="card-value">(\d+)</span>', html)
    assert spot is not None and int(spot.group(1)) == to_record
    missed_card = re.search(r'href="/care-plans/missed\?month=[^"]*"><span class="card-value">(\d+)</span>', html)
    assert missed_card is not None and int(missed_card.group(1)) == missed
